"""Losses, elementwise: each returns one value per example (or pixel); the caller reduces."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax



def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Softmax cross-entropy ``-log softmax(logits)[label]``.

  Shapes: ``logits (..., C)``, integer ``labels (...)`` -> ``(...)``. Works for classification
  ``(N, C)`` and per-pixel segmentation ``(N, H, W, C)`` alike. Computed in float32.
  """
  return optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)


def squared_error(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """``0.5 * ||logits - onehot(label)||^2`` per example: the MSE loss of kernel-regime theory."""
  targets = jax.nn.one_hot(labels, logits.shape[-1], dtype=jnp.float32)
  return 0.5 * jnp.sum((logits.astype(jnp.float32) - targets) ** 2, axis=-1)


def pixel_cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-pixel softmax cross-entropy (Long et al. 2015, sec. 3): ``(N, H, W, K), (N, H, W)``
  -> ``(N, H, W)``, computed in float32."""
  return optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), labels)


def dice_loss(logits: jax.Array, labels: jax.Array, smooth: float = 1.0) -> jax.Array:
  """Soft Dice loss per example: ``1 - mean_k (2 sum p_k y_k + s) / (sum p_k + sum y_k + s)``.

  ``p = softmax(logits)``, ``y = onehot(labels)``, sums over the pixels of one example
  (Milletari et al. 2016, V-Net, eq. 1, with the squares dropped as in Sudre et al. 2017 and an
  additive smoothing ``s`` so that a class absent from both prediction and truth scores 1).
  Shapes: ``logits (N, ..., K)``, ``labels (N, ...)`` -> ``(N,)``.
  """
  num_classes = logits.shape[-1]
  p = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
  y = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)
  axes = tuple(range(1, p.ndim - 1))  # the pixel axes
  overlap = jnp.sum(p * y, axis=axes)
  total = jnp.sum(p, axis=axes) + jnp.sum(y, axis=axes)
  return 1.0 - jnp.mean((2.0 * overlap + smooth) / (total + smooth), axis=-1)


def cross_entropy_dice(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Per-example mean pixel cross-entropy plus soft Dice loss, ``(N,)``.

  Cross-entropy gives well-scaled per-pixel gradients from the start; Dice directly rewards the
  overlap of small classes that the pixel average under-weights (a common pairing, e.g. the
  nnU-Net default, Isensee et al. 2021).
  """
  ce = pixel_cross_entropy(logits, labels)
  return ce.reshape(ce.shape[0], -1).mean(axis=1) + dice_loss(logits, labels)


LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "cross_entropy": cross_entropy,
    "squared_error": squared_error,
    "dice": dice_loss,
    "cross_entropy+dice": cross_entropy_dice,
}
