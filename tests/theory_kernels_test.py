"""Infinite-width kernels: neural-tangents' values, closed forms and wide-network Monte Carlo.

Reference values come from neural-tangents 0.6.5 (``benchmarks/nt_reference.py``, run in its own
virtualenv) and are compared in float64. Monte Carlo checks use architectures whose output
covariance and empirical NTK are *unbiased* estimates of the infinite-width kernels (one hidden
layer: the first pre-activations are exactly Gaussian with the input covariance, and the last layer
averages i.i.d. units), so the tolerance is purely statistical: 5 standard errors estimated from
the spread over independent initialisations.
"""

from __future__ import annotations

import math
import pathlib

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks import nt_agreement
from jaxnets.errors import JaxnetsError
from jaxnets.models.mlp import MLP
from theory import kernels as K

REFERENCE = nt_agreement.REFERENCE
NT_NAMES = nt_agreement.NAMES
W_STD, B_STD = 1.5, 0.05
NUM_SE = 5.0  # two-sided; with ~50 entries per test, a false alarm has probability < 1e-4


@pytest.fixture
def x64():
  with jax.enable_x64(True):
    yield


_ACTS = {"relu": nn.relu, "erf": jax.scipy.special.erf, "tanh": jnp.tanh}


def _mlp(depth, act="relu", w_std=W_STD, b_std=B_STD, width=512, num_outputs=1):
  """The triple of a jaxnets NTK-parameterised MLP (the one public route to its kernel)."""
  return K.from_model(MLP(num_outputs=num_outputs, width=width, depth=depth, act=_ACTS[act],
                          parametrization="ntk", w_std=w_std, b_std=b_std))


def _rel_err(measured, expected) -> float:
  measured, expected = np.asarray(measured), np.asarray(expected)
  assert measured.shape == expected.shape, (measured.shape, expected.shape)
  return float(np.max(np.abs(measured - expected) / np.abs(expected)))


# --- neural-tangents 0.6.5 ---------------------------------------------------------------------


def test_reference_file_has_every_architecture():
  names = {key.split("/")[0] for key in np.load(REFERENCE).files if "/" in key}
  assert names == set(NT_NAMES), names ^ set(NT_NAMES)


@pytest.mark.parametrize("name", NT_NAMES)
def test_equals_neural_tangents_in_float64(name, x64):
  """Prediction: NT's analytic NNGP and NTK. Tolerance: 1e-6 relative, every entry."""
  for block, err in nt_agreement.relative_differences(name).items():
    assert err < 1e-6, f"{name} {block}: max relative difference {err:.2e}"


# --- closed forms ------------------------------------------------------------------------------


