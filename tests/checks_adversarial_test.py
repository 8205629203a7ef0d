"""Every adversarial check at quick size: a well-formed result, every comparison evaluated."""

from __future__ import annotations

import pytest

from experiments.checks import adversarial
from tests.check_contract import assert_well_formed

CHECKS = adversarial.CHECKS


def test_registry_lists_every_check_of_the_issue():
  assert set(CHECKS) == {"fgsm_linear", "perturbation_vs_dimension", "attack_ordering"}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_at_quick_size_is_well_formed(name, tmp_path):
  assert_well_formed(name, CHECKS[name], tmp_path)
