"""Tests of the empirical NTK/NNGP and of linearisation (theory/ntk.py) against closed forms."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.models.cnn import CNN2D
from jaxnets.models.mlp import MLP
from jaxnets.models.resnet import BasicBlock, CifarStem, PadShortcut, ResNet
from theory import kernels as K
from theory import ntk, ntk_structured

IMPLEMENTATIONS = ("jacobian_contraction", "ntk_vector_products", "structured_derivatives",
                   "auto")


@pytest.fixture
def x64():
  with jax.enable_x64(True):
    yield


def _linear(params, x):
  return x @ params["w"] + params["b"]


def _brute_force_ntk(f, params, x1, x2):
  """``J1 J2^T`` from full Jacobians of the flattened outputs: ``(N1, N2, K, K)``."""
  def flat_jac(x):
    jac = jax.jacrev(lambda p: f(p, x).reshape(-1))(params)
    return jnp.concatenate([l.reshape(l.shape[0], -1) for l in jax.tree.leaves(jac)], axis=1)
  j1, j2 = flat_jac(x1), flat_jac(x2)
  k = (j1 @ j2.T).reshape(x1.shape[0], -1, x2.shape[0], j2.shape[0] // x2.shape[0])
  return jnp.transpose(k, (0, 2, 1, 3))


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_ntk_of_linear_model_is_gram_matrix(x64, implementation):
  # f(x) = x W + b: d f_k / d W_ik = x_i, d f_k / d b_k = 1, so Theta_kl = (x . x' + 1) delta_kl.
  rng = np.random.default_rng(0)
  x1, x2 = rng.normal(size=(9, 5)), rng.normal(size=(4, 5))
  params = {"w": jnp.asarray(rng.normal(size=(5, 3))), "b": jnp.zeros(3)}
  gram = x1 @ x2.T + 1.0
  traced = ntk.empirical_ntk_fn(_linear, implementation=implementation)(x1, x2, params)
  kept = ntk.empirical_ntk_fn(_linear, trace_axes=(), implementation=implementation,
                              batch_size=2)(x1, x2, params)
  np.testing.assert_allclose(traced, gram, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(kept, gram[:, :, None, None] * np.eye(3), rtol=1e-12, atol=1e-12)


def test_implementations_match_brute_force_jacobian_on_mlp(x64):
  rng = np.random.default_rng(1)
  net = MLP(num_outputs=3, width=16, depth=2, parametrization="ntk", b_std=0.1)
  x1, x2 = rng.normal(size=(5, 7)), rng.normal(size=(3, 7))
  params = jax.tree.map(lambda p: p.astype(jnp.float64), net.init(jax.random.key(0), x1))
  f = lambda p, x: net.apply(p, x)
  expected = _brute_force_ntk(f, params, x1, x2)
  # Blocks of 2 with 5 and 3 inputs: padding and reassembly are exercised too. (Tracing the
  # output axes is checked on the linear model and on matrix outputs.)
  for implementation in ("jacobian_contraction", "ntk_vector_products",
                         "structured_derivatives"):
    kept = ntk.empirical_ntk_fn(f, (), implementation, batch_size=2)(x1, x2, params)
    np.testing.assert_allclose(kept, expected, rtol=1e-10, atol=1e-10)


def test_implementations_agree_on_a_cnn(x64):
  # Per-example Jacobians contracted, VJP-then-JVP products and structured derivatives share
  # no code beyond f itself; on a conv net (max-pooling, dense head) they agree to round-off.
  net = CNN2D(num_outputs=3, channels=(2, 3), hidden=4)
  x1 = np.random.default_rng(1).normal(size=(3, 4, 4, 1))
  params = jax.tree.map(lambda p: p.astype(jnp.float64), net.init(jax.random.key(0), x1))
  f = lambda p, x: net.apply(p, x)
  jc = ntk.empirical_ntk_fn(f, (), "jacobian_contraction")(x1, None, params)
  nvp = ntk.empirical_ntk_fn(f, (), "ntk_vector_products")(x1, None, params)
  sd = ntk.empirical_ntk_fn(f, (), "structured_derivatives")(x1, None, params)
  np.testing.assert_allclose(jc, nvp, rtol=1e-10, atol=1e-10)
  np.testing.assert_allclose(sd, jc, rtol=1e-10, atol=1e-10)
  assert np.abs(jc).max() > 1e-3  # not trivially zero


def test_x2_none_gives_symmetric_psd_kernel(x64):
  net = MLP(num_outputs=2, width=32, depth=1, parametrization="ntk")
  x = np.random.default_rng(2).normal(size=(6, 4))
  params = net.init(jax.random.key(0), x)
  k = ntk.empirical_ntk_fn(lambda p, x: net.apply(p, x))(x, None, params)
  np.testing.assert_allclose(k, k.T, rtol=1e-12)
  assert np.linalg.eigvalsh(k).min() > -1e-10 * np.abs(k).max()


def _relu_one_hidden_layer_kernels(x1, x2, w_std, b_std):
  """Closed-form NNGP and NTK of Dense(W_std, b_std) -> ReLU -> Dense(W_std, b_std).

  Arc-cosine expectations (Cho & Saul 2009): E[relu(u) relu(v)] = sqrt(q1 q2) (sin t +
  (pi - t) cos t) / (2 pi), E[relu'(u) relu'(v)] = (pi - t) / (2 pi), t the angle of the
  first-layer covariance; NTK recursion Theta_2 = K_2 + W^2 E[relu' relu'] Theta_1 with
  Theta_1 = K_1 (Jacot et al. 2018, Thm. 1).
  """
  d = x1.shape[1]
  k12 = w_std ** 2 * x1 @ x2.T / d + b_std ** 2
  q1 = w_std ** 2 * (x1 ** 2).sum(1) / d + b_std ** 2
  q2 = w_std ** 2 * (x2 ** 2).sum(1) / d + b_std ** 2
  norm = np.sqrt(np.outer(q1, q2))
  theta = np.arccos(np.clip(k12 / norm, -1, 1))
  e_relu = norm * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
  e_drelu = (np.pi - theta) / (2 * np.pi)
  nngp = w_std ** 2 * e_relu + b_std ** 2
  return nngp, nngp + w_std ** 2 * e_drelu * k12


def test_wide_relu_ntk_matches_arc_cosine_kernel_within_monte_carlo_error(x64):
  # With one hidden layer, Theta_n is an average of n i.i.d. per-neuron terms (the readout is
  # independent of them), so E[Theta_n] = Theta_inf exactly and the seed-to-seed standard
  # error is the whole error: |mean - closed form| <= 4.5 standard errors.
  w_std, b_std, width, seeds = 1.5, 0.05, 1024, 24
  x = np.random.default_rng(3).normal(size=(4, 6))
  net = MLP(num_outputs=1, width=width, depth=1, parametrization="ntk", w_std=w_std,
            b_std=b_std)
  ntk_fn = ntk.empirical_ntk_fn(lambda p, x: net.apply(p, x))
  samples = np.array([ntk_fn(x, None, net.init(jax.random.key(s), x)) for s in range(seeds)])
  _, ntk_inf = _relu_one_hidden_layer_kernels(x, x, w_std, b_std)
  sem = samples.std(0, ddof=1) / math.sqrt(seeds)
  z = np.abs(samples.mean(0) - ntk_inf) / sem
  assert z.max() <= 4.5, (z.max(), samples.mean(0), ntk_inf)
  # and a single draw is already within a few 1/sqrt(n) of the limit
  rel = np.linalg.norm(samples[0] - ntk_inf) / np.linalg.norm(ntk_inf)
  assert rel <= 5 / math.sqrt(width), rel


def test_wide_relu_output_covariance_matches_nngp_within_monte_carlo_error(x64):
  # At large width the O outputs are i.i.d. centred Gaussians with covariance K (Lee et al.
  # 2018), so the traced f f^T averaged over S seeds has variance (K_ii K_jj + K_ij^2) / (S O)
  # (Isserlis); the measured mean must lie within 4.5 of those standard errors.
  w_std, b_std, width, seeds, outputs = 1.5, 0.05, 1024, 16, 8
  x = np.random.default_rng(3).normal(size=(4, 6))
  net = MLP(num_outputs=outputs, width=width, depth=1, parametrization="ntk", w_std=w_std,
            b_std=b_std)
  nngp_fn = ntk.empirical_nngp_fn(lambda p, x: net.apply(p, x))
  mean = np.mean([nngp_fn(x, None, net.init(jax.random.key(s), x)) for s in range(seeds)], 0)
  nngp_inf, _ = _relu_one_hidden_layer_kernels(x, x, w_std, b_std)
  diag = np.diag(nngp_inf)
  sem = np.sqrt((np.outer(diag, diag) + nngp_inf ** 2) / (seeds * outputs))
  z = np.abs(mean - nngp_inf) / sem
  assert z.max() <= 4.5, (z.max(), mean, nngp_inf)


def test_linearize_is_exact_for_a_linear_model(x64):
  rng = np.random.default_rng(4)
  x = rng.normal(size=(6, 5))
  p0 = {"w": jnp.asarray(rng.normal(size=(5, 2))), "b": jnp.asarray(rng.normal(size=2))}
  p1 = jax.tree.map(lambda p: p + jnp.asarray(rng.normal(size=p.shape)), p0)
  f_lin = ntk.linearize(_linear, p0)
  np.testing.assert_allclose(f_lin(p1, x), _linear(p1, x), rtol=1e-13, atol=1e-13)


def test_linearize_error_is_second_order_for_a_nonlinear_net(x64):
  # Taylor: f(p0 + e d) - f_lin(p0 + e d) = O(e^2); halving e divides the gap by 4.
  net = MLP(num_outputs=2, width=16, depth=2, act=jnp.tanh, parametrization="ntk")
  x = np.random.default_rng(5).normal(size=(4, 3))
  p0 = net.init(jax.random.key(0), x)
  d = jax.tree.map(lambda p: jnp.ones_like(p) * 0.3, p0)
  f = lambda p, x: net.apply(p, x)
  f_lin = ntk.linearize(f, p0)
  np.testing.assert_allclose(f_lin(p0, x), f(p0, x), rtol=1e-14)
  gaps = []
  for eps in (1e-2, 5e-3, 2.5e-3):
    p = jax.tree.map(lambda a, b: a + eps * b, p0, d)
    gaps.append(float(jnp.abs(f(p, x) - f_lin(p, x)).max()))
  slopes = np.diff(np.log(gaps)) / np.diff(np.log([1e-2, 5e-3, 2.5e-3]))
  np.testing.assert_allclose(slopes, 2.0, atol=0.05)


def test_bad_arguments_raise_clear_errors():
  with pytest.raises(JaxnetsError, match="implementation"):
    ntk.empirical_ntk_fn(_linear, implementation="fast")
  with pytest.raises(JaxnetsError, match="batch_size"):
    ntk.empirical_ntk_fn(_linear, batch_size=0)
  params = {"w": jnp.ones((3, 2)), "b": jnp.zeros(2)}
  with pytest.raises(JaxnetsError, match="trace axis"):
    ntk.empirical_ntk_fn(_linear, trace_axes=(3,))(jnp.ones((2, 3)), None, params)


def test_auto_prefers_vector_products_for_many_params_and_few_examples():
  # Cost model (Novak et al. 2022): contraction pays N1 N2 O^2 P, vector products
  # 3 N2 O (N1 + N2) [FP] with [FP] ~ 2P. N = 8, O = 10: untraced, 13760 P vs 7680 P;
  # traced (O_t = 10), 2240 P vs 7680 P.
  net = MLP(num_outputs=10, width=64, depth=2, parametrization="ntk")
  x = jnp.ones((8, 16))
  params = net.init(jax.random.key(0), x)
  f = lambda p, x: net.apply(p, x)
  two = ("jacobian_contraction", "ntk_vector_products")
  assert ntk.choose_implementation(f, params, x, x, 1, candidates=two) == "ntk_vector_products"
  assert ntk.choose_implementation(f, params, x, x, 10, candidates=two) == "jacobian_contraction"
  # Structured derivatives: 2 N^2 O^2 (K + M) per dense layer instead of 2 N^2 O^2 K M.
  assert ntk.choose_implementation(f, params, x, x, 10) == "structured_derivatives"


@pytest.mark.parametrize("trace_axes", [(), (-1,), (0,), (0, 1)])
def test_trace_axes_on_matrix_outputs(x64, trace_axes):
  # outputs (N, A, B) = (N, 2, 5): traced pairs of axes are averaged over their diagonal
  rng = np.random.default_rng(6)
  x = jnp.asarray(rng.normal(size=(4, 3)))
  params = {"w": jnp.asarray(rng.normal(size=(3, 2, 5)))}
  f = lambda p, x: jnp.tanh(jnp.einsum("nd,dab->nab", x, p["w"]))
  jac = jax.jacrev(lambda p: f(p, x))(params)["w"].reshape(4, 2, 5, -1)
  full = jnp.einsum("nabp,mcdp->nmabcd", jac, jac)
  expected = {(): full, (-1,): jnp.einsum("nmabcb->nmac", full) / 5,
              (0,): jnp.einsum("nmabad->nmbd", full) / 2,
              (0, 1): jnp.einsum("nmabab->nm", full) / 10}[trace_axes]
  for implementation in IMPLEMENTATIONS[:3]:
    k = ntk.empirical_ntk_fn(f, trace_axes, implementation)(x, None, params)
    np.testing.assert_allclose(k, expected, rtol=1e-12, atol=1e-12)


# --- structured derivatives == Jacobian contraction (float32, 1e-5 of the kernel's scale) ------


def _assert_structured_matches(f, params, x1, x2=None, trace_axes=(-1,), batch_size=None,
                               tol=1e-5):
  """Structured derivatives vs Jacobian contraction, both in float32: the FLOPs are summed in
  different orders, so they agree to float32 round-off relative to the kernel's scale."""
  jc = ntk.empirical_ntk_fn(f, trace_axes, "jacobian_contraction")(x1, x2, params)
  sd = ntk.empirical_ntk_fn(f, trace_axes, "structured_derivatives",
                            batch_size=batch_size)(x1, x2, params)
  assert sd.dtype == jnp.float32 and sd.shape == jc.shape
  scale = float(jnp.abs(jc).max())
  assert scale > 1e-3, scale  # not trivially zero
  err = float(jnp.abs(sd - jc).max()) / scale
  assert err <= tol, err
  return sd


