"""Activation layers of infinite-width networks: each maps Gaussian pre-activation covariances
to the covariances of the activations (``theory.kernels``).

An activation ``phi`` maps the covariance ``Sigma`` of jointly Gaussian pre-activations
``(u, v)`` to ``E[phi(u) phi(v)]`` and the NTK to ``Theta * E[phi'(u) phi'(v)]`` (Neal 1996;
Lee et al. 2018; Jacot et al. 2018; Arora et al. 2019). ``Relu`` and ``Erf`` are in closed form;
``Tanh``, ``Gelu`` and any ``Elementwise(fn)`` use Gauss-Hermite quadrature.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError
from theory.kernel_layers import State, make_layer

# (c12, v1, v2) -> (E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for (u, v) ~ N(0, [[v1, c12], [c12, v2]]),
# elementwise on broadcastable arrays.
Dual = Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]


def _activation(fn: Callable[[jax.Array], jax.Array], dual: Dual, name: str):
  """The layer ``x -> fn(x)``; its kernel applies ``dual`` to every pair of positions."""
  def init_fn(key, input_shape):
    del key
    return input_shape, {}

  def apply_fn(params, x):
    del params
    return fn(x)

  def transform(state: State) -> State:
    if not state.gaussian:
      raise JaxnetsError(f"{name} needs Gaussian pre-activations: put a Dense, Conv or "
                         "GlobalAvgPool layer before it (not the input or Flatten)")
    d = state.spatial_ndim
    var1, var2 = _variances(state.cov1), _variances(state.cov2)
    n1, n2, spatial = var1.shape[0], var2.shape[0], var1.shape[1:]
    ones = (1,) * d
    var1 = var1.reshape((n1, 1) + spatial + ones)
    var2 = var2.reshape((n2,) + ones + spatial)

    def rows(c12, theta, v1):  # a block of rows of the kernel: (R, N2, *S, *S)
      nngp, dot = dual(c12, v1, var2[None])
      return nngp, None if theta is None else theta * dot

    nngp, ntk = _by_row_blocks(rows, state.nngp, state.ntk, var1)

    def self_cov(cov, var):
      n = var.shape[0]
      return dual(cov, var.reshape((n,) + spatial + ones), var.reshape((n,) + ones + spatial))[0]

    return State(self_cov(state.cov1, var1.reshape((n1,) + spatial)),
                 self_cov(state.cov2, var2.reshape((n2,) + spatial)), nngp, ntk, gaussian=False)

  return make_layer(init_fn, apply_fn, transform)


# Row blocks of the kernel in ``_by_row_blocks``: at least this many, of at most this many entries.
_MIN_BLOCKS, _BLOCK_ENTRIES = 8, 1 << 20


def _by_row_blocks(rows: Callable, nngp: jax.Array, ntk: jax.Array | None, var1: jax.Array):
  """``rows(nngp[i:j], ntk[i:j], var1[i:j])`` by a ``lax.map`` over blocks of rows.

  The loop is there for speed. In one fused graph XLA recomputes the cheap elementwise layers
  of a deep kernel inside the fusions of every later layer; a loop body is a fusion boundary,
  so each layer is computed once, one cache-sized block at a time. Measured on the benchmark's
  3-layer ReLU MLP (CPU, float32): 2x faster at 128 x 128, 5x at 1024 x 1024.
  """
  n1 = nngp.shape[0]
  blocks = max(_MIN_BLOCKS, -(-n1 * math.prod(nngp.shape[1:]) // _BLOCK_ENTRIES))
  block = -(-n1 // blocks)
  if block >= n1:
    return rows(nngp, ntk, var1)
  if ntk is None:
    return jax.lax.map(lambda a: rows(a[0][None], None, a[1][None])[0][0], (nngp, var1),
                       batch_size=block), None
  return jax.lax.map(lambda a: tuple(o[0] for o in rows(a[0][None], a[1][None], a[2][None])),
                     (nngp, ntk, var1), batch_size=block)


def _variances(cov: jax.Array) -> jax.Array:
  """The same-position entries ``cov[n, p, p]`` of ``cov (N, *S, *S)``, shape ``(N, *S)``."""
  spatial = cov.shape[1:1 + (cov.ndim - 1) // 2]
  size = math.prod(spatial)
  return jnp.diagonal(cov.reshape((-1, size, size)), axis1=1, axis2=2).reshape(
      cov.shape[:1] + spatial)


@jax.custom_jvp
def _safe_sqrt(x: jax.Array) -> jax.Array:
  """``sqrt(max(x, 0))`` with a zero (not infinite) derivative at 0, so gradients stay finite.

  The value is one expression on purpose: the double-``where`` trick evaluates ``x > 0`` twice,
  and XLA may compute ``x = v1 v2 - c12^2 ~ 0`` in two fusions with different rounding (one with
  a fused multiply-add), so the two tests can disagree and leak the fill value.
  """
  return jnp.sqrt(jnp.maximum(x, 0.0))


@_safe_sqrt.defjvp
def _safe_sqrt_jvp(primals, tangents):
  (x,), (dx,) = primals, tangents
  y = _safe_sqrt(x)
  return y, jnp.where(y > 0, dx / (2 * jnp.where(y > 0, y, 1.0)), 0.0)


# Abramowitz & Stegun (1964) 4.4.49: atan(a) = a sum_k c_k a^(2k) on 0 <= a <= 1, |error| <= 2e-8.
_ATAN_COEFFS = (1.0, -0.3333314528, 0.1999355085, -0.1420889944, 0.1065626393, -0.0752896400,
                0.0429096138, -0.0161657367, 0.0028662257)


def _angle(sin_term: jax.Array, cos_term: jax.Array) -> jax.Array:
  """``atan2(sin_term, cos_term)`` in ``[0, pi]`` for ``sin_term >= 0``.

  In float64 this is ``jnp.arctan2``. In float32 it is the polynomial of Abramowitz & Stegun
  4.4.49 after reducing to ``atan(a)``, ``a = min / max`` of ``|cos|, sin`` in ``[0, 1]``: its
  2e-8 error is below float32's resolution (measured max error 3e-7 rad, like
  ``jnp.arctan2``'s), and being made of multiplies and adds it vectorises, where XLA's CPU
  ``atan2`` runs ~5x slower on large kernels.
  """
  if cos_term.dtype == jnp.float64:
    return jnp.arctan2(sin_term, cos_term)
  return _angle_polynomial(sin_term, cos_term)


@jax.custom_jvp
def _angle_polynomial(sin_term: jax.Array, cos_term: jax.Array) -> jax.Array:
  abs_cos = jnp.abs(cos_term)
  hi, lo = jnp.maximum(abs_cos, sin_term), jnp.minimum(abs_cos, sin_term)
  a = lo / jnp.where(hi > 0, hi, 1.0)
  z = a * a
  poly = _ATAN_COEFFS[-1]
  for c in _ATAN_COEFFS[-2::-1]:
    poly = poly * z + c
  t = a * poly
  t = jnp.where(sin_term > abs_cos, jnp.pi / 2 - t, t)
  return jnp.where(cos_term < 0, jnp.pi - t, t)


@_angle_polynomial.defjvp
def _angle_polynomial_jvp(primals, tangents):
  # d atan2(s, c) = (c ds - s dc) / (s^2 + c^2): the derivative of the exact function, which
  # keeps gradients (and their compilation) as cheap as with jnp.arctan2.
  (s, c), (ds, dc) = primals, tangents
  norm = s * s + c * c
  return (_angle_polynomial(s, c),
          jnp.where(norm > 0, (c * ds - s * dc) / jnp.where(norm > 0, norm, 1.0), 0.0))


def _relu_dual(c12, v1, v2):
  """Arc-cosine kernel of degree 1 and 0 (Cho & Saul 2009; Arora et al. 2019, sec. 3).

  ``E[relu(u) relu(v)] = sqrt(v1 v2) (sin t + (pi - t) cos t) / (2 pi)`` and
  ``E[relu'(u) relu'(v)] = (pi - t) / (2 pi)`` with ``cos t = c12 / sqrt(v1 v2)``, the angle from
  ``atan2(sqrt(v1 v2 - c12^2), c12)``; a zero variance gives ``t = pi / 2`` (the limit of
  independent inputs). Near ``t = 0`` the angle is ``sqrt(2 (1 - cos t))``: rounding noise of
  relative size ``eps`` in ``c12`` and ``v`` would become angles of order ``sqrt(eps)`` (1e-4 in
  float32) on the diagonal, so ``1 - cos^2 t < 64 eps`` is treated as 0 (``t`` below ~8 sqrt(eps)).
  """
  prod = v1 * v2
  gap = prod - c12**2
  gap = jnp.where(gap <= 64 * jnp.finfo(gap.dtype).eps * prod, 0.0, gap)
  sin_term = _safe_sqrt(gap)
  degenerate = (sin_term == 0) & (c12 == 0)
  angle = jnp.where(degenerate, jnp.pi / 2, _angle(sin_term, jnp.where(degenerate, 1.0, c12)))
  dot = (jnp.pi - angle) / (2 * jnp.pi)
  return sin_term / (2 * jnp.pi) + dot * c12, dot


def Relu():  # noqa: N802 (stax names)
  """``max(x, 0)``, with the arc-cosine kernel (Cho & Saul 2009)."""
  return _activation(jax.nn.relu, _relu_dual, "Relu")


def _erf_dual(c12, v1, v2):
  """Williams (1997): ``E[erf(u) erf(v)] = (2/pi) arcsin(2 c12 / sqrt((1+2v1)(1+2v2)))``.

  Its derivative in ``c12``, ``E[erf'(u) erf'(v)] = (4/pi) / sqrt((1+2v1)(1+2v2) - 4 c12^2)``,
  where the square root is >= 1 for any valid covariance.
  """
  prod = (1 + 2 * v1) * (1 + 2 * v2)
  root = _safe_sqrt(prod - 4 * c12**2)
  return 2 / jnp.pi * jnp.arctan2(2 * c12, root), 4 / jnp.pi / root


def Erf():  # noqa: N802
  """``erf(x)``, with Williams' (1997) arcsine kernel."""
  return _activation(jax.scipy.special.erf, _erf_dual, "Erf")


