"""Residual networks with batch normalisation (He, Zhang, Ren & Sun 2016, "Deep Residual
Learning for Image Recognition").

Each block computes ``act(F(x) + shortcut(x))`` with F two 3x3 convolutions (basic block) or a
1x1-3x3-1x1 bottleneck. Two families, built from the same ``ResNet`` with injected blocks:

* CIFAR ResNet-(6n+2) (sec. 4.2): a 3x3 stem with 16 filters, three stages of n basic blocks
  with 16, 32, 64 filters on 32x32, 16x16, 8x8 maps, global average pooling, a dense layer.
  Shortcuts are identities; where the shape changes they subsample by 2 and pad the new
  channels with zeros (option A), so they add no parameters: ResNet-20/32/56 have 0.27M,
  0.46M, 0.85M parameters (269,722 / 464,154 / 853,018 with 10 classes).
* ImageNet ResNet-18/50 (sec. 3.4, Table 1): a 7x7/2 stem and 3x3/2 max-pool, four stages
  (64..512 filters), projection shortcuts (1x1 conv + BN, option B) where the shape changes;
  11,689,512 and 25,557,032 parameters with 1000 classes.

The last BN scale of every residual branch starts at zero, so each block starts as the identity
(Goyal et al. 2017, "Accurate, Large Minibatch SGD", sec. 5.1). ``batch_stats`` hold the BN
running averages; call with ``train=True`` and ``mutable=["batch_stats"]`` to update them.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

ModuleDef = Any


class PadShortcut(nn.Module):
  """Option A: ``x[:, ::s, ::s]`` with the extra ``features - C`` channels zero (no params)."""

  features: int
  strides: int
  norm: ModuleDef  # unused: shortcuts share one constructor signature

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = x[:, ::self.strides, ::self.strides]
    extra = self.features - x.shape[-1]
    return jnp.pad(x, [(0, 0)] * 3 + [(extra // 2, extra - extra // 2)]) if extra else x


class ProjectionShortcut(nn.Module):
  """Option B: a strided 1x1 convolution and BN when the shape changes, else the identity."""

  features: int
  strides: int
  norm: ModuleDef

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if self.strides == 1 and x.shape[-1] == self.features:
      return x
    x = nn.Conv(self.features, (1, 1), strides=self.strides, use_bias=False,
                dtype=x.dtype, name="conv_proj")(x)
    return self.norm(name="norm_proj")(x)


class BasicBlock(nn.Module):
  """``act(BN(conv3x3(act(BN(conv3x3(x))))) + shortcut(x))``; output has ``filters`` channels."""

  filters: int
  strides: int
  norm: ModuleDef
  shortcut: ModuleDef
  act: Callable[[jax.Array], jax.Array] = nn.relu

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    y = nn.Conv(self.filters, (3, 3), self.strides, padding=[(1, 1), (1, 1)], use_bias=False,
                dtype=x.dtype)(x)
    y = self.act(self.norm()(y))
    y = nn.Conv(self.filters, (3, 3), padding=[(1, 1), (1, 1)], use_bias=False,
                dtype=x.dtype)(y)
    y = self.norm(scale_init=nn.initializers.zeros)(y)
    return self.act(y + self.shortcut(self.filters, self.strides, self.norm)(x))


class Bottleneck(nn.Module):
  """``1x1 (filters) -> 3x3 (filters, stride) -> 1x1 (4 filters)`` plus shortcut (sec. 3.4)."""

  filters: int
  strides: int
  norm: ModuleDef
  shortcut: ModuleDef
  act: Callable[[jax.Array], jax.Array] = nn.relu

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    y = self.act(self.norm()(nn.Conv(self.filters, (1, 1), use_bias=False, dtype=x.dtype)(x)))
    # The stride sits on the 3x3 convolution (torchvision's "ResNet v1.5").
    y = nn.Conv(self.filters, (3, 3), self.strides, padding=[(1, 1), (1, 1)], use_bias=False,
                dtype=x.dtype)(y)
    y = self.act(self.norm()(y))
    y = nn.Conv(4 * self.filters, (1, 1), use_bias=False, dtype=x.dtype)(y)
    y = self.norm(scale_init=nn.initializers.zeros)(y)
    return self.act(y + self.shortcut(4 * self.filters, self.strides, self.norm)(x))


class CifarStem(nn.Module):
  """3x3 convolution, BN, act (sec. 4.2)."""

  filters: int
  norm: ModuleDef
  act: Callable[[jax.Array], jax.Array] = nn.relu

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.Conv(self.filters, (3, 3), padding=[(1, 1), (1, 1)], use_bias=False,
                dtype=x.dtype)(x)
    return self.act(self.norm()(x))


class ImageNetStem(nn.Module):
  """7x7/2 convolution, BN, act, 3x3/2 max-pool: 224x224 -> 56x56 (Table 1, conv1)."""

  filters: int
  norm: ModuleDef
  act: Callable[[jax.Array], jax.Array] = nn.relu

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.Conv(self.filters, (7, 7), 2, padding=[(3, 3), (3, 3)], use_bias=False,
                dtype=x.dtype)(x)
    x = self.act(self.norm()(x))
    return nn.max_pool(x, (3, 3), strides=(2, 2), padding=[(1, 1), (1, 1)])


class ResNet(nn.Module):
  """stem -> stages of residual blocks (stride 2 entering every stage but the first) ->
  global average pooling -> dense.

  Input ``(N, H, W, C)``; output ``(N, num_outputs)``.

  Attributes:
    stage_sizes: blocks per stage. widths: filters per stage (the stem uses ``widths[0]``).
    block, stem, shortcut: the module classes (injected, see the aliases below).
  """

  num_outputs: int
  stage_sizes: Sequence[int]
  widths: Sequence[int]
  block: ModuleDef
  stem: ModuleDef
  shortcut: ModuleDef
  act: Callable[[jax.Array], jax.Array] = nn.relu
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    norm = functools.partial(nn.BatchNorm, use_running_average=not train, momentum=0.9,
                             epsilon=1e-5, dtype=self.dtype)
    h = x.astype(self.dtype) if self.dtype is not None else x
    h = self.stem(self.widths[0], norm=norm, act=self.act)(h)
    for i, (n, filters) in enumerate(zip(self.stage_sizes, self.widths)):
      for j in range(n):
        strides = 2 if i > 0 and j == 0 else 1
        h = self.block(filters, strides, norm=norm, shortcut=self.shortcut, act=self.act)(h)
    h = h.mean(axis=(1, 2))
    return nn.Dense(self.num_outputs, dtype=self.dtype)(h)


_CifarResNet = functools.partial(ResNet, widths=(16, 32, 64), block=BasicBlock,
                                 stem=CifarStem, shortcut=PadShortcut)
ResNet8 = functools.partial(_CifarResNet, stage_sizes=(1, 1, 1))  # smallest 6n+2, for 8x8 digits
ResNet20 = functools.partial(_CifarResNet, stage_sizes=(3, 3, 3))
ResNet32 = functools.partial(_CifarResNet, stage_sizes=(5, 5, 5))
ResNet56 = functools.partial(_CifarResNet, stage_sizes=(9, 9, 9))

_ImageNetResNet = functools.partial(ResNet, widths=(64, 128, 256, 512), stem=ImageNetStem,
                                    shortcut=ProjectionShortcut)
ResNet18 = functools.partial(_ImageNetResNet, stage_sizes=(2, 2, 2, 2), block=BasicBlock)
ResNet50 = functools.partial(_ImageNetResNet, stage_sizes=(3, 4, 6, 3), block=Bottleneck)