def test_structured_matches_on_mlps():
  rng = np.random.default_rng(7)
  x1 = jnp.asarray(rng.normal(size=(6, 5)), jnp.float32)
  x2 = jnp.asarray(rng.normal(size=(3, 5)), jnp.float32)
  net = MLP(num_outputs=3, width=32, depth=2, parametrization="ntk", b_std=0.3)
  params = net.init(jax.random.key(1), x1)
  f = lambda p, x: net.apply(p, x)
  _assert_structured_matches(f, params, x1, x2, trace_axes=())
  # Blocks of 4 with 6 inputs: cached factors, padding and the mirrored symmetric blocks.
  _assert_structured_matches(f, params, x1, None, (), batch_size=4)


def test_structured_matches_on_a_cnn_with_dense_layers_over_positions():
  # Conv, then Dense(64) acting at each of 2x2 positions: a dense site with S = 4 positions,
  # where the (a1 a2^T) * (g1 g2^T) rule sums over pairs of positions. (jaxnets' CNN2D, with
  # max-pooling, is compared in float64 in test_implementations_agree_on_a_cnn.)
  init_fn, apply_fn, _ = K.serial(K.Conv(8, (3, 3), W_std=1.5), K.Relu(), K.Dense(64, W_std=1.5),
                                  K.Relu(), K.Dense(64, W_std=1.5), K.GlobalAvgPool(),
                                  K.Dense(1, W_std=1.5))
  xs = jnp.asarray(np.random.default_rng(8).normal(size=(4, 2, 2, 2)), jnp.float32)
  _, params = init_fn(jax.random.key(1), xs.shape)
  graph = ntk_structured.trace_graph(apply_fn, params, xs[:1], 1)
  sizes = [ntk_structured._dense_sizes(graph.sites[k]) for k in graph.dense_sites]
  assert (4, 64, 64) in sizes, sizes
  _assert_structured_matches(apply_fn, params, xs)