def _quadrature_dual(fn: Callable, degree: int) -> Dual:
  """``E[f(u) f(v)]`` for ``f = fn, fn'`` by ``degree x degree`` Gauss-Hermite quadrature.

  Writes ``u = sqrt(v1) z1``, ``v = (c12 / sqrt(v1)) z1 + sqrt(v2 - c12^2 / v1) z2`` with
  independent standard normal ``z1, z2`` (a Cholesky factor of the 2x2 covariance), and sums over
  the tensor grid of nodes. Exact for polynomials of degree < 2 ``degree``; for smooth ``fn`` the
  error falls quickly with ``degree`` (NT's ``ElementwiseNumerical``; Han et al. 2022). The
  nodes are looped over, so memory stays that of one kernel array.
  """
  nodes, weights = np.polynomial.hermite.hermgauss(degree)
  nodes, weights = nodes * math.sqrt(2.0), weights / math.sqrt(math.pi)  # for z ~ N(0, 1)

  def deriv(x):
    return jax.jvp(fn, (x,), (jnp.ones_like(x),))[1]

  def dual(c12, v1, v2):
    dtype = jnp.result_type(c12, v1, v2)
    z, w = jnp.asarray(nodes, dtype), jnp.asarray(weights, dtype)
    s1 = _safe_sqrt(v1)
    a = jnp.where(s1 > 0, c12 / jnp.where(s1 > 0, s1, 1.0), 0.0)
    r = _safe_sqrt(v2 - a**2)
    zeros = jnp.zeros(jnp.broadcast_shapes(c12.shape, v1.shape, v2.shape), dtype)

    def over_z1(i, acc):
      fu, du = fn(s1 * z[i]), deriv(s1 * z[i])

      def over_z2(j, acc):
        v = a * z[i] + r * z[j]
        ww = w[i] * w[j]
        return acc[0] + ww * fu * fn(v), acc[1] + ww * du * deriv(v)

      return jax.lax.fori_loop(0, degree, over_z2, acc)

    return jax.lax.fori_loop(0, degree, over_z1, (zeros, zeros))

  return dual


