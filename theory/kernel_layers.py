"""Layers of infinite-width networks: each maps input covariances to output covariances.

Every layer constructor returns ``(init_fn, apply_fn, kernel_fn)`` as in neural-tangents' ``stax``
(Novak et al. 2020), in the NTK parameterisation (Jacot et al. 2018, eq. 1): a dense layer of a
finite network computes ``z = W_std / sqrt(fan_in) * x @ W + b_std * b`` with ``W, b ~ N(0, 1)``.

* ``init_fn(key, input_shape) -> (output_shape, params)`` and ``apply_fn(params, x)`` give a
  finite network of the same architecture (for Monte Carlo checks and empirical NTKs).
* ``kernel_fn(x1, x2=None, get=None)`` gives the infinite-width NNGP and NTK.

What is tracked (the layer recursions act on it): for inputs with spatial shape ``S`` (``()`` for
vectors, ``(H, W)`` for NHWC images) and channels ``C`` the state holds the covariances between
positions of one channel, channels being i.i.d. in the limit:

* ``nngp``  ``(N1, N2, *S, *S)``: ``E[z_c(x1)[p] z_c(x2)[q]]``; the input layer uses
  ``x1[p] . x2[q] / C``.
* ``ntk``   ``(N1, N2, *S, *S)``: ``<d z_c(x1)[p] / d theta, d z_c(x2)[q] / d theta>``.
* ``cov1``  ``(N1, *S, *S)`` and ``cov2``: the same covariance of each input with itself, whose
  diagonal gives the variances activations need (Lee et al. 2018; Novak et al. 2019;
  Arora et al. 2019).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError

Shape = tuple[int, ...]
InitFn = Callable[[jax.Array, Shape], tuple[Shape, Any]]
ApplyFn = Callable[[Any, jax.Array], jax.Array]
KINDS = ("nngp", "ntk")


class Kernel(NamedTuple):
  """Infinite-width kernels of a network's outputs, each ``(N1, N2)`` (or ``(N1, N2, *S, *S)``)."""

  nngp: jax.Array
  ntk: jax.Array


class State(NamedTuple):
  """Covariances tracked through the layers (shapes in the module docstring)."""

  cov1: jax.Array
  cov2: jax.Array
  nngp: jax.Array
  ntk: jax.Array | None  # None when only the NNGP is asked for
  gaussian: bool  # the entries are jointly Gaussian: an activation may follow
  # The value is linear in weights drawn after the last FanOut (the output of a Dense or Conv,
  # maybe pooled or normalised since): zero-mean and independent of every other branch, so
  # FanInSum may add covariances (Yang 2019, "Tensor Programs I", sec. 5).
  fresh: bool = False

  @property
  def spatial_ndim(self) -> int:
    return (self.cov1.ndim - 1) // 2


# A layer's kernel maps a state to a state; between FanOut and FanInSum, tuples of states.
States = Union[State, tuple]
Transform = Callable[[States], States]


def input_state(x1: jax.Array, x2: jax.Array, compute_ntk: bool) -> State:
  """The covariances of the inputs ``x (N, *S, C)``: ``x1[n, p] . x2[m, q] / C``."""
  n1, n2, spatial, channels = x1.shape[0], x2.shape[0], x1.shape[1:-1], x1.shape[-1]
  flat1 = x1.reshape((n1, -1, channels))
  flat2 = x2.reshape((n2, -1, channels))
  nngp = jnp.einsum("npc,mqc->nmpq", flat1, flat2) / channels
  if spatial:
    cov1 = jnp.einsum("npc,nqc->npq", flat1, flat1) / channels
    cov2 = jnp.einsum("npc,nqc->npq", flat2, flat2) / channels
  else:  # as an einsum, XLA's CPU backend forms the whole x x^T for this diagonal
    cov1 = jnp.sum(flat1 * flat1, axis=-1, keepdims=True)[..., None] / channels
    cov2 = jnp.sum(flat2 * flat2, axis=-1, keepdims=True)[..., None] / channels
  nngp = nngp.reshape((n1, n2) + spatial + spatial)
  return State(cov1=cov1.reshape((n1,) + spatial + spatial),
               cov2=cov2.reshape((n2,) + spatial + spatial), nngp=nngp,
               ntk=jnp.zeros_like(nngp) if compute_ntk else None, gaussian=False)


