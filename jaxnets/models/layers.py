"""Dense layers with explicit parametrisations (standard, NTK, muP).

A parametrisation fixes, per layer, a forward multiplier ``a`` and an initial weight standard
deviation ``s``: the layer computes ``a * x @ w + bias_multiplier * b`` with ``w ~ N(0, s^2)``.
In the abc-notation of Yang & Hu (2021, "Feature Learning in Infinite-Width Neural Networks",
Table 3), ``a = n^{-a_l}`` and ``s = n^{-b_l}``; the learning rate is left to the optimiser.
"""

from __future__ import annotations

import math
from typing import Literal

import flax.linen as nn
import jax
import jax.numpy as jnp

Parametrization = Literal["standard", "ntk", "mup"]
PARAMETRIZATIONS = ("standard", "ntk", "mup")
LayerRole = Literal["input", "hidden", "output"]


def layer_scales(parametrization: Parametrization, role: LayerRole, fan_in: int,
                 fan_out: int, w_std: float) -> tuple[float, float]:
  """Returns ``(multiplier, init_std)`` of a dense layer.

  Args:
    parametrization: ``"standard"`` (w ~ N(0, w_std^2 / fan_in), multiplier 1), ``"ntk"``
      (w ~ N(0, 1), multiplier w_std / sqrt(fan_in); Jacot et al. 2018, eq. 1) or ``"mup"``
      (maximal update parametrisation for SGD; Yang & Hu 2021, Table 3 with the width ``n``
      taken as ``fan_in`` of hidden and output layers).
    role: position of the layer, which matters only under muP.
    fan_in: input dimension of the layer.
    w_std: the weight scale sigma_w (sqrt(2) keeps ReLU activations O(1)).
  """
  if parametrization == "standard":
    return 1.0, w_std / math.sqrt(fan_in)
  if parametrization == "ntk":
    return w_std / math.sqrt(fan_in), 1.0
  if parametrization == "mup":
    # muP, SGD form: input a=-1/2,b=1/2; hidden a=0,b=1/2; output a=1/2,b=1/2 (width n).
    # The input multiplier sqrt(n) and init std 1/sqrt(n) cancel in the forward pass but not
    # in SGD: they make the input layer's effective learning rate n times larger, which is
    # what keeps feature updates O(1). The extra 1/sqrt(d) normalises the input size d.
    if role == "input":
      return w_std * math.sqrt(fan_out / fan_in), 1.0 / math.sqrt(fan_out)
    if role == "hidden":
      return w_std, 1.0 / math.sqrt(fan_in)
    return 1.0 / math.sqrt(fan_in), 1.0 / math.sqrt(fan_in)
  raise ValueError(f"unknown parametrization {parametrization!r}; known: {PARAMETRIZATIONS}")


class ScaledDense(nn.Module):
  """``y = multiplier * x @ w + b_std * b`` with ``w ~ N(0, init_std^2)``, ``b ~ N(0, 1)``.

  With ``b_std = 0`` the bias is omitted. Shapes: ``x (..., fan_in) -> y (..., features)``.
  """

  features: int
  multiplier: float
  init_std: float
  b_std: float = 0.0
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    w = self.param("kernel", nn.initializers.normal(self.init_std), (x.shape[-1], self.features))
    y = self.multiplier * jnp.dot(x, w.astype(self.dtype or x.dtype))
    if self.b_std:
      # NTK-style bias: a unit Gaussian scaled by b_std, so the kernel recursion adds b_std^2.
      b = self.param("bias", nn.initializers.normal(1.0), (self.features,))
      y = y + self.b_std * b.astype(y.dtype)
    return y