def _perturbed(tree, key, scale):
  leaves, treedef = jax.tree.flatten(tree)
  keys = jax.random.split(key, len(leaves))
  return jax.tree.unflatten(treedef, [l + scale * jax.random.normal(k, l.shape, l.dtype)
                                      for l, k in zip(leaves, keys)])


def test_structured_matches_on_a_resnet_with_batch_norm_in_inference_mode():
  # A stem and one basic block (identity shortcut), BatchNorm using its running statistics:
  # per-channel scale (a "mul" site) and shift (an "add" site). Parameters and statistics are
  # perturbed so that no scale is the zero of Goyal et al.'s init.
  net = ResNet(num_outputs=2, stage_sizes=(1,), widths=(4,), block=BasicBlock,
               stem=CifarStem, shortcut=PadShortcut)
  x = jnp.asarray(np.random.default_rng(9).normal(size=(3, 5, 5, 1)), jnp.float32)
  variables = net.init(jax.random.key(0), x)
  params = _perturbed(variables["params"], jax.random.key(1), 0.3)
  stats = _perturbed(variables["batch_stats"], jax.random.key(2), 0.2)
  stats = jax.tree.map(jnp.abs, stats)  # variances stay positive
  f = lambda p, x: net.apply({"params": p, "batch_stats": stats}, x)
  _assert_structured_matches(f, params, x, trace_axes=())


