"""Segmentation and video models: shapes, exact parameter counts from the architecture, and
the properties that define each design (what the output can depend on)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.errors import JaxnetsError
from jaxnets.models import segmentation, video


def _count(variables) -> int:
  return sum(int(np.prod(a.shape)) for a in jax.tree.leaves(variables))


def _conv(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
  """Parameters of a k x k (or k-element product) convolution."""
  return k * c_in * c_out + (c_out if bias else 0)


def _init_apply(model, x):
  """Abstract evaluation (shapes only, nothing compiled): the variables' and output's shapes."""
  variables = jax.eval_shape(model.init, jax.random.key(0), x)
  return variables, jax.eval_shape(model.apply, variables, x)


# --- segmentation ---------------------------------------------------------------------------

def _unet_params(c_in: int, k: int, width: int, depth: int) -> int:
  total, prev = 0, c_in
  for i in range(depth + 1):  # encoder stages and the bottleneck: two 3x3 convs each
    w = width * 2 ** i
    total += _conv(9, prev, w) + _conv(9, w, w)
    prev = w
  for i in reversed(range(depth)):  # 2x2 transposed conv, then two 3x3 convs on the concat
    w = width * 2 ** i
    total += _conv(4, prev, w) + _conv(9, 2 * w, w) + _conv(9, w, w)
    prev = w
  return total + _conv(1, prev, k)


def _fcn_params(c_in: int, k: int, channels, head: int, skips: int) -> int:
  total, prev = 0, c_in
  for c in channels:
    total += _conv(9, prev, c) + _conv(9, c, c)
    prev = c
  total += _conv(9, prev, head) + _conv(1, head, k)
  for j in range(skips):  # bias-free 4x4 up-sampling and a 1x1 score of the finer stage
    total += _conv(16, k, k, bias=False) + _conv(1, channels[-2 - j], k)
  return total


@pytest.mark.parametrize("width,depth", [(16, 3), (8, 2)])
def test_unet_shape_and_parameter_count(width, depth):
  x = jnp.ones((2, 32, 32, 3))
  variables, y = _init_apply(segmentation.UNet(num_outputs=4, width=width, depth=depth), x)
  assert y.shape == (2, 32, 32, 4)
  assert _count(variables) == _unet_params(3, 4, width, depth)


@pytest.mark.parametrize("skips", [0, 1, 2])
def test_fcn_shape_and_parameter_count(skips):
  x = jnp.ones((2, 32, 48, 3))  # non-square inputs keep their shape
  model = segmentation.FCN(num_outputs=5, channels=(8, 16, 32), head_features=32,
                           num_skips=skips)
  variables, y = _init_apply(model, x)
  assert y.shape == (2, 32, 48, 5)
  assert _count(variables) == _fcn_params(3, 5, (8, 16, 32), 32, skips)


def test_variants():
  x = jnp.ones((1, 32, 32, 3))
  groupnorm = _unet_params(3, 4, 16, 3) + sum(  # a scale and a bias per channel of each conv
      2 * 2 * 16 * 2 ** i for i in range(4)) + sum(2 * 2 * 16 * 2 ** i for i in range(3))
  assert _count(_init_apply(segmentation.UNetGroupNorm(num_outputs=4), x)[0]) == groupnorm
  assert _count(_init_apply(segmentation.FCN8s(num_outputs=4), x)[0]) == \
      _fcn_params(3, 4, (16, 32, 64), 128, 2)
  assert _count(_init_apply(segmentation.FCN32s(num_outputs=4), x)[0]) == \
      _fcn_params(3, 4, (16, 32, 64), 128, 0)


def test_bilinear_initialisation_upsamples_a_ramp_exactly():
  # A transposed conv of stride 2 with the bilinear kernel maps a linear ramp to a linear ramp
  # of half the slope (away from the border), per channel and without mixing channels.
  import flax.linen as nn

  layer = nn.ConvTranspose(2, (4, 4), strides=(2, 2), padding="SAME", use_bias=False,
                           kernel_init=segmentation.bilinear_kernel_init)
  ramp = jnp.broadcast_to(jnp.arange(6.0)[:, None, None], (6, 6, 2)) * jnp.array([1.0, -2.0])
  out = layer.apply(layer.init(jax.random.key(0), ramp[None]), ramp[None])[0]
  interior = out[2:-2, 2:-2]
  np.testing.assert_allclose(np.diff(interior[..., 0], axis=0), 0.5, atol=1e-6)
  np.testing.assert_allclose(np.diff(interior[..., 1], axis=0), -1.0, atol=1e-6)
  np.testing.assert_allclose(np.diff(interior, axis=1), 0.0, atol=1e-6)


def test_segmentation_outputs_are_local():
  # Fully convolutional with a bounded receptive field: a change of the top-left pixel changes
  # the logits there but not at the far corner of a 32x32 image (a depth-1 U-Net sees 14 px).
  model = segmentation.UNet(num_outputs=2, width=2, depth=1)
  x = jax.random.normal(jax.random.key(1), (2, 32, 32, 3))
  x = x.at[1].set(x[0]).at[1, 0, 0].add(5.0)  # both images in one call: one compilation
  y = jax.jit(model.apply)(jax.jit(model.init)(jax.random.key(0), x[:1]), x)
  changed = np.abs(np.asarray(y[1] - y[0])).max(axis=-1) > 1e-6
  assert changed[0, 0] and not changed[-1, -1]


@pytest.mark.parametrize("model", [segmentation.UNet(num_outputs=2, depth=3),
                                   segmentation.FCN(num_outputs=2)])
def test_indivisible_sizes_raise_one_line(model):
  with pytest.raises(JaxnetsError, match="divisible by 8"):
    _init_apply(model, jnp.ones((1, 20, 20, 3)))


def test_fcn_too_many_skips_raise():
  with pytest.raises(JaxnetsError, match="num_skips"):
    _init_apply(segmentation.FCN(num_outputs=2, num_skips=3), jnp.ones((1, 8, 8, 3)))


# --- video ----------------------------------------------------------------------------------

CLIP = (2, 10, 16, 16, 1)
TOWER = (4, 8)


def _tower_params(c_in: int) -> int:
  return _conv(9, c_in, 4) + _conv(9, 4, 8)


def _head_params(features: int, hidden: int, k: int) -> int:
  return _conv(1, features, hidden) + _conv(1, hidden, k)


VIDEO_MODELS = {
    # name: (model, expected parameter count from the architecture)
    "single_frame": (video.SingleFrame(num_outputs=8, channels=TOWER, hidden=32),
                     _tower_params(1) + _head_params(8 * 8 * 8, 32, 8)),
    "early_fusion": (video.EarlyFusion(num_outputs=8, channels=TOWER, hidden=32),
                     _tower_params(10) + _head_params(8 * 8 * 8, 32, 8)),
    "late_fusion": (video.LateFusion(num_outputs=8, channels=TOWER, hidden=32),
                    _tower_params(1) + _head_params(2 * 8 * 8 * 8, 32, 8)),
    # 10 frames -> 4 -> 1 with temporal kernels (4, 4), strides (2, 1); space 16 -> 8.
    "slow_fusion": (video.SlowFusion(num_outputs=8, channels=TOWER, temporal_kernels=(4, 4),
                                     temporal_strides=(2, 1), hidden=32),
                    _conv(4 * 9, 1, 4) + _conv(4 * 9, 4, 8)
                    + _head_params(1 * 8 * 8 * 8, 32, 8)),
    "conv3d": (video.Conv3DNet(num_outputs=8, channels=TOWER, hidden=32),
               _conv(27, 1, 4) + _conv(27, 4, 8) + _head_params(8, 32, 8)),
}


@pytest.mark.parametrize("name", sorted(VIDEO_MODELS))
def test_video_shape_and_parameter_count(name):
  model, expected = VIDEO_MODELS[name]
  variables, y = _init_apply(model, jnp.ones(CLIP))
  assert y.shape == (2, 8)
  assert _count(variables) == expected


def _frames_that_matter(model) -> list[int]:
  """Frames whose change changes the output (all perturbed clips in one call)."""
  x = jax.random.uniform(jax.random.key(2), (1,) + CLIP[1:])
  t = CLIP[1]
  perturbed = jnp.concatenate([x, jnp.repeat(x, t, axis=0) + jnp.eye(t)[:, :, None, None, None]])
  y = jax.jit(model.apply)(jax.jit(model.init)(jax.random.key(0), x), perturbed)
  return [f for f in range(t) if float(jnp.abs(y[1 + f] - y[0]).max()) > 1e-6]


# The restricted designs, and slow fusion's full temporal receptive field (early fusion and the
# 3-D CNN see every frame by construction: their first layer spans / convolves all frames).
@pytest.mark.parametrize("name,frames", [("single_frame", [5]), ("late_fusion", [0, 9]),
                                         ("slow_fusion", list(range(10)))])
def test_which_frames_each_model_sees(name, frames):
  assert _frames_that_matter(VIDEO_MODELS[name][0]) == frames


def test_default_slow_fusion_collapses_ten_frames_to_one():
  # The paper's temporal extents (4, 2, 2) with stride 2: 10 -> 4 -> 2 -> 1 positions, so the
  # head sees 1 x 4 x 4 x 32 features (space 16 -> 8 -> 4).
  variables, _ = _init_apply(video.SlowFusion(num_outputs=8), jnp.ones(CLIP))
  head_in = variables["params"]["ClassifierHead_0"]["Dense_0"]["kernel"].shape[0]
  assert head_in == 1 * 4 * 4 * 32


def test_video_models_reject_bad_clips():
  with pytest.raises(JaxnetsError, match="clips"):
    _init_apply(video.Conv3DNet(num_outputs=2), jnp.ones((2, 10, 16, 16)))
  with pytest.raises(JaxnetsError, match="longer clips"):
    _init_apply(video.SlowFusion(num_outputs=2), jnp.ones((1, 4, 16, 16, 1)))
  short = functools.partial(video.SlowFusion, num_outputs=2, channels=(4,))
  with pytest.raises(JaxnetsError, match="one entry per layer"):
    _init_apply(short(), jnp.ones((1, 10, 16, 16, 1)))
