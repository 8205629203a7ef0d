"""Pooling, reshaping and normalising layers of infinite-width networks (``theory.kernels``).

Each constructor returns ``(init_fn, apply_fn, kernel_fn)`` as the layers of
:mod:`theory.kernel_layers`; shapes of the tracked covariances are described there. All of these
layers are linear maps of the pre-activations (``LayerNorm``: in the limit, a deterministic
rescaling), so they keep a Gaussian, zero-mean state Gaussian.
"""

from __future__ import annotations

import math
from typing import Sequence

import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError
from theory.kernel_layers import State, check_positive, make_layer


def Flatten():  # noqa: N802
  """``(N, *S, C) -> (N, |S| C)``. Kernel: the mean of the same-position covariances.

  A dense layer after flattening divides by ``sqrt(|S| C)``, so it sees
  ``(1/|S|) sum_p k[p, p]``: positions are not mixed, only the diagonal survives (Novak et al.
  2019, "vectorization"; neural-tangents ``stax.Flatten``). The result is no longer
  one Gaussian coordinate's covariance, so an activation may not follow directly.
  """
  def init_fn(key, input_shape):
    del key
    return (input_shape[0], math.prod(input_shape[1:])), {}

  def apply_fn(params, x):
    del params
    return x.reshape((x.shape[0], -1))

  def transform(state):
    def trace(k, lead):
      size = math.prod(k.shape[lead:lead + state.spatial_ndim])
      k = k.reshape(k.shape[:lead] + (size, size))
      return jnp.diagonal(k, axis1=-2, axis2=-1).mean(axis=-1)
    return State(trace(state.cov1, 1), trace(state.cov2, 1), trace(state.nngp, 2),
                 None if state.ntk is None else trace(state.ntk, 2),
                 gaussian=state.gaussian and state.spatial_ndim == 0, fresh=state.fresh)

  return make_layer(init_fn, apply_fn, transform)


def GlobalAvgPool():  # noqa: N802
  """``(N, *S, C) -> (N, C)``, the mean over positions. Kernel: the mean over all pairs ``p, q``.

  Averaging jointly Gaussian entries keeps them Gaussian (Novak et al. 2019; Arora et al.
  2019, "global average pooling").
  """
  def init_fn(key, input_shape):
    del key
    return (input_shape[0], input_shape[-1]), {}

  def apply_fn(params, x):
    del params
    return x.mean(axis=tuple(range(1, x.ndim - 1)))

  def transform(state):
    if state.spatial_ndim == 0:
      raise JaxnetsError("GlobalAvgPool needs inputs with spatial axes (N, *S, C); "
                         "use it after a Conv")
    def pool(k):
      return k.mean(axis=tuple(range(k.ndim - 2 * state.spatial_ndim, k.ndim)))
    return state._replace(cov1=pool(state.cov1), cov2=pool(state.cov2), nngp=pool(state.nngp),
                          ntk=None if state.ntk is None else pool(state.ntk))

  return make_layer(init_fn, apply_fn, transform)


def AvgPool(window_shape: Sequence[int], strides: Sequence[int] | None = None,  # noqa: N802
            padding: str = "VALID"):
  """Mean over windows of positions, per channel: ``(N, *S, C) -> (N, *S', C)``.

  As neural-tangents' ``stax.AvgPool`` with ``normalize_edges=False``: strides default to 1,
  and with ``"SAME"`` the zero padding counts in the mean (divides by the window size).
  Kernel: ``k'[p, q] = mean_{a, b} k[s p + a, s q + b]``, the mean over *pairs* of window
  offsets (unlike a convolution, whose independent weights keep only ``a = b``); it factorises
  into one window mean per axis of ``p`` and of ``q`` (Novak et al. 2019, sec. 3).
  """
  window = tuple(int(w) for w in window_shape)
  strides = tuple(int(s) for s in strides) if strides is not None else (1,) * len(window)
  check_positive(**{f"window_shape[{i}]": w for i, w in enumerate(window)},
                  **{f"strides[{i}]": s for i, s in enumerate(strides)})
  padding = padding.upper()
  if padding not in ("SAME", "VALID") or len(strides) != len(window):
    raise JaxnetsError(f"AvgPool needs padding 'SAME' or 'VALID' and one stride per window "
                       f"axis, got padding={padding!r}, strides={strides}, window={window}")
  d = len(window)

  def check(spatial):
    if len(spatial) != d or (padding == "VALID" and any(n < w for n, w in zip(spatial, window))):
      raise JaxnetsError(f"AvgPool with window {window} and padding {padding} needs {d} "
                         f"spatial axes at least as large as the window, got {tuple(spatial)}")

  def init_fn(key, input_shape):
    del key
    check(tuple(input_shape[1:-1]))
    out = jax.eval_shape(lambda x: apply_fn({}, x),
                         jax.ShapeDtypeStruct((1,) + tuple(input_shape[1:]), jnp.float32))
    return (input_shape[0],) + out.shape[1:], {}

  def apply_fn(params, x):
    del params
    total = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1,) + window + (1,),
                                  (1,) + strides + (1,), padding)
    return total / math.prod(window)

  def transform(state):
    spatial = state.cov1.shape[1:1 + state.spatial_ndim]
    check(spatial)
    pads = jax.lax.padtype_to_pads(spatial, window, strides, padding)

    def pool(k, lead):
      for i, (w, s, pad) in enumerate(zip(window, strides, pads)):
        for axis in (lead + i, lead + d + i):
          k = _window_mean(k, axis, w, s, pad)
      return k

    return state._replace(cov1=pool(state.cov1, 1), cov2=pool(state.cov2, 1),
                          nngp=pool(state.nngp, 2),
                          ntk=None if state.ntk is None else pool(state.ntk, 2))

  return make_layer(init_fn, apply_fn, transform)


