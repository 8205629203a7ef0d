"""Procedural segmentation data: textured discs, squares and triangles on a textured background.

Each ``image_size x image_size`` RGB image holds 1-3 shapes of random size, position and
rotation, drawn in random order so that later shapes occlude earlier ones; the per-pixel label
is the class of the visible surface (0 background, 1 disc, 2 square, 3 triangle).

Why it is not solved by a threshold: every surface (background and each shape) takes its base
colour uniformly over RGB, so a pixel's colour says nothing about its class. What separates
the classes is spatial: a shape differs in colour from what surrounds it (base colours of one
image are at least ``_MIN_COLOR_DISTANCE`` apart), carries a high-frequency texture (stripes or
a checkerboard of random period and orientation) while the background is a smooth random
field, and the three shape classes differ only in their outline (curved, four corners, three
corners), which an occluded shape may show only in part. Gaussian pixel noise is added on top.
(``tests/data_shapes_test.py`` checks that a per-pixel colour classifier fails.)

Deterministic: split ``s`` with ``seed`` is drawn from ``np.random.default_rng([seed, s])``.
"""

from __future__ import annotations

import functools

import numpy as np

from jaxnets.data.arrays import ArrayDataset
from jaxnets.errors import JaxnetsError

CLASS_NAMES = ("background", "disc", "square", "triangle")
NUM_CLASSES = len(CLASS_NAMES)
SPLIT_SIZES = {"train": 4000, "test": 500}
_TEXTURE_CONTRAST = 0.2  # max per-channel difference between a texture's two colours
_MIN_COLOR_DISTANCE = 0.5  # min RGB distance between the base colours of surfaces
_MAX_SHAPES = 6
_SPLIT_IDS = {"train": 0, "test": 1}


def _outline(kind: int, u: np.ndarray, v: np.ndarray, radius: float) -> np.ndarray:
  """Boolean mask of shape ``kind`` with circumradius ``radius`` in rotated coordinates u, v."""
  if kind == 1:  # disc
    return u * u + v * v <= radius * radius
  if kind == 2:  # square inscribed in the circle: half-side r / sqrt(2)
    return np.maximum(np.abs(u), np.abs(v)) <= radius / np.sqrt(2.0)
  # Equilateral triangle: inside the three edges at distance r/2 from the centre.
  inside = np.ones(u.shape, bool)
  for angle in (np.pi / 2, np.pi / 2 + 2 * np.pi / 3, np.pi / 2 + 4 * np.pi / 3):
    inside &= -(u * np.cos(angle) + v * np.sin(angle)) <= radius / 2
  return inside


def _texture(rng: np.random.Generator, base: np.ndarray, yy: np.ndarray, xx: np.ndarray
             ) -> np.ndarray:
  """A two-colour high-frequency texture ``(H, W, 3)`` around ``base``: stripes or checkers."""
  second = np.clip(base + rng.uniform(-_TEXTURE_CONTRAST, _TEXTURE_CONTRAST, size=3), 0.0, 1.0)
  period = rng.uniform(3.0, 6.0)
  theta = rng.uniform(0.0, np.pi)
  a = (xx * np.cos(theta) + yy * np.sin(theta)) / period
  if rng.random() < 0.5:
    pattern = np.floor(a) % 2
  else:
    b = (-xx * np.sin(theta) + yy * np.cos(theta)) / period
    pattern = (np.floor(a) + np.floor(b)) % 2
  return base + pattern[..., None] * (second - base)


def _distinct_color(rng: np.random.Generator, others: list[np.ndarray]) -> np.ndarray:
  """A uniform RGB colour at least ``_MIN_COLOR_DISTANCE`` from each of ``others``.

  Rejection sampling: the colour's marginal stays nearly uniform, but a shape never vanishes
  into the background or into a neighbour of the same colour.
  """
  while True:
    color = rng.uniform(0.0, 1.0, size=3)
    if all(np.linalg.norm(color - o) >= _MIN_COLOR_DISTANCE for o in others):
      return color


