r"""The empirical NTK by structured derivatives: per-layer factors instead of Jacobians.

Novak, Sohl-Dickstein & Schoenholz (2022), "Fast Finite Width Neural Tangent Kernel", sec. 4.
Write the network as a graph of primitives and call a *site* each primitive where a value
computed from the parameters alone (``q``, e.g. a weight) meets a value computed from the input
(``a``, e.g. a layer's input). Every path from a parameter to the output enters the input's
computation at exactly one site, so by the chain rule

    d f_i(x) / d theta = sum_s (d out_s / d theta)^T g_s,i(x),    g_s,i = d f_i / d out_s,

where ``out_s`` is the site's output and ``d out_s / d theta`` is taken with ``a`` held fixed. The
cotangents ``g_s`` of all sites come from one reverse pass w.r.t. perturbations added to the site
outputs (per output ``i``), the ``a_s`` from the forward pass; neither needs the Jacobian.

* A dense site ``y = a q`` with ``q = c theta_l`` (``a (S, K)``, ``q (K, M)``, ``y (S, M)``)
  contributes ``c^2 sum_{s,t} (a a'^T)_{st} (g_i g'_j^T)_{st}`` to ``Theta_ij(x, x')``: the
  ``(x1 x2^T) * (dy1 dy2^T)`` structure of sec. 4, never the ``K x M`` per-example gradient. It is
  used when it is cheaper than the explicit gradient (``S^2 (K + M)`` against ``K M`` per pair).
* Every other site (convolutions, biases, batch-norm scales, any unknown primitive) is handled
  by the explicit route: its per-example parameter gradient ``(d out_s / d theta)^T g_s`` from
  ``jax.vjp`` of that one primitive, then a contraction over the parameters, as in Jacobian
  contraction but without back-propagating through the network once per example.

The graph is the jaxpr of ``f`` on one example (calls to ``jax.jit``-ed functions are looked into;
custom-derivative functions, loops and other higher-order primitives are opaque sites). ``f`` must
act on examples independently, and a parameter used at several sites (shared weights) is
treated by the explicit route, which sums its sites' gradients before contracting.
"""

from __future__ import annotations

import math
import string
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jex

from jaxnets.errors import JaxnetsError

PyTree = Any
_X = "x"  # kind of a variable that depends on the input
_INLINED = {"jit": "jaxpr", "closed_call": "call_jaxpr"}  # call primitives looked into


class _Dense(NamedTuple):
  """A ``dot_general`` site ``a . q`` with ``q = scale * leaf`` (up to dtype and reshape)."""

  a_index: int  # 0 if ``a`` is the lhs of the dot
  a_contract: tuple[int, ...]  # contracting axes of ``a``
  leaf: int
  scale: float


class Site(NamedTuple):
  path: tuple[int, ...]  # equation indices through the nested calls
  eqn: Any
  x_inputs: tuple[int, ...]  # positions of the input-dependent operands
  leaves: frozenset[int]  # parameter leaves this site depends on
  dense: _Dense | None


class Graph(NamedTuple):
  """The sites of ``f(params, x_one)`` (see module docstring) and how to evaluate it."""

  closed: Any  # ClosedJaxpr of (param leaves..., x) -> (out,)
  sites: tuple[Site, ...]
  inlined: frozenset[tuple[int, ...]]  # paths of call equations that contain sites
  num_leaves: int
  dense_sites: tuple[int, ...]  # indices into sites using the dense rule
  explicit_sites: tuple[int, ...]

  @property
  def explicit_leaves(self) -> tuple[int, ...]:
    return tuple(sorted(set().union(*[self.sites[s].leaves for s in self.explicit_sites])))


