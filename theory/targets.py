"""Target functions with known smoothness and known Barron constants, and their input laws.

A ``Target`` bundles ``fn: (N, d) -> (N,)`` with the law its inputs are drawn from and the
constants the theorems need:

* ``barron_cosines``: ``f(x) = sum_k c_k cos(omega_k . x + phi_k)``. Its Fourier transform is a
  sum of point masses, so Barron's constant ``C_{f,B} = int |omega|_B |f^(omega)| d omega``
  (Barron 1993, sec. II) is exactly ``sum_k |c_k| sup_{x in B} |omega_k . x|``. Inputs are
  Gaussian restricted to the slabs ``|u_k . x| <= R`` (``u_k = omega_k / |omega_k|``), so
  ``C_{f,B} = R sum_k |c_k| |omega_k|`` -- and with it Barron's bound ``(2 C_{f,B})^2 / m`` --
  does not depend on d, while each ``u_k . x`` has the same law in every dimension.
* ``single_neuron``: ``f(x) = relu(u . x)``, ``x ~ N(0, I_d)`` (Yehudai & Shamir 2019).
* ``cosine_ridge``: ``f(x) = cos(a u . x)``, ``x ~ N(0, I_d)``: a single-index target whose
  Hermite expansion (hence its best polynomial approximation of each degree) is known in closed
  form and independent of d.
* ``torus_sines``: ``f(x) = sqrt(2/d) sum_j sin(2 pi x_j)`` on the torus ``[0, 1)^d``, C^infinity
  and periodic, variance 1 for every d: the target of the nonparametric-rate check, where
  wrap-around distances remove boundary effects.
* ``cybenko_1d`` / ``cybenko_2d``: continuous but not differentiable targets on ``[0, 1]^d``.
* ``tent``: the k-fold tent map ``T^k`` on ``[0, 1]`` (Telgarsky 2016), with ``2^k`` pieces.

``TARGETS`` maps names to ``factory(d, seed) -> Target`` for the experiment script.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError, unknown_name


@dataclasses.dataclass(frozen=True)
class Target:
  """A target function, its input law and its known constants.

  Attributes:
    name: registry name.
    d: input dimension.
    fn: ``(N, d) -> (N,)``, jit-able.
    sample: ``(n, seed) -> (n, d)`` float32 inputs from the target's input law (NumPy RNG: data
      generation only).
    smoothness: Hölder/Sobolev order s (``math.inf`` for analytic targets; 0 for merely
      continuous ones), or None if not meaningful.
    barron_constant: ``C_f = int |omega| |f^(omega)|`` if known in closed form, else None.
    radius: bound R on ``|x|`` for bounded domains; for ridge targets (``barron_cosines``) the
      bound on ``|u_k . x|`` along each of the target's directions, the interval ``[-R, R]`` on
      which Barron's step representation is built. None if unbounded.
    info: a one-line description with the reference.
  """

  name: str
  d: int
  fn: Callable[[jax.Array], jax.Array]
  sample: Callable[[int, int], np.ndarray]
  smoothness: float | None = None
  barron_constant: float | None = None
  radius: float | None = None
  info: str = ""


@dataclasses.dataclass(frozen=True)
class CosineSum:
  """``f(x) = sum_k c_k cos(omega_k . x + phi_k)``: a finite Fourier sum.

  Attributes: ``frequencies (K, d)``, ``phases (K,)``, ``coefficients (K,)``.
  """

  frequencies: np.ndarray
  phases: np.ndarray
  coefficients: np.ndarray

  def __call__(self, x: jax.Array) -> jax.Array:
    z = jnp.asarray(x) @ jnp.asarray(self.frequencies, jnp.float32).T + self.phases
    return jnp.cos(z) @ jnp.asarray(self.coefficients, jnp.float32)

  @property
  def barron_constant(self) -> float:
    """``C_f = sum_k |c_k| |omega_k|`` (Barron 1993, eq. (2), for a discrete spectrum)."""
    return float(np.sum(np.abs(self.coefficients) * np.linalg.norm(self.frequencies, axis=1)))


def sphere_sample(n: int, d: int, radius: float, seed: int) -> np.ndarray:
  """``(n, d)`` points uniform on the sphere of the given radius."""
  x = np.random.default_rng(seed).normal(size=(n, d))
  return (x / np.linalg.norm(x, axis=1, keepdims=True) * radius).astype(np.float32)


def gaussian_sample(n: int, d: int, seed: int) -> np.ndarray:
  """``(n, d)`` standard Gaussian inputs."""
  return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def cube_sample(n: int, d: int, seed: int) -> np.ndarray:
  """``(n, d)`` points uniform on ``[0, 1]^d``."""
  return np.random.default_rng(seed).random((n, d)).astype(np.float32)


def random_directions(k: int, d: int, seed: int) -> np.ndarray:
  """``(k, d)`` unit vectors, uniform on the sphere."""
  return sphere_sample(k, d, 1.0, seed).astype(np.float64)


def slab_gaussian_sample(n: int, directions: np.ndarray, radius: float, seed: int
                         ) -> np.ndarray:
  """``(n, d)`` draws of ``x ~ N(0, I_d)`` conditioned on ``|u_k . x| <= radius`` for all k.

  Rejection sampling; with ``radius = 3`` and a few directions about 1% of draws are rejected.
  """
  rng = np.random.default_rng(seed)
  out, have = [], 0
  while have < n:
    x = rng.normal(size=(2 * (n - have) + 16, directions.shape[1]))
    x = x[np.all(np.abs(x @ directions.T) <= radius, axis=1)]
    out.append(x)
    have += len(x)
  return np.concatenate(out)[:n].astype(np.float32)


def barron_cosines(d: int, seed: int = 0, num_terms: int = 4, scale: float = 2.0,
                   radius: float = 3.0) -> Target:
  """Sum of ``num_terms`` cosine ridges ``c_k cos(scale u_k . x + phi_k)``, ``sum |c_k| = 1``.

  Inputs: ``x ~ N(0, I_d)`` conditioned on the set ``B = {|u_k . x| <= radius for all k}``, so
  each projection ``u_k . x`` has the same (truncated normal) law in every dimension. Barron's
  constant relative to B, ``C_{f,B} = int |omega|_B |f^(omega)|`` with
  ``|omega|_B = sup_{x in B} |omega . x|`` (Barron 1993, sec. II), is
  ``sum_k |c_k| scale * radius``: the same for every d, and Barron's Theorem 1 bounds the
  squared L2 error of the best m-unit sigmoidal net by ``(2 C_{f,B})^2 / m``.
  """
  _check_dim(d)
  rng = np.random.default_rng(seed + 7919)
  dirs = random_directions(num_terms, d, seed + 104729)
  fs = CosineSum(frequencies=dirs * scale, phases=rng.uniform(0, 2 * math.pi, num_terms),
                 coefficients=np.full(num_terms, 1.0 / num_terms))
  return Target("barron_cosines", d, fs,
                lambda n, s: slab_gaussian_sample(n, dirs, radius, s), smoothness=math.inf,
                barron_constant=fs.barron_constant * radius, radius=radius,
                info=f"sum of {num_terms} cosine ridges of frequency {scale}, x ~ N(0, I) on "
                     f"|u_k.x| <= {radius}: C_f,B = {scale * radius} for every d (Barron 1993)")


def single_neuron(d: int, seed: int = 0) -> Target:
  """``relu(u . x)`` with ``u`` a random unit vector and ``x ~ N(0, I_d)``."""
  _check_dim(d)
  u = jnp.asarray(random_directions(1, d, seed + 15485863)[0], jnp.float32)
  return Target("single_neuron", d, lambda x: jax.nn.relu(x @ u),
                lambda n, s: gaussian_sample(n, d, s), smoothness=1.0,
                info="a single ReLU neuron relu(u.x), x ~ N(0, I) (Yehudai & Shamir 2019)")


def cosine_ridge(d: int, seed: int = 0, scale: float = 1.0) -> Target:
  """``cos(scale * u . x)`` with ``u`` a random unit vector and ``x ~ N(0, I_d)``."""
  _check_dim(d)
  u = jnp.asarray(random_directions(1, d, seed + 32452843)[0], jnp.float32)
  return Target("cosine_ridge", d, lambda x: jnp.cos(scale * (x @ u)),
                lambda n, s: gaussian_sample(n, d, s), smoothness=math.inf,
                barron_constant=scale,
                info=f"single-index cos({scale} u.x), x ~ N(0, I); Hermite coefficients "
                     "(i a)^j e^{-a^2/2} / sqrt(j!)")


def torus_sines(d: int, seed: int = 0) -> Target:
  """``sqrt(2/d) sum_j sin(2 pi x_j)`` on the torus ``[0, 1)^d``; variance 1 for every d."""
  del seed  # deterministic
  _check_dim(d)
  c = math.sqrt(2.0 / d)
  return Target("torus_sines", d, lambda x: c * jnp.sum(jnp.sin(2 * jnp.pi * x), axis=-1),
                lambda n, s: cube_sample(n, d, s), smoothness=math.inf, radius=None,
                info="periodic, analytic, unit variance on the torus [0,1)^d")


def _cybenko_1d(x: jax.Array) -> jax.Array:
  t = x[:, 0]
  return jnp.sin(3 * jnp.pi * t) * jnp.exp(-t) + jnp.abs(t - 0.4)


def _cybenko_2d(x: jax.Array) -> jax.Array:
  return (jnp.sin(2 * jnp.pi * x[:, 0]) * jnp.cos(jnp.pi * x[:, 1])
          + 0.5 * jnp.abs(x[:, 0] - x[:, 1]))


def cybenko(d: int, seed: int = 0) -> Target:
  """A continuous, not differentiable target on ``[0, 1]^d`` for ``d`` in {1, 2}."""
  del seed
  if d not in (1, 2):
    raise JaxnetsError(f"the cybenko target is defined for d = 1 or 2, got d={d}")
  fn = _cybenko_1d if d == 1 else _cybenko_2d
  return Target(f"cybenko_{d}d", d, fn, lambda n, s: cube_sample(n, d, s), smoothness=0.0,
                radius=math.sqrt(d),
                info="continuous with kinks (|t - 0.4| or |x - y|): only Cybenko's theorem applies")


def tent_map(x: jax.Array, k: int) -> jax.Array:
  """``T^k(x)``: the tent map ``T(x) = 2 min(x, 1 - x)`` composed ``k`` times (Telgarsky 2016).

  On ``[0, 1]``, ``T^k`` is piecewise linear with ``2^k`` pieces of slope ``+-2^k``: ``2^(k-1)``
  teeth of width ``2^(1-k)`` and height 1.
  """
  for _ in range(k):
    x = 2.0 * jnp.minimum(x, 1.0 - x)
  return x


def tent(d: int = 1, seed: int = 0, k: int = 5) -> Target:
  """``T^k`` on ``[0, 1]`` as a Target (``d`` must be 1)."""
  del seed
  if d != 1:
    raise JaxnetsError(f"the tent target is one-dimensional, got d={d}; pass --d=1")
  return Target("tent", 1, lambda x: tent_map(x[:, 0], k), lambda n, s: cube_sample(n, 1, s),
                smoothness=1.0, radius=1.0,
                info=f"{k}-fold tent map, 2^{k} linear pieces (Telgarsky 2016)")


def tent_mlp_params(k: int) -> dict:
  """Parameters of ``jaxnets.models.mlp.MLP(1, width=2, depth=k, act=relu)`` computing ``T^k``.

  ``T(y) = 2 relu(y) - 4 relu(y - 1/2)`` on ``[0, 1]``: each hidden layer forms
  ``[y, y - 1/2]`` from the previous layer's ``y = 2 h_1 - 4 h_2`` (kernel ``[[2, 2], [-4, -4]]``,
  bias ``[0, -1/2]``), the first from the input (kernel ``[[1, 1]]``), the output reads
  ``2 h_1 - 4 h_2``. Layer names follow ``MLP``'s standard parametrisation (``dense_i``).
  """
  if k < 1:
    raise JaxnetsError(f"the tent network needs k >= 1 compositions, got {k}")
  f32 = lambda a: jnp.asarray(a, jnp.float32)
  layers = {"dense_0": {"kernel": f32([[1.0, 1.0]]), "bias": f32([0.0, -0.5])}}
  for i in range(1, k):
    layers[f"dense_{i}"] = {"kernel": f32([[2.0, 2.0], [-4.0, -4.0]]), "bias": f32([0.0, -0.5])}
  layers[f"dense_{k}"] = {"kernel": f32([[2.0], [-4.0]]), "bias": f32([0.0])}
  return {"params": layers}


def _check_dim(d: int) -> None:
  if not isinstance(d, (int, np.integer)) or d < 1:
    raise JaxnetsError(f"input dimension d must be a positive integer, got {d!r}")


TARGETS: dict[str, Callable[..., Target]] = {
    "barron_cosines": barron_cosines,
    "single_neuron": single_neuron,
    "cosine_ridge": cosine_ridge,
    "torus_sines": torus_sines,
    "cybenko": cybenko,
    "tent": tent,
}


def get_target(name: str, d: int, seed: int = 0) -> Target:
  """The registered target ``name`` in dimension ``d``."""
  if name not in TARGETS:
    raise unknown_name("target", name, TARGETS)
  return TARGETS[name](d, seed)
