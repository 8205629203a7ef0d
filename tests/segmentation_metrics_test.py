"""Segmentation metrics against hand-computed confusion matrices, and the per-pixel losses."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.eval import segmentation as sm
from jaxnets.train import losses as train_losses
from jaxnets.train.metrics import confusion_matrix


def _logits(predictions: np.ndarray, num_classes: int) -> jnp.ndarray:
  return jax.nn.one_hot(jnp.asarray(predictions), num_classes) * 10.0


def test_confusion_of_a_hand_labelled_image():
  # Truth and prediction on a 2x3 image with 3 classes.
  truth = np.array([[[0, 0, 1], [1, 2, 2]]])
  pred = np.array([[[0, 1, 1], [1, 2, 0]]])
  c = np.asarray(confusion_matrix(_logits(pred, 3), jnp.asarray(truth), 3))
  # Rows: truth, columns: prediction.
  np.testing.assert_array_equal(c, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
  assert sm.pixel_accuracy(c) == pytest.approx(4 / 6)
  # Class 0: TP 1, FP 1 (a 2 predicted 0), FN 1 -> 1/3. Class 1: TP 2, FP 1, FN 0 -> 2/3.
  # Class 2: TP 1, FP 0, FN 1 -> 1/2.
  np.testing.assert_allclose(sm.class_iou(c), [1 / 3, 2 / 3, 1 / 2])
  np.testing.assert_allclose(sm.class_dice(c), [2 / 4, 4 / 5, 2 / 3])
  assert sm.mean_iou(c) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
  assert sm.mean_dice(c) == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)


def test_class_absent_from_truth_and_prediction_is_left_out():
  # 4 classes; class 3 appears nowhere, so it must not count as 0 (nor as 1) in the mean.
  c = np.array([[5, 1, 0, 0], [0, 3, 0, 0], [2, 0, 4, 0], [0, 0, 0, 0]], float)
  ious = sm.class_iou(c)
  np.testing.assert_allclose(ious[:3], [5 / 8, 3 / 4, 4 / 6])
  assert np.isnan(ious[3])
  assert sm.mean_iou(c) == pytest.approx((5 / 8 + 3 / 4 + 4 / 6) / 3)
  summary = sm.summarize_segmentation(c)
  assert summary["pixel_accuracy"] == pytest.approx(12 / 15)
  assert np.isnan(summary["iou_3"])


def test_class_only_predicted_counts_as_zero():
  # Class 2 is never true but predicted twice: IoU 0, and it does enter the mean.
  c = np.array([[3, 0, 2], [0, 4, 0], [0, 0, 0]], float)
  np.testing.assert_allclose(sm.class_iou(c), [3 / 5, 1.0, 0.0])
  assert sm.mean_iou(c) == pytest.approx((3 / 5 + 1.0 + 0.0) / 3)
  assert sm.mean_dice(c) == pytest.approx((6 / 8 + 1.0 + 0.0) / 3)


def test_batches_sum_to_the_whole_set_confusion():
  # Class 2 is absent from the first batch and class 0 from the second: the summed matrix
  # (not a mean of per-batch mIoUs) gives the whole-set metric.
  rng = np.random.default_rng(0)
  truth = rng.integers(0, 3, size=(4, 5, 5))
  truth[:2][truth[:2] == 2] = 1
  truth[2:][truth[2:] == 0] = 1
  pred = np.where(rng.random(truth.shape) < 0.7, truth, rng.integers(0, 3, truth.shape))
  whole = confusion_matrix(_logits(pred, 3), jnp.asarray(truth), 3)
  parts = sum(confusion_matrix(_logits(pred[s], 3), jnp.asarray(truth[s]), 3)
              for s in (slice(0, 2), slice(2, 4)))
  np.testing.assert_array_equal(np.asarray(whole), np.asarray(parts))
  inter = [np.sum((truth == k) & (pred == k)) for k in range(3)]
  union = [np.sum((truth == k) | (pred == k)) for k in range(3)]
  assert sm.mean_iou(np.asarray(whole)) == pytest.approx(np.mean(np.divide(inter, union)))


def test_masked_padding_does_not_count():
  truth = jnp.zeros((2, 2, 2), jnp.int32)
  pred = np.array([np.zeros((2, 2), int), np.ones((2, 2), int)])
  c = confusion_matrix(_logits(pred, 2), truth, 2, mask=jnp.array([1.0, 0.0]))
  np.testing.assert_array_equal(np.asarray(c), [[4, 0], [0, 0]])
  assert sm.mean_iou(np.asarray(c)) == 1.0


def test_non_square_confusion_is_rejected():
  with pytest.raises(ValueError, match="square"):
    sm.class_iou(np.zeros((2, 3)))


def test_dice_loss_limits():
  labels = jnp.array([[[0, 1], [1, 2]]])
  perfect = _logits(labels, 3) * 10
  # A confident correct prediction: loss ~0; the smoothing keeps an absent class at score 1.
  assert float(train_losses.dice_loss(perfect, labels)[0]) == pytest.approx(0.0, abs=1e-3)
  wrong = _logits((labels + 1) % 3, 3) * 10
  # Wrong everywhere (prediction = truth + 1 mod 3): overlap 0, so class k scores
  # s / (|p_k| + |y_k| + s) with |y| = (1, 2, 1) and |p| = (1, 1, 2) pixels.
  expected = 1 - np.mean([1 / (1 + 1 + 1), 1 / (1 + 2 + 1), 1 / (2 + 1 + 1)])
  assert float(train_losses.dice_loss(wrong, labels)[0]) == pytest.approx(expected, abs=1e-3)


def test_dice_loss_is_per_example_and_differentiable():
  logits = jax.random.normal(jax.random.key(0), (3, 4, 4, 5))
  labels = jax.random.randint(jax.random.key(1), (3, 4, 4), 0, 5)
  dice = jax.jit(train_losses.dice_loss)
  losses = dice(logits, labels)
  assert losses.shape == (3,)
  np.testing.assert_allclose(losses[1], dice(logits[1:2], labels[1:2])[0], rtol=1e-6)
  grads = jax.jit(jax.grad(lambda z: train_losses.cross_entropy_dice(z, labels).sum()))(logits)
  assert bool(jnp.all(jnp.isfinite(grads))) and float(jnp.abs(grads).sum()) > 0


def test_cross_entropy_dice_is_pixel_mean_plus_dice():
  logits = jax.random.normal(jax.random.key(2), (2, 3, 3, 4))
  labels = jax.random.randint(jax.random.key(3), (2, 3, 3), 0, 4)
  log_p = np.asarray(jax.nn.log_softmax(logits))
  ce = -np.take_along_axis(log_p, np.asarray(labels)[..., None], axis=-1)[..., 0].mean(axis=(1, 2))
  np.testing.assert_allclose(jax.jit(train_losses.cross_entropy_dice)(logits, labels),
                             ce + jax.jit(train_losses.dice_loss)(logits, labels), rtol=1e-5)