def trace_graph(f: Callable, params: PyTree, x_one: jax.Array, num_outputs: int) -> Graph:
  """Finds the sites of ``f(params, x_one)``; ``x_one`` is one example with its batch axis."""
  leaves, treedef = jax.tree.flatten(params)
  closed = jax.make_jaxpr(lambda ls, x: f(jax.tree.unflatten(treedef, ls), x))(leaves, x_one)
  jaxpr = closed.jaxpr
  if len(jaxpr.outvars) != 1:
    raise JaxnetsError("structured_derivatives needs f(params, x) to return one array; use "
                       "implementation='jacobian_contraction' for pytree outputs")
  kinds = [frozenset([i]) for i in range(len(leaves))] + [_X]
  chains = [(i, 1.0) for i in range(len(leaves))] + [None]
  sites, inlined = [], set()
  out_kinds = _analyze(jaxpr, [frozenset()] * len(jaxpr.constvars), kinds,
                       [None] * len(jaxpr.constvars), chains, (), sites, inlined)
  if out_kinds[0] is not _X:
    raise JaxnetsError("f's output does not depend on its input x; the structured NTK needs "
                       "f(params, x) to act on x (use implementation='jacobian_contraction')")
  # A site with integer outputs passes no gradient (d out_s / d theta = 0): leave it out.
  sites = [s for s in sites
           if any(jnp.issubdtype(v.aval.dtype, jnp.inexact) for v in s.eqn.outvars)]
  uses = {}
  for site in sites:
    for leaf in site.leaves:
      uses[leaf] = uses.get(leaf, 0) + 1
  dense, explicit = [], []
  for k, site in enumerate(sites):
    shared = any(uses[leaf] > 1 for leaf in site.leaves)
    use_dense = (site.dense is not None and not shared
                 and _dense_is_cheaper(site, num_outputs))
    (dense if use_dense else explicit).append(k)
  return Graph(closed, tuple(sites), frozenset(inlined), len(leaves), tuple(dense),
               tuple(explicit))


def feature_size(graph: Graph, num_outputs: int) -> int:
  """Numbers per example in :class:`Features`: ``sum_dense S (K + O M) + O P_explicit``."""
  size = 0
  for k in graph.dense_sites:
    s, kk, m = _dense_sizes(graph.sites[k])
    size += s * (kk + num_outputs * m)
  avals = graph.closed.jaxpr.invars[:graph.num_leaves]
  return size + num_outputs * sum(avals[i].aval.size for i in graph.explicit_leaves)


def _dense_is_cheaper(site: Site, num_outputs: int) -> bool:
  """Per pair of examples: ``S^2 (K + O^2 M)`` for the dense rule vs ``O^2 K M`` explicit."""
  s, k, m = _dense_sizes(site)
  return s * s * (k + num_outputs**2 * m + num_outputs**2) <= num_outputs**2 * k * m


def _dense_sizes(site: Site) -> tuple[int, int, int]:
  a = site.eqn.invars[site.dense.a_index].aval
  k = math.prod(a.shape[i] for i in site.dense.a_contract)
  s = a.size // k
  m = site.eqn.outvars[0].aval.size // s
  return s, k, m


