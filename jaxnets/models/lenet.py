"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied to
document recognition", sec. II.B).

C1: 6 filters 5x5 -> S2: 2x2 subsampling -> C3: 16 filters 5x5 -> S4: 2x2 subsampling ->
C5: 120 units -> F6: 84 units -> output. The paper feeds 32x32 images (MNIST's 28x28 padded by
2), so the classic net here pads C1 by 2 and C3 not at all: 28 -> 28 -> 14 -> 10 -> 5, and C5
sees 16 x 5 x 5 = 400 inputs; with 10 outputs it has the well-known 61,706 parameters. We use
full C1-C3 connectivity, average pooling without trainable coefficients and tanh (the paper's
scaled tanh up to constants); the RBF output layer is replaced by a linear one, as is now usual.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

Padding = str | int


def avg_pool_2x2(x: jax.Array) -> jax.Array:
  """LeNet's subsampling S2/S4: the mean of non-overlapping 2x2 windows."""
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


class LeNet5(nn.Module):
  """``[conv 5x5 -> act -> pool] x 2 -> dense 120 -> act -> dense 84 -> act -> dense``.

  Input ``(N, H, W, C)``; output ``(N, num_outputs)``.

  Attributes:
    paddings: padding of C1 and C3 (an int pads that many pixels per side; ``"SAME"`` keeps
      the size). ``(2, 0)`` is the classic net on 28x28; ``("SAME", "SAME")`` fits 8x8 digits.
    act: activation (tanh in the paper). pool: the subsampling layers.
  """

  num_outputs: int
  channels: Sequence[int] = (6, 16)
  hidden: Sequence[int] = (120, 84)
  paddings: Sequence[Padding] = (2, 0)
  act: Callable[[jax.Array], jax.Array] = jnp.tanh
  pool: Callable[[jax.Array], jax.Array] = avg_pool_2x2
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    h = x.astype(self.dtype) if self.dtype is not None else x
    for c, p in zip(self.channels, self.paddings):
      padding = [(p, p), (p, p)] if isinstance(p, int) else p
      h = self.pool(self.act(nn.Conv(c, (5, 5), padding=padding, dtype=self.dtype)(h)))
    h = h.reshape((h.shape[0], -1))
    for width in self.hidden:
      h = self.act(nn.Dense(width, dtype=self.dtype)(h))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


# 8x8 inputs (scikit-learn digits): 8 -> 8 -> 4 -> 4 -> 2, so C5 sees 16 x 2 x 2 = 64 inputs.
LeNet5Small = functools.partial(LeNet5, paddings=("SAME", "SAME"))