def _one_hidden_layer(act, x, y):
  """NNGP, NTK of Dense -> act -> Dense (W_STD, B_STD) from the input covariances, in numpy."""
  d = x.shape[-1]
  s12 = W_STD**2 * x @ y.T / d + B_STD**2
  s11 = W_STD**2 * np.sum(x * x, -1)[:, None] / d + B_STD**2
  s22 = W_STD**2 * np.sum(y * y, -1)[None, :] / d + B_STD**2
  if act == "relu":  # Cho & Saul (2009): k_n = |x|^n |y|^n J_n(theta) / pi, halved.
    theta = np.arccos(np.clip(s12 / np.sqrt(s11 * s22), -1, 1))
    j0, j1 = np.pi - theta, np.sin(theta) + (np.pi - theta) * np.cos(theta)
    e_phi, e_dphi = np.sqrt(s11 * s22) * j1 / (2 * np.pi), j0 / (2 * np.pi)
  else:  # Williams (1997), and its derivative in s12.
    denom = (1 + 2 * s11) * (1 + 2 * s22)
    e_phi = 2 / np.pi * np.arcsin(2 * s12 / np.sqrt(denom))
    e_dphi = 4 / np.pi / np.sqrt(denom - 4 * s12**2)
  nngp = W_STD**2 * e_phi + B_STD**2
  return nngp, nngp + W_STD**2 * s12 * e_dphi


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_one_hidden_layer_matches_arccos_and_arcsine_kernels(act, x64):
  rng = np.random.default_rng(1)
  x, y = rng.normal(size=(7, 4)), rng.normal(size=(5, 4))
  x[1] = x[0]  # identical inputs: the angle is 0, where float rounding matters most
  y[0] = -x[2]  # opposite inputs: the angle is pi
  k = _mlp(1, act)[2](x, y)
  nngp, ntk = _one_hidden_layer(act, x, y)
  assert _rel_err(k.nngp, nngp) < 1e-10
  assert _rel_err(k.ntk, ntk) < 1e-10


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_diagonal_on_the_sphere_is_exact(dtype, tol):
  """On |x| = sqrt(d) with b=0, W^2=2: q_l = 1 for every ReLU layer, so the output NNGP is 2
  and the NTK gains 2 * 1/2 * Theta + 2 per layer: Theta = 2 (L + 1) after L hidden layers."""
  rng = np.random.default_rng(2)
  x = rng.normal(size=(6, 9))
  x *= 3.0 / np.linalg.norm(x, axis=1, keepdims=True)
  with jax.enable_x64(dtype == np.float64):
    for depth in (1, 4):
      k = _mlp(depth, w_std=math.sqrt(2.0), b_std=0.0)[2](x.astype(dtype))
      assert k.ntk.dtype == dtype
      np.testing.assert_allclose(np.diag(k.nngp), 2.0, rtol=tol)
      np.testing.assert_allclose(np.diag(k.ntk), 2.0 * (depth + 1), rtol=tol)


def test_linear_model_kernel_is_scaled_gram_matrix(x64):
  x = np.random.default_rng(3).normal(size=(5, 3))
  k = K.Dense(7, W_std=W_STD, b_std=B_STD)[2](x)
  gram = W_STD**2 * x @ x.T / 3 + B_STD**2
  assert _rel_err(k.nngp, gram) < 1e-13 and _rel_err(k.ntk, gram) < 1e-13


