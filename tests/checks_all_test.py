"""Every theory check runs at quick size: its result is well formed and every comparison is
evaluated. Whether the theorems hold is measured at full size by
``python -m experiments.theory_report --seeds=0,1,2`` (quick sizes are too small for the
asymptotic claims of several checks)."""

from __future__ import annotations

import json
import math

import pytest

from experiments import theory_report
from experiments.checks.result import CheckResult, Comparison, write_result

CHECKS = theory_report.available_checks()


def test_the_report_has_all_25_checks():
  assert len(CHECKS) == 25


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_is_well_formed_and_every_comparison_evaluated(name, tmp_path):
  _, check = CHECKS[name]
  result = check(tmp_path, quick=True, seed=0)
  assert isinstance(result, CheckResult) and result.name == name
  assert result.claim and result.prediction and result.measured
  assert (tmp_path / result.figure).stat().st_size > 0
  assert result.comparisons and all(isinstance(c, Comparison) for c in result.comparisons)
  not_evaluated = [c.text() for c in result.comparisons if not c.evaluated]
  assert not not_evaluated, f"{name}: comparisons not evaluated: {not_evaluated}"
  assert all(c.source for c in result.comparisons)
  # the verdict is derived from the comparisons, and the JSON record says the same
  assert result.passed == all(c.passed for c in result.comparisons)
  record = json.loads(write_result(result, tmp_path).read_text())
  assert record["passed"] is result.passed
  assert [c["passed"] for c in record["comparisons"]] == [c.passed for c in result.comparisons]
  assert record["tolerance"] == result.tolerance and record["values"]
