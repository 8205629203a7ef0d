"""Motion-defined clips: shapes, determinism, the motion itself, and frames carry no class."""

import numpy as np
import pytest

from jaxnets.data import moving
from jaxnets.errors import JaxnetsError


def test_shapes_and_classes():
  ds = moving.load("test", num_examples=64)
  assert ds.image.shape == (64, 10, 16, 16, 1) and ds.image.dtype == np.float32
  assert ds.label.shape == (64,) and ds.label.dtype == np.int32
  assert ds.num_classes == 8 == len(moving.class_names((1, 2)))
  assert 0.0 <= ds.image.min() and ds.image.max() <= 1.0
  assert set(np.unique(ds.label)) <= set(range(8))


def test_deterministic_and_splits_differ():
  a = moving.load("train", num_examples=8, seed=1)
  np.testing.assert_array_equal(a.image, moving.load("train", num_examples=8, seed=1).image)
  assert not np.array_equal(a.image, moving.load("test", num_examples=8, seed=1).image)


def _best_shift(a: np.ndarray, b: np.ndarray, max_shift: int) -> tuple[int, int]:
  """The circular shift (dy, dx) that best maps frame a onto frame b."""
  scores = {(dy, dx): np.sum(np.roll(a, (dy, dx), axis=(0, 1)) * b)
            for dy in range(-max_shift, max_shift + 1) for dx in range(-max_shift, max_shift + 1)}
  return max(scores, key=scores.get)


def test_the_label_is_the_velocity():
  # Noise-free clips without the still distractor: consecutive frames are exact circular
  # shifts by the class's velocity.
  ds = moving.load("test", num_examples=16, noise=0.0, distractor=False, speeds=(1, 3))
  velocities = [(dy * s, dx * s) for dy, dx in moving.DIRECTIONS.values() for s in (1, 3)]
  for clip, label in zip(ds.image[..., 0], ds.label):
    for t in range(3):
      np.testing.assert_array_equal(np.roll(clip[t], velocities[label], axis=(0, 1)),
                                    clip[t + 1])
    assert _best_shift(clip[0], clip[1], 3) == velocities[label]


def test_a_single_frame_does_not_reveal_the_class():
  # Where the moving digit is in a frame must not depend on the class: the per-class column
  # and row profiles of the last frame (noise-free, no distractor, ~500 clips per class)
  # agree with the overall profile up to sampling error (measured ~0.01). Without the
  # wrap-around, right-moving digits would be missing from the first columns: blanking just
  # the first 2-4 columns for the two right-moving classes moves this statistic to ~0.05.
  ds = moving.load("train", num_examples=4000, noise=0.0, distractor=False)
  frame = ds.image[:, -1, ..., 0]
  for axis in (1, 2):
    overall = frame.mean(axis=(0, axis))
    for k in range(ds.num_classes):
      profile = frame[ds.label == k].mean(axis=(0, axis))
      assert np.abs(profile - overall).max() < 0.025, (axis, k)


@pytest.mark.parametrize("kwargs", [{"split": "val"}, {"split": "train", "speeds": (1, 1)},
                                    {"split": "train", "speeds": (8,)},
                                    {"split": "train", "num_frames": 1}])
def test_bad_arguments_raise_one_line(kwargs):
  with pytest.raises(JaxnetsError) as info:
    moving.load(**kwargs)
  assert "\n" not in str(info.value)