def _analyze(jaxpr, const_kinds, in_kinds, const_chains, in_chains, path, sites, inlined):
  """Propagates kinds (``_X`` or the set of parameter leaves) through ``jaxpr``, recording sites.

  ``chains`` follow values that are ``scale * leaf`` (through dtype casts, reshapes, negation and
  multiplication by a scalar literal), the weights a dense site can use.
  """
  kind, chain = {}, {}
  for v, k, c in zip(list(jaxpr.constvars) + list(jaxpr.invars),
                     list(const_kinds) + list(in_kinds), list(const_chains) + list(in_chains)):
    kind[v], chain[v] = k, c

  def read(v):
    return (frozenset(), None) if isinstance(v, jex.Literal) else (kind[v], chain[v])

  for idx, eqn in enumerate(jaxpr.eqns):
    here = path + (idx,)
    ks, cs = zip(*[read(v) for v in eqn.invars]) if eqn.invars else ((), ())
    has_x = any(k is _X for k in ks)
    leaves = frozenset().union(*[k for k in ks if k is not _X])
    name = eqn.primitive.name
    if has_x and leaves and name in _INLINED:
      sub = eqn.params[_INLINED[name]]
      n_before = len(sites)
      outs = _analyze(sub.jaxpr, [frozenset()] * len(sub.jaxpr.constvars), ks,
                      [None] * len(sub.jaxpr.constvars), cs, here, sites, inlined)
      if len(sites) > n_before:
        inlined.add(here)
      out_chains = [None] * len(outs)
    elif has_x and leaves:
      x_inputs = tuple(i for i, k in enumerate(ks) if k is _X)
      sites.append(Site(here, eqn, x_inputs, leaves, _dense_rule(eqn, ks, cs)))
      outs, out_chains = [_X] * len(eqn.outvars), [None] * len(eqn.outvars)
    else:
      out = _X if has_x else leaves
      outs = [out] * len(eqn.outvars)
      out_chains = [_chain(eqn, cs) if not has_x else None] * len(eqn.outvars)
    for v, k, c in zip(eqn.outvars, outs, out_chains):
      kind[v], chain[v] = k, c
  return [read(v)[0] for v in jaxpr.outvars]


def _chain(eqn, chains) -> tuple[int, float] | None:
  name = eqn.primitive.name
  if name in ("convert_element_type", "reshape", "copy") and chains[0] is not None:
    return chains[0]
  if name == "neg" and chains[0] is not None:
    return chains[0][0], -chains[0][1]
  if name == "mul" and len(eqn.invars) == 2:
    for i in (0, 1):
      other = eqn.invars[1 - i]
      if (chains[i] is not None and isinstance(other, jex.Literal)
          and np.ndim(other.val) == 0):
        return chains[i][0], chains[i][1] * float(other.val)
  return None


def _dense_rule(eqn, kinds, chains) -> _Dense | None:
  if eqn.primitive.name != "dot_general" or len(eqn.invars) != 2:
    return None
  (contract_l, contract_r), (batch_l, batch_r) = eqn.params["dimension_numbers"]
  if batch_l or batch_r:
    return None
  a_index = 0 if kinds[0] is _X else 1
  q_chain = chains[1 - a_index]
  if kinds[1 - a_index] is _X or q_chain is None:
    return None
  return _Dense(a_index, tuple(contract_l if a_index == 0 else contract_r), q_chain[0],
                q_chain[1])


def _evaluate(jaxpr, consts, args, path, graph, sites_by_path, hook):
  """Evaluates ``jaxpr``; at each site the outputs are ``hook(site, invals)``.

  Equations whose inputs are not all known (``None``: the input-dependent values when only the
  parameter side is evaluated) are skipped, except sites, which the hook completes.
  """
  env = {}
  for v, val in zip(list(jaxpr.constvars) + list(jaxpr.invars), list(consts) + list(args)):
    env[v] = val

  def read(v):
    return v.val if isinstance(v, jex.Literal) else env.get(v)

  for idx, eqn in enumerate(jaxpr.eqns):
    here = path + (idx,)
    invals = [read(v) for v in eqn.invars]
    site = sites_by_path.get(here)
    if here in graph.inlined:
      sub = eqn.params[_INLINED[eqn.primitive.name]]
      outs = _evaluate(sub.jaxpr, sub.consts, invals, here, graph, sites_by_path, hook)
    elif site is not None:
      outs = hook(site, invals)
    elif any(val is None for val in invals):
      outs = [None] * len(eqn.outvars)
    else:
      outs = _bind(eqn, invals)
    for v, val in zip(eqn.outvars, outs):
      env[v] = val
  return [read(v) for v in jaxpr.outvars]


def _bind(eqn, invals):
  out = eqn.primitive.bind(*invals, **eqn.primitive.get_bind_params(eqn.params))
  return list(out) if eqn.primitive.multiple_results else [out]


