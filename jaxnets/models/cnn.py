"""Small convolutional nets: the MNIST-1D paper's 1-D CNN and a 2-D CNN for small images.

Filters are shared across positions, so a shifted input gives shifted features; global
average pooling then makes the classifier (approximately) translation invariant.
"""

from __future__ import annotations

import functools
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class CNN1D(nn.Module):
  """Strided 1-D convolutions then a linear classifier (Greydanus & Kobak 2020, sec. 3).

  The paper's net: Conv(25, k=5, s=2) -> Conv(25, k=3, s=2) -> Conv(25, k=3, s=2), ReLU after
  each, padding 1, flatten, Dense(10). Input ``(N, L)`` or ``(N, L, C)``; output
  ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: int = 25
  kernel_sizes: Sequence[int] = (5, 3, 3)
  stride: int = 2
  global_pool: bool = False  # average over positions instead of flattening
  act: Callable[[jax.Array], jax.Array] = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    if x.ndim == 2:
      x = x[..., None]
    h = x.astype(self.dtype) if self.dtype is not None else x
    for k in self.kernel_sizes:
      h = nn.Conv(self.channels, (k,), strides=(self.stride,), padding=[(1, 1)],
                  dtype=self.dtype)(h)
      h = self.act(h)
    h = h.mean(axis=1) if self.global_pool else h.reshape((h.shape[0], -1))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


class CNN2D(nn.Module):
  """``[Conv(3x3) -> ReLU] x len(channels)`` with 2x2 max-pooling between stages, then a head.

  Input ``(N, H, W, C)``; output ``(N, num_outputs)``. With ``global_pool`` the head averages
  over positions (translation invariant); otherwise it flattens.
  """

  num_outputs: int
  channels: Sequence[int] = (32, 64)
  hidden: int = 128
  global_pool: bool = True
  act: Callable[[jax.Array], jax.Array] = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    h = x.astype(self.dtype) if self.dtype is not None else x
    for i, c in enumerate(self.channels):
      h = self.act(nn.Conv(c, (3, 3), padding="SAME", dtype=self.dtype)(h))
      if i < len(self.channels) - 1:
        h = nn.max_pool(h, (2, 2), strides=(2, 2), padding="SAME")
    h = h.mean(axis=(1, 2)) if self.global_pool else h.reshape((h.shape[0], -1))
    h = self.act(nn.Dense(self.hidden, dtype=self.dtype)(h))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


CNNMnist1d = functools.partial(CNN1D, channels=25)
