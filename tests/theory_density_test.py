"""theory.density: the KDE against a direct sum, the exact MSE against sampling, Silverman's table."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from theory import density as D


def test_kde_log_density_equals_the_direct_sum():
  rng = np.random.default_rng(0)
  data, x = rng.normal(size=(50, 3)), rng.normal(size=(7, 3))
  h = np.array([0.3, 0.5, 0.8])
  z = (x[:, None, :] - data[None]) / h
  direct = np.log(np.mean(np.exp(-0.5 * np.sum(z * z, -1)), axis=1) / np.prod(h)
                  / (2 * math.pi) ** 1.5)
  np.testing.assert_allclose(np.asarray(D.kde_log_density(x, data, h)), direct, rtol=1e-5)


def test_bandwidth_rules():
  data = np.random.default_rng(1).normal(size=(1000, 2)) * np.array([1.0, 3.0])
  sigma = data.std(axis=0, ddof=1)
  np.testing.assert_allclose(D.scott_bandwidth(data), 1000 ** (-1 / 6) * sigma)
  np.testing.assert_allclose(D.silverman_bandwidth(data), (4 / (1000 * 4)) ** (1 / 6) * sigma)


def test_cross_validation_prefers_a_bandwidth_near_the_optimum():
  # For N(0, 1) and n = 500 the MISE-optimal h is (4/3)^(1/5) n^(-1/5) = 0.30 (Silverman
  # 1986 eq. 3.28); likelihood CV's choice is noisy but within a factor 2 of it.
  data = np.random.default_rng(2).normal(size=(500, 1))
  h = D.cross_validated_bandwidth(data)[0]
  assert 0.15 < h < 0.6


def test_exact_mse_at_zero_agrees_with_sampling():
  n, d, reps = 200, 2, 4000
  h = D.optimal_bandwidth_at_zero(n, d)[0]
  values = D.sample_kde_at_zero(jax.random.key(0), n, h, d, reps)
  bias2, var = D.kde_mse_at_zero(n, h, d)
  f0 = (2 * math.pi) ** (-d / 2)
  # mean and variance of the replicates against the closed form, 4 standard errors
  assert abs(values.mean() - (f0 - math.sqrt(bias2))) < 4 * math.sqrt(var / reps)
  assert abs(values.var(ddof=1) / var - 1) < 4 * math.sqrt(2 / reps)


@pytest.mark.parametrize("d,n", [(1, 4), (2, 19), (3, 67), (4, 223), (5, 768)])
def test_silverman_table_4_2_exact_entries(d, n):
  assert D.silverman_sample_size(d) == n


def test_rate_design_recovers_the_exponent_on_the_exact_curve():
  ns = np.unique(np.round(np.geomspace(100, 100_000, 10)))
  for d in (1, 3, 5):
    assert abs(D.kde_rate_design_bias(ns, d)) < 0.02


@pytest.mark.parametrize("bad", [0.0, -0.5, float("nan")])
def test_bandwidth_must_be_positive(bad):
  with pytest.raises(JaxnetsError, match="bandwidth must be positive"):
    D.kde_log_density(np.zeros((3, 2)), np.ones((4, 2)), bad)


def test_non_finite_data_is_refused():
  data = np.ones((5, 2))
  data[2, 0] = np.inf
  with pytest.raises(JaxnetsError, match="NaN or infinite"):
    D.cross_validated_bandwidth(data)
  with pytest.raises(JaxnetsError, match="to match the data"):
    D.kde_log_density(np.zeros((3, 3)), np.ones((4, 2)), 1.0)
