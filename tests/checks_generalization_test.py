"""The generalization registry (every check runs at quick size in checks_all_test.py)."""

from experiments.checks import generalization


def test_checks_dict_is_literal_and_complete():
  assert set(generalization.CHECKS) == {
      "rademacher_linear", "min_norm_least_squares", "random_features_double_descent",
      "vc_bound_vacuous", "random_labels_margins", "pac_bayes_nonvacuous",
      "pac_bayes_random_labels"}