class Features(NamedTuple):
  """Per-example factors of the NTK of a block of ``N`` examples with outputs ``O``.

  ``a[k]`` ``(N, S, K)`` and ``g[k]`` ``(N, *O, S, M)`` for the dense sites; ``jac[l]``
  ``(N, *O, P_l)`` the per-example gradients of the explicit route's leaves.
  """

  a: tuple[jax.Array, ...]
  g: tuple[jax.Array, ...]
  jac: tuple[jax.Array, ...]


def features(graph: Graph, params: PyTree, x: jax.Array) -> Features:
  """The factors of ``Theta`` for the examples ``x (N, ...)`` (batch axis 0)."""
  leaves = jax.tree.leaves(params)
  sites_by_path = {site.path: site for site in graph.sites}
  closed = graph.closed
  out_aval = closed.jaxpr.outvars[0].aval
  out_shape = out_aval.shape[1:]
  num_out = math.prod(out_shape)

  def one(xi):
    xi = xi[None]
    eps0 = {site.path: [jnp.zeros(v.aval.shape, v.aval.dtype) for v in site.eqn.outvars]
            for site in graph.sites}

    def forward(eps):
      recorded = {}

      def hook(site, invals):
        recorded[site.path] = [invals[i] for i in site.x_inputs]
        return [o + e for o, e in zip(_bind(site.eqn, invals), eps[site.path])]

      out = _evaluate(closed.jaxpr, closed.consts, leaves + [xi], (), graph, sites_by_path,
                      hook)[0]
      return out, recorded

    out, pullback, recorded = jax.vjp(forward, eps0, has_aux=True)
    basis = jnp.eye(num_out, dtype=out.dtype).reshape((num_out,) + out.shape)
    (cot,) = jax.vmap(pullback)(basis)  # site path -> [(O, *out_s.shape)]
    a_list, g_list = [], []
    for k in graph.dense_sites:
      site = graph.sites[k]
      a, g = _dense_factors(site, recorded[site.path][0], cot[site.path][0])
      a_list.append(a)
      g_list.append(g.reshape(out_shape + g.shape[1:]))
    jac = _explicit_jacobians(graph, leaves, recorded, cot, sites_by_path)
    jac = [j.reshape(out_shape + (-1,)) for j in jac]
    return Features(tuple(a_list), tuple(g_list), tuple(jac))

  return jax.vmap(one)(x)


