"""AlexNet (Krizhevsky, Sutskever & Hinton 2012, "ImageNet Classification with Deep
Convolutional Neural Networks", sec. 3.5) and a version scaled to 32x32 images.

Five convolutions (ReLU, max-pooling after the 1st, 2nd and 5th with overlapping 3x3 windows of
stride 2) and three dense layers with dropout. The ImageNet net is the single-tower variant of
Krizhevsky (2014, "One weird trick...") with 64-192-384-256-256 filters, as in most modern
code: on 224x224 inputs, 224 -> 55 -> 27 -> 13 -> 6, 61,100,840 parameters for 1000 classes.
Local response normalisation is omitted (it was later found unnecessary).
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class AlexNet(nn.Module):
  """``conv x 5 (max-pool after pool_after) -> [dropout -> dense -> act] x 2 -> dense``.

  Input ``(N, H, W, C)``; output ``(N, num_outputs)``. Dropout is active only when
  ``train=True`` (it then needs a ``"dropout"`` rng).

  Attributes:
    channels, kernel_sizes: filters and square kernel size of the five convolutions.
    first_stride, first_padding: stride and padding (int pixels or "SAME") of conv 1; the
      others use "SAME" padding and stride 1.
    pool_after: indices of the convolutions followed by 3x3 / stride-2 max-pooling.
    hidden: widths of the hidden dense layers.
  """

  num_outputs: int
  channels: Sequence[int] = (64, 192, 384, 256, 256)
  kernel_sizes: Sequence[int] = (11, 5, 3, 3, 3)
  first_stride: int = 4
  first_padding: int | str = 2
  pool_after: Sequence[int] = (0, 1, 4)
  hidden: Sequence[int] = (4096, 4096)
  dropout_rate: float = 0.5
  act: Callable[[jax.Array], jax.Array] = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    h = x.astype(self.dtype) if self.dtype is not None else x
    for i, (c, k) in enumerate(zip(self.channels, self.kernel_sizes)):
      if i == 0:
        p = self.first_padding
        padding = [(p, p), (p, p)] if isinstance(p, int) else p
        conv = nn.Conv(c, (k, k), strides=self.first_stride, padding=padding, dtype=self.dtype)
      else:
        conv = nn.Conv(c, (k, k), padding="SAME", dtype=self.dtype)
      h = self.act(conv(h))
      if i in self.pool_after:
        h = nn.max_pool(h, (3, 3), strides=(2, 2))
    h = h.reshape((h.shape[0], -1))
    for width in self.hidden:
      h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
      h = self.act(nn.Dense(width, dtype=self.dtype)(h))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


# 32x32 inputs (CIFAR): 5x5 stride-1 first layer, 32 -> 15 -> 7 -> 3, and narrower dense
# layers, in the spirit of Krizhevsky's CIFAR-10 nets (cuda-convnet, 2012).
AlexNetSmall = functools.partial(AlexNet, kernel_sizes=(5, 5, 3, 3, 3), first_stride=1,
                                 first_padding="SAME", hidden=(384, 192))
