"""Every dimensionality check at quick size: a well-formed result, every comparison evaluated."""

from __future__ import annotations

import pytest

from experiments.checks import dimensionality
from tests.check_contract import assert_well_formed

CHECKS = dimensionality.CHECKS


def test_registry_lists_every_check_of_the_issue():
  assert set(CHECKS) == {"distance_concentration", "knn_rate", "kmeans_high_dim"}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_at_quick_size_is_well_formed(name, tmp_path):
  assert_well_formed(name, CHECKS[name], tmp_path)
