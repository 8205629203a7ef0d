"""Rosenblatt's rule: Novikoff's bound on every run, the exact update, one-vs-rest."""

import jax
import numpy as np
import pytest

from jaxnets.models import perceptron_rule as pr
from jaxnets.errors import JaxnetsError
from jaxnets.models import get_model


@pytest.mark.parametrize("margin", [0.03, 0.1, 0.3])
@pytest.mark.parametrize("use_bias", [False, True])
def test_novikoff_bound_holds_on_every_run(margin, use_bias):
  for seed in range(4):
    x, y, u = pr.separable_data(seed, n=300, d=5, margin=margin)
    bound = pr.novikoff_bound(x, y, u, use_bias=use_bias)
    for order_seed in (None, seed):
      result = pr.rosenblatt(x, y, max_epochs=1000, use_bias=use_bias, order_seed=order_seed)
      assert bool(result.converged)
      assert 0 < int(result.updates) <= bound, (seed, int(result.updates), bound)
      fields = np.asarray(x @ result.w + result.b)
      assert np.all(y * fields > 0)  # the mistake-free pass really separates the data


def _reference_rule(x, y, max_epochs):
  """The rule written as plainly as possible, in float64 numpy."""
  w, b, updates = np.zeros(x.shape[1]), 0.0, 0
  for _ in range(max_epochs):
    mistakes = 0
    for xi, yi in zip(x.astype(np.float64), y):
      if yi * (xi @ w + b) <= 0:
        w, b, updates, mistakes = w + yi * xi, b + yi, updates + 1, mistakes + 1
    if mistakes == 0:
      break
  return w, b, updates


def test_matches_the_rule_written_out():
  x, y, _ = pr.separable_data(7, n=60, d=3, margin=0.05)
  w, b, updates = _reference_rule(x, y, max_epochs=200)
  result = pr.rosenblatt(x, y, max_epochs=200)
  assert int(result.updates) == updates
  np.testing.assert_allclose(result.w, w, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(result.b, b, rtol=1e-5, atol=1e-5)


def test_xor_never_converges():
  x = np.array([[0, 0], [1, 1], [0, 1], [1, 0]], np.float32)
  y = np.array([-1, -1, 1, 1], np.float32)
  result = pr.rosenblatt(x, y, max_epochs=50)
  assert not bool(result.converged)
  assert int(result.epochs) == 50


def test_one_vs_rest_runs_each_class_and_feeds_the_model():
  rng = np.random.default_rng(0)
  centers = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
  labels = np.repeat(np.arange(3), 20)
  x = (centers[labels] + rng.normal(size=(60, 2))).astype(np.float32)
  result = pr.rosenblatt_one_vs_rest(x, labels, 3, max_epochs=500)
  assert result.w.shape == (2, 3) and result.updates.shape == (3,)
  assert bool(result.converged.all())
  for c in range(3):  # each class's run equals the binary run on its own labels
    alone = pr.rosenblatt(x, np.where(labels == c, 1.0, -1.0), max_epochs=500)
    assert int(alone.updates) == int(result.updates[c])
  model = get_model("perceptron", num_outputs=3)
  predictions = model.apply({"params": result.params()}, x).argmax(-1)
  np.testing.assert_array_equal(predictions, labels)


def test_bad_inputs_raise():
  with pytest.raises(JaxnetsError):
    pr.rosenblatt(np.zeros((3, 2)), np.array([0, 1, 1]))
  with pytest.raises(JaxnetsError):
    pr.rosenblatt(np.zeros((3, 2, 2)), np.array([1, -1, 1]))
  x, y, u = pr.separable_data(0, n=20, d=2, margin=0.1)
  with pytest.raises(JaxnetsError):
    pr.novikoff_bound(x, y, -u)
