"""Metrics as pure functions; evaluation sums a confusion matrix over the whole set."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def confusion_matrix(logits: jax.Array, labels: jax.Array, num_classes: int,
                     mask: jax.Array | None = None) -> jax.Array:
  """``C[i, j]`` = number of (weighted) examples of true class i predicted as class j.

  Shapes: ``logits (..., K)``, ``labels (...)``, ``mask`` broadcastable to the leading shape
  of ``labels`` (per example). Returns ``(num_classes, num_classes)`` float32. Summing these
  over batches gives accuracy, and for segmentation per-class IoU, exactly.
  """
  predictions = jnp.argmax(logits, axis=-1)
  weights = jnp.ones(labels.shape, jnp.float32)
  if mask is not None:
    weights = weights * mask.reshape(mask.shape + (1,) * (labels.ndim - mask.ndim))
  flat = labels.reshape(-1) * num_classes + predictions.reshape(-1)
  counts = jnp.zeros(num_classes * num_classes, jnp.float32).at[flat].add(weights.reshape(-1))
  return counts.reshape(num_classes, num_classes)


def compute_metrics(logits: jax.Array, labels: jax.Array, loss: jax.Array) -> dict[str, jax.Array]:
  """Batch-mean ``loss`` and ``accuracy`` for a training step."""
  return {"loss": jnp.mean(loss),
          "accuracy": jnp.mean((jnp.argmax(logits, -1) == labels).astype(jnp.float32))}


def summarize_confusion(confusion: np.ndarray) -> dict[str, float]:
  """Accuracy (the trace fraction) of a summed confusion matrix."""
  confusion = np.asarray(confusion, np.float64)
  total = confusion.sum()
  return {"accuracy": float(np.trace(confusion) / total) if total else float("nan")}
