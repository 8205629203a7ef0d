"""Segmentation metrics from a summed confusion matrix.

The evaluation step sums a confusion matrix ``C`` (``C[i, j]`` = pixels of true class i
predicted as j, see :func:`jaxnets.train.metrics.confusion_matrix`) over the whole evaluation
set; every metric here is a function of that one matrix, so it is exact over the set (not a
mean of per-batch values). With ``TP_k = C[k, k]``, ``FP_k = sum_i C[i, k] - TP_k`` and
``FN_k = sum_j C[k, j] - TP_k``:

* pixel accuracy ``= trace(C) / sum(C)``;
* ``IoU_k = TP_k / (TP_k + FP_k + FN_k)`` (Jaccard index; Everingham et al. 2010, PASCAL VOC);
* ``Dice_k = 2 TP_k / (2 TP_k + FP_k + FN_k)`` (Dice 1945; the F1 score of class k);
* mean IoU / mean Dice average over the classes present in the truth *or* the prediction: a
  class absent from both has ``0 / 0`` and is left out, not counted as 0 or 1.

The training losses for segmentation (per-pixel cross-entropy, soft Dice) are in
:mod:`jaxnets.train.losses`.
"""

from __future__ import annotations

import numpy as np


def _counts(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """``(TP, FP, FN)`` per class, each ``(K,)`` float64, of a ``(K, K)`` confusion matrix."""
  c = np.asarray(confusion, np.float64)
  if c.ndim != 2 or c.shape[0] != c.shape[1]:
    raise ValueError(f"confusion matrix must be square (K, K), got shape {c.shape}")
  tp = np.diag(c)
  return tp, c.sum(axis=0) - tp, c.sum(axis=1) - tp


def pixel_accuracy(confusion: np.ndarray) -> float:
  """Fraction of pixels whose predicted class is the true class: ``trace(C) / sum(C)``."""
  c = np.asarray(confusion, np.float64)
  total = c.sum()
  return float(np.trace(c) / total) if total else float("nan")


def class_iou(confusion: np.ndarray) -> np.ndarray:
  """Per-class IoU ``TP / (TP + FP + FN)``, ``(K,)``; NaN for a class absent from both."""
  tp, fp, fn = _counts(confusion)
  union = tp + fp + fn
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(union > 0, tp / union, np.nan)


def class_dice(confusion: np.ndarray) -> np.ndarray:
  """Per-class Dice ``2 TP / (2 TP + FP + FN)``, ``(K,)``; NaN for a class absent from both."""
  tp, fp, fn = _counts(confusion)
  denominator = 2 * tp + fp + fn
  with np.errstate(invalid="ignore", divide="ignore"):
    return np.where(denominator > 0, 2 * tp / denominator, np.nan)


def _nanmean(values: np.ndarray) -> float:
  present = values[~np.isnan(values)]
  return float(present.mean()) if present.size else float("nan")


def mean_iou(confusion: np.ndarray) -> float:
  """Mean of :func:`class_iou` over the classes present in the truth or the prediction."""
  return _nanmean(class_iou(confusion))


def mean_dice(confusion: np.ndarray) -> float:
  """Mean of :func:`class_dice` over the classes present in the truth or the prediction."""
  return _nanmean(class_dice(confusion))


def summarize_segmentation(confusion: np.ndarray) -> dict[str, float]:
  """``pixel_accuracy``, ``mean_iou``, ``mean_dice`` and ``iou_<k>`` for each class k."""
  ious = class_iou(confusion)
  summary = {"pixel_accuracy": pixel_accuracy(confusion), "mean_iou": mean_iou(confusion),
             "mean_dice": mean_dice(confusion)}
  summary.update({f"iou_{k}": float(v) for k, v in enumerate(ious)})
  return summary
