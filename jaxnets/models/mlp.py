"""Multilayer perceptrons of any depth and width, in standard, NTK or muP parametrisation."""

from __future__ import annotations

import functools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxnets.models.layers import Parametrization, ScaledDense, layer_scales


class MLP(nn.Module):
  """``x -> act(W_1 x) -> ... -> act(W_L h) -> W_{L+1} h``: a fully connected network.

  Inputs of any shape ``(N, ...)`` are flattened to ``(N, d)``. Output: ``(N, num_outputs)``.

  Attributes:
    num_outputs: output dimension (classes).
    width: hidden width n.
    depth: number of hidden layers L (0 gives a linear / logistic model).
    act: the activation (``nn.relu``, ``jnp.tanh``, ``nn.sigmoid``, ``jax.scipy.special.erf``).
    parametrization: ``"standard"`` uses flax's ``nn.Dense`` with its default (LeCun normal)
      init; ``"ntk"`` and ``"mup"`` use explicit multipliers, see ``layers.layer_scales``.
    w_std: sigma_w of the NTK/muP layers; ``b_std``: sigma_b (0 drops biases).
  """

  num_outputs: int
  width: int = 100
  depth: int = 2
  act: Callable[[jax.Array], jax.Array] = nn.relu
  parametrization: Parametrization = "standard"
  w_std: float = math.sqrt(2.0)
  b_std: float = 0.0
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train  # no dropout or batch norm: same function in training and evaluation
    h = x.reshape((x.shape[0], -1))
    if self.dtype is not None:
      h = h.astype(self.dtype)
    sizes = [self.width] * self.depth + [self.num_outputs]
    for i, features in enumerate(sizes):
      role = "input" if i == 0 else ("output" if i == len(sizes) - 1 else "hidden")
      if self.parametrization == "standard":
        h = nn.Dense(features, dtype=self.dtype, name=f"dense_{i}")(h)
      else:
        mult, std = layer_scales(self.parametrization, role, h.shape[-1], features,
                                 self.w_std)
        h = ScaledDense(features, mult, std, b_std=self.b_std, dtype=self.dtype,
                        name=f"dense_{i}")(h)
      if i < len(sizes) - 1:
        h = self.act(h)
    return h


Logistic = functools.partial(MLP, depth=0)
MLPMnist1d = functools.partial(MLP, width=100, depth=2)  # Greydanus & Kobak 2020, sec. 3
