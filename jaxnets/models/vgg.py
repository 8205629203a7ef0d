"""VGG nets (Simonyan & Zisserman 2015, "Very Deep Convolutional Networks for Large-Scale
Image Recognition", Table 1): stacks of 3x3 convolutions, 2x2 max-pooling after each stage.

Configuration A (VGG-11) and D (VGG-16). On 224x224 inputs the five pools give 7x7x512 =
25,088 features, then dense 4096 -> 4096 -> classes with dropout 0.5: 132,863,336 (A) and
138,357,544 (D) parameters for 1000 classes. On 32x32 inputs the features are 1x1x512.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class VGG(nn.Module):
  """``[[conv 3x3 -> act] x n_s -> max-pool 2x2] per stage -> [dense -> act -> dropout] x 2
  -> dense``. Input ``(N, H, W, C)`` with H, W divisible by 2^stages; output
  ``(N, num_outputs)``. Dropout is active only when ``train=True`` (``"dropout"`` rng).

  Attributes:
    stages: filters of each convolution, one tuple per stage (Table 1 of the paper).
    hidden: widths of the hidden dense layers.
  """

  num_outputs: int
  stages: Sequence[Sequence[int]]
  hidden: Sequence[int] = (4096, 4096)
  dropout_rate: float = 0.5
  act: Callable[[jax.Array], jax.Array] = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    h = x.astype(self.dtype) if self.dtype is not None else x
    for stage in self.stages:
      for c in stage:
        h = self.act(nn.Conv(c, (3, 3), padding="SAME", dtype=self.dtype)(h))
      h = nn.max_pool(h, (2, 2), strides=(2, 2))
    h = h.reshape((h.shape[0], -1))
    for width in self.hidden:
      h = self.act(nn.Dense(width, dtype=self.dtype)(h))
      h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


VGG11 = functools.partial(VGG, stages=((64,), (128,), (256, 256), (512, 512), (512, 512)))
VGG16 = functools.partial(VGG, stages=((64, 64), (128, 128), (256, 256, 256),
                                       (512, 512, 512), (512, 512, 512)))