def _patches(img, size=3):
  """im2col with zero SAME padding: (N, H, W, C) -> (N, H*W, size*size*C)."""
  n, h, w, c = img.shape
  pad = size // 2
  padded = np.pad(img, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  return np.stack([padded[:, i:i + size, j:j + size].reshape(n, -1)
                   for i in range(h) for j in range(w)], axis=1)


@pytest.mark.parametrize("pool", ["avg", "flatten"])
def test_one_conv_layer_is_arccos_kernel_of_patches(pool, x64):
  """Conv(3x3) -> Relu -> pool -> Dense is the one-hidden-layer kernel of the zero-padded
  3x3xC patches (Arora et al. 2019), averaged over all pairs of positions (global
  average pooling) or over same positions (flatten)."""
  rng = np.random.default_rng(4)
  x, y = rng.normal(size=(3, 4, 5, 2)), rng.normal(size=(2, 4, 5, 2))
  pooling = K.GlobalAvgPool() if pool == "avg" else K.Flatten()
  k = K.serial(K.Conv(8, (3, 3), W_std=W_STD, b_std=B_STD), K.Relu(), pooling,
               K.Dense(1, W_std=W_STD, b_std=B_STD))[2](x, y)
  px, py = _patches(x), _patches(y)
  positions = px.shape[1]
  nngp, ntk = np.zeros((3, 2)), np.zeros((3, 2))
  for i in range(3):
    for j in range(2):
      a, b = _one_hidden_layer("relu", px[i], py[j])  # (positions, positions)
      if pool == "avg":
        nngp[i, j], ntk[i, j] = a.mean(), b.mean()
      else:
        nngp[i, j], ntk[i, j] = np.trace(a) / positions, np.trace(b) / positions
  assert _rel_err(k.nngp, nngp) < 1e-10
  assert _rel_err(k.ntk, ntk) < 1e-10


def test_quadrature_converges_to_closed_form_erf(x64):
  rng = np.random.default_rng(5)
  x, y = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
  exact = _mlp(2, "erf")[2](x, y)
  layers = [K.Dense(512, W_std=W_STD, b_std=B_STD), K.Elementwise(jax.scipy.special.erf, 128)]
  quad = K.serial(*layers, *layers, K.Dense(1, W_std=W_STD, b_std=B_STD))[2](x, y)
  assert _rel_err(quad.nngp, exact.nngp) < 1e-8
  assert _rel_err(quad.ntk, exact.ntk) < 1e-8


# --- Monte Carlo over wide finite networks -----------------------------------------------------


def _monte_carlo(init, apply, x, num_inits, seed=0):
  """Per initialisation: the output covariance over the readout units ``F F^T / k`` and the
  empirical NTK ``J J^T`` of unit 0 (``jax.jacobian`` over all parameters). Returns the means
  over initialisations and their standard errors, each ``(N, N)``."""
  def one(key):
    params = init(key)
    out = apply(params, x)
    jac = jax.jacobian(lambda p: apply(p, x)[:, 0])(params)
    flat = jnp.concatenate([j.reshape(len(x), -1) for j in jax.tree.leaves(jac)], axis=1)
    return out @ out.T / out.shape[1], flat @ flat.T

  keys = jax.random.split(jax.random.key(seed), num_inits)
  samples = jax.jit(lambda k: jax.lax.map(one, k))(keys)
  return [(s.mean(0), s.std(0, ddof=1) / math.sqrt(num_inits)) for s in samples]


def _assert_within(name, measured, se, expected, bias=0.0):
  """|measured - expected| <= NUM_SE standard errors (+ an allowance for a known bias)."""
  gap = np.abs(np.asarray(measured) - np.asarray(expected))
  tol = NUM_SE * np.asarray(se) + bias
  assert np.all(gap <= tol), (f"{name}: max gap / tolerance {np.max(gap / tol):.2f}; "
                              f"max |gap| {gap.max():.3g}, max se {np.max(se):.3g}")


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_one_hidden_layer_mlp_matches_monte_carlo(act):
  """Width 512, 256 readout units, 64 initialisations: unbiased, so 5 standard errors."""
  x = np.random.default_rng(6).normal(size=(6, 5)).astype(np.float32)
  x[1] = x[0]
  init_fn, apply_fn, kernel_fn = _mlp(1, act, num_outputs=256)
  (nngp, nngp_se), (ntk, ntk_se) = _monte_carlo(lambda k: init_fn(k, x.shape)[1], apply_fn,
                                                x, num_inits=64)
  k = kernel_fn(x)
  _assert_within(f"{act} nngp", nngp, nngp_se, k.nngp)
  _assert_within(f"{act} ntk", ntk, ntk_se, k.ntk)
  # The test has power: standard errors below 2% of the kernel's scale.
  assert np.max(nngp_se) < 0.02 * np.max(k.nngp) and np.max(ntk_se) < 0.02 * np.max(k.ntk)


@pytest.mark.parametrize("pool", ["avg", "flatten"])
def test_two_conv_cnn_matches_monte_carlo_at_many_channels(pool):
  """Two Conv(128, 3x3, SAME)+ReLU, then pooling and Dense(256 units), 64 initialisations.

  Beyond one hidden layer the finite-width mean is biased by O(depth / width) relative to the
  kernel (Hanin & Nica 2019; Yaida 2019), allowed for as ``depth / channels * max|K|``.
  """
  channels, depth = 128, 2
  x = np.random.default_rng(7).normal(size=(3, 4, 4, 2)).astype(np.float32)
  init_fn, apply_fn, kernel_fn = K.cnn(depth, channels=channels, pool=pool, w_std=W_STD,
                                       b_std=B_STD, num_outputs=256)
  (nngp, nngp_se), (ntk, ntk_se) = _monte_carlo(lambda k: init_fn(k, x.shape)[1], apply_fn,
                                                x, num_inits=64)
  k = kernel_fn(x)
  for name, mean, se, exact in (("nngp", nngp, nngp_se, k.nngp), ("ntk", ntk, ntk_se, k.ntk)):
    _assert_within(f"{pool} {name}", mean, se, exact,
                   bias=depth / channels * np.max(np.abs(exact)))
    assert np.max(se) < 0.03 * np.max(np.abs(exact))


def test_jaxnets_mlp_matches_its_kernel():
  """The flax MLP(parametrization="ntk") itself: output covariance and empirical NTK over
  64 initialisations of a one-hidden-layer net (unbiased) against ``from_model``."""
  model = MLP(num_outputs=256, width=512, depth=1, act=nn.relu, parametrization="ntk",
              w_std=W_STD, b_std=B_STD)
  x = np.random.default_rng(8).normal(size=(5, 2, 3)).astype(np.float32)  # flattened by MLP
  (nngp, nngp_se), (ntk, ntk_se) = _monte_carlo(lambda k: model.init(k, x), model.apply, x,
                                                num_inits=64)
  k = K.from_model(model)[2](x)
  _assert_within("nngp", nngp, nngp_se, k.nngp)
  _assert_within("ntk", ntk, ntk_se, k.ntk)


def test_from_model_is_the_model_layer_for_layer(x64):
  """``from_model``'s finite net is the jaxnets MLP (same outputs for the same weights), and
  its kernel equals the layers written out."""
  x = np.random.default_rng(9).normal(size=(4, 2, 3))
  model = MLP(num_outputs=3, width=16, depth=3, act=jax.scipy.special.erf,
              parametrization="ntk", w_std=W_STD, b_std=B_STD)
  init_fn, apply_fn, kernel_fn = K.from_model(model)
  by_layers = K.serial(*[layer for _ in range(3) for layer in
                         (K.Dense(9, W_std=W_STD, b_std=B_STD), K.Erf())],
                       K.Dense(1, W_std=W_STD, b_std=B_STD))[2](x.reshape(4, 6))
  by_model = kernel_fn(x)
  np.testing.assert_allclose(by_model.nngp, by_layers.nngp, rtol=1e-13)
  np.testing.assert_allclose(by_model.ntk, by_layers.ntk, rtol=1e-13)
  variables = model.init(jax.random.key(0), x)["params"]
  shape, params = init_fn(jax.random.key(0), x.shape)
  dense = iter(variables[f"dense_{i}"] for i in range(4))
  # serial(Flatten, [Dense, Erf] x 3, Dense): the Dense entries take the model's weights.
  params = [{"w": v["kernel"], "b": v["bias"]} if p else p
            for p, v in ((p, next(dense) if p else None) for p in params)]
  assert shape == (4, 3)
  np.testing.assert_allclose(apply_fn(params, x), model.apply({"params": variables}, x),
                             rtol=1e-12)


def test_arccos_kernel_is_the_one_layer_relu_kernel(x64):
  """Cho & Saul (2009) eq. 1-3, against closed values and against the analytic NNGP/NTK of
  Dense(W_std=sqrt 2) -> Relu -> Dense(W_std=1): NNGP = k_1 / d, NTK - NNGP = (x.y / d) k_0."""
  rng = np.random.default_rng(12)
  x, y = rng.normal(size=(6, 5)), rng.normal(size=(4, 5))
  y[0], y[1] = x[0], -x[1]  # angles 0 and pi
  y[2] = x[2] - x[2] @ x[3] / (x[3] @ x[3]) * x[3]  # orthogonal to x[3]
  k0, k1 = K.arccos_kernel(x, y, order=0), K.arccos_kernel(x, y, order=1)
  norms = np.linalg.norm(x, axis=1)
  np.testing.assert_allclose([k0[0, 0], k0[1, 1], k0[3, 2]], [1.0, 0.0, 0.5], atol=1e-12)
  np.testing.assert_allclose([k1[0, 0], k1[1, 1], k1[3, 2]],
                             [norms[0]**2, 0.0, norms[3] * np.linalg.norm(y[2]) / np.pi],
                             rtol=1e-12, atol=1e-12)
  kernel = K.serial(K.Dense(64, W_std=math.sqrt(2.0)), K.Relu(), K.Dense(1))[2](x, y)
  d = x.shape[1]
  np.testing.assert_allclose(k1 / d, kernel.nngp, rtol=1e-12)
  np.testing.assert_allclose(x @ y.T / d * k0, kernel.ntk - kernel.nngp, rtol=1e-10,
                             atol=1e-12)
  with pytest.raises(JaxnetsError, match="order"):
    K.arccos_kernel(x, y, order=2)
  with pytest.raises(JaxnetsError, match="x1"):
    K.arccos_kernel(x, y[:, :3])


def test_residual_sum_with_a_non_gaussian_shortcut_matches_monte_carlo():
  """``h + W h / sqrt(n)`` with ``h = relu(Dense(x))``, then a readout: the shortcut is not
  Gaussian (NT refuses it) but uncorrelated with the fresh branch, so covariances add. Width
  256, 256 readout units, 48 initialisations; the output covariance is unbiased (5 standard
  errors), the NTK has the O(depth / width) finite-width bias of the CNN test below."""
  width, inits = 256, 48
  x = np.random.default_rng(13).normal(size=(5, 4)).astype(np.float32)
  init_fn, apply_fn, kernel_fn = K.serial(
      K.Dense(width, W_std=W_STD, b_std=B_STD), K.Relu(), K.FanOut(2),
      K.parallel(K.Identity(), K.Dense(width, W_std=W_STD, b_std=B_STD)), K.FanInSum(),
      K.Dense(256, W_std=W_STD, b_std=B_STD))
  (nngp, nngp_se), (ntk, ntk_se) = _monte_carlo(lambda k: init_fn(k, x.shape)[1], apply_fn,
                                                x, num_inits=inits)
  k = kernel_fn(x)
  _assert_within("residual nngp", nngp, nngp_se, k.nngp)
  _assert_within("residual ntk", ntk, ntk_se, k.ntk, bias=2 / width * np.max(k.ntk))
  assert np.max(nngp_se) < 0.03 * np.max(k.nngp)


# --- API, shapes, dtypes and errors ------------------------------------------------------------


def test_get_batching_and_shapes():
  rng = np.random.default_rng(10)
  x1, x2 = rng.normal(size=(4, 5, 5, 3)), rng.normal(size=(2, 5, 5, 3))
  convs = (K.Conv(4, (3, 3), strides=(2, 2), W_std=W_STD, b_std=B_STD), K.Relu())
  init_fn, apply_fn, kernel_fn = K.serial(*convs, K.GlobalAvgPool(), K.Dense(2))
  full = kernel_fn(x1, x2)
  assert isinstance(full, K.Kernel) and full.nngp.shape == full.ntk.shape == (4, 2)
  assert full.nngp.dtype == jnp.float32  # float64 inputs without x64 compute in float32
  # Asking for the NNGP alone skips the NTK (a different compiled graph: rounding may differ).
  np.testing.assert_allclose(kernel_fn(x1, x2, "nngp"), full.nngp, rtol=1e-6)
  ntk, nngp = kernel_fn(x1, x2, ("ntk", "nngp"))
  np.testing.assert_array_equal(ntk, full.ntk)
  np.testing.assert_array_equal(nngp, full.nngp)
  batched = kernel_fn(x1, x2, batch_size=2)
  np.testing.assert_allclose(batched.ntk, full.ntk, rtol=1e-6)
  # Without pooling the kernel keeps the position pairs: (N1, N2, H, W, H, W).
  assert K.serial(*convs)[2](x1, x2, "nngp").shape == (4, 2, 3, 3, 3, 3)
  shape, params = init_fn(jax.random.key(0), x1.shape)
  assert shape == (4, 2) and apply_fn(params, x1).shape == (4, 2)


def test_float32_is_finite_and_close_to_float64():
  """Identical, zero and tiny inputs (angles 0 and undefined) stay finite in float32."""
  x = np.random.default_rng(11).normal(size=(5, 4))
  x[1], x[2], x[3] = x[0], 0.0, 1e-20
  kernel_fn = _mlp(3, w_std=math.sqrt(2.0), b_std=0.0)[2]
  k32 = kernel_fn(x.astype(np.float32))
  with jax.enable_x64(True):
    k64 = kernel_fn(x)
  for a, b in zip(k32, k64):
    assert a.dtype == jnp.float32 and np.all(np.isfinite(a))
    a, b = np.asarray(a, np.float64), np.asarray(b)
    assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(b))
  grad = jax.grad(lambda z: kernel_fn(z, None, "ntk").sum())(jnp.asarray(x[:3], jnp.float32))
  assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("make,x", [
    (lambda: _mlp(1), np.ones(5)),  # no batch axis
    (lambda: K.serial(K.Relu(), K.Dense(1)), np.ones((2, 3))),  # activation of the inputs
    (lambda: K.serial(K.Conv(2, (3, 3)), K.Dense(1)), np.ones((2, 3))),  # conv on vectors
    (lambda: K.serial(K.Dense(2), K.GlobalAvgPool()), np.ones((2, 3))),  # nothing to pool
    (lambda: K.serial(K.Conv(2, (3, 3), padding="VALID")), np.ones((2, 2, 2, 1))),  # too small
    (lambda: K.serial(K.Conv(2, (3, 3)), K.Flatten(), K.Relu()), np.ones((2, 3, 3, 1))),
])
def test_bad_architectures_and_inputs_raise(make, x):
  with pytest.raises(JaxnetsError):
    make()[2](x)


