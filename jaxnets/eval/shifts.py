"""Translation invariance, measured: accuracy of trained models on circularly shifted inputs.

A convolutional net with global pooling is equivariant to translations of its input up to
boundary effects, so its accuracy degrades slowly under shifts; an MLP on pixels has no notion
of neighbouring positions. Shifts are circular (``np.roll``), so no content is lost.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.typing import PyTree


def shifted_sets(inputs: np.ndarray, shifts: tuple[int, ...], axes: tuple[int, ...]
                 ) -> tuple[np.ndarray, list[int]]:
  """Circular shifts of ``inputs (N, ...)`` along each of ``axes``, both directions.

  Shift 0 appears once; every other shift s appears ``2 len(axes)`` times (+s and -s along
  each axis). Returns the sets stacked ``(K, N, ...)`` and the shift of each set.
  """
  sets, amounts = [inputs], [0]
  for s in shifts:
    if s == 0:
      continue
    for axis in axes:
      for sign in (1, -1):
        sets.append(np.roll(inputs, sign * s, axis=axis))
        amounts.append(s)
  return np.stack(sets), amounts


def mean_by_shift(accuracies: np.ndarray, amounts: list[int], shifts: tuple[int, ...]
                  ) -> dict[int, list[float]]:
  """``(S, K)`` accuracies per seed and set -> {shift: per-seed mean over its directions}."""
  amounts = np.asarray(amounts)
  return {s: accuracies[:, amounts == s].mean(axis=1).tolist() for s in shifts}


@functools.partial(jax.jit, static_argnums=0)
def _accuracies(apply_fn, stacked_variables: PyTree, xs: jax.Array, y: jax.Array) -> jax.Array:
  def acc(variables, x):
    return 100.0 * jnp.mean(apply_fn(variables, x).argmax(-1) == y)

  return jax.vmap(jax.vmap(acc, in_axes=(None, 0)), in_axes=(0, None))(stacked_variables, xs)


def accuracy_per_seed(apply_fn, stacked_variables: PyTree, xs: np.ndarray,
                      y: np.ndarray) -> np.ndarray:
  """Accuracy (%) of each seed's variables (leading axis S) on each of K test sets
  ``xs (K, N, ...)`` with labels ``y (N,)``: ``(S, K)``, one compiled function."""
  return np.asarray(_accuracies(apply_fn, stacked_variables, jnp.asarray(xs), jnp.asarray(y)))
