"""Video classifiers over clips ``(N, T, H, W, C)``: where in the net do the frames meet?

Karpathy et al., "Large-scale Video Classification with Convolutional Neural Networks", CVPR
2014, sec. 2.1 and fig. 1, compare four ways for a CNN to see time:

* **single frame**: a 2-D CNN on one frame; it can use appearance only.
* **early fusion**: the first convolution's filters span all T frames (on pixels), so motion
  is detected at once, locally.
* **late fusion**: two single-frame towers with shared weights on frames far apart; only the
  fully connected layers see both, so they compare global features.
* **slow fusion**: 3-D convolutions with a small temporal extent and temporal stride, so that
  higher layers see progressively longer stretches of time (their T = 10 clip: 4, 2, 2
  frames with stride 2 -> 4, 2, 1 temporal positions).

plus a small 3-D convolutional net (3x3x3 filters throughout, Tran et al. ICCV 2015, C3D)
that pools time gradually and averages over all positions at the end.

Our sizes are small (16x16 clips); the structure, not the width, follows the paper. Every
model ends in ``Dense(hidden) -> ReLU -> Dense(num_outputs)`` on flattened features.
"""

from __future__ import annotations

from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError

Act = Callable[[jax.Array], jax.Array]


def _check_clip(x: jax.Array, model: str) -> None:
  if x.ndim != 5:
    raise JaxnetsError(f"{model} takes clips (N, T, H, W, C), got shape {x.shape}; add the "
                       f"channel axis to greyscale clips")


class FrameTower(nn.Module):
  """A 2-D CNN on frames ``(N, H, W, C) -> (N, H', W', channels[-1])``.

  ``Conv3x3 -> act`` per entry of ``channels``, with 2x2 max-pooling after each but the last.
  """

  channels: Sequence[int] = (16, 32, 32)
  act: Act = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    for i, c in enumerate(self.channels):
      x = self.act(nn.Conv(c, (3, 3), padding="SAME", dtype=self.dtype)(x))
      if i < len(self.channels) - 1:
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
    return x


class ClassifierHead(nn.Module):
  """``Dense(hidden) -> act -> Dense(num_outputs)`` on features flattened per example."""

  num_outputs: int
  hidden: int = 64
  act: Act = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = x.reshape((x.shape[0], -1))
    x = self.act(nn.Dense(self.hidden, dtype=self.dtype)(x))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(x)


class SingleFrame(nn.Module):
  """Classifies a clip from one frame (the middle one unless ``frame`` is given).

  The appearance-only baseline of Karpathy et al. 2014. Input ``(N, T, H, W, C)``; output
  ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: Sequence[int] = (16, 32, 32)
  hidden: int = 64
  frame: int | None = None
  tower: Callable[..., nn.Module] = FrameTower
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    _check_clip(x, "SingleFrame")
    t = x.shape[1] // 2 if self.frame is None else self.frame
    h = self.tower(self.channels, dtype=self.dtype)(x[:, t].astype(self.dtype or x.dtype))
    return ClassifierHead(self.num_outputs, self.hidden, dtype=self.dtype)(h)


class EarlyFusion(nn.Module):
  """The first convolution sees all T frames: frames stacked on the channel axis.

  A ``k x k`` convolution over ``(H, W, T * C)`` is exactly a ``T x k x k`` 3-D convolution
  without temporal padding (Karpathy et al. 2014: filters of ``11 x 11 x 3 x T``). Input
  ``(N, T, H, W, C)``; output ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: Sequence[int] = (16, 32, 32)
  hidden: int = 64
  tower: Callable[..., nn.Module] = FrameTower
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    _check_clip(x, "EarlyFusion")
    n, t, height, width, c = x.shape
    stacked = jnp.moveaxis(x, 1, 3).reshape(n, height, width, t * c)
    h = self.tower(self.channels, dtype=self.dtype)(stacked.astype(self.dtype or x.dtype))
    return ClassifierHead(self.num_outputs, self.hidden, dtype=self.dtype)(h)


