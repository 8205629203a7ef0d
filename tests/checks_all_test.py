"""The report runs 33 checks, and each topic's test file runs every one of its checks."""

from __future__ import annotations

from experiments import theory_report
from tests import checks_adversarial_test, checks_approximation_test, checks_density_test
from tests import checks_dimensionality_test, checks_generalization_test, checks_kernel_regime_test


def test_the_report_has_33_checks_and_the_tests_run_each():
  checks = theory_report.available_checks()
  assert len(checks) == 33
  tested = set()
  for module in (checks_adversarial_test, checks_approximation_test, checks_density_test,
                 checks_dimensionality_test,
                 checks_generalization_test, checks_kernel_regime_test):
    tested |= set(module.CHECKS)
  assert tested == set(checks)
