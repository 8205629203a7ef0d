"""The mean risk of predictions, against hand-computed values."""

import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.eval.scoring import score


def test_zero_one_is_the_error_rate():
  assert score([0, 1, 1, 2], [0, 1, 0, 0]) == 0.5
  scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
  assert score(scores, [0, 1, 1]) == pytest.approx(1 / 3)


def test_regression_risks():
  assert score([1.0, 2.0, 4.0], [1.0, 0.0, 1.0], "squared") == pytest.approx((0 + 4 + 9) / 3)
  assert score([1.0, 2.0, 4.0], [1.0, 0.0, 1.0], "absolute") == pytest.approx((0 + 2 + 3) / 3)


def test_probability_risks_against_one_hot_labels():
  p = np.array([[0.5, 0.5], [0.1, 0.9]])
  y = np.array([0, 1])
  assert score(p, y, "cross_entropy") == pytest.approx((np.log(2) - np.log(0.9)) / 2)
  # Brier: |(0.5, 0.5) - (1, 0)|^2 = 0.5 and |(0.1, 0.9) - (0, 1)|^2 = 0.02.
  assert score(p, y, "squared") == pytest.approx((0.5 + 0.02) / 2)
  assert score(p, y, "absolute") == pytest.approx((1.0 + 0.2) / 2)


def test_cross_entropy_of_a_confident_mistake_is_large_but_finite():
  value = score(np.array([[1.0, 0.0]]), [1], "cross_entropy")
  assert np.isfinite(value) and value > 30


@pytest.mark.parametrize("args", [
    ([0, 1], [0, 1, 1], "zero_one"),             # lengths differ
    ([0, 1], [0, 1], "hinge"),                   # unknown risk
    ([[2.0, -1.0]], [0], "cross_entropy"),       # logits, not probabilities
    ([[0.5, 0.5]], [2], "cross_entropy"),        # label out of range
])
def test_bad_inputs_raise(args):
  with pytest.raises(JaxnetsError):
    score(*args)
