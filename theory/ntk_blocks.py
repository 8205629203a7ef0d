"""Evaluating empirical NTKs block by block, so that N in the thousands fits in memory.

``blockwise`` assembles a kernel from ``block_fn(x1_block, x2_block, params)`` calls (Jacobian
contraction, NTK-vector products); ``StructuredBlocks`` does it for structured derivatives
(:mod:`theory.ntk_structured`), whose per-example factors are computed once per block of
inputs and then contracted for every pair of blocks.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp

from theory import ntk_structured

PyTree = Any


def blockwise(block_fn: Callable, x1: jax.Array, x2: jax.Array, params: PyTree,
               batch_size: int | None) -> jax.Array:
  """Assembles ``block_fn(x1[i:i+b], x2[j:j+b], params)`` blocks into the full kernel.

  Both inputs are zero-padded to a multiple of ``b`` so that every block has one shape and
  the jitted block compiles once; padded rows and columns are cut off at the end. With
  ``x2=None`` a single block is computed as ``block_fn(x1, None, params)`` (symmetric).
  """
  x1 = jnp.asarray(x1)
  n1 = x1.shape[0]
  if x2 is None and (batch_size is None or batch_size >= n1):
    return block_fn(x1, None, params)
  x2 = x1 if x2 is None else jnp.asarray(x2)
  n2 = x2.shape[0]
  if batch_size is None or (batch_size >= n1 and batch_size >= n2):
    return block_fn(x1, x2, params)
  b = batch_size
  x1p, x2p = pad_to_multiple(x1, b), pad_to_multiple(x2, b)
  rows = []
  for i in range(0, x1p.shape[0], b):
    rows.append(jnp.concatenate([block_fn(x1p[i:i + b], x2p[j:j + b], params)
                                 for j in range(0, x2p.shape[0], b)], axis=1))
  return jnp.concatenate(rows, axis=0)[:n1, :n2]


def pad_to_multiple(x: jax.Array, b: int) -> jax.Array:
  """``x`` with zero examples appended so that its length is a multiple of ``b``."""
  if x.shape[0] % b == 0:
    return x
  return jnp.concatenate([x, jnp.zeros((-x.shape[0] % b,) + x.shape[1:], x.dtype)])


_FEATURE_BYTES = 1 << 30  # structured derivatives keep the factors of x2 up to this size


class StructuredBlocks:
  """Structured-derivatives NTK of one input/param signature, by blocks (see ``batch_size``)."""

  def __init__(self, f: Callable, params: PyTree, x1: jax.Array, traced: tuple[int, ...],
               out_ndim: int):
    num_out = math.prod(jax.eval_shape(f, params, x1[:1]).shape[1:])
    graph = ntk_structured.trace_graph(
        f, params, jax.ShapeDtypeStruct((1,) + x1.shape[1:], x1.dtype), num_out)
    feats = lambda x, p: ntk_structured.features(graph, p, x)  # noqa: E731
    pair = lambda a, b: ntk_structured.contract(a, b, out_ndim, traced)  # noqa: E731
    self.features = jax.jit(feats)
    self.contract = jax.jit(pair)
    self.whole = jax.jit(lambda a, b, p: pair(feats(a, p), feats(b, p)))
    self.whole_sym = jax.jit(lambda a, p: (lambda fa: pair(fa, fa))(feats(a, p)))
    self.kept_ndim = out_ndim - len(traced)
    self.feature_bytes = (ntk_structured.feature_size(graph, num_out)
                          * jnp.dtype(x1.dtype).itemsize)

  def __call__(self, x1, x2, params, batch_size):
    n1 = x1.shape[0]
    n2 = n1 if x2 is None else x2.shape[0]
    if batch_size is None or (batch_size >= n1 and batch_size >= n2):
      return self.whole_sym(x1, params) if x2 is None else self.whole(x1, x2, params)
    b = batch_size
    x1p = pad_to_multiple(x1, b)
    x2p = x1p if x2 is None else pad_to_multiple(x2, b)
    # Keep the factors of every block of x2 when they fit in _FEATURE_BYTES; else recompute
    # them for each block of x1 (memory 2 b F instead of N2 F).
    keep = x2p.shape[0] * self.feature_bytes <= _FEATURE_BYTES
    column = lambda j: self.features(x2p[j * b:(j + 1) * b], params)  # noqa: E731
    cols = [column(j) for j in range(x2p.shape[0] // b)] if keep else None
    rows = []
    for i in range(0, x1p.shape[0], b):
      f1 = (cols[i // b] if cols else column(i // b)) if x2 is None else self.features(
          x1p[i:i + b], params)
      row = []
      for j in range(x2p.shape[0] // b):
        if x2 is None and j < i // b:  # symmetric: the transpose of a block already made
          row.append(self._transpose(rows[j][i // b]))
        else:
          f2 = f1 if (x2 is None and j == i // b) else cols[j] if cols else column(j)
          row.append(self.contract(f1, f2))
      rows.append(row)
    return jnp.concatenate([jnp.concatenate(r, axis=1) for r in rows], axis=0)[:n1, :n2]

  def _transpose(self, block: jax.Array) -> jax.Array:
    k = self.kept_ndim
    return jnp.transpose(block, (1, 0) + tuple(range(2 + k, 2 + 2 * k)) + tuple(range(2, 2 + k)))
