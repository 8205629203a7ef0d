"""Power-law rates: fit ``y ~ C x^alpha`` by least squares in log-log with confidence intervals.

Every approximation or estimation theorem of ``theory.approximation`` and
``theory.dimensionality`` predicts an exponent (``1/m`` for Barron/Maurey, ``n^{-2s/(2s+d)}``
for Stone's nonparametric rate, ``d^{-1/2}`` for distance concentration). ``fit_power_law``
turns a sweep into an exponent with a Student-t confidence interval, so a check can say whether
the prediction lies inside it; ``bootstrap_power_law`` does the same for the mean of random
draws (expectations of heavy-tailed errors); ``fit_rate_constant`` fits C at a given exponent.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import ArrayLike
import scipy.stats

from jaxnets.errors import JaxnetsError


@dataclasses.dataclass(frozen=True)
class PowerLawFit:
  """``y ~ constant * x^exponent`` fitted in log-log.

  Attributes:
    exponent: the log-log slope alpha.
    exponent_ci: ``(low, high)`` confidence interval of alpha.
    constant: ``C = exp(intercept)``.
    constant_ci: ``(low, high)`` interval of C (from the intercept's interval).
    confidence: the level of both intervals, e.g. 0.95.
    residual_std: standard deviation of the log residuals (the scatter around the line).
    num_points: number of (x, y) pairs used.
  """

  exponent: float
  exponent_ci: tuple[float, float]
  constant: float
  constant_ci: tuple[float, float]
  confidence: float
  residual_std: float
  num_points: int

  def contains(self, exponent: float) -> bool:
    """Whether ``exponent`` lies in the confidence interval of the slope."""
    return self.exponent_ci[0] <= exponent <= self.exponent_ci[1]

  def __str__(self) -> str:
    lo, hi = self.exponent_ci
    return f"{self.exponent:.3f} [{lo:.3f}, {hi:.3f}]"

  def as_dict(self) -> dict:
    return dataclasses.asdict(self)


def fit_power_law(x: ArrayLike, y: ArrayLike, confidence: float = 0.95) -> PowerLawFit:
  """Ordinary least squares of ``log y = log C + alpha log x`` with t-intervals.

  ``y`` may be ``(n,)`` or ``(n, r)`` (r replicates per x, e.g. seeds): every replicate is a
  point of the regression, so the interval reflects seed-to-seed scatter as well as curvature.
  The interval is ``alpha_hat +- t_{(1+confidence)/2, N-2} * se(alpha_hat)`` with
  ``se^2 = s^2 / sum (log x_i - mean)^2`` (any regression textbook, e.g. Weisberg, *Applied
  Linear Regression*, sec. 2.6). It is exact for log-normal noise of constant variance.

  Args:
    x: ``(n,)`` positive abscissae (widths, sample sizes, dimensions).
    y: ``(n,)`` or ``(n, r)`` positive values (errors).
    confidence: level of the intervals, in (0, 1).

  Returns:
    A ``PowerLawFit``.

  Example:
    >>> fit = fit_power_law([1, 2, 4, 8], [1.0, 0.5, 0.25, 0.125])
    >>> round(fit.exponent, 6)
    -1.0
  """
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  if x.ndim != 1 or y.shape[0] != x.shape[0] or y.ndim not in (1, 2):
    raise JaxnetsError(f"fit_power_law needs x of shape (n,) and y of shape (n,) or (n, r); "
                       f"got {x.shape} and {y.shape}")
  if not 0 < confidence < 1:
    raise JaxnetsError(f"confidence must be in (0, 1), got {confidence}")
  xs = np.broadcast_to(x[:, None], y.shape).ravel() if y.ndim == 2 else x
  ys = y.ravel()
  if np.any(~np.isfinite(ys)) or np.any(ys <= 0) or np.any(xs <= 0):
    raise JaxnetsError("fit_power_law needs finite positive x and y (it fits in log-log); "
                       "drop zero or non-finite errors first")
  if len(np.unique(xs)) < 2 or len(xs) < 3:
    raise JaxnetsError(f"fit_power_law needs at least 3 points at 2 distinct x, got "
                       f"{len(xs)} points at {len(np.unique(xs))} x")
  lx, ly = np.log(xs), np.log(ys)
  n = len(lx)
  mx = lx.mean()
  sxx = ((lx - mx) ** 2).sum()
  slope = ((lx - mx) * (ly - ly.mean())).sum() / sxx
  intercept = ly.mean() - slope * mx
  resid = ly - intercept - slope * lx
  s2 = (resid ** 2).sum() / max(n - 2, 1)
  t = scipy.stats.t.ppf(0.5 + confidence / 2, max(n - 2, 1))
  se_slope = math.sqrt(s2 / sxx)
  se_intercept = math.sqrt(s2 * (1.0 / n + mx ** 2 / sxx))
  return PowerLawFit(
      exponent=float(slope),
      exponent_ci=(float(slope - t * se_slope), float(slope + t * se_slope)),
      constant=float(math.exp(intercept)),
      constant_ci=(float(math.exp(intercept - t * se_intercept)),
                   float(math.exp(intercept + t * se_intercept))),
      confidence=confidence,
      residual_std=float(math.sqrt(s2)),
      num_points=n)


def fit_rate_constant(x: ArrayLike, y: ArrayLike, exponent: float,
                      confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
  """The constant ``C`` of ``y = C x^exponent`` at a *given* exponent, with a t-interval.

  ``log C`` is estimated as the mean of ``log y_i - exponent * log x_i``; this is how a check
  compares constants across dimensions once the exponent is fixed by theory (Barron's
  ``C^2 / m``).

  Returns:
    ``(C, (low, high))``.
  """
  x = np.asarray(x, np.float64)
  y = np.asarray(y, np.float64)
  xs = np.broadcast_to(x[:, None], y.shape).ravel() if y.ndim == 2 else x
  ys = y.ravel()
  if np.any(ys <= 0) or np.any(xs <= 0) or len(ys) < 2:
    raise JaxnetsError("fit_rate_constant needs at least 2 positive (x, y) pairs")
  logc = np.log(ys) - exponent * np.log(xs)
  t = scipy.stats.t.ppf(0.5 + confidence / 2, len(logc) - 1)
  half = t * logc.std(ddof=1) / math.sqrt(len(logc))
  return float(np.exp(logc.mean())), (float(np.exp(logc.mean() - half)),
                                      float(np.exp(logc.mean() + half)))


def bootstrap_power_law(x: ArrayLike, draws: ArrayLike, confidence: float = 0.95,
                        num_resamples: int = 2000, seed: int = 0) -> PowerLawFit:
  """Power law of the *mean* of random draws, ``E y(x) ~ C x^alpha``, with bootstrap intervals.

  For each x the draws (e.g. errors of independent random approximations) are averaged and
  ``log mean`` is regressed on ``log x``. The intervals are percentile-bootstrap intervals over
  resampling the draws of every x with replacement (Efron & Tibshirani 1993, ch. 13): right
  when the theorem is about an expectation and single draws are heavy-tailed, where regressing
  the log of every draw would fit ``E log y`` instead of ``log E y``.

  Args:
    x: ``(n,)`` positive abscissae.
    draws: ``(n, r)`` positive draws per x.
    confidence: level of the intervals.
    num_resamples: bootstrap resamples.
    seed: seed of the resampling (NumPy ``default_rng``; no global state).

  Returns:
    A ``PowerLawFit`` whose point estimates use the full sample and whose ``residual_std`` is
    that of the log means around the line.
  """
  x = np.asarray(x, np.float64)
  draws = np.asarray(draws, np.float64)
  if draws.ndim != 2 or draws.shape[0] != x.shape[0] or draws.shape[1] < 2:
    raise JaxnetsError(f"bootstrap_power_law needs draws of shape (n, r >= 2) for x of shape "
                       f"(n,), got {draws.shape} and {x.shape}")
  point = fit_power_law(x, draws.mean(1), confidence)
  rng = np.random.default_rng(seed)
  idx = rng.integers(0, draws.shape[1], size=(num_resamples,) + draws.shape)
  means = np.take_along_axis(draws[None], idx, axis=2).mean(2)  # (B, n)
  lx = np.log(x) - np.log(x).mean()
  ly = np.log(means)
  slopes = (ly - ly.mean(1, keepdims=True)) @ lx / (lx @ lx)
  intercepts = ly.mean(1) - slopes * np.log(x).mean()
  q = [50 * (1 - confidence), 50 * (1 + confidence)]
  lo, hi = np.percentile(slopes, q)
  clo, chi = np.exp(np.percentile(intercepts, q))
  return dataclasses.replace(point, exponent_ci=(float(lo), float(hi)),
                             constant_ci=(float(clo), float(chi)),
                             num_points=int(draws.size))
