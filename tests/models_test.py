"""Every registry entry: output shape and exact parameter count, by ``jax.eval_shape``.

Counts marked "published" are the well-known totals of the reference implementations
(torchvision for AlexNet/VGG/ResNet-18/50, He et al. 2016 Table 6 for the CIFAR ResNets,
LeCun et al. 1998 for LeNet-5); the others are the closed forms in the comments.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.models import MODELS, get_model, resnet, vgg
from jaxnets.models.perceptron import heaviside

# name -> (kwargs, input shape, output shape, parameter count). One literal dict: the
# completeness test below fails when a registry entry has no row here.
EXPECTED = {
    "perceptron": ({"num_outputs": 10}, (2, 8, 8, 1), (2, 10), 64 * 10 + 10),
    "logistic": ({"num_outputs": 10}, (2, 40, 1), (2, 10), 40 * 10 + 10),
    "rff_classifier": ({"num_outputs": 10, "num_features": 300}, (2, 8, 8, 1), (2, 10),
                       300 * 10 + 10),
    "relu_features_classifier": ({"num_outputs": 10, "num_features": 300}, (2, 8, 8, 1),
                                 (2, 10), 300 * 10 + 10),
    "two_layer": ({"num_outputs": 10, "width": 50}, (2, 40, 1), (2, 10),
                  41 * 50 + 51 * 10),
    "mlp": ({"num_outputs": 10, "width": 32, "depth": 3}, (2, 8, 8, 1), (2, 10),
            65 * 32 + 2 * 33 * 32 + 33 * 10),
    "mlp_mnist1d": ({"num_outputs": 10}, (2, 40, 1), (2, 10), 41 * 100 + 101 * 100 + 101 * 10),
    "cnn1d": ({"num_outputs": 10}, (2, 40, 1), (2, 10), 5210),  # Greydanus & Kobak 2020
    "cnn_mnist1d": ({"num_outputs": 10}, (2, 40, 1), (2, 10), 5210),
    "cnn2d": ({"num_outputs": 10}, (2, 8, 8, 1), (2, 10),
              (9 * 32 + 32) + (9 * 32 * 64 + 64) + (64 * 128 + 128) + (128 * 10 + 10)),
    "lenet5": ({"num_outputs": 10}, (2, 28, 28, 1), (2, 10), 61_706),  # published
    "lenet5_small": ({"num_outputs": 10}, (2, 8, 8, 1), (2, 10),
                     156 + 2416 + (64 * 120 + 120) + 10_164 + 850),
    "alexnet": ({"num_outputs": 1000}, (1, 224, 224, 3), (1, 1000), 61_100_840),  # published
    "alexnet_small": ({"num_outputs": 10}, (2, 32, 32, 3), (2, 10), 3_412_234),
    "vgg11": ({"num_outputs": 1000}, (1, 224, 224, 3), (1, 1000), 132_863_336),  # published
    "vgg16": ({"num_outputs": 1000}, (1, 224, 224, 3), (1, 1000), 138_357_544),  # published
    "resnet8": ({"num_outputs": 10}, (2, 8, 8, 1), (2, 10), 75_002),
    "resnet20": ({"num_outputs": 10}, (2, 32, 32, 3), (2, 10), 269_722),  # published 0.27M
    "resnet32": ({"num_outputs": 10}, (2, 32, 32, 3), (2, 10), 464_154),  # published 0.46M
    "resnet56": ({"num_outputs": 10}, (2, 32, 32, 3), (2, 10), 853_018),  # published 0.85M
    "resnet18": ({"num_outputs": 1000}, (1, 224, 224, 3), (1, 1000), 11_689_512),  # published
    "resnet50": ({"num_outputs": 1000}, (1, 224, 224, 3), (1, 1000), 25_557_032),  # published
    # Dense and temporal prediction (issue 6); closed forms in tests/models_dense_test.py.
    # U-Net width 16, depth 3: two 3x3 convs per scale (16..128 channels), 2x2 up-convs.
    "unet": ({"num_outputs": 4}, (2, 32, 32, 3), (2, 32, 32, 4), 482_084),
    # + a GroupNorm scale and bias per conv channel: 2 * 2 * (16+32+64+128 + 16+32+64).
    "unet_groupnorm": ({"num_outputs": 4}, (2, 32, 32, 3), (2, 32, 32, 4), 482_084 + 1408),
    # FCN-8s-style: 3 stages (16, 32, 64), head 128, two 4x4 up-convs and 1x1 skip scores.
    "fcn": ({"num_outputs": 4}, (2, 32, 32, 3), (2, 32, 32, 4), 147_164),
    # No skips: minus two bias-free 4x4 up-convs (2 * 256) and the 1x1 skip scores (132 + 68).
    "fcn32s": ({"num_outputs": 4}, (2, 32, 32, 3), (2, 32, 32, 4), 147_164 - 512 - 200),
    # Tower convs 1->16->32->32 (14_048 params), head 512->64->8 (33_352).
    "single_frame": ({"num_outputs": 8}, (2, 10, 16, 16, 1), (2, 8), 14_048 + 33_352),
    # First conv sees all 10 frames: 9 * 10 * 16 + 16 instead of 9 * 16 + 16.
    "early_fusion": ({"num_outputs": 8}, (2, 10, 16, 16, 1), (2, 8), 47_400 + 9 * 9 * 16),
    # Shared tower on 2 frames; head 1024->64->8 (66_120).
    "late_fusion": ({"num_outputs": 8}, (2, 10, 16, 16, 1), (2, 8), 14_048 + 66_120),
    # Convs 4x3x3 (1->16), 2x3x3 (16->32), 2x3x3 (32->32): 592 + 9_248 + 18_464; head 33_352.
    "slow_fusion": ({"num_outputs": 8}, (2, 10, 16, 16, 1), (2, 8), 28_304 + 33_352),
    # 3x3x3 convs 1->16->32->32 (41_984), global average, head 32->64->8 (2_632).
    "conv3d": ({"num_outputs": 8}, (2, 10, 16, 16, 1), (2, 8), 41_984 + 2_632),
}


def _shapes(name):
  kwargs, input_shape, _, _ = EXPECTED[name]
  model = get_model(name, **kwargs)
  x = jax.ShapeDtypeStruct(input_shape, jnp.float32)
  rngs = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
  variables = jax.eval_shape(model.init, rngs, x)
  out = jax.eval_shape(model.apply, variables, x)
  return variables, out


def test_every_registry_entry_is_pinned():
  assert set(EXPECTED) == set(MODELS), (
      f"untested: {sorted(set(MODELS) - set(EXPECTED))}; "
      f"stale: {sorted(set(EXPECTED) - set(MODELS))}")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_output_shape_and_parameter_count(name):
  variables, out = _shapes(name)
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(variables["params"]))
  assert out.shape == EXPECTED[name][2]
  assert count == EXPECTED[name][3]


def test_batch_norm_models_keep_running_statistics():
  # A one-block CIFAR-style ResNet: the same code path as resnet8..56, fewer ops to compile.
  model = resnet.ResNet(num_outputs=3, stage_sizes=(1,), widths=(4,), block=resnet.BasicBlock,
                        stem=resnet.CifarStem, shortcut=resnet.PadShortcut)
  x = jax.random.normal(jax.random.key(0), (4, 6, 6, 1)) * 3.0 + 1.0
  variables = model.init(jax.random.key(1), x)
  _, updates = model.apply(variables, x, train=True, mutable=["batch_stats"])
  before = jax.tree.leaves(variables["batch_stats"])
  after = jax.tree.leaves(updates["batch_stats"])
  assert len(after) == 2 * 3  # mean and var of the stem's BN and the block's two
  assert all(not np.allclose(a, b) for a, b in zip(before, after))
  # Evaluation uses the running averages, so an example's output ignores the rest of the batch.
  np.testing.assert_allclose(model.apply(variables, x)[:1], model.apply(variables, x[:1]),
                             rtol=1e-5, atol=1e-5)


def test_residual_blocks_start_as_identity():
  # Zero-initialised last BN scale: each block outputs act(x + 0) = x for x >= 0.
  norm = functools.partial(nn.BatchNorm, use_running_average=True)
  block = resnet.BasicBlock(4, 1, norm=norm, shortcut=resnet.PadShortcut)
  x = jnp.abs(jax.random.normal(jax.random.key(0), (2, 5, 5, 4)))
  variables = block.init(jax.random.key(1), x)
  np.testing.assert_allclose(block.apply(variables, x), x, atol=1e-6)


def test_pad_shortcut_subsamples_and_zero_pads():
  x = jnp.arange(2 * 4 * 4 * 2, dtype=jnp.float32).reshape(2, 4, 4, 2)
  y = resnet.PadShortcut(6, 2, norm=None).apply({}, x)
  assert y.shape == (2, 2, 2, 6)
  np.testing.assert_array_equal(y[..., 2:4], x[:, ::2, ::2])
  assert float(jnp.abs(y[..., :2]).sum() + jnp.abs(y[..., 4:]).sum()) == 0.0


def test_perceptron_starts_at_zero_and_thresholds():
  model = get_model("perceptron", num_outputs=3)
  x = jnp.ones((2, 5))
  variables = model.init(jax.random.key(0), x)
  assert all(float(jnp.abs(p).sum()) == 0.0 for p in jax.tree.leaves(variables))
  np.testing.assert_array_equal(heaviside(jnp.array([-1.0, 0.0, 2.0])), [0, 1, 1])


def test_dropout_only_in_training():
  model = vgg.VGG(num_outputs=4, stages=((2,),), hidden=(8,), dropout_rate=0.5)
  x = jax.random.normal(jax.random.key(0), (3, 4, 4, 1))
  variables = model.init(jax.random.key(1), x)
  np.testing.assert_array_equal(model.apply(variables, x), model.apply(variables, x))
  a = model.apply(variables, x, train=True, rngs={"dropout": jax.random.key(2)})
  b = model.apply(variables, x, train=True, rngs={"dropout": jax.random.key(3)})
  assert not np.allclose(a, b)


def test_activation_and_dtype_names_resolve():
  x = jnp.linspace(-2.0, 2.0, 8).reshape(2, 4)
  relu = get_model("mlp", num_outputs=2, width=3, depth=1, act="relu")
  tanh = get_model("mlp", num_outputs=2, width=3, depth=1, act="tanh")
  variables = relu.init(jax.random.key(0), x)
  assert not np.allclose(relu.apply(variables, x), tanh.apply(variables, x))
  half = get_model("mlp", num_outputs=2, width=3, depth=1, dtype="bfloat16")
  assert half.apply(variables, x).dtype == jnp.bfloat16


@pytest.mark.parametrize("name,kwargs", [
    ("no_such_model", {"num_outputs": 2}),
    ("mlp", {"num_outputs": 2, "act": "swishy"}),
    ("mlp", {"num_outputs": 2, "dtype": "float8"}),
    ("mlp", {"num_outputs": 2, "no_such_attribute": 1}),
])
def test_bad_names_raise_one_line_errors(name, kwargs):
  with pytest.raises(JaxnetsError) as e:
    get_model(name, **kwargs)
  assert "\n" not in str(e.value)
