"""Rate fits on synthetic power laws, targets, m-term approximations and the tent-map bound."""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.models.mlp import MLP
from theory import approximation as A
from theory import rates
from theory import targets as T


# --- power-law fits -----------------------------------------------------------------------

def test_noiseless_power_law_is_recovered_exactly():
  x = np.array([2, 4, 8, 16, 32, 64])
  fit = rates.fit_power_law(x, 3.0 * x ** -0.75)
  assert fit.exponent == pytest.approx(-0.75, abs=1e-12)
  assert fit.constant == pytest.approx(3.0, rel=1e-12)
  assert fit.exponent_ci[1] - fit.exponent_ci[0] < 1e-9
  assert fit.contains(-0.75) and not fit.contains(-0.7)


@pytest.mark.parametrize("exponent", [-1.0, -0.5, 2.0])
def test_confidence_interval_covers_the_true_exponent_at_its_level(exponent):
  # 400 synthetic sweeps with log-normal noise: a 90% interval must cover the true exponent in
  # 90% of them; binomial sd is sqrt(.9 * .1 / 400) = 1.5%, so 4 sd is 6%.
  rng = np.random.default_rng(0)
  x = np.geomspace(4, 1024, 7)
  covered = [rates.fit_power_law(x, 2.0 * x ** exponent * np.exp(0.3 * rng.normal(size=7)),
                                 confidence=0.9).contains(exponent) for _ in range(400)]
  assert abs(np.mean(covered) - 0.9) <= 0.06


def test_replicates_are_points_and_constants_are_fitted():
  rng = np.random.default_rng(1)
  x = np.array([10, 20, 40, 80, 160])
  y = 5.0 / x[:, None] * np.exp(0.1 * rng.normal(size=(5, 8)))
  fit = rates.fit_power_law(x, y)
  assert fit.num_points == 40
  assert fit.contains(-1.0)
  c, (lo, hi) = rates.fit_rate_constant(x, y, -1.0)
  assert lo <= 5.0 <= hi and c == pytest.approx(5.0, rel=0.05)


def test_fit_rejects_bad_input():
  with pytest.raises(JaxnetsError, match="positive"):
    rates.fit_power_law([1, 2, 3], [1.0, 0.0, 0.5])
  with pytest.raises(JaxnetsError, match="at least 3"):
    rates.fit_power_law([1, 1, 1], [1.0, 2.0, 3.0])
  with pytest.raises(JaxnetsError, match="shape"):
    rates.fit_power_law([1, 2, 3], [1.0, 2.0])


# --- errors, targets ----------------------------------------------------------------------

def test_approximation_errors():
  e = A.approximation_errors(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 3.0, 6.0]))
  assert e["l1"] == pytest.approx(0.75) and e["linf"] == pytest.approx(2.0)
  assert e["sq_l2"] == pytest.approx(1.25) and e["l2"] == pytest.approx(math.sqrt(1.25))
  assert e["rel_sq_l2"] == pytest.approx(1.25 / np.var([1.0, 1.0, 3.0, 6.0]))


def test_barron_target_constant_and_input_law_do_not_depend_on_d():
  for d in (2, 50):
    t = T.barron_cosines(d, scale=2.0, radius=3.0)
    assert t.barron_constant == pytest.approx(2.0 * 3.0)
    x = t.sample(3000, 0)
    proj = x @ (t.fn.frequencies / 2.0).T
    assert np.abs(proj).max() <= 3.0
    # the projections are (truncated) standard normal in every d
    assert np.std(proj) == pytest.approx(0.986, abs=0.03)


def test_torus_target_has_unit_variance_and_registry_errors():
  x = T.torus_sines(5).sample(20000, 0)
  assert float(jnp.var(T.torus_sines(5).fn(jnp.asarray(x)))) == pytest.approx(1.0, abs=0.05)
  with pytest.raises(JaxnetsError, match="unknown target"):
    T.get_target("nope", 2)
  with pytest.raises(JaxnetsError, match="d = 1 or 2"):
    T.get_target("cybenko", 3)


# --- Maurey and random features -------------------------------------------------------------