class LateFusion(nn.Module):
  """One tower (shared weights) on the first and the last frame; fused by the dense head.

  Karpathy et al. 2014 place the two frames 15 frames apart; we use the clip's two ends.
  Flattening keeps where things are, so the head can compare the two frames' layouts.
  Input ``(N, T, H, W, C)``; output ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: Sequence[int] = (16, 32, 32)
  hidden: int = 64
  tower: Callable[..., nn.Module] = FrameTower
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    _check_clip(x, "LateFusion")
    tower = self.tower(self.channels, dtype=self.dtype)
    ends = x[:, jnp.array([0, x.shape[1] - 1])].astype(self.dtype or x.dtype)
    n = x.shape[0]
    features = tower(ends.reshape((2 * n,) + x.shape[2:]))  # both frames in one call
    features = features.reshape((n, 2) + features.shape[1:])
    return ClassifierHead(self.num_outputs, self.hidden, dtype=self.dtype)(features)


class SlowFusion(nn.Module):
  """3-D convolutions whose temporal extent grows layer by layer (Karpathy et al. 2014).

  Layer ``i``: ``Conv(temporal_kernels[i] x 3 x 3, temporal stride temporal_strides[i])``
  without temporal padding, then ``act``; 2x2 spatial max-pooling after each layer but the
  last. With the defaults and T = 10: 10 -> 4 -> 2 -> 1 temporal positions, as in the paper.
  Input ``(N, T, H, W, C)``; output ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: Sequence[int] = (16, 32, 32)
  temporal_kernels: Sequence[int] = (4, 2, 2)
  temporal_strides: Sequence[int] = (2, 2, 2)
  hidden: int = 64
  act: Act = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    _check_clip(x, "SlowFusion")
    if not len(self.channels) == len(self.temporal_kernels) == len(self.temporal_strides):
      raise JaxnetsError("SlowFusion channels, temporal_kernels and temporal_strides need one "
                         f"entry per layer, got {len(self.channels)}, "
                         f"{len(self.temporal_kernels)} and {len(self.temporal_strides)}")
    t = x.shape[1]
    for k, s in zip(self.temporal_kernels, self.temporal_strides):
      t = (t - k) // s + 1
    if t < 1:
      raise JaxnetsError(f"SlowFusion temporal kernels {tuple(self.temporal_kernels)} need "
                         f"longer clips than T={x.shape[1]}")
    h = x.astype(self.dtype or x.dtype)
    for i, (c, k, s) in enumerate(zip(self.channels, self.temporal_kernels,
                                      self.temporal_strides)):
      h = nn.Conv(c, (k, 3, 3), strides=(s, 1, 1), padding=[(0, 0), (1, 1), (1, 1)],
                  dtype=self.dtype)(h)
      h = self.act(h)
      if i < len(self.channels) - 1:
        h = nn.max_pool(h, (1, 2, 2), strides=(1, 2, 2))
    return ClassifierHead(self.num_outputs, self.hidden, dtype=self.dtype)(h)


class Conv3DNet(nn.Module):
  """A small C3D-style net: ``3x3x3`` convolutions, pooling, global average, dense head.

  Layer ``i``: ``Conv3x3x3(channels[i])`` (padded) then ``act``, then max-pooling by
  ``(1, 2, 2)`` after the first layer (keep early temporal detail, as C3D's pool1) and by
  ``(2, 2, 2)`` after the others but the last. Input ``(N, T, H, W, C)``; output
  ``(N, num_outputs)``.
  """

  num_outputs: int
  channels: Sequence[int] = (16, 32, 32)
  hidden: int = 64
  act: Act = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    _check_clip(x, "Conv3DNet")
    h = x.astype(self.dtype or x.dtype)
    for i, c in enumerate(self.channels):
      h = self.act(nn.Conv(c, (3, 3, 3), padding="SAME", dtype=self.dtype)(h))
      if i < len(self.channels) - 1:
        window = (1, 2, 2) if i == 0 else (2, 2, 2)
        h = nn.max_pool(h, window, strides=window, padding="SAME")
    h = h.mean(axis=(1, 2, 3))
    return ClassifierHead(self.num_outputs, self.hidden, dtype=self.dtype)(h)

