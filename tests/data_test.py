"""Data registry: embedded datasets, TFDS on mock data, clear errors, deterministic sharding."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from jaxnets.data import DATASETS, get_dataset
from jaxnets.data.sampling import eval_batches, global_batch_indices, local_slice, train_batches
from jaxnets.errors import JaxnetsError


def test_mnist1d_matches_the_paper_split_and_is_deterministic():
  train, test = get_dataset("mnist1d", "train"), get_dataset("mnist1d", "test")
  assert (len(train), len(test)) == (4000, 1000)
  assert train.image.shape == (4000, 40, 1) and train.image.dtype == np.float32
  assert set(np.unique(train.label)) == set(range(10))
  again = get_dataset("mnist1d", "train")
  np.testing.assert_array_equal(train.image, again.image)
  # The generator seeds NumPy's global RNG internally; loading must not leak that.
  np.random.seed(123)
  expected = np.random.rand()
  np.random.seed(123)
  get_dataset("mnist1d", "test", num_samples=600)
  assert np.random.rand() == expected


def test_mnist1d_shuffled_variant_permutes_positions_only():
  plain = get_dataset("mnist1d", "train", num_samples=500)
  shuffled = get_dataset("mnist1d", "train", num_samples=500, shuffle_seq=True)
  np.testing.assert_array_equal(plain.label, shuffled.label)
  assert not np.allclose(plain.image, shuffled.image)
  np.testing.assert_allclose(np.sort(plain.image[:, :, 0], axis=1),
                             np.sort(shuffled.image[:, :, 0], axis=1), rtol=1e-6)


def test_digits_split_is_fixed_disjoint_and_stratified():
  train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
  assert len(train) + len(test) == 1797 and len(test) == 359
  assert train.image.shape[1:] == (8, 8, 1) and 0 <= train.image.min() and train.image.max() <= 1
  flat_train = {x.tobytes() for x in train.image}
  overlap = sum(x.tobytes() in flat_train for x in test.image)
  assert overlap <= 2  # the digits set itself holds a few duplicate images
  counts = np.bincount(test.label, minlength=10)
  assert counts.min() >= 34 and counts.max() <= 37


@pytest.mark.parametrize("name,shape,classes", [("mnist", (28, 28, 1), 10),
                                                ("cifar10", (32, 32, 3), 10),
                                                ("imagenet2012", (224, 224, 3), 1000)])
def test_tfds_datasets_read_by_random_access(name, shape, classes):
  with tfds.testing.mock_data(num_examples=12):
    ds = get_dataset(name, "train")
    batch = ds.get_batch(np.array([3, 0, 7]))
  assert len(ds) == 12 and ds.num_classes == classes
  assert batch["image"].shape == (3, *shape) and batch["image"].dtype == np.float32
  assert 0.0 <= batch["image"].min() and batch["image"].max() <= 1.0
  assert batch["label"].shape == (3,) and batch["label"].dtype == np.int32


def test_unprepared_tfds_dataset_gives_one_line_naming_dataset_dir_and_fix(tmp_path):
  with pytest.raises(JaxnetsError) as e:
    get_dataset("fashion_mnist", "train", data_dir=str(tmp_path))
  message = str(e.value)
  assert "\n" not in message
  assert "fashion_mnist" in message and str(tmp_path) in message and "tfds build" in message


def test_unknown_dataset_lists_the_known_ones():
  with pytest.raises(JaxnetsError, match="unknown dataset 'mnist2d'.*digits.*mnist1d"):
    get_dataset("mnist2d", "train")
  with pytest.raises(JaxnetsError, match="splits"):
    get_dataset("digits", "validation")
  with pytest.raises(JaxnetsError, match="bad options"):
    get_dataset("digits", "train", shuffle_seq=True)
  assert {"mnist1d", "digits", "mnist", "fashion_mnist", "cifar10"} <= set(DATASETS)


def test_global_batches_are_a_pure_function_of_seed_and_step():
  a = global_batch_indices(103, 10, step=25, seed=1)
  b = global_batch_indices(103, 10, step=25, seed=1)
  np.testing.assert_array_equal(a, b)
  # one epoch (10 steps of 10) visits 100 distinct examples
  epoch = np.concatenate([global_batch_indices(103, 10, s, seed=1) for s in range(10)])
  assert len(set(epoch.tolist())) == 100
  assert not np.array_equal(global_batch_indices(103, 10, 0, 1), global_batch_indices(103, 10, 10, 1))
  with pytest.raises(JaxnetsError, match="larger than the dataset"):
    global_batch_indices(5, 10, 0, 0)


def test_process_shards_concatenate_to_the_global_batch():
  ds = get_dataset("digits", "train")
  whole = next(train_batches(ds, 12, seed=3, start_step=7))
  parts = [next(train_batches(ds, 12, seed=3, start_step=7, process_index=p, process_count=3))
           for p in range(3)]
  np.testing.assert_array_equal(np.concatenate([p["label"] for p in parts]), whole["label"])
  np.testing.assert_array_equal(np.concatenate([p["image"] for p in parts]), whole["image"])
  with pytest.raises(JaxnetsError, match="not divisible by the process count"):
    local_slice(10, 0, 3)


def test_eval_batches_cover_every_example_once_with_a_mask():
  ds = get_dataset("digits", "test")
  batches = list(eval_batches(ds, 100))
  assert all(b["image"].shape[0] == 100 for b in batches)
  mask = np.concatenate([b["mask"] for b in batches])
  labels = np.concatenate([b["label"] for b in batches])
  assert mask.sum() == len(ds)
  np.testing.assert_array_equal(labels[mask == 1], ds.label)
