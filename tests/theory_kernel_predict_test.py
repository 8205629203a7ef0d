"""Tests of the closed-form kernel predictions (theory/kernel_predict.py)."""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.models.mlp import MLP
from theory import kernel_predict as kp
from theory import ntk


@pytest.fixture
def x64():
  with jax.enable_x64(True):
    yield


def _random_psd(rng, n, rank=None):
  a = rng.normal(size=(n, rank or n))
  return a @ a.T / (rank or n)


def _linearized_problem(num_outputs: int):
  """A small tanh net linearised at init, its kept-output NTK, and train/test data."""
  rng = np.random.default_rng(0)
  x, x_test = rng.normal(size=(12, 3)), rng.normal(size=(5, 3))
  y = rng.normal(size=(12, num_outputs))
  net = MLP(num_outputs=num_outputs, width=24, depth=2, act=jnp.tanh, parametrization="ntk",
            b_std=0.1)
  params0 = jax.tree.map(lambda p: p.astype(jnp.float64), net.init(jax.random.key(0), x))
  f = lambda p, x: net.apply(p, x)
  ntk_fn = ntk.empirical_ntk_fn(f, trace_axes=())
  return f, params0, x, x_test, y, ntk_fn(x, None, params0), ntk_fn(x_test, x, params0)


def _run_gd(f_lin, params0, x, y, learning_rate, steps):
  """Full-batch GD on L = mean((f - y)^2) / 2, the loss the predictions assume."""
  loss = lambda p: 0.5 * jnp.mean((f_lin(p, x) - y) ** 2)

  @jax.jit
  def run(p):
    step = lambda p, _: (jax.tree.map(lambda w, g: w - learning_rate * g, p,
                                      jax.grad(loss)(p)), None)
    return jax.lax.scan(step, p, None, length=steps)[0]

  return run(params0)


def test_discrete_prediction_equals_gd_on_linearized_net(x64):
  # The linearised net's outputs evolve by f_{s+1} = f_s - (eta/n) Theta (f_s - y) exactly,
  # so the closed form must agree with running GD to round-off.
  f, params0, x, x_test, y, k, k_test = _linearized_problem(num_outputs=2)
  f_lin = ntk.linearize(f, params0)
  # c lam_max = 1.5 (c = eta / n): stable, and the top mode oscillates, which exercises the
  # (1 - c lam)^s branch for c lam >= 1 as well as the expm1/log1p one.
  lr, steps = 1.5 * y.size / np.linalg.eigvalsh(kp._flat_kernel(k)).max(), 300
  params = _run_gd(f_lin, params0, x, y, lr, steps)
  predict = kp.gradient_descent_mse_discrete(k, y, learning_rate=lr)
  fx_train, fx_test = predict(steps, f(params0, x), f(params0, x_test), k_test)
  np.testing.assert_allclose(fx_train, f_lin(params, x), rtol=1e-9, atol=1e-9)
  np.testing.assert_allclose(fx_test, f_lin(params, x_test), rtol=1e-9, atol=1e-9)
  # and training really moved the outputs (the agreement is not that of two constants)
  assert np.linalg.norm(fx_train - y) < 0.5 * np.linalg.norm(f(params0, x) - y)


def test_gradient_flow_prediction_matches_small_step_gd_on_linearized_net(x64):
  # Flow at time t = s vs s steps of GD with the same eta: per eigenvalue x = c lam (c = eta/n)
  # |e^{-x s} - (1 - x)^s| <= s x^2 / 2, so the train outputs differ by at most
  # s (c lam_max)^2 / 2 * ||r_0||, and the test outputs by ||Theta*X|| s c^2 lam_max / 2 ||r_0||.
  f, params0, x, x_test, y, k, k_test = _linearized_problem(num_outputs=1)
  k, k_test = k[:, :, 0, 0], k_test[:, :, 0, 0]
  f_lin = ntk.linearize(f, params0)
  lam_max = float(np.linalg.eigvalsh(k).max())
  c = 0.01 / lam_max  # eta / n with c lam_max = 0.01: a small step
  lr, steps = c * y.size, 400
  params = _run_gd(f_lin, params0, x, y, lr, steps)
  fx_train, fx_test = kp.gradient_descent_mse(k, y, learning_rate=lr)(
      steps, f(params0, x), f(params0, x_test), k_test)
  r0 = np.linalg.norm(f(params0, x) - y)
  bound_train = steps * (c * lam_max) ** 2 / 2 * r0
  bound_test = np.linalg.norm(k_test, 2) * steps * c ** 2 * lam_max / 2 * r0
  assert np.linalg.norm(fx_train - f_lin(params, x)) <= bound_train
  assert np.linalg.norm(fx_test - f_lin(params, x_test)) <= bound_test
  # the bound is tight enough to mean something: below 5% of the distance travelled
  assert bound_train < 0.05 * np.linalg.norm(f_lin(params, x) - f(params0, x))


