"""The fast generalization checks, at quick sizes, must pass; CHECKS must follow the contract.

The network-training checks (VC, random labels, PAC-Bayes with m = 20,000) take 20-90 s each
and run in ``python -m experiments.theory_report --only=generalization``; their theory pieces are
tested on known answers in ``theory_generalization_test.py``.
"""

import json

import pytest

from experiments.checks import generalization
from experiments.checks.result import CheckResult, write_result


def test_checks_dict_is_literal_and_complete():
  assert set(generalization.CHECKS) == {
      "rademacher_linear", "min_norm_least_squares", "random_features_double_descent",
      "vc_bound_vacuous", "random_labels_margins", "pac_bayes_nonvacuous",
      "pac_bayes_random_labels"}


@pytest.mark.parametrize("name", ["rademacher_linear", "min_norm_least_squares"])
def test_fast_check_passes_and_writes_outputs(name, tmp_path):
  result = generalization.CHECKS[name](tmp_path, quick=True, seed=0)
  assert isinstance(result, CheckResult)
  assert result.name == name
  assert (tmp_path / result.figure).stat().st_size > 0
  json.loads(write_result(result, tmp_path).read_text())
  assert result.passed, (f"{name}: {result.measured} (predicted {result.prediction}; "
                         f"{result.tolerance})")
