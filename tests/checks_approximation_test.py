"""The approximation and dimensionality registries (every check runs in checks_all_test.py)."""

from __future__ import annotations

from experiments.checks import approximation, dimensionality

def test_registries_list_every_check_of_the_issue():
  assert set(approximation.CHECKS) == {
      "universal_approximation", "barron_maurey_rate", "fixed_basis_vs_neurons",
      "random_vs_trained_features", "depth_separation"}
  assert set(dimensionality.CHECKS) == {"distance_concentration", "knn_rate", "kmeans_high_dim"}
