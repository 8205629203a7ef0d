"""Every bound function of theory.generalization / margins / pac_bayes / double_descent on a case
with a known answer."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets import JaxnetsError
from jaxnets.models import get_model
from theory import double_descent as dd
from theory import least_squares as ls
from theory import generalization as gen
from theory import margins as mg
from theory import pac_bayes as pb


# ---------------------------------------------------------------- VC


def test_halfspaces_shatter_dim_plus_one_points():
  # d + 1 affinely independent points: every labelling is realised by an affine function
  # (interpolate the +-1 labels exactly), so VC >= d + 1 = halfspace_vc_dim(d).
  d = 3
  pts = np.vstack([np.zeros(d), np.eye(d)])
  design = np.hstack([pts, np.ones((d + 1, 1))])
  for bits in range(2 ** (d + 1)):
    labels = np.array([1.0 if bits >> i & 1 else -1.0 for i in range(d + 1)])
    w = np.linalg.solve(design, labels)
    assert np.all(np.sign(design @ w) == labels)
  assert gen.halfspace_vc_dim(d) == d + 1
  assert gen.halfspace_vc_dim(d, bias=False) == d


def test_vc_bound_closed_forms():
  # d >= m: ln Pi(m) = m ln 2, so the gap is sqrt(2 ln 2) + sqrt(ln(1/delta) / 2m).
  m, delta = 100, 0.05
  expected = 0.1 + math.sqrt(2 * math.log(2)) + math.sqrt(math.log(20) / 200)
  assert gen.vc_bound(0.1, 1000, m, delta) == pytest.approx(expected, rel=1e-12)
  # d < m: Sauer's lemma d ln(e m / d).
  d, m = 10, 10000
  expected = math.sqrt(2 * d * math.log(math.e * m / d) / m) + math.sqrt(math.log(20) / (2 * m))
  assert gen.vc_bound(0.0, d, m, delta) == pytest.approx(expected, rel=1e-12)
  with pytest.raises(JaxnetsError):
    gen.vc_bound(0.0, d, m, delta=1.5)


def test_bhlm_vc_upper_bound_by_hand():
  # [2, 3, 1]: W_1 = 9, W_2 = 13, W = 13, Lbar = 22/13, R = 1*3 + 2*1 = 5, L = 2.
  r = 5.0
  expected = 2 + 22 / 13 * 13 * math.log2(4 * math.e * r * math.log2(2 * math.e * r))
  assert gen.relu_net_vc_dim_upper([2, 3, 1]) == pytest.approx(expected)
  # It grows faster than the parameter count (O(W L log W)).
  assert gen.relu_net_vc_dim_upper([40, 100, 100, 1]) > 14301


# ---------------------------------------------------------------- Rademacher


def test_rademacher_mc_known_classes():
  key = jax.random.key(0)
  m = 6
  # All 2^m sign vectors: sup_f <f, sigma>/m = 1 for every sigma.
  cube = np.array([[1.0 if b >> i & 1 else -1.0 for i in range(m)] for b in range(2 ** m)])
  est, _ = gen.empirical_rademacher_mc(gen.finite_class_sup(cube), m, key, 200)
  assert est == pytest.approx(1.0)
  # A single function: E <f, sigma>/m = 0 (within 4 standard errors).
  est, se = gen.empirical_rademacher_mc(gen.finite_class_sup(cube[:1]), m, key, 4000)
  assert abs(est) <= 4 * se
  # Massart: max ||f|| sqrt(2 ln k) / m = sqrt(m) sqrt(2 m ln 2) / m for the cube.
  assert gen.massart_bound(cube) == pytest.approx(math.sqrt(2 * m * math.log(2) / m))


def test_linear_rademacher_attains_both_bounds():
  key = jax.random.key(1)
  # Orthogonal points: ||X^T sigma|| is constant, the Jensen upper bound is exact.
  x = 2.0 * np.eye(5)
  est, _ = gen.empirical_rademacher_mc(gen.linear_class_sup(x, 3.0), 5, key, 100)
  assert est == pytest.approx(gen.linear_rademacher_upper(x, 3.0), rel=1e-5)
  assert gen.linear_rademacher_upper(x, 3.0) == pytest.approx(3.0 * math.sqrt(20) / 5)
  # Two equal scalars: E|s1 + s2| / 2 = 1/2 = Khintchine lower bound sqrt(2)/(2 sqrt 2).
  x = np.ones((2, 1))
  est, _ = gen.empirical_rademacher_mc(gen.linear_class_sup(x, 1.0), 2, key, 20000)
  assert gen.linear_rademacher_lower(x, 1.0) == pytest.approx(0.5)
  assert est == pytest.approx(0.5, abs=0.02)


def test_rademacher_bound_formula():
  assert gen.rademacher_bound(0.1, 0.05, 1000, 0.05, lipschitz=2.0) == pytest.approx(
      0.1 + 0.2 + 3 * math.sqrt(math.log(40) / 2000))


# ---------------------------------------------------------------- norms


def test_norms_on_small_networks():
  w1 = np.array([[1.0, 2.0], [3.0, 4.0]])
  w2 = np.array([[1.0], [-1.0]])
  assert gen.frobenius_product([w1, w2]) == pytest.approx(math.sqrt(30) * math.sqrt(2))
  # One layer: path norm = Frobenius norm.
  assert gen.path_norm([w1]) == pytest.approx(math.sqrt(30))
  # Paths of a 2-2-1 net: sum_{i,j} w1_ij^2 w2_j^2 = 1+4+9+16.
  assert gen.path_norm([w1, w2]) == pytest.approx(math.sqrt(30))
  x = np.ones((4, 2))
  expected = math.sqrt(60) * (math.sqrt(4 * math.log(2)) + 1) * math.sqrt(8) / 4
  assert gen.grs_rademacher_bound([w1, w2], x) == pytest.approx(expected)


def test_mlp_weight_matrices_reproduce_the_network():
  model = get_model("mlp", num_outputs=3, width=7, depth=2)
  x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
  params = model.init(jax.random.key(0), x)
  mats = mg.mlp_weight_matrices(model, params)
  h = mg.augment_inputs(x, mats)
  for i, w in enumerate(mats):
    h = h @ w
    if i < len(mats) - 1:
      h = np.maximum(h, 0)
  np.testing.assert_allclose(h, model.apply(params, x), rtol=1e-4, atol=1e-5)
  ntk = get_model("mlp", num_outputs=2, width=6, depth=1, parametrization="ntk")
  p = ntk.init(jax.random.key(1), x)
  m2 = mg.mlp_weight_matrices(ntk, p)
  np.testing.assert_allclose(np.maximum(x @ m2[0], 0) @ m2[1], ntk.apply(p, x), rtol=1e-4,
                             atol=1e-5)


# ---------------------------------------------------------------- margins


def test_margins_and_spectral_complexity():
  logits = jnp.array([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
  np.testing.assert_allclose(mg.classification_margins(logits, jnp.array([0, 1])), [2.0, -3.0])
  np.testing.assert_allclose(mg.classification_margins(jnp.array([[2.0], [2.0]]),
                                                       jnp.array([1, 0])), [2.0, -2.0])
  # One diagonal layer: R_A = ||A||_sigma (||A^T||_{2,1} / ||A||_sigma)^{2/3 * 3/2} = sum |a_i|.
  a = np.diag([3.0, 1.0])
  assert mg.spectral_complexity([a]) == pytest.approx(4.0)
  # Two identical orthogonal-scaled layers 2I (d=3): prod 4, correction (2*(6/2)^{2/3})^{3/2}.
  b = 2 * np.eye(3)
  assert mg.spectral_complexity([b, b]) == pytest.approx(4 * (2 * 3 ** (2 / 3)) ** 1.5)


def test_spectral_margin_bound_by_hand():
  w = [np.eye(2)]
  x = np.array([[1.0, 0.0], [0.0, 1.0]] * 8)  # m = 16, ||X||_2 = 4
  margins = np.array([0.5] * 12 + [2.0] * 4)
  m, r_a = 16, 2.0
  expected = 12 / 16 + 8 / m + 72 * 4 * r_a * math.log(4) * math.log(m) / (1.0 * m) \
      + 3 * math.sqrt(math.log(20) / (2 * m))
  assert mg.spectral_margin_bound(margins, w, x, gamma=1.0) == pytest.approx(expected)
  norm = mg.normalized_margins(margins, w, x)
  np.testing.assert_allclose(norm, margins / (r_a * 4 / 16))


# ---------------------------------------------------------------- PAC-Bayes


def test_kl_inverse_inverts_binary_kl():
  for q, c in [(0.0, 0.01), (0.1, 0.05), (0.4, 0.3), (0.9, 0.001)]:
    p = pb.kl_inverse_upper(q, c)
    assert p >= q
    assert pb.binary_kl(q, p) == pytest.approx(c, abs=1e-8) or p == 1.0
  # q = 0: kl(0 || p) = -ln(1 - p), so p = 1 - exp(-c).
  assert pb.kl_inverse_upper(0.0, 0.2) == pytest.approx(1 - math.exp(-0.2), abs=1e-10)
  assert pb.kl_inverse_upper(1.0, 0.1) == 1.0
  assert pb.binary_kl(0.3, pb.kl_inverse_upper(0.3, 10.0)) == pytest.approx(10.0, rel=1e-6)


def test_monte_carlo_and_pac_bayes_bounds():
  # Chernoff: kl^{-1}(0, ln(1/delta)/n) = 1 - delta^{1/n}.
  assert pb.monte_carlo_error_bound(0.0, 100, 0.01) == pytest.approx(1 - 0.01 ** 0.01, abs=1e-10)
  m, kl, delta = 10000, 500.0, 0.025
  c = (kl + math.log(2 * math.sqrt(m) / delta)) / m
  assert pb.pac_bayes_kl_bound(0.05, kl, m, delta) == pytest.approx(pb.kl_inverse_upper(0.05, c))
  assert pb.union_bound_cost(1) == pytest.approx(math.log(math.pi ** 2 / 6))
  assert pb.prior_variance(100, b=100, c=0.1) == pytest.approx(0.1 / math.e)


def test_gaussian_kl_closed_form():
  mean = {"a": jnp.array([1.0, 2.0])}
  log_std = {"a": jnp.log(jnp.array([0.5, 1.0]))}
  prior = {"a": jnp.zeros(2)}
  # 0.5 * sum(s^2/lam + mu^2/lam - 1 + ln lam - ln s^2) with lam = 1.
  expected = 0.5 * ((0.25 + 1 - 1 - math.log(0.25)) + (1 + 4 - 1 - 0))
  assert float(pb.gaussian_kl(mean, log_std, prior, jnp.asarray(1.0))) == pytest.approx(expected,
                                                                                         rel=1e-5)
  assert float(pb.gaussian_kl(prior, {"a": jnp.zeros(2)}, prior, jnp.asarray(1.0))) == 0.0


def test_stochastic_samplers_agree_and_zero_noise_is_deterministic():
  model = get_model("mlp", num_outputs=1, width=16, depth=2)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((128, 5)), jnp.float32)
  params = model.init(jax.random.key(0), x)
  y = (model.apply(params, x)[:, 0] > 0).astype(jnp.int32)
  tiny = jax.tree.map(lambda w: jnp.full_like(w, -30.0), params)
  sampler, local = pb.per_example_sampler(model.apply), pb.mlp_local_reparam()
  for fn in (sampler, local):
    assert pb.stochastic_errors(fn, params, tiny, x, y, jax.random.key(1))[0] == 0.0
  # With real noise both samplers draw the same stochastic net: equal mean error within 5 SE.
  noisy = jax.tree.map(lambda w: jnp.full_like(w, math.log(0.3)), params)
  e1 = pb.stochastic_errors(sampler, params, noisy, x, y, jax.random.key(2), num_passes=8).mean()
  e2 = pb.stochastic_errors(local, params, noisy, x, y, jax.random.key(3), num_passes=8).mean()
  se = math.sqrt(e1 * (1 - e1) / 1024 * 2)
  assert 0.02 < e1 < 0.5
  assert abs(e1 - e2) <= 5 * se


# ---------------------------------------------------------------- double descent


def test_min_norm_risk_formula_values():
  np.testing.assert_allclose(dd.min_norm_risk_isotropic([0.5, 2.0, 4.0]),
                             [1.0, 0.5 + 1.0, 0.75 + 1 / 3])
  assert np.isinf(dd.min_norm_risk_isotropic(1.0))


def test_min_norm_least_squares_is_the_min_norm_interpolator():
  rng = np.random.default_rng(0)
  phi = rng.standard_normal((5, 12))
  y = rng.standard_normal(5)
  beta = ls.least_squares(phi, y)
  np.testing.assert_allclose(phi @ beta, y, atol=1e-10)
  np.testing.assert_allclose(beta, np.linalg.pinv(phi) @ y, atol=1e-10)
  tall = rng.standard_normal((12, 5))
  np.testing.assert_allclose(ls.least_squares(tall, phi.T @ y),
                             np.linalg.lstsq(tall, phi.T @ y, rcond=None)[0])
  # Underparameterized, noiseless: recovers beta exactly (risk 0 = HMRT with sigma = 0).
  assert dd.measured_min_norm_risk(50, 10, rng, noise_var=0.0) == pytest.approx(0.0, abs=1e-20)


def test_sharpness_sigma_brackets_the_threshold():
  model = get_model("mlp", num_outputs=1, width=16, depth=1)
  x = jnp.asarray(np.random.default_rng(1).standard_normal((256, 5)), jnp.float32)
  params = model.init(jax.random.key(0), x)
  y = (model.apply(params, x)[:, 0] > 0).astype(jnp.int32)
  fn = pb.mlp_local_reparam()
  sigma = pb.sharpness_sigma(fn, params, x, y, jax.random.key(1), increase=0.1, num_passes=4)
  at = lambda s: pb.stochastic_errors(fn, params, jax.tree.map(
      lambda w: jnp.full_like(w, math.log(s)), params), x, y, jax.random.key(7),
      num_passes=8).mean()
  # Noise at sigma costs about 0.1 error, noise 4x larger clearly more (SE ~ 0.01).
  assert at(sigma) <= 0.1 + 0.04
  assert at(4 * sigma) > 0.1


def test_dziugaite_roy_bound_with_posterior_equal_to_prior():
  # Posterior = prior on grid point j: KL = 0 and, with a tiny variance, the stochastic net
  # errs exactly where the mean net does, so the bound is the closed-form two-step inversion.
  model = get_model("mlp", num_outputs=1, width=8, depth=1)
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.standard_normal((200, 3)), jnp.float32)
  params = model.init(jax.random.key(0), x)
  y = (rng.random(200) < 0.5).astype(np.int32)
  det_err = float(np.mean((np.asarray(model.apply(params, x))[:, 0] > 0) != y))
  j = 2000
  lam = pb.prior_variance(j)
  post = {"mean": params, "log_std": jax.tree.map(lambda w: jnp.full_like(w, 0.5 * math.log(lam)),
                                                  params),
          "log_prior_var": math.log(lam)}
  res = pb.dziugaite_roy_bound(pb.mlp_local_reparam(), post, params, x, jnp.asarray(y),
                               jax.random.key(1), num_passes=2)
  assert res["j"] == j and abs(res["kl"]) < 1e-2
  assert res["train_error_mc"] == pytest.approx(det_err)
  upper = pb.kl_inverse_upper(det_err, math.log(100) / 400)
  expected = pb.kl_inverse_upper(upper, (res["kl"] + pb.union_bound_cost(j)
                                         + math.log(2 * math.sqrt(200) / 0.025)) / 200)
  assert res["bound"] == pytest.approx(expected, rel=1e-9)


def test_fit_gaussian_posterior_lowers_the_relaxed_bound():
  model = get_model("mlp", num_outputs=1, width=16, depth=1)
  rng = np.random.default_rng(0)
  x = rng.standard_normal((2000, 4)).astype(np.float32)
  y = (x[:, 0] > 0).astype(np.int32)
  init = model.init(jax.random.key(0), x)
  post = pb.fit_gaussian_posterior(model.apply, init, init, jnp.asarray(x), jnp.asarray(y),
                                   jax.random.key(1), num_steps=300, learning_rate=1e-2,
                                   init_log_std=-3.0)
  hist = post["history"]  # the objective's mean over each window of 50 steps
  assert len(hist) == 6 and hist[-1] < 0.8 * hist[0]
