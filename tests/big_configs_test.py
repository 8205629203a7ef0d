"""Every ladder config trains through ``train_and_evaluate`` for a few steps; the three
big-dataset configs (TFDS mnist, cifar10, imagenet2012) do so on ``tfds.testing.mock_data``."""

import importlib
import json

import jax
import pytest
import tensorflow_datasets as tfds

from jaxnets.data.augment import AUGMENTATIONS
from jaxnets.models import MODELS
from jaxnets.train import train_and_evaluate
from jaxnets.train.validation import validate_config


def _shrink(config, batch_size=4):
  """The same config (model, loss, optimizer, schedule, augmentation) for 2 tiny steps."""
  config.batch_size = batch_size
  config.eval_batch_size = batch_size
  config.num_steps = 2
  config.log_every = 1
  config.eval_every = 0
  config.checkpoint_every = 0
  config.dtype = "float32"
  if config.optimizer.get("warmup_steps", 0):
    config.optimizer.warmup_steps = 1
  return config


BIG = {
    # config -> (dataset, model, augmentation) it must keep.
    "mnist_lenet5": ("mnist", "lenet5", "none"),
    "cifar10_resnet20": ("cifar10", "resnet20", "flip_crop"),
    "imagenet_resnet50": ("imagenet2012", "resnet50", "imagenet"),
}
# Compiling a full ResNet-50 (or -20) train step takes minutes on 2 shared CPU cores, so the
# mock runs keep the config's model class, blocks, stem and shortcuts with one block per stage;
# the full depths are pinned by jax.eval_shape in models_test.py.
SHALLOW = {"cifar10_resnet20": (1, 1, 1), "imagenet_resnet50": (1, 1, 1, 1)}


@pytest.mark.parametrize("name", sorted(BIG))
def test_big_dataset_config_runs_on_mock_data(name, tmp_path):
  config = importlib.import_module(f"experiments.configs.{name}").get_config()
  assert (config.dataset.name, config.model.name, config.dataset.augment) == BIG[name]
  validate_config(config, device_count=1)
  config = _shrink(config)
  if name in SHALLOW:
    config.model.kwargs.stage_sizes = SHALLOW[name]
  if name == "imagenet_resnet50":
    config.dataset.options.image_size = 32  # mock images resized to 32x32 instead of 224x224
  with tfds.testing.mock_data(num_examples=8):
    state = train_and_evaluate(config, tmp_path)
  results = json.loads((tmp_path / "results.json").read_text())
  assert int(state.step) == 2 and results["step"] == 2
  assert 0.0 <= results["eval_accuracy"] <= 1.0
  if name != "mnist_lenet5":
    assert state.batch_stats  # BatchNorm statistics were carried through training


SMALL = ("mnist1d_logistic", "mnist1d_cnn_shuffled", "digits_perceptron", "digits_rff",
         "digits_mlp", "digits_lenet5", "digits_resnet")
# A fixed random feature map under the trainer (BatchNorm is trained by the cifar10 run above).
TRAINED = ("digits_rff",)


@pytest.mark.parametrize("name", SMALL)
def test_ladder_config_is_valid_and_builds(name):
  from jaxnets.data import get_dataset
  from jaxnets.models import get_model

  config = importlib.import_module(f"experiments.configs.{name}").get_config()
  validate_config(config, device_count=1)
  assert config.model.name in MODELS and config.dataset.augment in AUGMENTATIONS
  data = get_dataset(config.dataset.name, "test", **config.dataset.options)
  model = get_model(config.model.name, num_outputs=data.num_classes, **config.model.kwargs)
  x = jax.ShapeDtypeStruct((2, *data.image.shape[1:]), jax.numpy.float32)
  out = jax.eval_shape(model.apply, jax.eval_shape(model.init, jax.random.key(0), x), x)
  assert out.shape == (2, data.num_classes)


@pytest.mark.parametrize("name", TRAINED)
def test_ladder_config_trains(name, tmp_path):
  config = importlib.import_module(f"experiments.configs.{name}").get_config()
  state = train_and_evaluate(_shrink(config), tmp_path)
  results = json.loads((tmp_path / "results.json").read_text())
  assert int(state.step) == 2
  assert all(bool(jax.numpy.isfinite(p).all()) for p in jax.tree.leaves(state.params))
  assert 0.0 <= results["eval_accuracy"] <= 1.0
