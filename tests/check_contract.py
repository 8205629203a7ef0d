"""What every theory check must return at quick size (used by the checks_*_test.py files).

At quick size a check's result must be well formed and every comparison evaluated. Whether
the theorems hold is measured at full size by
``python -m experiments.theory_report --seeds=0,1,2``: quick sizes are too small for the
asymptotic claims of several checks.
"""

from __future__ import annotations

import json
import pathlib
from typing import Callable

from experiments.checks.result import CheckResult, Comparison, write_result


def assert_well_formed(name: str, check: Callable[..., CheckResult], tmp_path: pathlib.Path):
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
  return result