def test_barron_variation_of_a_cosine_over_whole_periods():
  # a single cosine c cos(a t) on [-R, R] with a R = 2 pi: V = |c| a * 2R * 2/pi
  t = T.CosineSum(frequencies=np.array([[1.5, 0.0]]), phases=np.array([0.0]),
                  coefficients=np.array([0.7]))
  radius = 2 * math.pi / 1.5
  assert A.barron_variation(t, radius) == pytest.approx(0.7 * 1.5 * 2 * radius * 2 / math.pi,
                                                        rel=1e-6)
  assert A.barron_variation(t, radius) <= 2 * radius * t.barron_constant


def test_maurey_sample_is_unbiased_and_obeys_the_variance_bound():
  t = T.barron_cosines(3, seed=1)
  x = jnp.asarray(t.sample(200, 1))
  y = t.fn(x)
  m, draws = 64, 400
  preds = jax.vmap(lambda k: A.step_network(A.maurey_step_sample(k, t.fn, m, t.radius), x))(
      jax.random.split(jax.random.key(0), draws))
  sq_err = jnp.mean((preds - y) ** 2, axis=1)
  variation = float(A.maurey_step_sample(jax.random.key(0), t.fn, 1, t.radius)["variation"])
  # unbiased: the mean of the draws is within 4 standard errors of f at every point
  se = preds.std(0) / math.sqrt(draws)
  assert bool(jnp.all(jnp.abs(preds.mean(0) - y) <= 4 * se + 1e-4))
  # E |f - f_m|^2 <= V_q^2 / m (Maurey), V_q close to the exact variation
  assert float(sq_err.mean()) <= variation ** 2 / m
  assert variation == pytest.approx(A.barron_variation(t.fn, t.radius), rel=0.01)


def test_random_features_fit_a_target_in_their_span_exactly():
  key = jax.random.key(3)
  x = jax.random.normal(jax.random.key(4), (400, 5))
  neurons = A.random_neurons(key, 5, 30)
  a = jax.random.normal(jax.random.key(5), (31,))
  y = A.random_features_apply(dict(neurons, a=a), x)
  fit = A.fit_random_features(key, x, y, 30)
  assert float(jnp.max(jnp.abs(A.random_features_apply(fit, x) - y))) < 1e-3


def test_width_sweep_shapes_and_training_reduces_the_error():
  t = T.cybenko(1)
  x = t.sample(128, 0)
  xt = t.sample(64, 1)
  out = A.train_width_sweep(lambda w: MLP(1, width=w, depth=1, act=nn.tanh), [2, 8], x,
                            np.asarray(t.fn(x)), xt, np.asarray(t.fn(xt)),
                            key=jax.random.key(0), seeds=2, steps=300)
  assert out["l2"].shape == (2, 2) and out["predictions"].shape == (2, 2, 64)
  # a constant predictor has squared error var(y); training must beat it clearly
  assert out["sq_l2"].min() < 0.5 * np.var(np.asarray(t.fn(xt)))
  with pytest.raises(JaxnetsError, match="widths"):
    A.train_width_sweep(lambda w: MLP(1, width=w), [0], x, x[:, 0], xt, xt[:, 0],
                        key=jax.random.key(0))


# --- Hermite bases ------------------------------------------------------------------------

def test_hermite_coefficients_of_a_cosine_match_the_closed_form():
  # E[cos(aZ) He_j(Z)] = Re (i a)^j e^{-a^2/2}: c_j^2 = a^(2j) e^(-a^2) / j! for even j
  a = 1.3
  c = A.hermite_coefficients(lambda z: np.cos(a * z), 10)
  for j in range(11):
    expected = 0.0 if j % 2 else (-1) ** (j // 2) * a ** j * math.exp(-a * a / 2) / math.sqrt(
        math.factorial(j))
    assert c[j] == pytest.approx(expected, abs=1e-10)
  assert np.sum(A.hermite_coefficients(lambda z: np.cos(a * z), 40) ** 2) == pytest.approx(
      (1 + math.exp(-2 * a * a)) / 2, abs=1e-10)


