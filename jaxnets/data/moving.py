"""Motion-defined video: a digit drifting on a torus, classified by direction and speed.

Each clip ``(T, S, S, 1)`` shows one handwritten digit (scikit-learn's 8x8 digits, any digit,
random brightness) moving with constant velocity on an ``S x S`` torus (it leaves on one side
and re-enters on the other), a second digit that stays still, and Gaussian pixel noise. The
class is the velocity: 4 directions (right, left, down, up) x the speeds in ``speeds``
(pixels per frame), ``label = direction * len(speeds) + speed_index``.

Why a single frame is at chance: the start position is uniform on the torus and the motion
wraps around, so in *every* frame the moving digit's position is uniform whatever the class;
the digit's identity, brightness, the distractor and the noise are drawn independently of the
class. One frame therefore has the same distribution for every class (its mutual information
with the label is exactly 0), and only a model that compares frames can beat ``1 / K``
(Karpathy et al. 2014 compare such single-frame and fusion models on Sports-1M).

Deterministic: split ``s`` with ``seed`` is drawn from ``np.random.default_rng([seed, s])``.
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.datasets import load_digits

from jaxnets.data.arrays import ArrayDataset
from jaxnets.errors import JaxnetsError

DIRECTIONS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}
SPLIT_SIZES = {"train": 4000, "test": 1000}
_SPLIT_IDS = {"train": 0, "test": 1}


def class_names(speeds: tuple[int, ...] = (1, 2)) -> list[str]:
  """``"<direction> <speed>px"`` for each label, in label order."""
  return [f"{d} {s}px" for d in DIRECTIONS for s in speeds]


@functools.lru_cache(maxsize=1)
def _glyphs() -> np.ndarray:
  """The 1797 scikit-learn digits as ``(1797, 8, 8)`` float32 in [0, 1]."""
  return (load_digits().images / 16.0).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _generate(split: str, seed: int, num_examples: int, num_frames: int, image_size: int,
              speeds: tuple[int, ...], noise: float, distractor: bool
              ) -> tuple[np.ndarray, np.ndarray]:
  rng = np.random.default_rng([seed, _SPLIT_IDS[split]])
  glyphs = _glyphs()
  velocities = np.array([(dy * s, dx * s) for dy, dx in DIRECTIONS.values() for s in speeds])
  labels = rng.integers(0, len(velocities), size=num_examples).astype(np.int32)
  clips = np.zeros((num_examples, num_frames, image_size, image_size), np.float32)
  t = np.arange(num_frames)
  for i in range(num_examples):
    sprite = np.zeros((image_size, image_size), np.float32)
    sprite[:8, :8] = glyphs[rng.integers(len(glyphs))] * rng.uniform(0.5, 1.0)
    start = rng.integers(0, image_size, size=2)
    vy, vx = velocities[labels[i]]
    for f, (y, x) in enumerate(zip(start[0] + vy * t, start[1] + vx * t)):
      clips[i, f] = np.roll(sprite, (y % image_size, x % image_size), axis=(0, 1))
    if distractor:
      still = np.zeros((image_size, image_size), np.float32)
      still[:8, :8] = glyphs[rng.integers(len(glyphs))] * rng.uniform(0.5, 1.0)
      still = np.roll(still, tuple(rng.integers(0, image_size, size=2)), axis=(0, 1))
      clips[i] = np.maximum(clips[i], still)
  clips += noise * rng.standard_normal(clips.shape).astype(np.float32)
  clips = np.clip(clips, 0.0, 1.0)[..., None]
  clips.setflags(write=False)
  labels.setflags(write=False)
  return clips, labels


def load(split: str, *, seed: int = 0, num_examples: int | None = None, num_frames: int = 10,
         image_size: int = 16, speeds: tuple[int, ...] = (1, 2), noise: float = 0.15,
         distractor: bool = True) -> ArrayDataset:
  """Returns clips ``image (N, T, S, S, 1)`` float32 in [0, 1] and ``label (N,)`` int32.

  Args:
    split: ``"train"`` (4000 clips by default) or ``"test"`` (1000), from disjoint streams.
    seed: the data seed; the same arguments always give the same arrays.
    num_examples: overrides the split's default size.
    num_frames: frames T per clip (Karpathy et al. 2014 feed clips of 10 frames; generate
      longer videos here to evaluate per-video predictions from several clips).
    image_size: side S of the torus (>= 8, the digits' size).
    speeds: distinct positive speeds in pixels per frame; ``4 * len(speeds)`` classes.
    noise: standard deviation of the Gaussian pixel noise.
    distractor: add a still digit, so that "where is a digit" does not reveal the motion.
  """
  if split not in SPLIT_SIZES:
    raise JaxnetsError(f"moving has splits 'train' and 'test', not {split!r}")
  n = SPLIT_SIZES[split] if num_examples is None else num_examples
  speeds = tuple(int(s) for s in speeds)
  if n < 1 or num_frames < 2 or image_size < 8:
    raise JaxnetsError(f"moving needs num_examples >= 1, num_frames >= 2 and image_size >= 8, "
                       f"got {n}, {num_frames} and {image_size}")
  if not speeds or len(set(speeds)) != len(speeds) or min(speeds) < 1:
    raise JaxnetsError(f"moving speeds must be distinct positive integers, got {speeds}")
  if 2 * max(speeds) >= image_size:
    # A displacement of S/2 per frame looks the same in both directions on the torus.
    raise JaxnetsError(f"moving speeds must be below image_size / 2 = {image_size / 2} "
                       f"pixels per frame to have a direction, got {max(speeds)}")
  clips, labels = _generate(split, int(seed), int(n), int(num_frames), int(image_size), speeds,
                            float(noise), bool(distractor))
  return ArrayDataset(image=clips, label=labels, num_classes=4 * len(speeds), name="moving")
