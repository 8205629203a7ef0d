r"""Mercer spectra of dot-product kernels on the sphere, and of kernels on equispaced circles.

A kernel ``k(x, x') = kappa(<x, x'>)`` on the unit sphere ``S^{d-1}`` in ``R^d`` is diagonal in
spherical harmonics: by the Funk-Hecke formula every harmonic of degree ``k`` is an
eigenfunction (uniform probability measure on the sphere) with eigenvalue

    mu_k = (omega_{d-2} / omega_{d-1}) int_{-1}^{1} kappa(t) P_k(t) (1 - t^2)^{(d-3)/2} dt,

``P_k`` the Legendre (Gegenbauer) polynomial of degree ``k`` in dimension ``d`` normalised to
``P_k(1) = 1`` and ``omega_{m}`` the surface area of ``S^m`` (Smola, Ovari & Williamson 2001;
Bietti & Mairal 2019, "On the Inductive Bias of Neural Tangent Kernels", sec. 3). Each ``mu_k``
has multiplicity ``N(d, k)``.

We integrate in the angle, ``t = cos(theta)``: NTK and arc-cosine kernels are smooth functions
of ``theta`` although not of ``t`` at ``t = +-1``, so Gauss-Legendre quadrature in ``theta``
converges fast and the tiny eigenvalues of high degree stay accurate in float64.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from scipy import special

from jaxnets.errors import JaxnetsError


def harmonic_multiplicity(d: int, k: int) -> int:
  """``N(d, k)``: the dimension of the degree-``k`` spherical harmonics on ``S^{d-1}``."""
  _check_dim(d)
  if k == 0:
    return 1
  return round((2 * k + d - 2) / k * math.comb(k + d - 3, d - 2))


def legendre(k: int, d: int, t: np.ndarray) -> np.ndarray:
  """``P_k(t)`` in dimension ``d``, normalised so that ``P_k(1) = 1``.

  ``d = 2`` gives Chebyshev ``cos(k arccos t)``; ``d = 3`` the classical Legendre polynomials;
  in general ``C_k^{(d-2)/2}(t) / C_k^{(d-2)/2}(1)`` (Gegenbauer).
  """
  _check_dim(d)
  t = np.asarray(t, dtype=np.float64)
  if d == 2:
    return special.eval_chebyt(k, t)
  alpha = (d - 2) / 2
  return special.eval_gegenbauer(k, alpha, t) / special.eval_gegenbauer(k, alpha, 1.0)


def sphere_eigenvalues(kappa: Callable[[np.ndarray], np.ndarray], d: int, k_max: int,
                       num_nodes: int = 512) -> np.ndarray:
  r"""Eigenvalues ``mu_0 .. mu_{k_max}`` of ``kappa(<x, x'>)`` on ``S^{d-1}`` (Funk-Hecke).

  Args:
    kappa: the kernel as a function of the cosine ``t`` (vectorised over an array of ``t``).
    d: ambient dimension (the sphere is ``S^{d-1}``), ``d >= 2``.
    k_max: highest degree.
    num_nodes: Gauss-Legendre nodes in ``theta in [0, pi]``; the integrand has degree ``k`` in
      ``cos(theta)``, so ``num_nodes`` well above ``k_max`` is needed.

  Returns:
    ``(k_max + 1,)`` eigenvalues with respect to the uniform probability measure.
  """
  _check_dim(d)
  if num_nodes < 2 * k_max + 16:
    raise JaxnetsError(f"num_nodes={num_nodes} is too few for degree {k_max}; use at least "
                       f"{2 * k_max + 16}")
  nodes, weights = special.roots_legendre(num_nodes)  # O(n) per node; numpy's is O(n^3)
  theta = (nodes + 1) * math.pi / 2
  weights = weights * math.pi / 2 * np.sin(theta) ** (d - 2)
  t = np.cos(theta)
  values = np.asarray(kappa(t), dtype=np.float64)
  # omega_{d-2} / omega_{d-1} with omega_m = 2 pi^{(m+1)/2} / Gamma((m+1)/2)
  ratio = math.exp(special.gammaln(d / 2) - special.gammaln((d - 1) / 2)) / math.sqrt(math.pi)
  return np.array([ratio * np.sum(weights * values * legendre(k, d, t))
                   for k in range(k_max + 1)])


def circulant_eigenvalues(first_row: np.ndarray) -> np.ndarray:
  """Eigenvalues of a symmetric circulant matrix (a kernel on ``N`` equispaced circle points).

  The eigenvector of frequency ``k`` is ``cos(2 pi k i / N)`` (and ``sin``), with eigenvalue
  ``sum_j K_0j cos(2 pi k j / N)``: the real DFT of the first row. Returns ``(N,)``.
  """
  return np.real(np.fft.fft(np.asarray(first_row, dtype=np.float64)))


def _check_dim(d: int) -> None:
  if int(d) != d or d < 2:
    raise JaxnetsError(f"sphere dimension d must be an integer >= 2, got {d!r}")
