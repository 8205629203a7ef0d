"""Every generalization check at quick size: a well-formed result, every comparison evaluated."""

from __future__ import annotations

import pytest

from experiments.checks import generalization
from tests.check_contract import assert_well_formed

CHECKS = generalization.CHECKS


def test_checks_dict_is_literal_and_complete():
  assert set(CHECKS) == {
      "rademacher_linear", "min_norm_least_squares", "random_features_double_descent",
      "vc_bound_vacuous", "random_labels_margins", "pac_bayes_nonvacuous",
      "pac_bayes_random_labels"}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_at_quick_size_is_well_formed(name, tmp_path):
  assert_well_formed(name, CHECKS[name], tmp_path)
