"""Summaries of attacks on a test set: robust accuracy and median rho on one footing.

Every summary counts an input the model already misclassifies as not robust (foolbox's
convention: an attack "succeeds" there with ``r = 0``), so robust accuracy is
``1 - mean(success)`` and never exceeds the clean accuracy. The median perturbation ratio is
taken over the *clean-correct* inputs, an unsuccessful attack counting as ``rho = inf``: a
median that ignored failures would reward an attack for giving up on the hard examples.
"""

from __future__ import annotations

import numpy as np


def robust_accuracy(success) -> float:
  """``1 - mean(success)``: the fraction of inputs the attack did not fool."""
  return float(1.0 - np.mean(np.asarray(success, bool)))


def median_rho(success, rho, clean_correct) -> float:
  """Median of ``rho`` over clean-correct inputs, ``inf`` where the attack failed."""
  success, rho = np.asarray(success, bool), np.asarray(rho, np.float64)
  keep = np.asarray(clean_correct, bool)
  if not keep.any():
    return float("nan")
  return float(np.median(np.where(success, rho, np.inf)[keep]))


def accuracy_at_l2(success, l2, radii) -> list[float]:
  """Robust accuracy at each L2 radius from a minimal-perturbation attack's norms: an input
  is robust at ``eps`` if the attack failed or needed ``||r||_2 > eps``."""
  success, l2 = np.asarray(success, bool), np.asarray(l2, np.float64)
  return [float(np.mean(~success | (l2 > eps))) for eps in radii]
