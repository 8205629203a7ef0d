"""Model registry: a literal dict from name to Linen module class (or size alias).

``get_model(name, num_outputs=..., **kwargs)`` builds one; every entry has a test that pins its
output shape and exact parameter count (``tests/models_test.py``). Configs hold plain values,
so ``get_model`` resolves activation names (``act="relu"``) and dtype names
(``dtype="bfloat16"``) through the literal dicts below.

The ladder of the course, in registry order: the perceptron, the logistic (softmax) classifier,
kernel classifiers by random features, two-layer and deep MLPs (standard / NTK / muP), CNNs from
the MNIST-1D net and LeNet-5 to AlexNet, VGG and ResNets.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError, unknown_name
from jaxnets.models import alexnet, cnn, kernel_classifier, lenet, mlp, perceptron, resnet, vgg
from jaxnets.models import segmentation, video

MODELS: dict[str, Any] = {
    # Linear classifiers.
    "perceptron": perceptron.Perceptron,
    "logistic": mlp.Logistic,
    # Kernel classifiers: a fixed random feature map, then a linear layer.
    "rff_classifier": kernel_classifier.RandomFourierClassifier,
    "relu_features_classifier": kernel_classifier.ReLUFeatureClassifier,
    # Fully connected networks.
    "two_layer": functools.partial(mlp.MLP, depth=1),  # one hidden layer of width m
    "mlp": mlp.MLP,
    "mlp_mnist1d": mlp.MLPMnist1d,
    # Convolutional networks.
    "cnn1d": cnn.CNN1D,
    "cnn_mnist1d": cnn.CNNMnist1d,
    "cnn2d": cnn.CNN2D,
    "lenet5": lenet.LeNet5,
    "lenet5_small": lenet.LeNet5Small,
    "alexnet": alexnet.AlexNet,
    "alexnet_small": alexnet.AlexNetSmall,
    "vgg11": vgg.VGG11,
    "vgg16": vgg.VGG16,
    "resnet8": resnet.ResNet8,
    "resnet20": resnet.ResNet20,
    "resnet32": resnet.ResNet32,
    "resnet56": resnet.ResNet56,
    "resnet18": resnet.ResNet18,
    "resnet50": resnet.ResNet50,
    # Dense and temporal prediction (issue 6): per-pixel logits (N, H, W, K), and video
    # classifiers over clips (N, T, H, W, C) (Karpathy et al. 2014 fusion models, a 3-D CNN).
    "unet": segmentation.UNet,
    "unet_groupnorm": segmentation.UNetGroupNorm,
    "fcn": segmentation.FCN,
    "fcn32s": segmentation.FCN32s,
    "single_frame": video.SingleFrame,
    "early_fusion": video.EarlyFusion,
    "late_fusion": video.LateFusion,
    "slow_fusion": video.SlowFusion,
    "conv3d": video.Conv3DNet,
}

# Names a config may give for ``act`` (any model with an ``act`` attribute).
ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": nn.sigmoid,
    "gelu": nn.gelu,
    "erf": jax.scipy.special.erf,
    "identity": lambda x: x,
}
DTYPES: dict[str, jnp.dtype] = {
    "float32": jnp.float32,
    "bfloat16": jnp.bfloat16,
    "float16": jnp.float16,
}


def _resolve(kwargs: dict[str, Any]) -> dict[str, Any]:
  """Replaces ``act`` and ``dtype`` names by the function / dtype they name."""
  kwargs = dict(kwargs)
  if isinstance(kwargs.get("act"), str):
    if kwargs["act"] not in ACTIVATIONS:
      raise unknown_name("activation", kwargs["act"], ACTIVATIONS)
    kwargs["act"] = ACTIVATIONS[kwargs["act"]]
  if isinstance(kwargs.get("dtype"), str):
    if kwargs["dtype"] not in DTYPES:
      raise unknown_name("dtype", kwargs["dtype"], DTYPES)
    kwargs["dtype"] = DTYPES[kwargs["dtype"]]
  return kwargs


def get_model(name: str, **kwargs: Any) -> nn.Module:
  """Returns the registered model ``name`` built with ``kwargs`` (e.g. ``num_outputs=10``).

  Raises:
    JaxnetsError: unknown model, activation or dtype name, or arguments the model lacks.
  """
  if name not in MODELS:
    raise unknown_name("model", name, MODELS)
  kwargs = _resolve(kwargs)
  try:
    return MODELS[name](**kwargs)
  except TypeError as e:
    raise JaxnetsError(f"bad arguments for model {name!r}: {e}") from None


__all__ = ["ACTIVATIONS", "DTYPES", "MODELS", "get_model"]