class KernelFn:
  """``kernel_fn(x1, x2=None, get=None)``: the infinite-width NNGP and NTK of a network.

  Args (of a call):
    x1: inputs ``(N1, d)`` for fully connected nets or ``(N1, *S, C)`` (NHWC images).
    x2: inputs ``(N2, ...)`` of the same trailing shape, or ``None`` for ``x1``.
    get: ``None`` for a ``Kernel(nngp, ntk)``; ``"nngp"`` or ``"ntk"`` for one array; a tuple
      of those names for a tuple of arrays in that order.
    batch_size: computes blocks of ``batch_size x batch_size`` input pairs at a time, which
      bounds the memory of convolutional kernels (``N1 N2 |S|^2`` numbers per array). With
      ``x2=None`` only the blocks on and above the diagonal are computed (also without
      ``batch_size`` once the kernel has more than ``2^22`` entries: 4 x 4 blocks).

  Returns arrays of shape ``(N1, N2)`` when the network ends in a vector output, in the dtype
  of the inputs (float64 under ``jax_enable_x64`` with float64 inputs).
  """

  def __init__(self, transform: Transform):
    self.transform = transform
    self._compute = jax.jit(self._compute_unjitted, static_argnames="compute_ntk")

  def _compute_unjitted(self, x1: jax.Array, x2: jax.Array, compute_ntk: bool):
    state = self.transform(input_state(x1, x2, compute_ntk))
    if not isinstance(state, State):
      raise JaxnetsError(f"the network ends in {len(state)} parallel branches; join them "
                         "with FanInSum")
    return state.nngp, state.ntk

  def __call__(self, x1: Any, x2: Any = None, get: str | Sequence[str] | None = None, *,
               batch_size: int | None = None):
    names = _parse_get(get)
    x1 = _as_inputs(x1, "x1")
    symmetric = x2 is None
    x2 = x1 if x2 is None else _as_inputs(x2, "x2")
    if x2.shape[1:] != x1.shape[1:]:
      raise JaxnetsError(f"x2 of shape {x2.shape} does not match x1 of shape {x1.shape}; pass "
                         "inputs that differ only in the batch size")
    dtype = jnp.promote_types(x1.dtype, x2.dtype)
    x1, x2 = x1.astype(dtype), x2.astype(dtype)
    if batch_size is not None and batch_size < 1:
      raise JaxnetsError(f"batch_size must be a positive integer, got {batch_size}")
    compute_ntk = "ntk" in names
    if symmetric:
      return _select(get, names, *self._symmetric(x1, batch_size, compute_ntk))
    step = batch_size or max(len(x1), len(x2))
    if step >= len(x1) and step >= len(x2):  # one block: no reassembly (it costs a copy)
      nngp, ntk = self._compute(x1, x2, compute_ntk=compute_ntk)
      return _select(get, names, nngp, ntk)
    blocks = [[self._compute(x1[i:i + step], x2[j:j + step], compute_ntk=compute_ntk)
               for j in range(0, len(x2), step)] for i in range(0, len(x1), step)]

    def assemble(which):
      return jnp.concatenate([jnp.concatenate([b[which] for b in row], axis=1)
                              for row in blocks], axis=0)

    return _select(get, names, assemble(0), assemble(1) if compute_ntk else None)


  def _symmetric(self, x: jax.Array, batch_size: int | None, compute_ntk: bool):
    """``k(x, x)`` from the blocks on and above the diagonal, the others by symmetry.

    ``k(x_j, x_i)`` is ``k(x_i, x_j)`` with the two example axes and the two groups of
    position axes swapped. Without ``batch_size``, kernels of more than ``2^22`` entries are
    split into 4 x 4 blocks, 10 of which are computed.
    """
    n = len(x)
    entries = n * n * math.prod(x.shape[1:-1]) ** 2
    step = batch_size or (n if entries <= 1 << 22 else -(-n // 4))
    if step >= n:
      return self._compute(x, x, compute_ntk=compute_ntk)
    xp = jnp.concatenate([x, jnp.zeros((-n % step,) + x.shape[1:], x.dtype)]) if n % step else x
    parts = [xp[i:i + step] for i in range(0, len(xp), step)]
    done = {}
    for i, a in enumerate(parts):
      for j in range(i, len(parts)):
        done[i, j] = self._compute(a, parts[j], compute_ntk=compute_ntk)

    def assemble(which):
      def block(i, j):
        if i <= j:
          return done[i, j][which]
        k = done[j, i][which]
        d = (k.ndim - 2) // 2
        return jnp.transpose(k, (1, 0) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d)))
      rows = [jnp.concatenate([block(i, j) for j in range(len(parts))], axis=1)
              for i in range(len(parts))]
      return jnp.concatenate(rows, axis=0)[:n, :n]

    return assemble(0), assemble(1) if compute_ntk else None


