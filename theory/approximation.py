"""Approximation by networks: errors, width sweeps, m-term (Maurey) and random-feature sums.

* ``approximation_errors``: L1, L2 and L-infinity errors on held-out points.
* ``fit_regression`` / ``train_width_sweep``: full- or mini-batch training of ``(apply_fn, params)``
  on a target by the engine (``jaxnets.train.minimize``), seeds of one width trained together
  (``vmap``), one compilation per width.
* ``maurey_step_sample``: Barron's (1993, sec. 3-4) constructive m-term approximation of a
  Fourier sum by m step units sampled from its integral representation (Maurey's lemma).
* ``fit_random_features`` / ``fit_readout``: m fixed neurons -- random, or spread over the cube
  as in Cybenko's construction (``spread_neurons``) -- with the read-out fitted by least squares.
* Fixed bases: orthonormal Hermite polynomials of total degree <= K in d variables
  (``hermite_features``, ``num_polynomials = C(K + d, d)``) and 1-D Hermite coefficients.
* Depth separation: ``count_linear_pieces`` (on a grid), ``shallow_relu_pieces`` (exact, from
  the weights) and ``tent_l1_lower_bound`` (Telgarsky 2016; the explicit L1 constant is derived
  in its docstring).

Rate exponents of the resulting sweeps are fitted by ``theory.rates.fit_power_law``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets.errors import JaxnetsError
from jaxnets.train.minimize import minimize
from jaxnets.typing import PyTree
from theory import random_features as rf
from theory.least_squares import least_squares
from theory.targets import CosineSum

ApplyFn = Callable[[PyTree, jax.Array], jax.Array]


def approximation_errors(pred: jax.Array, true: jax.Array) -> dict[str, float]:
  """Errors of ``pred`` against ``true`` (both ``(N,)``) under the empirical input law.

  Returns ``{"l1": mean |e|, "l2": sqrt(mean e^2), "linf": max |e|, "sq_l2": mean e^2,
  "rel_sq_l2": mean e^2 / var(true)}``.
  """
  pred = np.asarray(pred, np.float64).reshape(-1)
  true = np.asarray(true, np.float64).reshape(-1)
  if pred.shape != true.shape:
    raise JaxnetsError(f"prediction and target differ in size: {pred.shape} vs {true.shape}")
  e = pred - true
  sq = float(np.mean(e ** 2))
  return dict(l1=float(np.mean(np.abs(e))), l2=math.sqrt(sq), linf=float(np.max(np.abs(e))),
              sq_l2=sq, rel_sq_l2=sq / max(float(np.var(true)), 1e-30))


def fit_regression(apply_fn: ApplyFn, params: PyTree, x: jax.Array, y: jax.Array,
                   optimizer: optax.GradientTransformation, steps: int,
                   batch_size: int | None = None, data_seed: int = 0, power: float = 2.0,
                   seeds: bool = False, steps_per_call: int = 1) -> tuple[PyTree, np.ndarray]:
  """Minimises ``mean |apply_fn(params, x)[:, 0] - y|^power`` (the squared error by default).

  A large ``power`` (8, say) approaches the sup-norm error that universal approximation is
  about, without its non-smoothness.

  Full batch by default; with ``batch_size`` each step takes the next ``batch_size`` examples
  of an epoch's permutation of ``x`` (seeded by ``data_seed``) -- with a large pool this
  approximates training on the population loss, which is what an approximation (rather than
  estimation) experiment wants. Trained by the engine (``jaxnets.train.minimize``); with
  ``seeds``, ``params`` carry a leading axis of runs trained together (``data_seed`` then a
  list).

  Returns:
    ``(params, losses)``: the trained params and the loss of each logged window.
  """
  result = _fit(apply_fn, params, x, y, optimizer, steps, batch_size, data_seed, power, seeds,
                steps_per_call)
  return result.state.params, np.stack([h["loss"] for h in result.history])


def _fit(apply_fn, params, x, y, optimizer, steps, batch_size, data_seed, power, seeds,
         steps_per_call):
  objective = _apply_objective(apply_fn, power)
  return minimize(objective, params, optimizer, {"x": jnp.asarray(x), "y": jnp.asarray(y)},
                  num_steps=steps, batch_size=batch_size, data_seed=data_seed, seeds=seeds,
                  steps_per_call=steps_per_call, log_every=steps_per_call)


@functools.lru_cache(maxsize=64)  # one objective object per model: compiled once per shapes
def _apply_objective(apply_fn: ApplyFn, power: float):
  def objective(params, batch, rng):
    del rng
    pred = apply_fn(params, batch["x"]).reshape(batch["y"].shape)
    return jnp.mean(jnp.abs(pred - batch["y"]) ** power)
  return objective


def default_optimizer(learning_rate: float, steps: int) -> optax.GradientTransformation:
  """Adam with a cosine decay to 1% of ``learning_rate``: what the sweeps use unless told."""
  return optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01))


def train_width_sweep(make_model: Callable[[int], Any], widths: list[int], x: np.ndarray,
                      y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *,
                      key: jax.Array, seeds: int = 2, steps: int = 2000,
                      optimizer: Callable[[int], optax.GradientTransformation] | None = None,
                      learning_rate: float = 1e-2, batch_size: int | None = None,
                      power: float = 2.0) -> dict[str, np.ndarray]:
  """Trains ``make_model(width)`` (a flax module with one output) per width and seed.

  Seeds of one width train together under ``vmap`` in the engine's compiled step. Any size can
  be swept, not only width: ``make_model=lambda L: MLP(1, width=16, depth=L)`` with
  ``widths=[1, 2, 4]`` sweeps depth.

  Args:
    make_model: ``width -> flax module`` with ``num_outputs=1``.
    widths: hidden widths m.
    x, y: ``(n, d)``, ``(n,)`` training inputs and targets.
    x_test, y_test: held-out ``(n_test, d)``, ``(n_test,)``.
    key: root key; width w, seed s initialises from ``fold_in(fold_in(key, w), s)``.
    seeds: networks per width.
    steps: full-batch optimiser steps.
    optimizer: ``steps -> optax`` transformation; default ``default_optimizer(learning_rate)``.
    learning_rate: of the default optimiser.
    batch_size: minibatch size (default: full batch), see ``fit_regression``; each run's
      epoch permutations are seeded from its key.
    power: the training loss is ``mean |error|^power``.

  Returns:
    ``{"widths": (W,), "l1", "l2", "linf", "sq_l2", "rel_sq_l2": (W, S) test errors,
    "train_loss": (W, S) training MSE on the full training set, "predictions":
    (W, S, n_test), "params": [W pytrees with a leading seed axis]}``.
  """
  if not widths or min(widths) < 1:
    raise JaxnetsError(f"widths must be positive integers, got {widths}")
  if seeds < 1 or steps < 1:
    raise JaxnetsError(f"seeds and steps must be >= 1, got seeds={seeds}, steps={steps}")
  make_opt = optimizer or functools.partial(default_optimizer, learning_rate)
  x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32).reshape(-1)
  xt = jnp.asarray(x_test, jnp.float32)
  out = {k: [] for k in ("l1", "l2", "linf", "sq_l2", "rel_sq_l2", "train_loss", "predictions")}
  params = []
  fused = math.gcd(steps, 100)  # steps per dispatch: these MLPs are tiny, dispatch dominates
  for width in widths:
    model = make_model(width)
    keys = [jax.random.fold_in(jax.random.fold_in(key, width), s) for s in range(seeds)]
    init = _init_seeds(model, keys, x[:1])
    data_seeds = [int(jax.random.randint(jax.random.fold_in(k, 1), (), 0, 2**31 - 1))
                  for k in keys]
    trained = _fit(model.apply, init, x, y, make_opt(steps), steps, batch_size, data_seeds,
                   power, True, fused).state.params
    preds, last = _evaluate_seeds(model.apply, trained, x, y, xt)
    errs = [approximation_errors(p, y_test) for p in np.asarray(preds)]
    for name in ("l1", "l2", "linf", "sq_l2", "rel_sq_l2"):
      out[name].append([e[name] for e in errs])
    out["train_loss"].append(np.asarray(last))
    out["predictions"].append(np.asarray(preds))
    params.append(trained)
  result = {k: np.asarray(v, np.float64) for k, v in out.items()}
  result["widths"] = np.asarray(widths)
  result["params"] = params
  return result


def _init_seeds(model, keys: list[jax.Array], x0: jax.Array) -> PyTree:
  """The params of ``model`` from each key, stacked on a leading seed axis."""
  return jax.jit(jax.vmap(lambda k: model.init(k, x0)))(jnp.stack(keys))


@functools.partial(jax.jit, static_argnums=0)
def _evaluate_seeds(apply_fn, params, x, y, xt):
  """Test predictions ``(S, n_test)`` and full training MSE ``(S,)`` of stacked params."""
  def one(p):
    return apply_fn(p, xt).reshape(-1), jnp.mean((apply_fn(p, x).reshape(-1) - y) ** 2)
  return jax.vmap(one)(params)


# --- m-term approximations: Maurey sampling and random features -------------------------------

def barron_variation(target: CosineSum, radius: float, grid: int = 8192) -> float:
  """Total variation ``V`` of the step-unit representation of ``target`` on ``|x| <= radius``.

  Along direction ``u_k = omega_k / |omega_k|``, ``g_k(t) = c_k cos(|omega_k| t + phi_k)`` equals
  ``g_k(-R) + int_{-R}^{R} g_k'(s) H(t - s) ds`` for ``|t| <= R`` (H the unit step), so
  ``f = const + int rho(k, s) H(u_k . x - s)`` with ``V = sum_k int |g_k'| ds <= 2 R C_f``
  (Barron 1993, sec. 3, with sigmoids steepened to steps).
  """
  total = 0.0
  for c, a, phi in _cosine_terms(target):
    s = np.linspace(-radius, radius, grid + 1)
    dens = np.abs(c * a * np.sin(a * s + phi))
    total += float(np.trapezoid(dens, s))
  return total


def _cosine_terms(target: CosineSum):
  norms = np.linalg.norm(target.frequencies, axis=1)
  return list(zip(target.coefficients, norms, target.phases))


def maurey_step_sample(key: jax.Array, target: CosineSum, m: int, radius: float,
                       grid: int = 2048) -> dict[str, jax.Array]:
  """m step units sampled from Barron's integral representation of a cosine sum (Maurey).

  ``f = offset + int rho(k, s) H(u_k . x - s) ds`` on ``|u_k . x| <= radius`` (see
  ``barron_variation``). Samples ``theta_j = (k_j, s_j)`` i.i.d. from a piecewise-constant
  density ``q`` proportional to an upper envelope of ``|rho|`` on ``grid`` cells per term and
  weights ``w_j = rho(theta_j) / q(theta_j)``, so that ``|w_j| <= V_q`` (the envelope's mass,
  ``V <= V_q <= V (1 + O(1/grid))``) and
  ``f_m(x) = offset + (1/m) sum_j w_j H(u_{k_j} . x - s_j)`` is unbiased. Then
  ``E |f - f_m|^2_{L2(mu)} = (E_theta E_mu[w^2 H^2] - |f - offset|^2_mu) / m <= V_q^2 / m``
  for every input law mu on the slabs (Maurey's lemma: Pisier 1981; Barron 1993, Lemma 1).

  Returns:
    ``{"directions": (m, d), "thresholds": (m,), "weights": (m,), "offset": (),
    "variation": (), "term": (m,)}`` for ``step_network``; ``variation`` is ``V_q`` and
    ``term`` the index k of each unit's direction (units share the target's K directions, so
    ``step_network`` can run on the K projections ``x @ u_k`` with one-hot directions).
  """
  if m < 1:
    raise JaxnetsError(f"the number of units m must be >= 1, got {m}")
  terms = _cosine_terms(target)
  edges = np.linspace(-radius, radius, grid + 1)
  width = edges[1] - edges[0]
  # |rho| on a cell is at most its larger edge value plus Lipschitz slack |c| a^2 width / 2
  env = np.stack([np.maximum(np.abs(c * a * np.sin(a * edges[:-1] + phi)),
                             np.abs(c * a * np.sin(a * edges[1:] + phi)))
                  + abs(c) * a * a * width / 2 for c, a, phi in terms])  # (K, grid)
  variation = float(env.sum() * width)
  probs = (env / env.sum()).ravel()
  k_key, u_key = jax.random.split(key)
  cell = jax.random.choice(k_key, probs.size, (m,), p=jnp.asarray(probs, jnp.float32))
  term, pos = cell // grid, cell % grid
  s = jnp.asarray(edges[:-1], jnp.float32)[pos] + width * jax.random.uniform(u_key, (m,))
  c = jnp.asarray([t[0] for t in terms], jnp.float32)[term]
  a = jnp.asarray([t[1] for t in terms], jnp.float32)[term]
  phi = jnp.asarray([t[2] for t in terms], jnp.float32)[term]
  q = jnp.asarray(probs, jnp.float32)[cell] / width
  weights = -c * a * jnp.sin(a * s + phi) / q
  dirs = target.frequencies / np.linalg.norm(target.frequencies, axis=1, keepdims=True)
  offset = sum(c0 * math.cos(-a0 * radius + p0) for c0, a0, p0 in terms)
  return dict(directions=jnp.asarray(dirs, jnp.float32)[term], thresholds=s, weights=weights,
              offset=jnp.asarray(offset, jnp.float32), variation=jnp.asarray(variation),
              term=term)


def step_network(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
  """``offset + (1/m) sum_j w_j H(u_j . x - s_j)``: an ``(N,)`` evaluation of m step units."""
  h = (x @ params["directions"].T - params["thresholds"] > 0).astype(x.dtype)
  return params["offset"] + h @ params["weights"] / params["weights"].shape[0]


def random_neurons(key: jax.Array, d: int, m: int, bias_std: float = 0.0
                   ) -> dict[str, jax.Array]:
  """m random first-layer neurons: directions uniform on the unit sphere, biases N(0, bias_std^2).

  Returns ``{"w": (d, m), "b": (m,)}``.
  """
  return rf.sphere_weights(key, d, m, bias_std)


def spread_neurons(key: jax.Array, d: int, m: int, steepness: float = 1.0
                   ) -> dict[str, jax.Array]:
  """m ridge units ``s (u_j . x - u_j . c_j)`` whose transitions cover ``[0, 1]^d``.

  Cybenko's construction: directions ``u_j`` uniform on the sphere (``+1`` in 1-D), centres
  ``c_j`` uniform in the cube (an even grid in 1-D) and slope ``s = steepness * m^(1/d)``, so
  that the transition width ``~ 1/s`` matches the spacing of the centres.

  Returns ``{"w": (d, m), "b": (m,)}``.
  """
  ku, kc = jax.random.split(key)
  if d == 1:
    u = jnp.ones((1, m))
    c = ((jnp.arange(m) + 0.5) / m)[:, None]
  else:
    u = jax.random.normal(ku, (d, m))
    u = u / jnp.linalg.norm(u, axis=0, keepdims=True)
    c = jax.random.uniform(kc, (m, d))
  s = steepness * m ** (1.0 / d)
  return dict(w=s * u, b=-s * jnp.sum(u.T * c, axis=1))


def fit_readout(neurons: dict[str, jax.Array], x: jax.Array, y: jax.Array,
                act: Callable[[jax.Array], jax.Array] = jax.nn.relu,
                ridge: float = 1e-10) -> dict[str, jax.Array]:
  """Least-squares read-out ``a`` of ``a_0 + sum_j a_j act(w_j . x + b_j)`` for fixed neurons.

  Solves ``min |Phi a - y|^2 + r |a|^2`` with ``r = ridge tr(Phi^T Phi) / m`` in float64
  (``theory.least_squares``): smooth features are nearly collinear and float32 would lose the
  fit. The neurons
  never move -- the random-feature model of Rahimi & Recht 2008 and of Yehudai & Shamir 2019's
  lower bound when they are random.

  Returns:
    ``{"w": (d, m), "b": (m,), "a": (m + 1,)}`` for ``random_features_apply``.
  """
  phi = np.asarray(_features(neurons, jnp.asarray(x), act), np.float64)
  reg = ridge * float(np.sum(phi * phi)) / phi.shape[1]  # tr(Phi^T Phi) / m
  a = least_squares(phi, np.asarray(y, np.float64), reg)
  return dict(neurons, a=jnp.asarray(a, jnp.float32))


def fit_random_features(key: jax.Array, x: jax.Array, y: jax.Array, m: int,
                        act: Callable[[jax.Array], jax.Array] = jax.nn.relu,
                        bias_std: float = 0.0, ridge: float = 1e-10) -> dict[str, jax.Array]:
  """``fit_readout`` on ``random_neurons(key, d, m, bias_std)``: only the read-out is fitted."""
  return fit_readout(random_neurons(key, x.shape[1], m, bias_std), x, y, act, ridge)


def _features(params, x, act):
  phi = rf.random_features(x, params, act)
  return jnp.concatenate([jnp.ones((x.shape[0], 1), phi.dtype), phi], axis=1)


def random_features_apply(params: dict[str, jax.Array], x: jax.Array,
                          act: Callable[[jax.Array], jax.Array] = jax.nn.relu) -> jax.Array:
  """``(N,)`` outputs ``a_0 + sum_j a_j act(w_j . x + b_j)`` of a fitted read-out."""
  return _features(params, x, act) @ params["a"]


# --- fixed bases: Hermite polynomials ------------------------------------------------------

def hermite_coefficients(g: Callable[[np.ndarray], np.ndarray], degree: int,
                         nodes: int = 160) -> np.ndarray:
  """``c_j = E[g(Z) He_j(Z)] / sqrt(j!)``, ``Z ~ N(0, 1)``, for ``j = 0..degree``.

  Gauss-Hermite quadrature (probabilists' weights). ``sum_j c_j^2 = E g(Z)^2`` (Parseval), and
  the best degree-K polynomial in L2(N(0, I_d)) of a ridge function ``g(u . x)`` is the
  truncation ``sum_{j<=K} c_j He_j(u . x) / sqrt(j!)``, whatever d (rotation invariance).
  """
  z, w = np.polynomial.hermite_e.hermegauss(nodes)
  w = w / w.sum()
  gz = np.asarray(g(z), np.float64)
  return np.array([np.sum(w * gz * _hermite_1d(z, degree)[:, j]) for j in range(degree + 1)])


def _hermite_1d(z: np.ndarray, degree: int) -> np.ndarray:
  """``(..., degree + 1)`` orthonormal Hermite polynomials ``He_j(z) / sqrt(j!)``."""
  h = [np.ones_like(z), z]
  for j in range(1, degree):
    h.append(z * h[j] - j * h[j - 1])
  h = np.stack(h[:degree + 1], axis=-1)
  return h / np.exp(0.5 * np.array([math.lgamma(j + 1) for j in range(degree + 1)]))


def num_polynomials(d: int, degree: int) -> int:
  """``C(degree + d, d)``: the dimension of polynomials of total degree <= degree in d variables."""
  return math.comb(degree + d, d)


def multi_indices(d: int, degree: int) -> np.ndarray:
  """``(num_polynomials(d, degree), d)`` exponents ``alpha`` with ``|alpha| <= degree``."""
  out = [()]
  for _ in range(d):
    out = [a + (j,) for a in out for j in range(degree + 1 - sum(a))]
  return np.asarray(out, np.int64).reshape(-1, d)


def hermite_features(x: np.ndarray, degree: int) -> np.ndarray:
  """``(N, C(degree + d, d))`` products ``prod_i He_{alpha_i}(x_i) / sqrt(alpha_i!)``.

  Orthonormal in ``L2(N(0, I_d))``: a fixed linear basis, ordered by total degree.
  """
  x = np.asarray(x, np.float64)
  h = _hermite_1d(x, degree)  # (N, d, K+1)
  idx = multi_indices(x.shape[1], degree)  # (M, d)
  cols = h[:, np.arange(x.shape[1])[None, :], idx]  # (N, M, d)
  return cols.prod(axis=-1)


# --- depth separation ---------------------------------------------------------------------

def count_linear_pieces(x: np.ndarray, y: np.ndarray, rtol: float = 1e-4) -> int:
  """Number of affine pieces of a piecewise-linear function sampled on a sorted grid ``x``.

  A kink between grid points changes the slope of one or two consecutive cells; each maximal
  run of slope changes counts as one breakpoint (so kinks closer than two cells count once:
  the result is exact for kinks on grid points, and never an over-count).
  """
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  slope = np.diff(y) / np.diff(x)
  tol = rtol * max(np.abs(slope).max(), 1.0)
  change = np.abs(np.diff(slope)) > tol
  runs = np.count_nonzero(change[1:] & ~change[:-1]) + int(change[0]) if change.size else 0
  return int(runs) + 1


def shallow_relu_pieces(kernel0: np.ndarray, bias0: np.ndarray, kernel1: np.ndarray,
                        lo: float = 0.0, hi: float = 1.0) -> int:
  """Exact number of affine pieces on ``[lo, hi]`` of ``x -> sum_j a_j relu(w_j x + b_j) + c``.

  Unit j bends at ``t_j = -b_j / w_j`` when ``w_j a_j != 0``; the pieces are one more than the
  number of distinct bends inside ``(lo, hi)`` -- at most ``m + 1``. Args are the 1-D network's
  ``(1, m)`` input kernel, ``(m,)`` bias and ``(m, 1)`` output kernel.
  """
  w = np.asarray(kernel0, np.float64).reshape(-1)
  b = np.asarray(bias0, np.float64).reshape(-1)
  a = np.asarray(kernel1, np.float64).reshape(-1)
  live = (w != 0) & (a != 0)
  t = -b[live] / w[live]
  t = t[(t > lo) & (t < hi)]
  return int(len(np.unique(t))) + 1


def tent_l1_lower_bound(k: int, pieces: int) -> float:
  """Lower bound on ``int_0^1 |T^k - g|`` over g piecewise linear with ``pieces`` pieces.

  ``T^k`` has ``2^(k-1)`` teeth (width ``h = 2^(1-k)``, height 1) and, around its ``2^k - 1``
  interior extrema, ``2^k - 1`` disjoint tents of width ``2^-k`` and height 1/2. The best affine
  fit of a tent of width w and height H has L1 error ``H w / 4`` (by symmetry the best line is
  flat, and the tent's values are uniform on [0, H], so the error is ``w E|U - 1/2| H``). g has
  ``pieces - 1`` breakpoints, each inside at most one tooth (one small tent), so g is affine
  on at least ``2^(k-1) - pieces + 1`` teeth and ``2^k - pieces`` small tents:

    ``|T^k - g|_1 >= max(1/4 - (p - 1) / 2^(k+1),  1/8 - p / 2^(k+3),  0)``.

  A one-hidden-layer ReLU net with m units is piecewise linear on [0, 1] with ``p <= m + 1``
  pieces, so the bound holds for it with ``p = m + 1`` (Telgarsky 2016, sec. 3, counts pieces
  the same way; this explicit L1 constant is ours).
  """
  if k < 1 or pieces < 1:
    raise JaxnetsError(f"need k >= 1 and pieces >= 1, got k={k}, pieces={pieces}")
  teeth = 0.25 - (pieces - 1) / 2 ** (k + 1)
  tents = 0.125 - pieces / 2 ** (k + 3)
  return max(teeth, tents, 0.0)
