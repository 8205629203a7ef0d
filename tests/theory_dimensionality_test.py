"""Covering numbers, distance statistics, local averaging and clustering against closed forms."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from theory import dimensionality as D


def test_sup_covering_count_is_exact_for_small_cases():
  for eps, d in [(0.25, 1), (0.1, 2), (0.05, 3), (0.3, 2)]:
    k = math.ceil(1 / (2 * eps))
    assert D.log10_covering_sup(eps, d) == pytest.approx(d * math.log10(k))
    centres = D.sup_grid_cover(eps, d)
    assert len(centres) == k ** d
    # it covers: every point of a fine sample is within eps of a centre in sup norm
    pts = np.random.default_rng(0).random((4000, d))
    dist = np.abs(pts[:, None, :] - centres[None]).max(-1).min(1)
    assert dist.max() <= eps + 1e-12
    # no smaller cover: a packing of k^d points pairwise more than 2 eps apart (sup norm)
    # needs one ball each, so the count the function reports is also a lower bound
    if k > 1:
      axis = np.linspace(0.0, 1.0, k)
      packing = np.stack(np.meshgrid(*[axis] * d, indexing="ij"), -1).reshape(-1, d)
      gaps = np.abs(packing[:, None, :] - packing[None]).max(-1)
      np.fill_diagonal(gaps, np.inf)
      assert len(packing) == round(10 ** D.log10_covering_sup(eps, d))
      assert gaps.min() > 2 * eps
  # "to cover [0,1]^d at distance 1/10 takes 10^d points" is the sup cover at eps = 1/20
  assert D.log10_covering_sup(1 / 20, 7) == pytest.approx(7.0)


def test_l2_covering_bounds_bracket_and_grow_with_d():
  prev = -1.0
  for d in (1, 2, 5, 10, 50):
    lo, hi = D.log10_covering_l2_bounds(0.1, d)
    assert lo <= hi
    assert lo > prev
    prev = lo
  with pytest.raises(JaxnetsError, match="eps"):
    D.log10_covering_l2_bounds(0.0, 3)


def test_relative_spread_constants_match_monte_carlo():
  d, rng = 200, np.random.default_rng(0)
  q = rng.random((60, d)).astype(np.float32)
  x = rng.random((3000, d)).astype(np.float32)
  spread = D.distance_statistics(q, x)["relative_spread"]
  # per-query spread, averaged over queries; sampling error of a std over 3000 points ~1.3%
  assert spread.mean() == pytest.approx(float(D.predicted_relative_spread(d)), rel=0.03)
  centre = D.distance_statistics(np.full((1, d), 0.5, np.float32), x)["relative_spread"]
  assert centre[0] == pytest.approx(float(D.predicted_relative_spread(d, "center")), rel=0.05)
  pair = np.linalg.norm(rng.random((20000, d)) - rng.random((20000, d)), axis=1)
  assert pair.std() / pair.mean() == pytest.approx(float(D.predicted_relative_spread(d, "pairs")),
                                                   rel=0.03)
  with pytest.raises(JaxnetsError, match="query"):
    D.predicted_relative_spread(4, "corner")


def test_periodic_distances_wrap_around():
  x = jnp.array([[0.05, 0.5]])
  y = jnp.array([[0.95, 0.5], [0.5, 0.5]])
  np.testing.assert_allclose(D.pairwise_distances(x, y, periodic=True), [[0.1, 0.45]], atol=1e-6)
  np.testing.assert_allclose(D.pairwise_distances(x, y), [[0.9, 0.45]], atol=1e-6)


def test_nearest_neighbour_distance_on_the_torus_matches_the_poisson_limit():
  rng = np.random.default_rng(1)
  for d in (1, 3):
    n = 2000
    x = rng.random((n, d)).astype(np.float32)
    q = rng.random((500, d)).astype(np.float32)
    nn = np.asarray(D.pairwise_distances(q, x, periodic=True)).min(1)
    se = nn.std() / math.sqrt(len(nn))
    assert abs(nn.mean() - D.expected_nn_distance_torus(n, d)) <= 4 * se


def test_knn_matches_brute_force_and_kernel_regression_limits():
  rng = np.random.default_rng(2)
  x = rng.random((300, 3)).astype(np.float32)
  y = rng.normal(size=300).astype(np.float32)
  q = rng.random((37, 3)).astype(np.float32)
  pred = np.asarray(D.knn_predict(x, y, q, (1, 5), periodic=True, chunk=16))
  diff = np.abs(q[:, None] - x[None])
  dist = np.sqrt((np.minimum(diff, 1 - diff) ** 2).sum(-1))
  order = np.argsort(dist, axis=1)
  np.testing.assert_allclose(pred[0], y[order[:, 0]], atol=1e-6)
  np.testing.assert_allclose(pred[1], y[order[:, :5]].mean(1), atol=1e-5)
  # tiny bandwidth -> nearest neighbour; huge bandwidth -> the global mean
  np.testing.assert_allclose(D.kernel_regression(x, y, q, 1e-3, periodic=True), pred[0],
                             atol=1e-4)
  np.testing.assert_allclose(D.kernel_regression(x, y, q, 1e3), np.full(37, y.mean()),
                             atol=1e-4)
  assert D.stone_exponent(2, 4) == pytest.approx(0.5)


def test_kmeans_recovers_separated_clusters_and_accuracy_is_permutation_free():
  x, labels = D.two_gaussian_mixture(200, 5, 4.0, seed=0)
  pred, inertia = D.kmeans(jax.random.key(0), jnp.asarray(x))
  assert D.clustering_accuracy(np.asarray(pred), labels) == 1.0
  assert D.clustering_accuracy(1 - labels, labels) == 1.0
  assert float(inertia) > 0


def test_chance_and_supervised_accuracy_formulas():
  assert D.chance_accuracy(2) == pytest.approx(0.75)
  assert D.chance_accuracy(400) == pytest.approx(0.5 + 0.4 / math.sqrt(400), abs=0.003)
  # Monte Carlo of the mean-difference classifier in the regime d/n ~ 2
  n, d, mu = 100, 200, 1.5
  accs = []
  for seed in range(20):
    x, lab = D.two_gaussian_mixture(n, d, mu, seed=seed)
    xt, lt = D.two_gaussian_mixture(2000, d, mu, seed=1000 + seed)
    mp, mm = x[lab == 1].mean(0), x[lab == 0].mean(0)
    accs.append(np.mean(((xt - (mp + mm) / 2) @ (mp - mm) > 0) == (lt == 1)))
  assert np.mean(accs) == pytest.approx(D.mean_difference_accuracy(mu, d, n), abs=0.02)
  assert D.spectral_accuracy(mu, int(2 * D.spectral_threshold_dimension(mu, n)), n) == 0.5