def test_flow_limits_t0_and_infinity(x64):
  rng = np.random.default_rng(1)
  k = _random_psd(rng, 8)
  k_test = rng.normal(size=(3, 8))
  y, f0, f0_test = rng.normal(size=(8, 2)), rng.normal(size=(8, 2)), rng.normal(size=(3, 2))
  predict = kp.gradient_descent_mse(k, y, learning_rate=0.7)
  train0, test0 = predict(0.0, f0, f0_test, k_test)
  np.testing.assert_allclose(train0, f0, atol=1e-12)
  np.testing.assert_allclose(test0, f0_test, atol=1e-12)
  train_inf, test_inf = predict(None, f0, f0_test, k_test)
  np.testing.assert_allclose(train_inf, y, atol=1e-9)
  # t = inf: f* = f0* + K*X K^{-1} (y - f0)
  np.testing.assert_allclose(test_inf, f0_test + k_test @ np.linalg.solve(k, y - f0), atol=1e-9)
  train_big = predict(1e6 * y.size / 0.7 / np.linalg.eigvalsh(k).min(), f0)
  np.testing.assert_allclose(train_big, y, atol=1e-9)


def test_rank_deficient_kernel_leaves_null_space_untouched(x64):
  # With Theta = J J^T of rank 3 < N, the residual outside the range of Theta never decays,
  # and the t = inf prediction is the pseudo-inverse one (no division by a zero eigenvalue).
  rng = np.random.default_rng(2)
  jac = rng.normal(size=(6, 3))
  k, k_test = jac @ jac.T, rng.normal(size=(2, 3)) @ jac.T
  y = rng.normal(size=(6, 1))
  fx_train, fx_test = kp.gradient_descent_mse(k, y)(None, 0.0, 0.0, k_test)
  proj = jac @ np.linalg.pinv(jac)
  np.testing.assert_allclose(fx_train, proj @ y, atol=1e-9)
  np.testing.assert_allclose(fx_test, k_test @ np.linalg.pinv(k) @ y, atol=1e-9)
  assert np.all(np.isfinite(kp.gradient_descent_mse(k, y)(1e3, 0.0)))


def test_kernel_ridge_and_gp_posterior_against_direct_solves(x64):
  rng = np.random.default_rng(3)
  k_all = _random_psd(rng, 10)
  k, k_test, k_tt = k_all[:7, :7], k_all[7:, :7], k_all[7:, 7:]
  y = rng.normal(size=(7, 2))
  reg = 0.1
  expected_mean = k_test @ np.linalg.solve(k + reg * np.eye(7), y)
  expected_cov = k_tt - k_test @ np.linalg.solve(k + reg * np.eye(7), k_test.T)
  np.testing.assert_allclose(kp.kernel_ridge(k, y, reg)(k_test), expected_mean, atol=1e-10)
  post = kp.gp_inference(k, y, k_test, k_tt, diag_reg=reg)
  np.testing.assert_allclose(post.mean, expected_mean, atol=1e-10)
  np.testing.assert_allclose(post.covariance, expected_cov, atol=1e-10)
  # noise-free posterior at the training inputs: mean = y, covariance = 0
  at_train = kp.gp_inference(k, y, k, k)
  np.testing.assert_allclose(at_train.mean, y, atol=1e-8)
  np.testing.assert_allclose(at_train.covariance, 0, atol=1e-8)


def test_ensemble_at_infinite_time_with_ntk_equal_nngp_is_gp_posterior(x64):
  # If Theta = K (only the readout trains), infinite-time GD from f_0 ~ GP(0, K) samples the
  # exact GP posterior (Lee et al. 2019, sec. 2.3.1).
  rng = np.random.default_rng(4)
  k_all = _random_psd(rng, 9)
  k, k_test, k_tt = k_all[:6, :6], k_all[6:, :6], k_all[6:, 6:]
  y = rng.normal(size=(6, 1))
  ens = kp.gradient_descent_mse_ensemble(k, k, y)(None, k_test, k_test, k_tt)
  post = kp.gp_inference(k, y, k_test, k_tt)
  np.testing.assert_allclose(ens.mean, post.mean, atol=1e-9)
  np.testing.assert_allclose(ens.covariance, post.covariance, atol=1e-9)
  # at t = 0 nothing has been learnt: prior mean 0 and prior covariance
  ens0 = kp.gradient_descent_mse_ensemble(k, k, y)(0.0, k_test, k_test, k_tt)
  np.testing.assert_allclose(ens0.mean, 0, atol=1e-12)
  np.testing.assert_allclose(ens0.covariance, k_tt, atol=1e-12)


def test_bad_inputs_raise_clear_errors():
  k = np.eye(3)
  with pytest.raises(JaxnetsError, match="square"):
    kp.gradient_descent_mse(np.ones((3, 2)), np.ones(3))
  with pytest.raises(JaxnetsError, match="y_train"):
    kp.gradient_descent_mse(k, np.ones(4))
  with pytest.raises(JaxnetsError, match="t must be"):
    kp.gradient_descent_mse(k, np.ones(3))(-1.0)
  with pytest.raises(JaxnetsError, match="k_test_train"):
    kp.gradient_descent_mse(k, np.ones(3))(1.0, 0.0, np.zeros(2))
