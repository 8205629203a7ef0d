"""On-device augmentations: the right transforms, applied identically to images and masks."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.data.augment import AUGMENTATIONS, PAD


def _ramp(n=16, h=8, w=8):
  """Images whose pixel (i, j) holds i * w + j (distinct, and linear in position)."""
  base = np.arange(h * w, dtype=np.float32).reshape(h, w)
  image = np.broadcast_to(base[None, :, :, None], (n, h, w, 2)).copy()
  image[..., 1] = -image[..., 1]
  return jnp.asarray(image), jnp.asarray(np.broadcast_to(base, (n, h, w)).astype(np.int32))


def _candidates(image):
  """Every zero-pad-4 / crop / optional flip of ``image (H, W, C)``."""
  h, w = image.shape[:2]
  padded = np.pad(image, [(PAD, PAD), (PAD, PAD), (0, 0)])
  for top, left, flip in itertools.product(range(2 * PAD + 1), range(2 * PAD + 1), (0, 1)):
    crop = padded[top:top + h, left:left + w]
    yield (top, left, flip), (crop[:, ::-1] if flip else crop)


def test_flip_crop_is_a_padded_crop_or_its_mirror_and_masks_follow():
  image, mask = _ramp()
  out = jax.jit(AUGMENTATIONS["flip_crop"])(jax.random.key(0), {"image": image, "label": mask})
  seen = set()
  for i in range(len(image)):
    matches = [t for t, c in _candidates(np.asarray(image[i]))
               if np.array_equal(c, np.asarray(out["image"][i]))]
    assert len(matches) == 1
    seen.add(matches[0])
    # The mask went through the same crop and flip (its padding is the background class 0).
    np.testing.assert_array_equal(out["label"][i], out["image"][i, ..., 0].astype(np.int32))
  assert len(seen) > 8  # per-example randomness, not one transform for the batch
  assert {t[2] for t in seen} == {0, 1}


def test_class_labels_and_other_entries_pass_through():
  image, _ = _ramp(n=4)
  batch = {"image": image, "label": jnp.arange(4), "mask": jnp.ones(4)}
  for name, fn in AUGMENTATIONS.items():
    out = fn(jax.random.key(1), batch)
    assert out["image"].shape == image.shape and out["image"].dtype == image.dtype, name
    np.testing.assert_array_equal(out["label"], batch["label"])
    np.testing.assert_array_equal(out["mask"], batch["mask"])
  np.testing.assert_array_equal(AUGMENTATIONS["none"](jax.random.key(1), batch)["image"], image)


def test_same_key_same_batch_different_key_different_batch():
  image, _ = _ramp(n=8)
  for name in ("flip_crop", "imagenet"):
    fn = jax.jit(AUGMENTATIONS[name])
    a = fn(jax.random.key(0), {"image": image})["image"]
    b = fn(jax.random.key(0), {"image": image})["image"]
    c = fn(jax.random.key(1), {"image": image})["image"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c), name


def test_imagenet_crop_resamples_images_and_masks_with_one_geometry():
  image, mask = _ramp(n=32, h=16, w=16)
  out = jax.jit(AUGMENTATIONS["imagenet"])(jax.random.key(2), {"image": image, "label": mask})
  # Bilinear resampling reproduces the linear ramp i * W + j at the sampled point; the nearest
  # neighbour rounds i and j, so the two agree within half a pixel in each direction.
  diff = np.abs(np.asarray(out["image"][..., 0]) - np.asarray(out["label"]))
  assert diff.max() <= 0.5 * 16 + 0.5 + 1e-3
  assert set(np.unique(out["label"])) <= set(np.unique(mask))
  np.testing.assert_allclose(out["image"][..., 1], -out["image"][..., 0], atol=1e-4)
  # Crops are zooms: on average fewer distinct source pixels survive than in the original.
  distinct = np.mean([len(np.unique(m)) for m in np.asarray(out["label"])])
  assert distinct < 0.8 * 16 * 16
  # Horizontal flips: the ramp decreases along some rows, in about half of the images.
  flipped = np.mean(np.asarray(out["image"][:, 8, -1, 0] < out["image"][:, 8, 0, 0]))
  assert 0.2 < flipped < 0.8


def test_imagenet_crop_keeps_a_constant_image_constant():
  image = jnp.full((4, 12, 12, 3), 0.25)
  out = AUGMENTATIONS["imagenet"](jax.random.key(0), {"image": image})["image"]
  np.testing.assert_allclose(out, 0.25, atol=1e-5)
