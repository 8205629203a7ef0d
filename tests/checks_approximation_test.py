"""The fast approximation and dimensionality checks at quick sizes (the rest run in the report)."""

from __future__ import annotations

import json

import pytest

from experiments.checks import approximation, dimensionality
from experiments.checks.result import CheckResult, write_result

# 3-15 s each at quick sizes on an idle 2-core machine.
# fixed_basis_vs_neurons, random_vs_trained_features and knn_rate are sweeps of 15-20 s each
# and run in the theory report only.
FAST = [(approximation, "universal_approximation"), (approximation, "depth_separation"),
        (approximation, "barron_maurey_rate"),
        (dimensionality, "distance_concentration"), (dimensionality, "kmeans_high_dim")]


def test_registries_list_every_check_of_the_issue():
  assert set(approximation.CHECKS) == {
      "universal_approximation", "barron_maurey_rate", "fixed_basis_vs_neurons",
      "random_vs_trained_features", "depth_separation"}
  assert set(dimensionality.CHECKS) == {"distance_concentration", "knn_rate", "kmeans_high_dim"}


@pytest.mark.parametrize("module,name", FAST, ids=[n for _, n in FAST])
def test_fast_check_passes_with_figure_and_json(module, name, tmp_path):
  result = module.CHECKS[name](tmp_path, quick=True, seed=0)
  assert isinstance(result, CheckResult) and result.name == name
  assert (tmp_path / result.figure).stat().st_size > 0
  assert result.prediction and result.measured and result.tolerance
  assert result.passed, f"{name}: measured {result.measured}; predicted {result.prediction}; " \
                        f"tolerance {result.tolerance}"
  record = json.loads(write_result(result, tmp_path).read_text())
  assert record["passed"] is True and record["values"]