def test_tensor_hermite_basis_is_orthonormal_and_counted():
  z, w = np.polynomial.hermite_e.hermegauss(12)
  w = w / w.sum()
  grid = np.stack(np.meshgrid(z, z, indexing="ij"), -1).reshape(-1, 2)
  weights = np.outer(w, w).ravel()
  phi = A.hermite_features(grid, 4)
  assert phi.shape[1] == A.num_polynomials(2, 4) == 15
  np.testing.assert_allclose(phi.T @ (weights[:, None] * phi), np.eye(15), atol=1e-10)
  assert len(A.multi_indices(5, 3)) == math.comb(8, 5)


# --- depth separation ---------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 3, 6])
def test_tent_network_is_exact_with_two_to_the_k_pieces(k):
  net = MLP(1, width=2, depth=k, act=nn.relu)
  x = np.arange(2 ** (k + 3) + 1) / 2 ** (k + 3)
  y = np.asarray(net.apply(T.tent_mlp_params(k), jnp.asarray(x[:, None], jnp.float32)))[:, 0]
  np.testing.assert_array_equal(y, np.asarray(T.tent_map(jnp.asarray(x, jnp.float32), k)))
  assert A.count_linear_pieces(x, y) == 2 ** k


def test_tent_bound_is_attained_by_the_constant_and_holds_for_random_piecewise_linear():
  k = 5
  fine = (np.arange(2 ** 15) + 0.5) / 2 ** 15
  tk = np.asarray(T.tent_map(jnp.asarray(fine), k), np.float64)
  # p = 1: the best constant is 1/2 with error exactly 1/4 = the bound
  assert np.mean(np.abs(tk - 0.5)) == pytest.approx(A.tent_l1_lower_bound(k, 1), abs=1e-6)
  # g interpolating T^k at all its 2^k + 1 breakpoints has 2^k pieces, error 0, bound 0
  assert A.tent_l1_lower_bound(k, 2 ** k) == 0.0
  rng = np.random.default_rng(0)
  for i in range(300):
    p = int(rng.integers(1, 2 ** k))
    if i % 2:  # random knots, values T^k there plus noise
      knots = np.concatenate([[0.0], np.sort(rng.random(p - 1)), [1.0]])
      vals = np.asarray(T.tent_map(jnp.asarray(knots), k)) + 0.2 * rng.normal(size=p + 1)
    else:  # adversarial: knots on a subset of T^k's own breakpoints, exact values
      inner = np.sort(rng.choice(np.arange(1, 2 ** k), p - 1, replace=False)) / 2 ** k
      knots = np.concatenate([[0.0], inner, [1.0]])
      vals = np.asarray(T.tent_map(jnp.asarray(knots), k))
    g = np.interp(fine, knots, vals)
    assert np.mean(np.abs(tk - g)) >= A.tent_l1_lower_bound(k, p) - 1e-6


def test_shallow_relu_pieces_match_the_grid_count():
  rng = np.random.default_rng(2)
  w, b, a = rng.normal(size=(1, 6)), rng.normal(size=6) * 0.5, rng.normal(size=(6, 1))
  x = np.linspace(0, 1, 200001)
  y = np.maximum(x[:, None] * w + b, 0) @ a
  assert A.shallow_relu_pieces(w, b, a) == A.count_linear_pieces(x, y[:, 0], rtol=1e-6)
  assert A.shallow_relu_pieces(w, b, a) <= 7


def test_bootstrap_interval_of_a_mean_power_law_covers_the_truth():
  # draws y = (C / x) * E with E exponential(1): E y = C / x exactly, single draws heavy-tailed
  rng = np.random.default_rng(3)
  x = np.array([8, 32, 128, 512, 2048])
  covered = []
  for rep in range(40):
    draws = 30.0 / x[:, None] * rng.exponential(size=(5, 48))
    fit = rates.bootstrap_power_law(x, draws, confidence=0.9, num_resamples=400, seed=rep)
    covered.append(fit.contains(-1.0))
  # 90% nominal; binomial sd over 40 reps is 4.7%, percentile bootstrap runs a little narrow
  assert np.mean(covered) >= 0.75
  with pytest.raises(JaxnetsError, match="draws"):
    rates.bootstrap_power_law(x, np.ones(5))
