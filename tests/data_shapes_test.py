"""The procedural segmentation data: shapes, determinism, classes, and not solvable per pixel."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from jaxnets.data import shapes
from jaxnets.errors import JaxnetsError
from jaxnets.eval import segmentation as sm


def _confusion(truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
  return np.bincount(truth.ravel() * k + pred.ravel(), minlength=k * k).reshape(k, k)


def test_shapes_dtypes_and_ranges():
  ds = shapes.load("test", num_examples=40)
  assert ds.image.shape == (40, 32, 32, 3) and ds.image.dtype == np.float32
  assert ds.label.shape == (40, 32, 32) and ds.label.dtype == np.int32
  assert ds.num_classes == 4 == len(shapes.CLASS_NAMES)
  assert 0.0 <= ds.image.min() and ds.image.max() <= 1.0
  # Every class occurs, and background is the majority but not everything.
  fractions = np.bincount(ds.label.ravel(), minlength=4) / ds.label.size
  assert np.all(fractions > 0.02) and 0.5 < fractions[0] < 0.9


def test_deterministic_and_splits_differ():
  a = shapes.load("train", num_examples=5, seed=3)
  b = shapes.load("train", num_examples=5, seed=3)
  np.testing.assert_array_equal(a.image, b.image)
  np.testing.assert_array_equal(a.label, b.label)
  assert not np.array_equal(a.label, shapes.load("test", num_examples=5, seed=3).label)
  assert not np.array_equal(a.label, shapes.load("train", num_examples=5, seed=4).label)


def test_image_size_option():
  ds = shapes.load("test", num_examples=3, image_size=48)
  assert ds.image.shape == (3, 48, 48, 3) and ds.label.shape == (3, 48, 48)


def test_occlusion_happens():
  # Shapes overlap: in a good share of images two different shape classes touch (one shape
  # partly hides the other).
  ds = shapes.load("test", num_examples=100)
  lab = ds.label
  touching = ((lab[:, :, 1:] != lab[:, :, :-1]) & (lab[:, :, 1:] > 0) & (lab[:, :, :-1] > 0))
  assert touching.any(axis=(1, 2)).mean() > 0.1


def test_not_solved_by_a_per_pixel_colour_classifier():
  # A multinomial logistic regression on each pixel's RGB (which includes every threshold on
  # a colour channel or their linear combinations) must stay far from the 0.85 mIoU target.
  train = shapes.load("train", num_examples=60)
  test = shapes.load("test", num_examples=60)
  clf = LogisticRegression(max_iter=300).fit(train.image.reshape(-1, 3), train.label.ravel())
  pred = clf.predict(test.image.reshape(-1, 3)).reshape(test.label.shape)
  assert sm.mean_iou(_confusion(test.label, pred, 4)) < 0.35


@pytest.mark.parametrize("kwargs", [{"split": "validation"}, {"split": "train", "num_examples": 0},
                                    {"split": "train", "num_shapes": (3, 2)},
                                    {"split": "train", "num_shapes": (1, 9)}])
def test_bad_arguments_raise_one_line(kwargs):
  with pytest.raises(JaxnetsError) as info:
    shapes.load(**kwargs)
  assert "\n" not in str(info.value)
