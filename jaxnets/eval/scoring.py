"""Scores of predictions, the way data challenges score submissions: the empirical risk

    score = (1/n) sum_i r(y~_i, y_i)

for a risk r: 0-1 (error rate), squared, absolute or cross-entropy (log loss).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from jaxnets.errors import JaxnetsError, unknown_name


def _as_class_scores(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
  if predictions.ndim != 2 or labels.ndim != 1:
    raise JaxnetsError(f"expected predictions (n, classes) and labels (n,), got "
                       f"{predictions.shape} and {labels.shape}")
  if np.any(labels < 0) or np.any(labels >= predictions.shape[1]):
    raise JaxnetsError(f"labels must be integers in [0, {predictions.shape[1]}) for "
                       f"{predictions.shape[1]} prediction columns")
  return predictions


def _targets_like(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """Labels in the shape of the predictions: one-hot rows for class-probability predictions."""
  if predictions.ndim == labels.ndim + 1:
    _as_class_scores(predictions, labels)
    return np.eye(predictions.shape[1])[labels.astype(int)]
  if predictions.shape != labels.shape:
    raise JaxnetsError(f"predictions {predictions.shape} and labels {labels.shape} differ in "
                       "shape; give one prediction per label (or class probabilities)")
  return labels


def zero_one(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """``1[y~ != y]``; class scores ``(n, K)`` are first turned into their argmax."""
  if predictions.ndim == labels.ndim + 1:
    predictions = _as_class_scores(predictions, labels).argmax(-1)
  if predictions.shape != labels.shape:
    raise JaxnetsError(f"predictions {predictions.shape} and labels {labels.shape} differ")
  return (predictions != labels).astype(np.float64)


def squared(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """``|y~ - y|^2``; for class probabilities against one-hot labels this is the Brier score."""
  diff = predictions - _targets_like(predictions, labels)
  return (diff**2).reshape(len(diff), -1).sum(-1)


def absolute(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """``|y~ - y|_1`` (summed over the class axis for class probabilities)."""
  diff = predictions - _targets_like(predictions, labels)
  return np.abs(diff).reshape(len(diff), -1).sum(-1)


def cross_entropy(predictions: np.ndarray, labels: np.ndarray, eps: float = 1e-15
                  ) -> np.ndarray:
  """``-log p_{y}`` for class probabilities ``(n, K)`` (rows summing to 1), clipped at eps."""
  probs = _as_class_scores(predictions, labels)
  if np.any(probs < 0) or not np.allclose(probs.sum(-1), 1.0, atol=1e-3):
    raise JaxnetsError("cross_entropy needs class probabilities (non-negative rows summing to "
                       "1); apply a softmax to logits first")
  return -np.log(np.clip(probs[np.arange(len(labels)), labels.astype(int)], eps, 1.0))


RISKS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "zero_one": zero_one,
    "squared": squared,
    "absolute": absolute,
    "cross_entropy": cross_entropy,
}


def score(predictions: np.ndarray, labels: np.ndarray, risk: str = "zero_one") -> float:
  """The mean risk ``(1/n) sum_i r(y~_i, y_i)``.

  Args:
    predictions: ``(n,)`` predicted labels or values, or ``(n, K)`` class scores /
      probabilities (argmax for ``zero_one``, probabilities for the others).
    labels: ``(n,)`` true labels (integers for classification) or values.
    risk: a key of :data:`RISKS`.

  Example: ``score([0, 1, 1], [0, 1, 0]) == 1/3``.
  """
  if risk not in RISKS:
    raise unknown_name("risk", risk, RISKS)
  predictions, labels = np.asarray(predictions), np.asarray(labels)
  if len(predictions) != len(labels) or len(labels) == 0:
    raise JaxnetsError(f"{len(predictions)} predictions for {len(labels)} labels; "
                       "give one prediction per example")
  return float(np.mean(RISKS[risk](predictions, labels)))