def _select(get, names: tuple[str, ...], nngp: jax.Array, ntk: jax.Array | None):
  """What ``kernel_fn(..., get)`` returns: a ``Kernel``, one array or a tuple of arrays."""
  if get is None:
    return Kernel(nngp, ntk)
  out = {"nngp": nngp, "ntk": ntk}
  if isinstance(get, str):
    return out[get]
  return tuple(out[name] for name in names)


def _parse_get(get: str | Sequence[str] | None) -> tuple[str, ...]:
  names = KINDS if get is None else (get,) if isinstance(get, str) else tuple(get)
  if not names or any(name not in KINDS for name in names):
    raise JaxnetsError(f"get must be None, 'nngp', 'ntk' or a tuple of those, got {get!r}")
  return names


def _as_inputs(x: Any, name: str) -> jax.Array:
  x = jnp.asarray(x)
  if x.ndim < 2 or 0 in x.shape:
    raise JaxnetsError(f"{name} must have shape (N, d) or (N, *spatial, channels) with no "
                       f"empty axis, got {x.shape}; add a batch axis with x[None]")
  return x.astype(jnp.promote_types(x.dtype, jnp.float32))


def make_layer(init_fn: InitFn, apply_fn: ApplyFn, transform: Transform,
               branches: bool = False):
  """The public triple ``(init_fn, apply_fn, kernel_fn)`` of one layer or a composition.

  ``branches``: the layer takes tuples of states (``parallel``, ``FanInSum``, ``serial``);
  any other layer given the branches of a ``FanOut`` raises a clear error.
  """
  if not branches:
    one = transform

    def transform(state):
      if not isinstance(state, State):
        raise JaxnetsError(f"a layer got the {len(state)} branches of a FanOut; apply layers "
                           "to branches with parallel(...) and join them with FanInSum()")
      return one(state)

  return init_fn, apply_fn, KernelFn(transform)


# --- Linear layers -----------------------------------------------------------------------------


def _affine(state: State, w_std: float, b_std: float, linear: Callable) -> State:
  """``Sigma' = W_std^2 A(Sigma) + b_std^2`` and ``Theta' = Sigma' + W_std^2 A(Theta)``.

  ``A`` is the linear map on covariances that the layer's weights induce (the identity for a
  dense layer, the patch average for a convolution); the first term of ``Theta'`` is the
  gradient with respect to this layer's ``W`` and ``b``, the second the earlier layers (Jacot
  et al. 2018, Theorem 1; Arora et al. 2019).
  """
  def cov(k):
    return w_std**2 * linear(k) + b_std**2
  nngp = cov(state.nngp)
  ntk = None if state.ntk is None else nngp + w_std**2 * linear(state.ntk)
  return State(cov(state.cov1), cov(state.cov2), nngp, ntk, gaussian=True, fresh=True)


def Dense(out_dim: int, W_std: float = 1.0, b_std: float = 0.0):  # noqa: N802,N803 (stax names)
  """Fully connected layer on the last (channel) axis: ``W_std / sqrt(C) x @ W + b_std b``.

  The kernel does not depend on ``out_dim`` (infinite width); ``init_fn``/``apply_fn`` use it.
  On spatial inputs it acts at each position (a 1x1 convolution), as in neural-tangents.
  """
  check_positive(out_dim=out_dim)
  _check_std(W_std, b_std)

  def init_fn(key, input_shape):
    kw, kb = jax.random.split(key)
    params = {"w": jax.random.normal(kw, (input_shape[-1], out_dim))}
    if b_std:
      params["b"] = jax.random.normal(kb, (out_dim,))
    return tuple(input_shape[:-1]) + (out_dim,), params

  def apply_fn(params, x):
    y = W_std / math.sqrt(x.shape[-1]) * (x @ params["w"])
    return y + b_std * params["b"] if b_std else y

  return make_layer(init_fn, apply_fn, lambda s: _affine(s, W_std, b_std, lambda k: k))


