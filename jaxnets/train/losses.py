"""Losses, elementwise: each returns one value per example (or pixel); the caller reduces."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from jaxnets.train import segmentation_metrics


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


LOSSES: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "cross_entropy": cross_entropy,
    "squared_error": squared_error,
    "dice": segmentation_metrics.dice_loss,
    "cross_entropy+dice": segmentation_metrics.cross_entropy_dice,
}
