"""Kernel classifiers by random features: a fixed map Phi(x), then a hyperplane on Phi(x).

A kernel classifier predicts sign(<w, Phi(x)> + b) (or argmax over classes) where Phi changes
variables so that classes become linearly separable. With D random features
``Phi(x) in R^D``, ``<Phi(x), Phi(x')> -> k(x, x')`` as D grows, so a linear layer on Phi
approximates a kernel machine with kernel k at cost O(D) per example instead of O(n):

* random Fourier features (Rahimi & Recht 2007, "Random Features for Large-Scale Kernel
  Machines", Alg. 1): ``Phi(x) = sqrt(2/D) cos(Omega x + beta)``, ``Omega ~ N(0, 2 gamma I)``,
  ``beta ~ U[0, 2 pi]``, for the RBF kernel ``k(x, x') = exp(-gamma |x - x'|^2)`` (Bochner).
* ReLU random features: ``Phi(x) = sqrt(2/D) relu(Omega x)``, ``Omega ~ N(0, I)``, for the
  first-order arc-cosine kernel ``k(x, x') = |x||x'| (sin t + (pi - t) cos t) / pi`` with t the
  angle between x and x' (Cho & Saul 2009, "Kernel Methods for Deep Learning", eq. 1-3).

Only the linear layer is a parameter. The random matrix is a deterministic function of
``feature_seed``, drawn inside ``__call__``: it is fixed through training, invisible to the
optimiser (so weight decay cannot shrink it) and needs no extra variable collection. The exact
kernel machines on a Gram matrix are in :mod:`jaxnets.models.kernel_methods`; the feature map
is :mod:`theory.random_features`'s.
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from theory import random_features as rf


def random_fourier_features(x: jax.Array, key: jax.Array, num_features: int,
                            gamma: float) -> jax.Array:
  """``Phi(x) = sqrt(2/D) cos(x Omega + beta)``: ``(N, d) -> (N, D)``; E Phi Phi^T = RBF."""
  weights = rf.fourier_weights(key, x.shape[-1], num_features, gamma, x.dtype)
  return rf.random_features(x, weights, jnp.cos, math.sqrt(2.0 / num_features))


def relu_random_features(x: jax.Array, key: jax.Array, num_features: int) -> jax.Array:
  """``Phi(x) = sqrt(2/D) relu(x Omega)``: ``(N, d) -> (N, D)``; E Phi Phi^T = arc-cosine k_1."""
  weights = rf.gaussian_weights(key, x.shape[-1], num_features, dtype=x.dtype)
  return rf.random_features(x, weights, jax.nn.relu, math.sqrt(2.0 / num_features))


class RandomFourierClassifier(nn.Module):
  """Linear classifier on random Fourier features of the flattened input (RBF kernel).

  Input ``(N, ...)``; output ``(N, num_outputs)`` scores ``<w_c, Phi(x)> + b_c``.
  Attributes: ``num_features`` D, ``gamma`` the RBF inverse squared length-scale,
  ``feature_seed`` the seed of Omega and beta.
  """

  num_outputs: int
  num_features: int = 2048
  gamma: float = 0.02
  feature_seed: int = 0
  dtype: jnp.dtype | None = None  # of the head; the features are computed in float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    h = x.reshape((x.shape[0], -1)).astype(jnp.float32)
    phi = random_fourier_features(h, jax.random.key(self.feature_seed), self.num_features,
                                  self.gamma)
    return nn.Dense(self.num_outputs, dtype=self.dtype, name="head")(phi)


class ReLUFeatureClassifier(nn.Module):
  """Linear classifier on ReLU random features (arc-cosine kernel of order 1).

  Equivalently, a two-layer ReLU network whose first layer is frozen at its random
  initialisation. Input ``(N, ...)``; output ``(N, num_outputs)``.
  """

  num_outputs: int
  num_features: int = 2048
  feature_seed: int = 0
  dtype: jnp.dtype | None = None  # of the head; the features are computed in float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    h = x.reshape((x.shape[0], -1)).astype(jnp.float32)
    phi = relu_random_features(h, jax.random.key(self.feature_seed), self.num_features)
    return nn.Dense(self.num_outputs, dtype=self.dtype, name="head")(phi)