def Conv(out_chan: int, filter_shape: Sequence[int],  # noqa: N802 (stax names)
         strides: Sequence[int] | None = None, padding: str = "SAME",
         W_std: float = 1.0, b_std: float = 0.0):  # noqa: N803
  """Convolution with weights shared over positions, NHWC inputs (any number of spatial axes).

  Finite network: ``W_std / sqrt(C * prod(filter_shape)) * conv(x, W) + b_std * b``, with zero
  padding for ``"SAME"`` (``jax.lax`` conventions). Kernel: the covariance of output positions
  ``p, q`` is the average over filter offsets ``a`` of the input covariance at ``(s p + a,
  s q + a)`` (Novak et al. 2019; Arora et al. 2019), padded entries counting as 0.
  """
  filter_shape = tuple(int(f) for f in filter_shape)
  strides = tuple(int(s) for s in strides) if strides is not None else (1,) * len(filter_shape)
  check_positive(out_chan=out_chan,
                  **{f"filter_shape[{i}]": f for i, f in enumerate(filter_shape)},
                  **{f"strides[{i}]": s for i, s in enumerate(strides)})
  _check_std(W_std, b_std)
  padding = padding.upper()
  if padding not in ("SAME", "VALID") or len(strides) != len(filter_shape):
    raise JaxnetsError(f"Conv needs padding 'SAME' or 'VALID' and one stride per filter axis, "
                       f"got padding={padding!r}, strides={strides}, filter={filter_shape}")
  ndim = len(filter_shape)
  spec = "DHW"[3 - ndim:] if ndim <= 3 else None
  fan_in_filter = math.prod(filter_shape)

  def check(shape):
    if len(shape) != ndim + 1 or any(n < f for n, f in zip(shape[:-1], filter_shape)
                                     if padding == "VALID"):
      raise JaxnetsError(f"Conv with filter {filter_shape} and padding {padding} needs "
                         f"{ndim} spatial axes at least as large as the filter, got per-example "
                         f"shape {tuple(shape)}")

  def init_fn(key, input_shape):
    if spec is None:
      raise JaxnetsError("the finite Conv network supports 1 to 3 spatial axes")
    check(input_shape[1:])
    kw, kb = jax.random.split(key)
    params = {"w": jax.random.normal(kw, filter_shape + (input_shape[-1], out_chan))}
    if b_std:
      params["b"] = jax.random.normal(kb, (out_chan,))
    out = jax.eval_shape(apply_fn, params, jax.ShapeDtypeStruct((1,) + tuple(input_shape[1:]),
                                                               params["w"].dtype))
    return (input_shape[0],) + out.shape[1:], params

  def apply_fn(params, x):
    y = jax.lax.conv_general_dilated(
        x, params["w"], strides, padding,
        dimension_numbers=(f"N{spec}C", f"{spec}IO", f"N{spec}C"))
    y = W_std / math.sqrt(x.shape[-1] * fan_in_filter) * y
    return y + b_std * params["b"] if b_std else y

  def transform(state):
    spatial = state.cov1.shape[1:1 + state.spatial_ndim]
    check(spatial + (1,))
    pads = jax.lax.padtype_to_pads(spatial, filter_shape, strides, padding)
    return _affine(state, W_std, b_std,
                   lambda k: _conv_covariance(k, filter_shape, strides, pads))

  return make_layer(init_fn, apply_fn, transform)


def _conv_covariance(k: jax.Array, filter_shape: Shape, strides: Shape,
                     pads: Sequence[tuple[int, int]]) -> jax.Array:
  """``k'[..., p, q] = mean_a kpad[..., s p + a, s q + a]`` over the trailing ``2 d`` axes.

  The mean over a ``d``-dimensional filter window factorises into one mean per spatial axis,
  each acting on its pair of axes ``(p_i, q_i)``: ``sum_i f_i`` shifted slices, not
  ``prod_i f_i``.
  """
  d = len(filter_shape)
  lead = k.ndim - 2 * d
  for i, (f, s, (lo, hi)) in enumerate(zip(filter_shape, strides, pads)):
    pair = (lead + i, lead + d + i)
    widths = [(0, 0)] * k.ndim
    for axis in pair:
      widths[axis] = (lo, hi)
    padded = jnp.pad(k, widths)
    n = (k.shape[pair[0]] + lo + hi - f) // s + 1
    total = 0.0
    for a in range(f):
      index = [slice(None)] * k.ndim
      for axis in pair:
        index[axis] = slice(a, a + s * (n - 1) + 1, s)
      total = total + padded[tuple(index)]
    k = total / f
  return k


def check_positive(**values: int) -> None:
  for name, value in values.items():
    if int(value) != value or value < 1:
      raise JaxnetsError(f"{name} must be a positive integer, got {value!r}")


def _check_std(w_std: float, b_std: float) -> None:
  if not (np.isfinite(w_std) and np.isfinite(b_std) and w_std >= 0 and b_std >= 0):
    raise JaxnetsError(f"W_std and b_std must be finite and >= 0, got {w_std}, {b_std}")