def _window_mean(k: jax.Array, axis: int, size: int, stride: int,
                 pad: tuple[int, int]) -> jax.Array:
  """``k'[.., i, ..] = mean_a kpad[.., s i + a, ..]`` along one axis, zero padding."""
  widths = [(0, 0)] * k.ndim
  widths[axis] = pad
  padded = jnp.pad(k, widths)
  n = (padded.shape[axis] - size) // stride + 1
  total = 0.0
  for a in range(size):
    index = [slice(None)] * k.ndim
    index[axis] = slice(a, a + stride * (n - 1) + 1, stride)
    total = total + padded[tuple(index)]
  return total / size


def LayerNorm(axis: int | Sequence[int] = -1, eps: float = 1e-12):  # noqa: N802
  """``(x - mean) / sqrt(eps + var)`` over ``axis`` of ``(N, *S, C)``, no learned scale or bias.

  ``axis`` must contain the channel axis (``-1``) and may add spatial axes, as in
  neural-tangents' ``stax.LayerNorm``. Infinitely many i.i.d. zero-mean channels make the mean
  0 and the variance at position ``p`` the diagonal ``cov[p, p]`` (averaged over the normalised
  spatial axes), so the kernel is rescaled: ``k'[p, q] = k[p, q] / sqrt((eps + v1[p])
  (eps + v2[q]))``, for the NNGP and the NTK alike (Xiao et al. 2020, "Disentangling
  Trainability and Generalization", sec. 4). The inputs must be Gaussian (after a Dense or Conv).
  """
  axes = (axis,) if isinstance(axis, int) else tuple(axis)
  if not eps >= 0:
    raise JaxnetsError(f"LayerNorm eps must be >= 0, got {eps}")

  def canonical(ndim):
    canon = sorted({a % ndim if -ndim <= a < ndim else -1 for a in axes})
    if -1 in canon or ndim - 1 not in canon or 0 in canon:
      raise JaxnetsError(f"LayerNorm axis {axis} must name the channel axis (-1) and, "
                         f"optionally, spatial axes of inputs with {ndim} axes (not the "
                         "batch axis 0)")
    return canon

  def init_fn(key, input_shape):
    del key
    canonical(len(input_shape))
    return input_shape, {}

  def apply_fn(params, x):
    del params
    canon = tuple(canonical(x.ndim))
    mean = x.mean(axis=canon, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=canon, keepdims=True)
    return (x - mean) / jnp.sqrt(eps + var)

  def transform(state):
    if not state.gaussian:
      raise JaxnetsError("LayerNorm needs Gaussian, zero-mean inputs: put it after a Dense or "
                         "Conv layer (before the activation)")
    d = state.spatial_ndim
    spatial_axes = [a - 1 for a in canonical(d + 2) if a != d + 1]  # 0-based spatial axes

    def variances(cov):  # (N, *S): eps + cov[p, p], averaged over normalised axes
      n, size = cov.shape[0], math.prod(cov.shape[1:1 + d])
      var = jnp.diagonal(cov.reshape(n, size, size), axis1=1, axis2=2).reshape(
          cov.shape[:1 + d])
      return eps + (var.mean(axis=tuple(1 + a for a in spatial_axes), keepdims=True)
                    if spatial_axes else var)

    var1, var2 = variances(state.cov1), variances(state.cov2)
    ones = (1,) * d
    inv1 = jax.lax.rsqrt(var1)
    inv2 = jax.lax.rsqrt(var2)
    scale12 = inv1.reshape(inv1.shape[:1] + (1,) + inv1.shape[1:] + ones) * inv2.reshape(
        (1,) + inv2.shape[:1] + ones + inv2.shape[1:])

    def self_scale(cov, inv):
      return cov * inv.reshape(inv.shape + ones) * inv.reshape(inv.shape[:1] + ones
                                                               + inv.shape[1:])

    return state._replace(cov1=self_scale(state.cov1, inv1), cov2=self_scale(state.cov2, inv2),
                          nngp=state.nngp * scale12,
                          ntk=None if state.ntk is None else state.ntk * scale12)

  return make_layer(init_fn, apply_fn, transform)
