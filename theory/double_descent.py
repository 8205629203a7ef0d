r"""Double descent of minimum-norm interpolators: exact asymptotics and random-features models.

The test risk of least squares fit with the minimum-norm solution rises to a peak where the
number of parameters equals the number of samples (the fit must interpolate with a badly
conditioned design) and falls again beyond it (Belkin, Hsu, Ma & Mandal 2019, "Reconciling
modern machine-learning practice and the classical bias-variance trade-off", PNAS). For
isotropic Gaussian features the curve is known exactly (Hastie, Montanari, Rosset & Tibshirani
2019/2022, "Surprises in high-dimensional ridgeless least squares interpolation"; HMRT).

Linear algebra runs in float64 (``theory.least_squares``, the project's one solver, with float64
inputs): near the interpolation threshold the design is so badly conditioned that float32
would measure rounding, not the estimator.
"""

from __future__ import annotations

import numpy as np

from jaxnets.errors import JaxnetsError
from theory import random_features as rf
from theory.least_squares import least_squares


def min_norm_risk_isotropic(gamma: np.ndarray | float, snr_signal: float = 1.0,
                            noise_var: float = 1.0) -> np.ndarray:
  r"""Limiting excess risk of min-norm least squares with isotropic features (HMRT, Thm. 1).

  Model: ``x ~ N(0, I_p)``, ``y = x^T beta + eps``, ``||beta||^2 = r^2`` (``snr_signal``),
  ``Var eps = sigma^2`` (``noise_var``), ``p / n -> gamma``. The excess risk
  ``E[(x^T (beta_hat - beta))^2 | X] = ||beta_hat - beta||^2`` converges almost surely to

      gamma < 1:   sigma^2 gamma / (1 - gamma)                   (variance only),
      gamma > 1:   r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)      (bias + variance),

  and is infinite at ``gamma = 1``. Add ``sigma^2`` for the prediction error on noisy labels.

  Args:
    gamma: ratio(s) ``p / n``, any shape.
  Returns:
    The risk, same shape as ``gamma`` (``inf`` at 1).
  """
  gamma = np.asarray(gamma, dtype=np.float64)
  if np.any(gamma <= 0):
    raise JaxnetsError("gamma = p / n must be positive")
  with np.errstate(divide="ignore", invalid="ignore"):
    under = noise_var * gamma / (1 - gamma)
    over = snr_signal * (1 - 1 / gamma) + noise_var / (gamma - 1)
  return np.where(gamma < 1, under, np.where(gamma > 1, over, np.inf))


def measured_min_norm_risk(n: int, p: int, rng: np.random.Generator, snr_signal: float = 1.0,
                           noise_var: float = 1.0) -> float:
  """One draw of ``||beta_hat - beta||^2`` for the HMRT model with ``n`` samples, ``p`` features
  (``beta`` uniform on the sphere of radius ``sqrt(snr_signal)``)."""
  beta = rng.standard_normal(p)
  beta *= np.sqrt(snr_signal) / np.linalg.norm(beta)
  x = rng.standard_normal((n, p))
  y = x @ beta + np.sqrt(noise_var) * rng.standard_normal(n)
  return float(np.sum((least_squares(x, y) - beta) ** 2))


def random_relu_features(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
  r"""Random ReLU features ``phi(x) = relu(x W / sqrt(d)) / sqrt(N)``.

  ``x``: ``(n, d)``; ``weights``: ``(d, N)`` fixed, typically ``N(0, 1)`` (Rahimi & Recht 2007;
  the random-features model of Mei & Montanari 2019). Returns ``(n, N)``.
  """
  x = np.asarray(x, dtype=np.float64).reshape(np.asarray(x).shape[0], -1)
  w = np.asarray(weights, dtype=np.float64)
  scaled = {"w": w / np.sqrt(x.shape[1]), "b": np.zeros(w.shape[1])}
  return rf.random_features(x, scaled, lambda z: np.maximum(z, 0.0), 1 / np.sqrt(w.shape[1]))


def random_features_fit(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                        num_features: int, rng: np.random.Generator) -> np.ndarray:
  """Min-norm least squares on ``num_features`` random ReLU features; returns test predictions
  (same trailing shape as ``y_train``)."""
  w = rng.standard_normal((np.asarray(x_train).reshape(len(x_train), -1).shape[1], num_features))
  beta = np.asarray(least_squares(random_relu_features(x_train, w), y_train))
  return random_relu_features(x_test, w) @ beta
