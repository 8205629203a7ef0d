"""Every density check at quick size: a well-formed result, every comparison evaluated."""

from __future__ import annotations

import pytest

from experiments.checks import density
from tests.check_contract import assert_well_formed

CHECKS = density.CHECKS


def test_registry_lists_every_check_of_the_issue():
  assert set(CHECKS) == {"silverman_table", "kde_rate", "flow_log_det", "flow_kl",
                         "density_curse"}


def test_silverman_table_passes_at_any_size(tmp_path):
  # exact arithmetic, no sampling: it must pass in the suite too
  assert density.silverman_table(tmp_path, quick=True).passed


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_at_quick_size_is_well_formed(name, tmp_path):
  assert_well_formed(name, CHECKS[name], tmp_path)