def _background(rng: np.random.Generator, base: np.ndarray, size: int) -> np.ndarray:
  """A smooth random field ``(H, W, 3)`` around ``base`` (bilinear upsampling of 4x4 noise)."""
  other = np.clip(base + rng.uniform(-_TEXTURE_CONTRAST, _TEXTURE_CONTRAST, size=3), 0.0, 1.0)
  coarse = rng.uniform(0.0, 1.0, size=(4, 4))
  grid = np.linspace(0, 3, size)
  i0 = np.minimum(np.floor(grid).astype(int), 2)
  f = grid - i0
  rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]
  field = rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]
  return base + field[..., None] * (other - base)


def _example(rng: np.random.Generator, size: int, num_shapes: tuple[int, int], noise: float
             ) -> tuple[np.ndarray, np.ndarray]:
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
  colors = [rng.uniform(0.0, 1.0, size=3)]
  image = _background(rng, colors[0], size)
  label = np.zeros((size, size), np.int32)
  scale = size / 32.0
  for _ in range(rng.integers(num_shapes[0], num_shapes[1] + 1)):
    kind = int(rng.integers(1, NUM_CLASSES))
    radius = rng.uniform(7.0, 11.0) * scale
    cy, cx = rng.uniform(0.2 * size, 0.8 * size, size=2)
    theta = rng.uniform(0.0, 2 * np.pi)
    dy, dx = yy - cy, xx - cx
    u = dx * np.cos(theta) + dy * np.sin(theta)
    v = -dx * np.sin(theta) + dy * np.cos(theta)
    inside = _outline(kind, u, v, radius)
    colors.append(_distinct_color(rng, colors))
    image = np.where(inside[..., None], _texture(rng, colors[-1], yy, xx), image)
    label = np.where(inside, kind, label)  # drawn later, seen on top: occlusion
  image = image + noise * rng.standard_normal(image.shape)
  return np.clip(image, 0.0, 1.0).astype(np.float32), label


@functools.lru_cache(maxsize=8)
def _generate(split: str, seed: int, num_examples: int, image_size: int,
              num_shapes: tuple[int, int], noise: float) -> tuple[np.ndarray, np.ndarray]:
  rng = np.random.default_rng([seed, _SPLIT_IDS[split]])
  images = np.empty((num_examples, image_size, image_size, 3), np.float32)
  labels = np.empty((num_examples, image_size, image_size), np.int32)
  for i in range(num_examples):
    images[i], labels[i] = _example(rng, image_size, num_shapes, noise)
  images.setflags(write=False)
  labels.setflags(write=False)
  return images, labels


def load(split: str, *, seed: int = 0, num_examples: int | None = None, image_size: int = 32,
         num_shapes: tuple[int, int] = (1, 3), noise: float = 0.06) -> ArrayDataset:
  """Returns ``image (N, S, S, 3)`` float32 in [0, 1] and ``label (N, S, S)`` int32 in 0..3.

  Args:
    split: ``"train"`` (4000 images by default) or ``"test"`` (500), drawn from disjoint
      random streams.
    seed: the data seed; the same arguments always give the same arrays.
    num_examples: overrides the split's default size.
    image_size: side S in pixels (shape sizes scale with it; default 32).
    num_shapes: inclusive range of the number of shapes per image (at most 6).
    noise: standard deviation of the Gaussian pixel noise.
  """
  if split not in SPLIT_SIZES:
    raise JaxnetsError(f"shapes has splits 'train' and 'test', not {split!r}")
  n = SPLIT_SIZES[split] if num_examples is None else num_examples
  if n < 1 or image_size < 8:
    raise JaxnetsError(f"shapes needs num_examples >= 1 and image_size >= 8, got {n} and "
                       f"{image_size}")
  low, high = (int(k) for k in num_shapes)
  if not 1 <= low <= high <= _MAX_SHAPES:
    # More surfaces than this cannot all keep distinct colours (see _distinct_color).
    raise JaxnetsError(f"shapes num_shapes must be (low, high) with 1 <= low <= high <= "
                       f"{_MAX_SHAPES}, got {tuple(num_shapes)}")
  images, labels = _generate(split, int(seed), int(n), int(image_size), (low, high),
                             float(noise))
  return ArrayDataset(image=images, label=labels, num_classes=NUM_CLASSES, name="shapes")
