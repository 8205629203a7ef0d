"""On-device data augmentation: pure jax functions ``fn(key, batch) -> batch`` (jit-able).

Each draws one random geometric transform per example and applies it identically to
``batch["image"] (N, H, W, C)`` and, when it is a spatial mask ``(N, H, W)`` (segmentation),
to ``batch["label"]``; class labels ``(N,)`` and other entries pass through unchanged. The
trainer calls ``AUGMENTATIONS[config.dataset.augment](key, batch)`` inside its jitted step.

* ``flip_crop``: the CIFAR recipe of He et al. (2016, sec. 4.2): pad 4 pixels of zeros on each
  side, take a random crop of the original size, flip horizontally with probability 1/2.
* ``imagenet``: random-resized crop (Szegedy et al. 2015, "Going deeper with convolutions",
  sec. 6: a box of 8%-100% of the area and aspect ratio in [3/4, 4/3]) resized back to the
  input size, then a random horizontal flip. Our ImageNet pipeline already resizes images to
  224x224 on the host, so the crop is taken from that image rather than from the full-size one.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from jaxnets.typing import Batch

Augmentation = Callable[[jax.Array, Batch], Batch]

PAD = 4  # pixels of zero padding for flip_crop (He et al. 2016, sec. 4.2)
LABEL_PAD = 0  # class of the padded border in segmentation masks (background)
AREA_RANGE = (0.08, 1.0)
ASPECT_RANGE = (3 / 4, 4 / 3)


def _spatial_label(batch: Batch) -> bool:
  return "label" in batch and batch["label"].ndim == batch["image"].ndim - 1


def _with(batch: Batch, image: jax.Array, label: jax.Array | None) -> dict:
  out = dict(batch)
  out["image"] = image
  if label is not None:
    out["label"] = label
  return out


def none(key: jax.Array, batch: Batch) -> Batch:
  """The identity."""
  del key
  return batch


def _flip(flip: jax.Array, x: jax.Array) -> jax.Array:
  """Mirrors ``x (H, W, ...)`` left-right when ``flip`` is true."""
  return jnp.where(flip, x[:, ::-1], x)


def flip_crop(key: jax.Array, batch: Batch) -> Batch:
  """Zero-pad by 4, random crop back to ``(H, W)``, random horizontal flip, per example."""
  image = batch["image"]
  n, h, w = image.shape[:3]
  spatial = _spatial_label(batch)
  keys = jax.random.split(key, n)

  def one(key, x, y):
    k_top, k_left, k_flip = jax.random.split(key, 3)
    top = jax.random.randint(k_top, (), 0, 2 * PAD + 1)
    left = jax.random.randint(k_left, (), 0, 2 * PAD + 1)
    flip = jax.random.bernoulli(k_flip)

    def crop(z, value):
      pad = [(PAD, PAD), (PAD, PAD)] + [(0, 0)] * (z.ndim - 2)
      z = jnp.pad(z, pad, constant_values=value)
      start = (top, left) + (0,) * (z.ndim - 2)
      return _flip(flip, jax.lax.dynamic_slice(z, start, (h, w) + z.shape[2:]))

    return crop(x, 0), (crop(y, LABEL_PAD) if spatial else y)

  label = batch["label"] if spatial else jnp.zeros((n,))
  image, label = jax.vmap(one)(keys, image, label)
  return _with(batch, image, label if spatial else None)


def _resized_crop(x: jax.Array, top: jax.Array, left: jax.Array, size_h: jax.Array,
                  size_w: jax.Array) -> jax.Array:
  """The box ``[top, top + size_h) x [left, left + size_w)`` of ``x (H, W, C)`` resized to
  ``(H, W, C)`` bilinearly, by an affine resampling (no dynamic shapes, so it runs under jit).

  Output pixel o samples the input at ``top + (o + 1/2) size_h / H - 1/2`` (pixel centres).
  """
  h, w = x.shape[:2]
  scale = jnp.array([h / size_h, w / size_w])
  translation = -jnp.array([top, left]) * scale
  return jax.image.scale_and_translate(x, x.shape, (0, 1), scale, translation,
                                       method="linear", antialias=False)


def _resized_crop_nearest(y: jax.Array, top: jax.Array, left: jax.Array, size_h: jax.Array,
                          size_w: jax.Array) -> jax.Array:
  """As :func:`_resized_crop` for a mask ``(H, W)``, by nearest neighbour (labels stay ids)."""
  h, w = y.shape[:2]
  rows = jnp.floor(top + (jnp.arange(h) + 0.5) * size_h / h).astype(jnp.int32)
  cols = jnp.floor(left + (jnp.arange(w) + 0.5) * size_w / w).astype(jnp.int32)
  return y[jnp.clip(rows, 0, h - 1)][:, jnp.clip(cols, 0, w - 1)]


def random_resized_crop_flip(key: jax.Array, batch: Batch) -> Batch:
  """Random box (area fraction in AREA_RANGE, aspect in ASPECT_RANGE) resized back, then flip."""
  image = batch["image"]
  n, h, w = image.shape[:3]
  spatial = _spatial_label(batch)
  keys = jax.random.split(key, n)

  def one(key, x, y):
    k_area, k_aspect, k_top, k_left, k_flip = jax.random.split(key, 5)
    area = jax.random.uniform(k_area, (), minval=AREA_RANGE[0], maxval=AREA_RANGE[1]) * h * w
    log_aspect = jax.random.uniform(k_aspect, (), minval=jnp.log(ASPECT_RANGE[0]),
                                    maxval=jnp.log(ASPECT_RANGE[1]))
    aspect = jnp.exp(log_aspect)  # width / height
    # Clip to the image: a box that does not fit is shrunk to the full side.
    size_h = jnp.clip(jnp.sqrt(area / aspect), 1.0, h)
    size_w = jnp.clip(jnp.sqrt(area * aspect), 1.0, w)
    top = jax.random.uniform(k_top, ()) * (h - size_h)
    left = jax.random.uniform(k_left, ()) * (w - size_w)
    flip = jax.random.bernoulli(k_flip)
    x = _flip(flip, _resized_crop(x, top, left, size_h, size_w))
    if spatial:
      y = _flip(flip, _resized_crop_nearest(y, top, left, size_h, size_w))
    return x, y

  label = batch["label"] if spatial else jnp.zeros((n,))
  image, label = jax.vmap(one)(keys, image, label)
  return _with(batch, image.astype(batch["image"].dtype), label if spatial else None)


AUGMENTATIONS: dict[str, Augmentation] = {
    "none": none,
    "flip_crop": flip_crop,
    "imagenet": random_resized_crop_flip,
}
