r"""The one random-features map: ``Phi(x) = scale * act(x W + b)`` with ``W, b`` fixed at random.

With ``D`` features drawn i.i.d., ``<Phi(x), Phi(x')>`` is a Monte-Carlo estimate of a kernel
(Rahimi & Recht 2007, "Random Features for Large-Scale Kernel Machines"; Neal 1996 for the
network view: a two-layer net whose first layer is frozen at its initialisation):

* ``act = cos``, ``W ~ N(0, 2 gamma I)``, ``b ~ U[0, 2 pi]``, ``scale = sqrt(2 / D)``: the RBF
  kernel ``exp(-gamma |x - x'|^2)`` (Bochner; R&R Alg. 1) -- :func:`fourier_weights`;
* ``act = relu``, ``W ~ N(0, I)``, ``b = 0``, ``scale = sqrt(2 / D)``: the first-order
  arc-cosine kernel (Cho & Saul 2009, eqs. 1-3; ``theory.kernels.arccos_kernel``) -- which is
  the NNGP of a ReLU layer with ``W_std^2 = 2`` -- :func:`gaussian_weights`;
* other scalings, ``(W / sqrt(d), scale = 1 / sqrt(D))`` as in Mei & Montanari's random-features
  model, or unit-sphere directions with biases (``sphere_weights``) for approximation sweeps.

Every random-feature model in jaxnets -- the kernel classifiers of ``jaxnets.models``, the
random-features double descent, the fixed-neuron approximation checks -- uses this map.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp

Weights = dict[str, jax.Array]  # {"w": (d, D), "b": (D,)}


def random_features(x: jax.Array, weights: Weights, act: Callable[[jax.Array], jax.Array],
                    scale: float = 1.0) -> jax.Array:
  """``scale * act(x W + b)``: ``(N, d) -> (N, D)``."""
  return scale * act(x @ weights["w"] + weights["b"])


def gaussian_weights(key: jax.Array, d: int, num_features: int, std: float = 1.0,
                     dtype=jnp.float32) -> Weights:
  """``W ~ N(0, std^2)``, ``b = 0``: ReLU features of the arc-cosine kernel (``std = 1``)."""
  return {"w": std * jax.random.normal(key, (d, num_features), dtype),
          "b": jnp.zeros((num_features,), dtype)}


def fourier_weights(key: jax.Array, d: int, num_features: int, gamma: float,
                    dtype=jnp.float32) -> Weights:
  """``W ~ N(0, 2 gamma I)``, ``b ~ U[0, 2 pi]``: with ``cos`` and ``sqrt(2/D)``, RBF features."""
  return {"w": jax.random.normal(key, (d, num_features), dtype) * math.sqrt(2 * gamma),
          "b": jax.random.uniform(jax.random.fold_in(key, 1), (num_features,), dtype, 0.0,
                                  2 * math.pi)}


def sphere_weights(key: jax.Array, d: int, num_features: int, bias_std: float = 0.0) -> Weights:
  """Directions uniform on the unit sphere, biases ``N(0, bias_std^2)``."""
  kw, kb = jax.random.split(key)
  w = jax.random.normal(kw, (d, num_features))
  return {"w": w / jnp.linalg.norm(w, axis=0, keepdims=True),
          "b": bias_std * jax.random.normal(kb, (num_features,))}


__all__ = ["fourier_weights", "gaussian_weights", "random_features", "sphere_weights"]