def test_structured_matches_with_shared_weights_and_a_loop():
  # W is used at two sites (shared: its gradients are summed before contracting) and V inside a
  # lax.scan, a primitive the structured route treats as one opaque site.
  rng = np.random.default_rng(10)
  params = {"w": jnp.asarray(rng.normal(size=(5, 7)) / 2, jnp.float32),
            "v": jnp.asarray(rng.normal(size=(5, 5)) / 2, jnp.float32)}

  def f(p, x):
    h = jnp.tanh(jnp.tanh(x @ p["w"]) @ p["w"].T)
    h, _ = jax.lax.scan(lambda h, _: (jnp.tanh(h @ p["v"]), None), h, None, length=3)
    return h[:, :2]

  x = jnp.asarray(rng.normal(size=(4, 5)), jnp.float32)
  _assert_structured_matches(f, params, x, trace_axes=())


def test_vmap_axes_moves_the_example_axis():
  rng = np.random.default_rng(11)
  net = MLP(num_outputs=2, width=16, depth=1, parametrization="ntk")
  x = jnp.asarray(rng.normal(size=(5, 3)), jnp.float32)
  params = net.init(jax.random.key(0), x)
  f = lambda p, x: net.apply(p, x)
  expected = ntk.empirical_ntk_fn(f, ())(x, None, params)
  f_t = lambda p, xt: f(p, xt.T).T  # examples on axis 1 of the input and of the output
  for implementation in ("jacobian_contraction", "structured_derivatives"):
    k = ntk.empirical_ntk_fn(f_t, (), implementation, vmap_axes=(1, 1))(x.T, None, params)
    np.testing.assert_allclose(k, expected, rtol=1e-5, atol=1e-5)
  # vmap_axes=None: f need not act on examples independently; only vector products apply.
  k = ntk.empirical_ntk_fn(f, (), vmap_axes=None)(x, None, params)
  np.testing.assert_allclose(k, expected, rtol=1e-5, atol=1e-5)
  for bad in (dict(implementation="structured_derivatives", vmap_axes=None),
              dict(batch_size=2, vmap_axes=None), dict(vmap_axes=(0,))):
    with pytest.raises(JaxnetsError):
      ntk.empirical_ntk_fn(f, (), **bad)(x, None, params)
