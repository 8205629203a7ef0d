"""Kernel density estimation and its curse of dimensionality, in closed form and by sampling.

* The Gaussian kernel density estimate ``f_h(x) = (1/n) sum_i N(x; x_i, diag(h^2))`` and its
  bandwidth rules: Silverman's and Scott's rules of thumb (Silverman 1986, eq. 4.14 and 4.15;
  Scott 1992, sec. 6.3.1) and likelihood cross-validation (leave-one-out log-likelihood,
  Silverman 1986 sec. 3.4.4).
* For the standard normal target ``N(0, I_d)`` and the kernel ``N(0, h^2 I_d)`` every moment of
  ``f_h(0)`` is a Gaussian integral, so its mean squared error at 0 is exact
  (:func:`kde_mse_at_zero`). Minimising it over h and solving for n gives the sample size at
  which the relative MSE at 0 falls below 0.1: Silverman 1986, Table 4.2
  (:func:`silverman_sample_size`), 4 points in d = 1 and 842,000 in d = 10.
* The asymptotic rate: with the MSE-optimal bandwidth ``h ~ n^(-1/(d+4))`` the MSE falls as
  ``n^(-4/(d+4))`` (Silverman 1986, sec. 4.3.1). :func:`kde_rate_design` is the regression
  design of the rate with its two first-order corrections, :func:`sample_kde_at_zero` the
  Monte-Carlo estimate the design is fitted to.

Functions of arrays are jitted JAX; the closed forms are plain floats.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from jaxnets.errors import JaxnetsError


def _check_data(data: jax.Array | np.ndarray, name: str = "data") -> np.ndarray:
  """``data`` as a finite ``(n, d)`` array, or a one-line error saying what is wrong."""
  data = np.asarray(data)
  if data.ndim == 1:
    data = data[:, None]
  if data.ndim != 2 or data.shape[0] < 2:
    raise JaxnetsError(f"{name} must be an (n, d) array with n >= 2 points, got shape "
                       f"{data.shape}")
  if not np.all(np.isfinite(data)):
    bad = int(np.sum(~np.all(np.isfinite(data), axis=1)))
    raise JaxnetsError(f"{name} has {bad} rows with NaN or infinite values; drop or impute them "
                       "before estimating a density")
  return data


def _check_bandwidth(bandwidth, d: int) -> np.ndarray:
  h = np.broadcast_to(np.asarray(bandwidth, np.float64), (d,)) if np.ndim(bandwidth) == 0 \
      else np.asarray(bandwidth, np.float64)
  if h.shape != (d,):
    raise JaxnetsError(f"bandwidth must be a scalar or have one entry per dimension ({d}), "
                       f"got shape {h.shape}")
  if not np.all(np.isfinite(h)) or np.any(h <= 0):
    raise JaxnetsError(f"bandwidth must be positive and finite, got {h.tolist()[:4]}; use a "
                       "rule (silverman_bandwidth, scott_bandwidth) or cross-validation")
  return h


# --- the estimate and its bandwidths -------------------------------------------------------

@jax.jit
def _kde_log_density(x: jax.Array, data: jax.Array, h: jax.Array) -> jax.Array:
  d = data.shape[1]
  z = (x[:, None, :] - data[None, :, :]) / h
  log_kernel = -0.5 * jnp.sum(z * z, axis=-1) - jnp.sum(jnp.log(h)) - 0.5 * d * math.log(
      2 * math.pi)
  return jax.nn.logsumexp(log_kernel, axis=1) - jnp.log(data.shape[0])


def kde_log_density(x: jax.Array, data: jax.Array, bandwidth) -> jax.Array:
  """``log f_h(x)`` of the Gaussian KDE of ``data`` ``(n, d)`` at the points ``x`` ``(m, d)``.

  ``bandwidth`` is a scalar h or a ``(d,)`` vector (the kernel is ``N(0, diag(h^2))``).
  Returns ``(m,)`` log-densities, computed with a log-sum-exp (no underflow in high d).
  Points are processed in blocks of 1024 to keep the ``(m, n)`` kernel matrix small.
  """
  data = _check_data(data)
  x = np.atleast_2d(np.asarray(x))
  if x.ndim != 2 or x.shape[1] != data.shape[1]:
    raise JaxnetsError(f"x must be (m, {data.shape[1]}) to match the data, got {x.shape}")
  if not np.all(np.isfinite(x)):
    raise JaxnetsError("x has NaN or infinite values")
  h = jnp.asarray(_check_bandwidth(bandwidth, data.shape[1]), jnp.float32)
  data = jnp.asarray(data, jnp.float32)
  blocks = [_kde_log_density(jnp.asarray(x[i:i + 1024], jnp.float32), data, h)
            for i in range(0, len(x), 1024)]
  return jnp.concatenate(blocks)


def silverman_bandwidth(data: jax.Array) -> np.ndarray:
  """``h_j = (4 / (n (d + 2)))^(1/(d+4)) sigma_j``: ``(d,)`` (Silverman 1986, eq. 4.14).

  The AMISE-optimal bandwidth of a Gaussian kernel when the target is Gaussian with the
  data's marginal standard deviations ``sigma_j``.
  """
  data = _check_data(data)
  n, d = data.shape
  return (4.0 / (n * (d + 2))) ** (1.0 / (d + 4)) * data.std(axis=0, ddof=1)


def scott_bandwidth(data: jax.Array) -> np.ndarray:
  """``h_j = n^(-1/(d+4)) sigma_j``: ``(d,)`` (Scott 1992, sec. 6.3.1, eq. 6.42)."""
  data = _check_data(data)
  n, d = data.shape
  return n ** (-1.0 / (d + 4)) * data.std(axis=0, ddof=1)


@jax.jit
def _leave_one_out_log_likelihood(data: jax.Array, h: jax.Array) -> jax.Array:
  n, d = data.shape
  z = (data[:, None, :] - data[None, :, :]) / h
  log_kernel = -0.5 * jnp.sum(z * z, axis=-1) - jnp.sum(jnp.log(h)) - 0.5 * d * math.log(
      2 * math.pi)
  log_kernel = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, log_kernel)
  return jnp.mean(jax.nn.logsumexp(log_kernel, axis=1) - jnp.log(n - 1))


def leave_one_out_log_likelihood(data: jax.Array, bandwidth) -> float:
  """``(1/n) sum_i log f_{h,-i}(x_i)``: the mean leave-one-out log-likelihood of the KDE."""
  data = _check_data(data)
  h = _check_bandwidth(bandwidth, data.shape[1])
  return float(_leave_one_out_log_likelihood(jnp.asarray(data, jnp.float32),
                                             jnp.asarray(h, jnp.float32)))


def cross_validated_bandwidth(data: jax.Array, factors=None) -> np.ndarray:
  """The bandwidth ``c * sigma_j`` maximising the leave-one-out log-likelihood over ``c``.

  Likelihood cross-validation (Silverman 1986, sec. 3.4.4): ``c`` ranges over ``factors``
  (default: 41 values, log-spaced from 1/8 to 4 times Scott's factor ``n^(-1/(d+4))``). At most
  4000 points enter the criterion (a random-free prefix), since it costs ``O(n^2 d)``.

  Returns the ``(d,)`` bandwidth.
  """
  data = _check_data(data)
  n, d = data.shape
  sigma = data.std(axis=0, ddof=1)
  if factors is None:
    factors = n ** (-1.0 / (d + 4)) * np.geomspace(1 / 8, 4, 41)
  subset = jnp.asarray(data[:4000], jnp.float32)
  scores = [float(_leave_one_out_log_likelihood(subset, jnp.asarray(c * sigma, jnp.float32)))
            for c in factors]
  return float(factors[int(np.nanargmax(scores))]) * sigma


# --- the exact MSE at 0 for a standard normal target ---------------------------------------

def kde_mse_at_zero(n: int, h: float, d: int) -> tuple[float, float]:
  """``(bias^2, variance)`` of ``f_h(0)`` for n draws of ``N(0, I_d)``, kernel ``N(0, h^2 I_d)``.

  With ``phi_s`` the density of ``N(0, s^2 I_d)``: ``E f_h(0) = phi_sqrt(1+h^2)(0)``, and
  ``E K_h(X)^2 = (4 pi h^2)^(-d/2) phi_sqrt(1+h^2/2)(0)`` because ``K_h^2 = (4 pi h^2)^(-d/2)
  phi_(h/sqrt 2)``. Then ``var = (E K^2 - (E K)^2) / n``; both terms are exact.
  """
  f0 = (2 * math.pi) ** (-d / 2)
  mean = (2 * math.pi * (1 + h * h)) ** (-d / 2)
  second = (4 * math.pi * h * h) ** (-d / 2) * (2 * math.pi * (1 + h * h / 2)) ** (-d / 2)
  return (mean - f0) ** 2, (second - mean * mean) / n


def relative_mse_at_zero(n: int, h: float, d: int) -> float:
  """``MSE(f_h(0)) / f(0)^2`` for the standard normal target (see :func:`kde_mse_at_zero`)."""
  bias2, var = kde_mse_at_zero(n, h, d)
  return (bias2 + var) / (2 * math.pi) ** (-d)


@functools.lru_cache(maxsize=4096)
def optimal_bandwidth_at_zero(n: int, d: int) -> tuple[float, float]:
  """``(h*, relative MSE at h*)``: the bandwidth minimising the exact MSE of ``f_h(0)``.

  A bounded scalar minimisation of ``log relative_mse_at_zero`` over ``log h`` in
  ``[-10, 3]`` (the MSE is unimodal in h: variance falls and squared bias rises with h).
  """
  result = scipy.optimize.minimize_scalar(
      lambda log_h: math.log(relative_mse_at_zero(n, math.exp(log_h), d)),
      bounds=(-10.0, 3.0), method="bounded", options={"xatol": 1e-10})
  return math.exp(result.x), math.exp(result.fun)


def silverman_sample_size(d: int, relative_mse: float = 0.1) -> int:
  """The least n with ``min_h MSE(f_h(0)) / f(0)^2 < relative_mse`` (Silverman 1986, Table 4.2).

  The minimised relative MSE decreases in n, so a bisection over integers finds it exactly.
  """
  if d < 1:
    raise JaxnetsError(f"dimension must be >= 1, got {d}")
  lo, hi = 1, 2
  while optimal_bandwidth_at_zero(hi, d)[1] >= relative_mse:
    lo, hi = hi, hi * 2
  while hi - lo > 1:
    mid = (lo + hi) // 2
    if optimal_bandwidth_at_zero(mid, d)[1] < relative_mse:
      hi = mid
    else:
      lo = mid
  return hi


def round_significant(x: float, digits: int = 3) -> int:
  """``x`` rounded to ``digits`` significant figures, as Silverman's table prints large n."""
  if x == 0:
    return 0
  return int(round(x, digits - 1 - int(math.floor(math.log10(abs(x))))))


# --- the rate, by sampling -----------------------------------------------------------------

_BLOCK = 1 << 22  # normal draws per compiled call: one program for every n and d


@jax.jit
def _normal_block(key: jax.Array) -> jax.Array:
  return jax.random.normal(key, (_BLOCK,))


def sample_kde_at_zero(key: jax.Array, n: int, h: float, d: int,
                       replicates: int) -> np.ndarray:
  """``(replicates,)`` independent values of ``f_h(0)``, each from n fresh ``N(0, I_d)`` draws.

  ``f_h(0) = (2 pi h^2)^(-d/2) (1/n) sum_i exp(-|x_i|^2 / (2 h^2))``. The normals come in
  fixed-size blocks (one compiled sampler for every n and d; JAX's chi-square sampler, which
  would need d times fewer numbers, is ~80x slower per number on CPU).
  """
  total = int(n) * int(replicates) * int(d)
  keys = jax.random.split(key, -(-total // _BLOCK))
  x = np.concatenate([np.asarray(_normal_block(k)) for k in keys])[:total]
  r2 = np.sum(np.square(x.reshape(replicates * n, d), dtype=np.float64), axis=1)
  kernel = np.exp(-r2.reshape(replicates, n) / (2 * h * h))
  return kernel.mean(axis=1) * (2 * math.pi * h * h) ** (-d / 2)


def kde_rate_design(n: np.ndarray, d: int) -> np.ndarray:
  """The regression design ``[1, log n, n^(-min(d, 2)/(d+4))]`` of ``log MSE(n)``: ``(len(n), 3)``.

  With the MSE-optimal ``h ~ n^(-1/(d+4))``, ``MSE = C n^(-4/(d+4)) (1 + a h^2 + b h^d + ...)``
  (from :func:`kde_mse_at_zero`): the ``h^2`` term is the next order of the bias's Taylor
  expansion, the ``h^d`` term the ``-(E K)^2 / n`` part of the variance. The larger of the two,
  ``h^min(d, 2)``, enters the design; without it the log-log slope over n = 10^2..10^5 is off
  the asymptotic exponent by 0.03-0.08, with it by at most 0.02 (:func:`kde_rate_design_bias`).
  """
  n = np.asarray(n, np.float64)
  return np.stack([np.ones_like(n), np.log(n), n ** (-min(d, 2) / (d + 4.0))], axis=1)


def kde_rate_design_bias(ns: np.ndarray, d: int) -> float:
  """The design's own error: its ``log n`` coefficient fitted to the exact MSE, minus the exponent.

  What the truncated expansion of :func:`kde_rate_design` costs over ``ns`` when there is no
  sampling noise at all (exact MSE at the optimal bandwidth).
  """
  exact = [sum(kde_mse_at_zero(int(n), optimal_bandwidth_at_zero(int(n), d)[0], d)) for n in ns]
  coef = np.linalg.lstsq(kde_rate_design(ns, d), np.log(exact), rcond=None)[0]
  return float(coef[1] + 4.0 / (d + 4))
