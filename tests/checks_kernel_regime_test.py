"""Every kernel-regime check at quick size (well formed, every comparison evaluated), and the
spectral utilities the checks rely on."""

from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.checks import kernel_regime
from jaxnets.errors import JaxnetsError
from tests.check_contract import assert_well_formed
from theory import spectra

CHECKS = kernel_regime.CHECKS


def test_registry_lists_every_check_of_the_issue():
  assert set(kernel_regime.CHECKS) == {
      "ntk_width_convergence", "ntk_sphere_diagonal", "ntk_init_fluctuations",
      "lazy_training_width", "lazy_training_alpha", "mup_feature_learning",
      "ntk_sphere_spectrum", "spectral_bias", "ntk_prediction_real_data",
      "conv_kernel_pooling"}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_check_at_quick_size_is_well_formed(name, tmp_path):
  assert_well_formed(name, CHECKS[name], tmp_path)


def test_sphere_eigenvalues_of_polynomial_kernels():
  # kappa(t) = t on S^{d-1}: eigenfunctions x_i with E[x_i^2] = 1/d, so mu_1 = 1/d, others 0.
  # kappa(t) = t^2: mu_0 = E[t^2] = 1/d and sum_k N(d, k) mu_k = kappa(1) = 1 (Mercer trace).
  for d in (2, 3, 5):
    mu = spectra.sphere_eigenvalues(lambda t: t, d, 4)
    np.testing.assert_allclose(mu, [0, 1 / d, 0, 0, 0], atol=1e-13)
    mu2 = spectra.sphere_eigenvalues(lambda t: t ** 2, d, 4)
    assert mu2[0] == pytest.approx(1 / d, abs=1e-13)
    trace = sum(spectra.harmonic_multiplicity(d, k) * mu2[k] for k in range(5))
    assert trace == pytest.approx(1.0, abs=1e-12)


def test_harmonic_multiplicities():
  # circle: 1, 2, 2, ...; S^2: 2k + 1; S^3: (k + 1)^2
  assert [spectra.harmonic_multiplicity(2, k) for k in range(4)] == [1, 2, 2, 2]
  assert [spectra.harmonic_multiplicity(3, k) for k in range(4)] == [1, 3, 5, 7]
  assert [spectra.harmonic_multiplicity(4, k) for k in range(4)] == [1, 4, 9, 16]
  with pytest.raises(JaxnetsError, match="dimension"):
    spectra.harmonic_multiplicity(1, 2)


def test_circulant_eigenvalues_match_dense_eigendecomposition():
  n = 16
  phi = 2 * math.pi * np.arange(n) / n
  k = np.exp(np.cos(phi[:, None] - phi[None, :]))  # a dot-product kernel on the circle
  np.testing.assert_allclose(np.sort(spectra.circulant_eigenvalues(k[0])),
                             np.linalg.eigvalsh(k), rtol=1e-10, atol=1e-12)


def test_sphere_eigenvalues_reject_too_few_nodes():
  with pytest.raises(JaxnetsError, match="num_nodes"):
    spectra.sphere_eigenvalues(lambda t: t, 3, k_max=100, num_nodes=64)
