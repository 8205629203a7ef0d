"""The checks harness: a tolerance is data, and the verdict and its text derive from it."""

from __future__ import annotations

import math

import pytest

from experiments.checks import result as R


@pytest.mark.parametrize("comparison,expected", [
    (R.within("slope", -0.55, -0.5, 0.1, "s"), True),
    (R.within("slope", -0.65, -0.5, 0.1, "s"), False),
    (R.relative("risk", 1.1, 1.0, 0.15, "s"), True),
    (R.relative("risk", 0.8, 1.0, 0.15, "s"), False),
    (R.at_most("bound", 0.4, 0.4, "s"), True),
    (R.at_most("bound", 0.41, 0.4, "s"), False),
    (R.at_least("bound", 0.5, 0.5, "s"), True),
    (R.below("bound", 1.0, 1.0, "s"), False),
    (R.above("bound", 1.2, 1.0, "s"), True),
    (R.inside("ratio", 2.5, 0.5, 2.0, "s"), False),
    (R.contains("exponent", -0.5, (-0.6, -0.45), "s"), True),
    (R.contains("exponent", -0.5, (-0.45, -0.3), "s"), False),
    (R.holds("ordered", True, "s"), True),
    (R.holds("ordered", False, "s"), False),
])
def test_each_kind_passes_and_fails(comparison, expected):
  assert comparison.passed is expected
  assert comparison.evaluated
  assert comparison.name in comparison.criterion() and "(s)" in comparison.criterion()
  assert ("ok" if expected else "FAILS") in comparison.text()


def test_a_nan_measurement_is_not_evaluated_and_fails():
  c = R.within("slope", math.nan, -0.5, 0.1, "fit")
  assert not c.evaluated and not c.passed and "NOT EVALUATED" in c.text()


def test_a_comparison_needs_its_numbers_and_a_source():
  with pytest.raises(ValueError, match="needs bound"):
    R.Comparison("slope", -0.5, "within", "fit", target=-0.5)
  with pytest.raises(ValueError, match="no source"):
    R.within("slope", -0.5, -0.5, 0.1, "")
  with pytest.raises(ValueError, match="unknown kind"):
    R.Comparison("slope", -0.5, "close_to", "fit", target=0.0)


def test_result_derives_verdict_and_tolerance_from_its_comparisons():
  good, bad = R.at_most("a", 1.0, 2.0, "x"), R.at_least("b", 1.0, 2.0, "y")
  ok = R.CheckResult("c", "claim", "p", "m", [good])
  fails = R.CheckResult("c", "claim", "p", "m", [good, bad])
  assert ok.passed and not fails.passed and fails.failed == [bad]
  assert fails.tolerance == f"{good.criterion()}; {bad.criterion()}"
  assert fails.to_json()["passed"] is False


def test_a_check_without_comparisons_is_refused():
  with pytest.raises(ValueError, match="could not fail"):
    R.CheckResult("c", "claim", "p", "m", [])