def Elementwise(fn: Callable[[jax.Array], jax.Array], degree: int = 64):  # noqa: N802
  """Any elementwise activation ``fn`` (jax-differentiable), its kernel by quadrature.

  ``degree`` nodes per axis; cost ``degree^2`` elementwise passes over each kernel array.
  Accuracy depends on the pre-activation variance ``q``, because ``fn(sqrt(q) z)`` sharpens as
  ``q`` grows. Measured max relative error at ``degree=64`` (float64, against ``degree=200``):
  for ``q <= 1`` below 1e-8 (tanh, erf, gelu); for ``q <= 4`` 2e-5 on the NNGP and 2e-4 on
  ``E[tanh'(u) tanh'(v)]`` (gelu: 1e-9 and 3e-8); for ``q <= 9`` about 1e-3 / 1e-2 (tanh).
  Raise ``degree`` for large variances, or use a closed form (``Relu``, ``Erf``) if one exists.
  """
  if int(degree) != degree or degree < 1:
    raise JaxnetsError(f"degree must be a positive integer, got {degree!r}")
  return _activation(fn, _quadrature_dual(fn, int(degree)), f"Elementwise({fn})")


def Tanh(degree: int = 64):  # noqa: N802
  """``tanh(x)``, its kernel by Gauss-Hermite quadrature (no closed form is known)."""
  return Elementwise(jnp.tanh, degree)


def Gelu(degree: int = 64):  # noqa: N802
  """Exact (erf) GELU ``x Phi(x)``, its kernel by Gauss-Hermite quadrature."""
  return Elementwise(lambda x: jax.nn.gelu(x, approximate=False), degree)