def _dense_factors(site: Site, a: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
  """``a -> (S, K)`` and ``g (O, *y.shape) -> (O, S, M)`` of the dense site ``y = a . q``."""
  rule = site.dense
  free = [i for i in range(a.ndim) if i not in rule.a_contract]
  s, k, m = _dense_sizes(site)
  a2 = jnp.transpose(a, free + list(rule.a_contract)).reshape(s, k)
  n_free = len(free)
  y_ndim = g.ndim - 1
  # dot_general output axes: lhs free axes, then rhs free axes.
  a_axes = list(range(n_free)) if rule.a_index == 0 else list(range(y_ndim - n_free, y_ndim))
  q_axes = [i for i in range(y_ndim) if i not in a_axes]
  g2 = jnp.transpose(g, [0] + [1 + i for i in a_axes + q_axes]).reshape(g.shape[0], s, m)
  return a2, g2 * rule.scale


def _explicit_jacobians(graph, leaves, recorded, cot, sites_by_path):
  """Per output ``i``: ``sum_s (d out_s / d theta)^T g_s,i`` for the explicit route's leaves."""
  idx = graph.explicit_leaves
  if not idx:
    return []
  explicit = {graph.sites[k].path for k in graph.explicit_sites}
  closed = graph.closed

  def site_outputs(sub_leaves):
    full = list(leaves)
    for i, leaf in zip(idx, sub_leaves):
      full[i] = leaf
    outs = {}

    def hook(site, invals):
      if site.path in explicit:
        x_vals = iter(recorded[site.path])
        vals = [jax.lax.stop_gradient(next(x_vals)) if i in site.x_inputs else v
                for i, v in enumerate(invals)]
        outs[site.path] = _bind(site.eqn, vals)
      return [None] * len(site.eqn.outvars)

    _evaluate(closed.jaxpr, closed.consts, full + [None], (), graph, sites_by_path, hook)
    return outs

  sub = [leaves[i] for i in idx]
  _, pullback = jax.vjp(site_outputs, sub)
  num_out = cot[next(iter(explicit))][0].shape[0]

  def one_output(i):
    cts = {path: [c[i] for c in cot[path]] for path in explicit}
    (grads,) = pullback(cts)
    return [g.reshape(-1) for g in grads]

  return jax.vmap(one_output)(jnp.arange(num_out))


def contract(f1: Features, f2: Features, out_ndim: int, traced: tuple[int, ...]) -> jax.Array:
  """``Theta (N1, N2, *O_kept, *O_kept)`` from two blocks' factors, traced axes averaged."""
  letters = iter(string.ascii_letters[4:])
  o1 = [next(letters) for _ in range(out_ndim)]
  o2 = [o1[i] if i in traced else next(letters) for i in range(out_ndim)]
  kept = [i for i in range(out_ndim) if i not in traced]
  out_sub = "nm" + "".join(o1[i] for i in kept) + "".join(o2[i] for i in kept)
  o1s, o2s = "".join(o1), "".join(o2)
  total = 0.0
  for a1, a2, g1, g2 in zip(f1.a, f2.a, f1.g, f2.g):
    if a1.shape[1] == 1:  # one position: (a1 . a2) (g1 . g2)
      aa = jnp.einsum("nk,mk->nm", a1[:, 0], a2[:, 0])
      gg = jnp.einsum(f"n{o1s}k,m{o2s}k->{out_sub}", g1[..., 0, :], g2[..., 0, :])
      total = total + aa.reshape(aa.shape + (1,) * (gg.ndim - 2)) * gg
    else:
      aa = jnp.einsum("nsk,mtk->nmst", a1, a2)
      gg = jnp.einsum(f"n{o1s}sk,m{o2s}tk->{out_sub}st", g1, g2)
      total = total + jnp.einsum(f"{out_sub}st,nmst->{out_sub}", gg, aa)
  for j1, j2 in zip(f1.jac, f2.jac):
    total = total + jnp.einsum(f"n{o1s}p,m{o2s}p->{out_sub}", j1, j2)
  scale = math.prod(f1.g[0].shape[1 + i] if f1.g else f1.jac[0].shape[1 + i] for i in traced)
  return total / scale


def flops(graph: Graph, n1: int, n2: int, num_out: int, traced_size: int,
          forward_flops: float) -> float:
  """The FLOP model of this route (same conventions as ``theory.ntk.choose_implementation``).

  Forward pass plus ``O`` reverse passes for the cotangents, ``(N1 + N2) (1 + O) [FP]``; the
  explicit route's per-example gradients ``(N1 + N2) O 2 P_e`` and their contraction
  ``2 N1 N2 O^2 P_e / O_t``; dense sites ``2 N1 N2 S^2 (K + O^2 M / O_t)``.
  """
  avals = graph.closed.jaxpr.invars[:graph.num_leaves]
  p_e = sum(avals[i].aval.size for i in graph.explicit_leaves)
  cost = (n1 + n2) * (1 + num_out) * forward_flops
  cost += (n1 + n2) * num_out * 2 * p_e + 2 * n1 * n2 * num_out**2 * p_e / traced_size
  for k in graph.dense_sites:
    s, kk, m = _dense_sizes(graph.sites[k])
    cost += 2 * n1 * n2 * s * s * (kk + num_out**2 * m / traced_size)
  return float(cost)
