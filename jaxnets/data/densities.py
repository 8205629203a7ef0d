"""Density-estimation data with known log-densities, and dequantized digits.

* :class:`GaussianMixture` -- an isotropic Gaussian mixture: exact ``log_prob`` and ``sample``.
* 2-D targets, each a mixture so that ``log p`` is exact (what ``KL(p || q)`` needs):
  ``ring`` (8 Gaussians on a circle), ``two_moons`` (two crescents, each 16 Gaussians along a
  half circle -- scikit-learn's ``make_moons`` geometry written as a mixture) and
  ``checkerboard`` (one Gaussian per dark square of a 4 x 4 board on ``[-2, 2]^2``).
* :func:`random_mixture` -- mixtures of K Gaussians in d dimensions with well-separated means, for
  measuring how density estimates degrade with d.
* :func:`dequantized_digits` -- scikit-learn's digits (pixels 0..16) with uniform noise added,
  ``x = (k + u) / 17`` in ``[0, 1]^64``; :func:`bits_per_dim` turns a continuous log-density
  of x into a bound on the discrete data's code length (Theis, van den Oord & Bethge 2016,
  sec. 3.1).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.data import digits
from jaxnets.errors import JaxnetsError, unknown_name

DIGITS_LEVELS = 17  # scikit-learn's digits have pixel values 0..16


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
  """``p(x) = sum_k w_k N(x; mu_k, s_k^2 I)``.

  Attributes:
    means: ``(K, d)`` component means.
    stds: ``(K,)`` component standard deviations.
    weights: ``(K,)`` mixture weights (sum 1).
    name: a label for tables and figures.
  """

  means: np.ndarray
  stds: np.ndarray
  weights: np.ndarray
  name: str = "mixture"

  @property
  def dim(self) -> int:
    return int(self.means.shape[1])

  def log_prob(self, x: jax.Array) -> jax.Array:
    """``log p(x)`` of ``(n, d)`` points: ``(n,)``."""
    x = jnp.asarray(x)
    if x.ndim != 2 or x.shape[1] != self.dim:
      raise JaxnetsError(f"{self.name} is {self.dim}-dimensional: expected (n, {self.dim}) "
                         f"points, got shape {tuple(x.shape)}")
    means = jnp.asarray(self.means, x.dtype)
    stds = jnp.asarray(self.stds, x.dtype)
    sq = jnp.sum((x[:, None, :] - means[None]) ** 2, axis=-1)
    log_comp = (-0.5 * sq / stds ** 2 - self.dim * jnp.log(stds)
                - 0.5 * self.dim * math.log(2 * math.pi))
    return jax.nn.logsumexp(log_comp + jnp.log(jnp.asarray(self.weights, x.dtype)), axis=1)

  def sample(self, key: jax.Array, num: int) -> jax.Array:
    """``(num, d)`` float32 draws: a component by its weight, then a Gaussian draw."""
    comp_key, noise_key = jax.random.split(key)
    comp = jax.random.choice(comp_key, len(self.weights), (num,), p=jnp.asarray(self.weights))
    noise = jax.random.normal(noise_key, (num, self.dim))
    return (jnp.asarray(self.means, jnp.float32)[comp]
            + jnp.asarray(self.stds, jnp.float32)[comp, None] * noise)


def _mixture(means, std: float, name: str) -> GaussianMixture:
  means = np.asarray(means, np.float64)
  k = len(means)
  return GaussianMixture(means, np.full(k, std), np.full(k, 1.0 / k), name)


def ring(num_modes: int = 8, radius: float = 2 * math.sqrt(2),
         std: float = 0.5 / math.sqrt(2)) -> GaussianMixture:
  """``num_modes`` equal Gaussians at angles ``2 pi k / num_modes`` on a circle.

  The defaults are FFJORD's "8gaussians" toy target (Grathwohl et al. 2019, sec. 5.1: centres
  at distance 4 and noise 0.5, all divided by sqrt 2); neighbouring modes are 6.1 std apart.
  """
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  return _mixture(radius * np.stack([np.cos(angles), np.sin(angles)], 1), std, "ring")


def two_moons(per_moon: int = 16, std: float = 0.1) -> GaussianMixture:
  """Two interleaved crescents: ``(cos t, sin t)`` and ``(1 - cos t, 1/2 - sin t)``, t in [0, pi].

  Centred at the origin; 16 components per crescent are 0.21 apart along the arc, about two
  standard deviations, so each crescent's density is smooth along it.
  """
  t = np.linspace(0, np.pi, per_moon)
  upper = np.stack([np.cos(t), np.sin(t)], 1)
  lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
  means = np.concatenate([upper, lower]) - np.array([0.5, 0.25])
  return _mixture(means, std, "two_moons")


def checkerboard(std: float = 0.25) -> GaussianMixture:
  """One Gaussian centred in each of the 8 dark squares of a 4 x 4 board on ``[-2, 2]^2``."""
  centres = [(-1.5 + i, -1.5 + j) for i in range(4) for j in range(4) if (i + j) % 2 == 0]
  return _mixture(centres, std, "checkerboard")


TARGETS_2D = {"ring": ring, "two_moons": two_moons, "checkerboard": checkerboard}


def target_2d(name: str) -> GaussianMixture:
  """The 2-D target ``name`` (``ring``, ``two_moons``, ``checkerboard``)."""
  if name not in TARGETS_2D:
    raise unknown_name("2-D target", name, TARGETS_2D)
  return TARGETS_2D[name]()


def random_mixture(key: jax.Array, dim: int, num_components: int = 4,
                   separation: float = 4.0) -> GaussianMixture:
  """K unit-variance Gaussians in d dimensions, means at distance ``separation`` from 0.

  Means are ``separation * u_k`` with ``u_k`` uniform on the sphere, so components stay
  separated (distance ~ ``separation sqrt 2`` apart) whatever d.
  """
  if dim < 1 or num_components < 1:
    raise JaxnetsError(f"need dim >= 1 and num_components >= 1, got {dim}, {num_components}")
  u = np.asarray(jax.random.normal(key, (num_components, dim)), np.float64)
  means = separation * u / np.linalg.norm(u, axis=1, keepdims=True)
  return GaussianMixture(means, np.ones(num_components), np.full(num_components,
                                                                 1 / num_components),
                         f"mixture{num_components}_d{dim}")


def dequantized_digits(split: str, key: jax.Array) -> np.ndarray:
  """``(n, 64)`` float32: digits pixels ``k`` in 0..16 as ``(k + u) / 17``, u ~ U[0, 1).

  ``split`` is ``jaxnets.data.digits``' fixed ``train`` (1438) or ``test`` (359) split.
  """
  images = digits.load(split).image
  levels = np.rint(images.reshape(len(images), -1) * (DIGITS_LEVELS - 1))
  noise = np.asarray(jax.random.uniform(key, levels.shape))
  return ((levels + noise) / DIGITS_LEVELS).astype(np.float32)


def bits_per_dim(log_density: jax.Array, dim: int, levels: int = DIGITS_LEVELS) -> float:
  """Mean code length in bits per dimension of the discrete data, from ``log p(x)`` on [0, 1]^d.

  For ``x = (k + u) / L`` the discrete probability obeys ``-log P(k) <= E_u[-log p(x)] +
  d log L`` (Jensen; Theis et al. 2016 eq. 9), so this is an upper bound averaged over points.
  """
  nll = -float(np.mean(np.asarray(log_density)))
  return (nll + dim * math.log(levels)) / (dim * math.log(2))


class LogitTransform:
  """``y = logit(a + (1 - 2a) x)`` from ``[0, 1]^d`` to ``R^d`` and its log-Jacobian.

  Flows model y (unbounded); ``log p_x(x) = log p_y(y) + log_det(x)`` (Dinh et al. 2017,
  sec. 4.1, with ``a = 0.05``).
  """

  def __init__(self, alpha: float = 0.05):
    self.alpha = alpha

  def forward(self, x: jax.Array) -> jax.Array:
    s = self.alpha + (1 - 2 * self.alpha) * x
    return jnp.log(s) - jnp.log1p(-s)

  def log_det(self, x: jax.Array) -> jax.Array:
    """``sum_i log |dy_i / dx_i|``: ``(n, d) -> (n,)``."""
    s = self.alpha + (1 - 2 * self.alpha) * x
    return jnp.sum(math.log(1 - 2 * self.alpha) - jnp.log(s) - jnp.log1p(-s), axis=-1)

  def inverse(self, y: jax.Array) -> jax.Array:
    return (jax.nn.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)