def test_branches_pooling_and_normalisation_shapes_and_errors():
  x = np.random.default_rng(14).normal(size=(3, 5, 5, 2))
  conv = K.Conv(4, (3, 3))
  init_fn, apply_fn, kernel_fn = K.serial(conv, K.AvgPool((2, 2), (2, 2)),
                                          K.LayerNorm(axis=(1, 2, 3)), K.Relu())
  assert kernel_fn(x, None, "nngp").shape == (3, 3, 2, 2, 2, 2)
  shape, params = init_fn(jax.random.key(0), x.shape)
  assert shape == (3, 2, 2, 4) and apply_fn(params, x).shape == shape
  bad = [
      K.serial(K.Dense(2), K.FanOut(2), K.parallel(K.Identity(), K.Identity()), K.FanInSum()),
      K.serial(K.Dense(2), K.FanOut(2)),  # branches never joined
      K.serial(K.Dense(2), K.FanOut(2), K.Dense(1)),  # a layer on branches
      K.serial(K.Dense(2), K.FanOut(2), K.parallel(K.Dense(1)), K.FanInSum()),  # 2 != 1
      K.serial(K.Dense(2), K.Relu(), K.LayerNorm()),  # not Gaussian
      K.serial(K.Dense(2), K.LayerNorm(axis=0)),  # the batch axis
  ]
  for _, _, kernel_fn in bad:
    with pytest.raises(JaxnetsError):
      kernel_fn(np.ones((2, 3)))
  for make in (lambda: K.AvgPool((2, 2), padding="FULL"), lambda: K.FanOut(0),
               lambda: K.parallel(), lambda: K.AvgPool((0, 2))):
    with pytest.raises(JaxnetsError):
      make()
  with pytest.raises(JaxnetsError):  # window larger than the image
    K.serial(K.Conv(2, (1, 1)), K.AvgPool((9, 9)))[2](x)


def test_bad_arguments_raise():
  kernel_fn = _mlp(1)[2]
  with pytest.raises(JaxnetsError):
    kernel_fn(np.ones((2, 3)), np.ones((2, 4)))
  with pytest.raises(JaxnetsError):
    kernel_fn(np.ones((2, 3)), get="ntk_and_nngp")
  with pytest.raises(JaxnetsError):
    kernel_fn(np.ones((2, 3)), batch_size=0)
  for bad in (lambda: K.Conv(2, (3, 3), padding="FULL"), lambda: K.Dense(0),
              lambda: K.Dense(2, W_std=-1.0), lambda: K.cnn(0),
              lambda: K.cnn(1, pool="max"), lambda: K.Elementwise(jnp.tanh, degree=0),
              lambda: K.from_model(MLP(num_outputs=2, parametrization="standard")),
              lambda: K.from_model(MLP(num_outputs=2, depth=-1, parametrization="ntk"))):
    with pytest.raises(JaxnetsError):
      bad()
