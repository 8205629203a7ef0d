"""jaxnets.models.flows: exact log-densities, invertibility, autoregressive structure, training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxnets.data import densities
from jaxnets.errors import JaxnetsError
from jaxnets.models import flows
from jaxnets.train.likelihood import fit_density


def _random_variables(model, d, key):
  x = jax.random.normal(key, (6, d))
  variables = model.init(key, x)
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(jax.random.fold_in(key, 1), len(leaves))
  return x, jax.tree.unflatten(tree, [v + 0.1 * jax.random.normal(k, v.shape)
                                      for v, k in zip(leaves, keys)])


@pytest.mark.parametrize("name", ["realnvp", "maf"])
def test_log_det_and_inverse(name):
  model = flows.get_flow(name, 3, num_layers=3, hidden=(16,))
  x, variables = _random_variables(model, 3, jax.random.key(0))
  forward = jax.jit(lambda x: model.apply(variables, x, method="forward"))
  z, log_det = forward(x)
  jac = jax.jit(jax.vmap(jax.jacfwd(lambda xi: forward(xi[None])[0][0])))(x)
  np.testing.assert_allclose(np.asarray(jnp.linalg.slogdet(jac)[1]), np.asarray(log_det),
                             atol=1e-5)
  assert float(jnp.abs(log_det).max()) > 1e-3  # the check is not of an identity map
  np.testing.assert_allclose(np.asarray(jax.jit(
      lambda z: model.apply(variables, z, method="inverse"))(z)),
                             np.asarray(x), atol=1e-5)
  log_q = model.apply(variables, x)
  np.testing.assert_allclose(np.asarray(log_q), np.asarray(
      flows.standard_normal_log_prob(z) + log_det), rtol=1e-6)


def test_made_output_i_depends_only_on_earlier_inputs():
  masks = flows.made_masks(5, (12, 12))
  connectivity = masks[0]
  for m in masks[1:]:
    connectivity = (connectivity @ m) > 0
  # input j reaches output i only if j < i: strictly upper triangular (in -> out)
  assert not np.any(np.tril(connectivity))
  assert np.all(connectivity[np.triu_indices(5, 1)])


def test_untrained_flow_is_the_standard_normal():
  model = flows.RealNVP(dim=2, num_layers=2, hidden=(8,))
  x = jax.random.normal(jax.random.key(1), (4, 2))
  variables = model.init(jax.random.key(0), x)
  np.testing.assert_allclose(np.asarray(model.apply(variables, x)),
                             np.asarray(flows.standard_normal_log_prob(x)), rtol=1e-6)


def test_maximum_likelihood_fits_a_correlated_gaussian():
  # A correlated Gaussian is one affine map of the base: a MAF fits it almost exactly, and the
  # Monte-Carlo KL(p || q) must fall from its untrained value (0.51 nats) to near 0.
  cov = np.array([[1.0, 0.8], [0.8, 1.0]]) * 2.0
  chol = np.linalg.cholesky(cov)
  x = (np.asarray(jax.random.normal(jax.random.key(2), (4000, 2))) @ chol.T
       + np.array([1.0, -1])).astype(np.float32)
  model = flows.MAF(dim=2, num_layers=2, hidden=(16,))
  result = fit_density(model, x, key=jax.random.key(3), tx=optax.adam(1e-2), num_steps=600,
                       batch_size=500, steps_per_call=100)
  test = (np.asarray(jax.random.normal(jax.random.key(4), (4000, 2))) @ chol.T
          + np.array([1.0, -1])).astype(np.float32)
  inv = np.linalg.inv(cov)
  centred = test - np.array([1.0, -1])
  log_p = (-0.5 * np.einsum("ni,ij,nj->n", centred, inv, centred)
           - 0.5 * np.log(np.linalg.det(2 * np.pi * cov)))
  kl = float(np.mean(log_p - np.asarray(model.apply({"params": result.state.params}, test))))
  assert kl < 0.03, kl


def test_samples_follow_the_flow():
  model = flows.RealNVP(dim=2, num_layers=2, hidden=(8,))
  variables = model.init(jax.random.key(0), jnp.zeros((2, 2)))
  samples = model.apply(variables, jax.random.key(1), 1000, method="sample")
  assert samples.shape == (1000, 2) and bool(jnp.all(jnp.isfinite(samples)))


def test_wrong_dimensionality_is_one_clear_error():
  model = flows.RealNVP(dim=2, num_layers=2, hidden=(8,))
  variables = model.init(jax.random.key(0), jnp.zeros((2, 2)))
  with pytest.raises(JaxnetsError, match=r"expected an \(n, 2\) array"):
    model.apply(variables, jnp.zeros((3, 5)))
  with pytest.raises(JaxnetsError, match="unknown flow"):
    flows.get_flow("glow", 2)
  with pytest.raises(JaxnetsError, match="NaN"):
    fit_density(model, np.full((10, 2), np.nan), key=jax.random.key(0), tx=optax.adam(1e-3),
                num_steps=1, batch_size=5)


def test_mixture_log_prob_is_normalised():
  target = densities.target_2d("checkerboard")
  grid = np.linspace(-4, 4, 401)
  mesh = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
  mass = float(np.exp(np.asarray(target.log_prob(mesh))).sum() * (grid[1] - grid[0]) ** 2)
  assert abs(mass - 1) < 1e-3


def test_bits_per_dim_of_the_uniform_density():
  # q = 1 on [0, 1]^64 gives log2(17) bits per dimension: the discrete uniform's code length
  assert densities.bits_per_dim(np.zeros(10), 64) == pytest.approx(np.log2(17))
  x = densities.dequantized_digits("test", jax.random.key(0))
  assert x.shape == (359, 64) and x.min() >= 0 and x.max() < 1
  logit = densities.LogitTransform()
  np.testing.assert_allclose(np.asarray(logit.inverse(logit.forward(x))), x, atol=1e-5)


def test_validation_keeps_the_best_parameters():
  # 40 points and a flexible flow overfit within 200 steps: the kept params must have the lowest validation NLL
  # of every epoch's check, hence no more than the last params' (and it is not the last step).
  rng = np.random.default_rng(0)
  train = rng.normal(size=(40, 2)).astype(np.float32)
  validation = rng.normal(size=(200, 2)).astype(np.float32)
  model = flows.RealNVP(dim=2, num_layers=4, hidden=(64, 64))
  result = fit_density(model, train, key=jax.random.key(0), tx=optax.adam(1e-2), num_steps=200,
                       batch_size=20, steps_per_call=1, validation=validation, validate_every=2)
  nll = lambda p: -float(jnp.mean(model.apply({"params": p}, validation)))
  state = result.state
  assert int(state.best_step) % 2 == 0 and 0 < int(state.best_step) < 200
  assert nll(state.best_params) == pytest.approx(float(state.best_loss), rel=1e-5)
  assert nll(state.best_params) < nll(state.train.params)
