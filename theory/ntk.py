r"""Finite-width neural tangent kernels, output covariances, and linearised networks.

For a network ``f(params, x)`` with outputs ``(N, *O)`` the empirical NTK is

    Theta(x1, x2) = J(x1) J(x2)^T,   J(x) = d f(params, x) / d params

(Jacot, Gabriel & Hongler 2018, eq. 3), a ``(N1, N2, *O, *O)`` array. Output axes listed in
``trace_axes`` are traced and divided by their size (the mean of the diagonal), as in
neural-tangents: at infinite width the output block is ``Theta_inf * I`` (Jacot et al. 2018,
Thm. 1), so the traced kernel is directly comparable with the analytic kernel of
:mod:`theory.kernels`.

Three implementations (Novak, Sohl-Dickstein & Schoenholz 2022, "Fast Finite Width Neural
Tangent Kernel", secs. 3-4):

* ``"jacobian_contraction"``: per-example Jacobians by ``vmap(jacrev)``, then contract over
  parameters. Time ~ ``N O [FP] + N1 N2 O^2 P``; memory ~ ``N O P``.
* ``"ntk_vector_products"``: ``Theta v = J1 (J2^T v)`` by one VJP and one JVP per column
  ``v`` of the identity. Time ~ ``N2 O (N1 + N2) [FP]``; no contraction over ``P``.
* ``"structured_derivatives"``: the per-layer factors of :mod:`theory.ntk_structured`; a dense
  layer ``y = x W`` contributes ``(x1 x2^T) * (dy1 dy2^T)`` and its ``K x M`` gradient is never
  formed. Time ~ ``N O [FP] + N1 N2 O^2 sum_l (K_l + M_l)`` for an MLP.

``"auto"`` picks the cheapest by that cost model, with ``[FP]`` the FLOPs of one forward pass
per example as counted by XLA. Inputs are processed in blocks of ``batch_size`` so that N in
the thousands fits in memory. With ``vmap_axes`` (the default ``(0, 0)``) ``f`` must act on
examples independently (no batch norm in training mode): per-example quantities are taken with
``vmap``; ``vmap_axes=None`` drops that assumption and allows only ``ntk_vector_products``.

Example:
  >>> model = MLP(num_outputs=1, width=512, parametrization="ntk")
  >>> params = model.init(jax.random.key(0), x[:1])
  >>> ntk_fn = empirical_ntk_fn(model.apply)
  >>> theta = ntk_fn(x, None, params)   # (N, N)
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Literal, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError
from theory import ntk_blocks, ntk_structured

PyTree = Any
ApplyFn = Callable[[PyTree, jax.Array], jax.Array]
KernelFn = Callable[[jax.Array, "jax.Array | None", PyTree], jax.Array]
Implementation = Literal["auto", "jacobian_contraction", "ntk_vector_products",
                         "structured_derivatives"]
IMPLEMENTATIONS = ("auto", "jacobian_contraction", "ntk_vector_products",
                   "structured_derivatives")
_PER_EXAMPLE = ("jacobian_contraction", "structured_derivatives")  # need vmap_axes

def linearize(f: ApplyFn, params0: PyTree) -> ApplyFn:
  r"""First-order Taylor expansion of ``f`` in its parameters around ``params0``.

  ``f_lin(params, x) = f(params0, x) + J(x) (params - params0)`` with ``J`` the Jacobian at
  ``params0``, computed by one forward-mode product (``jax.jvp``) without forming ``J``
  (Lee et al. 2019, "Wide Neural Networks of Any Depth Evolve as Linear Models Under Gradient
  Descent", eq. 6).

  Args:
    f: ``f(params, x) -> (N, *O)``.
    params0: the expansion point.

  Returns:
    ``f_lin(params, x) -> (N, *O)``; exact when ``f`` is linear in ``params``.
  """

  def f_lin(params: PyTree, x: jax.Array) -> jax.Array:
    dparams = jax.tree.map(lambda p, p0: p - p0, params, params0)
    out0, dout = jax.jvp(lambda p: f(p, x), (params0,), (dparams,))
    return out0 + dout

  return f_lin


def empirical_ntk_fn(f: ApplyFn, trace_axes: Sequence[int] = (-1,),
                     implementation: Implementation = "auto",
                     batch_size: int | None = None,
                     vmap_axes: tuple[int, int] | None = (0, 0)) -> KernelFn:
  r"""Returns ``ntk_fn(x1, x2, params)``: the empirical NTK ``J(x1) J(x2)^T`` of ``f``.

  Args:
    f: ``f(params, x) -> (N, *O)``, acting on examples independently (see ``vmap_axes``).
    trace_axes: output axes (negative or counted without the batch axis, e.g. ``(-1,)`` or
      ``(0,)`` for outputs ``(N, K)``) to trace over and divide by their size. ``()`` keeps
      all output axes.
    implementation: ``"jacobian_contraction"``, ``"ntk_vector_products"``,
      ``"structured_derivatives"`` or ``"auto"`` (the cheapest by the cost model of Novak et
      al. 2022, secs. 3-4; see module docstring and :func:`choose_implementation`).
    batch_size: compute blocks of at most ``batch_size x batch_size`` examples (inputs are
      zero-padded to a multiple so one compiled block serves all). ``None``: one block.
      Structured derivatives keep the per-example factors of all of ``x2`` (``N2 F`` numbers,
      ``F = sum_dense S (K + O M) + O P_explicit``) when they fit in 1 GiB, else recompute them
      per block; e.g. for the ``[Dense 512, ReLU] x 3 + Dense 1`` MLP on ``N = 4096`` inputs of
      dimension 64, ``F = 3,136`` (49 MiB for all ``N``) and the kernel is 64 MiB (float32);
      the peak memory of the call grows by 466 MiB in one block, 226 MiB with
      ``batch_size=1024`` and 213 MiB with 512 (``python -m benchmarks.ntk --peak_memory``).
    vmap_axes: ``(in_axis, out_axis)``, the axis of ``x`` and of ``f``'s output that index
      examples (``(0, 0)``: the leading axis). ``None``: ``f`` need not act on examples
      independently (e.g. batch norm in training mode); then only ``ntk_vector_products``
      applies (``"auto"`` picks it), and ``batch_size`` must be ``None``.

  Returns:
    ``ntk_fn(x1, x2, params)`` with ``x2=None`` meaning ``x1``, returning
    ``(N1, N2, *O_kept, *O_kept)``: ``(N1, N2)`` for outputs ``(N, K)`` with
    ``trace_axes=(-1,)``, ``(N1, N2, K, K)`` with ``trace_axes=()``.

  Example:
    >>> ntk_fn = empirical_ntk_fn(model.apply, implementation="structured_derivatives")
    >>> theta = ntk_fn(x, None, params)  # (N, N)
  """
  if implementation not in IMPLEMENTATIONS:
    raise JaxnetsError(f"unknown NTK implementation {implementation!r}; "
                       f"use one of {', '.join(IMPLEMENTATIONS)}")
  _check_batch_size(batch_size)
  if vmap_axes is None:
    if implementation in _PER_EXAMPLE:
      raise JaxnetsError(f"implementation {implementation!r} needs f to act on examples "
                         "independently; give vmap_axes=(in_axis, out_axis) or use "
                         "implementation='ntk_vector_products'")
    if batch_size is not None:
      raise JaxnetsError("batch_size splits the inputs into blocks, which changes f when it "
                         "does not act on examples independently (vmap_axes=None); drop one")
  trace_axes = tuple(trace_axes)
  f0 = f if vmap_axes is None else _batch_first(f, vmap_axes)
  in_axis = 0 if vmap_axes is None else vmap_axes[0]
  blocks = {"jacobian_contraction": _ntk_block_jacobian_contraction(f0),
            "ntk_vector_products": _ntk_block_ntk_vector_products(f0)}
  compiled = {}  # (implementation, traced axes, output rank) -> jitted block, reused per call
  plans = {}  # input and parameter signature -> (x1, x2, params) -> kernel

  def jitted_block(impl: str, traced: tuple[int, ...], out_ndim: int) -> Callable:
    key = (impl, traced, out_ndim)
    if key not in compiled:
      block = blocks[impl]
      compiled[key] = jax.jit(lambda a, b, p: _trace_outputs(block(a, b, p), traced, out_ndim))
    return compiled[key]

  def plan(x1: jax.Array, x2: jax.Array, params: PyTree) -> Callable:
    """Everything that depends only on shapes: output shape, implementation, compiled code."""
    out_shape = jax.eval_shape(f0, params, x1[:1]).shape[1:]
    traced = _canonical_axes(trace_axes, len(out_shape))
    impl = implementation
    if impl == "auto":  # the cost analysis lowers f: once per signature
      impl = choose_implementation(
          f0, params, x1, x2, traced_size=math.prod(out_shape[a] for a in traced),
          candidates=("ntk_vector_products",) if vmap_axes is None else None)
    if impl == "structured_derivatives":
      blocks_sd = ntk_blocks.StructuredBlocks(f0, params, x1, traced, len(out_shape))
      return lambda a, b, p: blocks_sd(a, b, p, batch_size)
    block = jitted_block(impl, traced, len(out_shape))
    return lambda a, b, p: ntk_blocks.blockwise(block, a, b, p, batch_size)

  def ntk_fn(x1: jax.Array, x2: jax.Array | None, params: PyTree) -> jax.Array:
    x1 = jnp.asarray(x1)
    x2 = None if x2 is None else jnp.asarray(x2)
    if in_axis:
      x1 = jnp.moveaxis(x1, in_axis, 0)
      x2 = None if x2 is None else jnp.moveaxis(x2, in_axis, 0)
    leaves, treedef = jax.tree.flatten(params)
    key = (x1.shape, x1.dtype, None if x2 is None else (x2.shape, x2.dtype), treedef,
           tuple((jnp.shape(p), jnp.result_type(p)) for p in leaves))
    if key not in plans:
      plans[key] = plan(x1, x1 if x2 is None else x2, params)
    return plans[key](x1, x2, params)

  return ntk_fn


def _batch_first(f: ApplyFn, vmap_axes: tuple[int, int]) -> ApplyFn:
  """``f`` with the example axis of its input and output moved to the front."""
  if (len(vmap_axes) != 2 or any(not isinstance(a, (int, np.integer)) for a in vmap_axes)):
    raise JaxnetsError(f"vmap_axes must be (in_axis, out_axis) integers or None, got "
                       f"{vmap_axes!r}")
  in_axis, out_axis = (int(a) for a in vmap_axes)
  if (in_axis, out_axis) == (0, 0):
    return f
  return lambda p, x: jnp.moveaxis(f(p, jnp.moveaxis(x, 0, in_axis)), out_axis, 0)


def empirical_nngp_fn(f: ApplyFn, trace_axes: Sequence[int] = (-1,),
                      batch_size: int | None = None) -> KernelFn:
  r"""Returns ``nngp_fn(x1, x2, params)``: the output covariance ``f(x1) f(x2)^T`` of one draw.

  Averaged over random ``params`` this estimates the NNGP kernel (Lee et al. 2018, "Deep Neural
  Networks as Gaussian Processes", eq. 4); with ``trace_axes`` the output axes are also
  averaged over, as the output channels are i.i.d. at infinite width.

  Returns:
    ``nngp_fn(x1, x2, params) -> (N1, N2, *O_kept, *O_kept)``, like :func:`empirical_ntk_fn`.
  """
  _check_batch_size(batch_size)
  trace_axes = tuple(trace_axes)

  @functools.lru_cache(maxsize=None)
  def _nngp_block(traced: tuple[int, ...], out_ndim: int) -> Callable:
    def block(a, b, p):
      fa = f(p, a).reshape(a.shape[0], -1)
      fb = fa if b is None else f(p, b).reshape(b.shape[0], -1)
      outer = jnp.einsum("ni,mj->nmij", fa, fb)
      return _trace_outputs(outer.reshape(outer.shape[:2] + _out_shape_2(f, p, a)), traced,
                            out_ndim)
    return jax.jit(block)

  def nngp_fn(x1: jax.Array, x2: jax.Array | None, params: PyTree) -> jax.Array:
    out_ndim = len(jax.eval_shape(f, params, x1[:1]).shape) - 1
    traced = _canonical_axes(trace_axes, out_ndim)

    return ntk_blocks.blockwise(_nngp_block(traced, out_ndim), x1, x2, params, batch_size)

  return nngp_fn


def choose_implementation(f: ApplyFn, params: PyTree, x1: jax.Array, x2: jax.Array,
                          traced_size: int = 1,
                          candidates: Sequence[str] | None = None) -> str:
  r"""The cheapest NTK implementation for these shapes by the FLOP model of Novak et al. (2022).

  With ``P`` parameters, ``O`` outputs per example (``O_t`` of them traced), ``[FP]`` the
  FLOPs of a forward pass on one example (from XLA's cost analysis, ``2P`` if unavailable):

    jacobian_contraction:   3 (N1 + N2) O [FP]  +  2 N1 N2 O^2 P / O_t
    ntk_vector_products:    3 N2 O (N1 + N2) [FP]
    structured_derivatives: (N1 + N2) (1 + O) [FP]  +  explicit sites  +  dense sites
                            (``theory.ntk_structured.flops``)

  (reverse mode ~3 forward passes; the contraction of two ``O x P`` Jacobians costs
  ``2 O^2 P`` per pair, ``O_t`` times less when traced). ``f`` takes examples on axis 0.
  ``candidates`` restricts the choice (default: all three).
  """
  candidates = tuple(candidates or IMPLEMENTATIONS[1:])
  num_params = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  out = jax.eval_shape(f, params, x1[:1])
  num_out = int(np.prod(out.shape[1:]))
  fp = _forward_flops(f, params, x1[:1]) or 2.0 * num_params
  n1, n2 = x1.shape[0], x2.shape[0]
  costs = {"jacobian_contraction": 3 * (n1 + n2) * num_out * fp
                                   + 2 * n1 * n2 * num_out ** 2 * num_params / traced_size,
           "ntk_vector_products": 3 * n2 * num_out * (n1 + n2) * fp}
  if "structured_derivatives" in candidates:
    try:
      graph = ntk_structured.trace_graph(
          f, params, jax.ShapeDtypeStruct((1,) + x1.shape[1:], x1.dtype), num_out)
      costs["structured_derivatives"] = ntk_structured.flops(graph, n1, n2, num_out,
                                                             traced_size, fp)
    except JaxnetsError:  # f has no structure this route understands
      pass
  return min((c for c in candidates if c in costs), key=lambda c: costs[c])


def _forward_flops(f: ApplyFn, params: PyTree, x: jax.Array) -> float | None:
  try:
    cost = jax.jit(f).lower(params, x).cost_analysis()
  except Exception:  # cost analysis is best effort: some backends do not provide it
    return None
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else None
  flops = (cost or {}).get("flops")
  return float(flops) if flops and flops > 0 else None


def _ntk_block_jacobian_contraction(f: ApplyFn) -> Callable:
  """``(x1, x2, params) -> (N1, N2, O, O)``: per-example Jacobians contracted over params."""

  def jacobian(params, x):
    one = lambda p, xi: f(p, xi[None])[0].reshape(-1)
    return jax.vmap(jax.jacrev(one), (None, 0))(params, x)  # leaves (N, O, *p.shape)

  def block(x1, x2, params):
    j1 = jacobian(params, x1)
    j2 = j1 if x2 is None else jacobian(params, x2)  # x2=None: one Jacobian, half the work
    contract = lambda a, b: jnp.einsum("nip,mjp->nmij", a.reshape(a.shape[:2] + (-1,)),
                                       b.reshape(b.shape[:2] + (-1,)))
    out = sum(jax.tree.leaves(jax.tree.map(contract, j1, j2)))
    return out.reshape(out.shape[:2] + _out_shape_2(f, params, x1))

  return block


def _ntk_block_ntk_vector_products(f: ApplyFn) -> Callable:
  """``(x1, x2, params) -> (N1, N2, O, O)``: columns ``J1 J2^T e_(m,j)`` by VJP then JVP."""

  def block(x1, x2, params):
    x2 = x1 if x2 is None else x2
    f1 = lambda p: f(p, x1)
    out2, vjp2 = jax.vjp(lambda p: f(p, x2), params)
    n2, num_out = out2.shape[0], math.prod(out2.shape[1:])
    basis = jnp.eye(n2 * num_out, dtype=out2.dtype).reshape((n2 * num_out,) + out2.shape)

    def column(cotangent):
      (tangent,) = vjp2(cotangent)
      return jax.jvp(f1, (params,), (tangent,))[1]

    cols = jax.vmap(column)(basis)  # (N2 * O, N1, *O): column (m, j) is Theta[:, :, m, j]
    cols = cols.reshape(n2, num_out, x1.shape[0], -1)
    out = jnp.transpose(cols, (2, 0, 3, 1))  # (N1, N2, O1, O2)
    return out.reshape(out.shape[:2] + _out_shape_2(f, params, x1))

  return block


def _out_shape_2(f: ApplyFn, params: PyTree, x: jax.Array) -> tuple[int, ...]:
  out = jax.eval_shape(f, params, x[:1]).shape[1:]
  return tuple(out) + tuple(out)


def _canonical_axes(axes: tuple[int, ...], out_ndim: int) -> tuple[int, ...]:
  canon = []
  for a in axes:
    if not -out_ndim <= a < out_ndim:
      raise JaxnetsError(f"trace axis {a} is out of range for outputs with {out_ndim} "
                         f"non-batch axes; use axes in [-{out_ndim}, {out_ndim})")
    canon.append(a % out_ndim)
  if len(set(canon)) != len(canon):
    raise JaxnetsError(f"trace_axes {axes} repeats an axis; list each output axis once")
  return tuple(sorted(canon))


def _trace_outputs(k: jax.Array, traced: tuple[int, ...], out_ndim: int) -> jax.Array:
  """``(N1, N2, *O, *O) -> (N1, N2, *O_kept, *O_kept)``: mean of the diagonal of traced pairs."""
  for removed, a in enumerate(traced):
    ndim_now = out_ndim - removed
    axis1 = 2 + a - removed
    k = jnp.trace(k, axis1=axis1, axis2=axis1 + ndim_now) / k.shape[axis1]
  return k


def _check_batch_size(batch_size: int | None) -> None:
  if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
    raise JaxnetsError(f"batch_size must be a positive integer or None, got {batch_size!r}")
