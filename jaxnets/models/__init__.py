"""Model registry: a literal dict from name to Linen module class (or size alias).

``get_model(name, num_outputs=..., **kwargs)`` builds one; every entry has a test that pins its
output shape and exact parameter count (``tests/models_test.py``).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn

from jaxnets.errors import JaxnetsError, unknown_name
from jaxnets.models import cnn, mlp

MODELS: dict[str, Any] = {
    "logistic": mlp.Logistic,
    "mlp": mlp.MLP,
    "mlp_mnist1d": mlp.MLPMnist1d,
    "cnn1d": cnn.CNN1D,
    "cnn_mnist1d": cnn.CNNMnist1d,
    "cnn2d": cnn.CNN2D,
}


def get_model(name: str, **kwargs: Any) -> nn.Module:
  """Returns the registered model ``name`` built with ``kwargs`` (e.g. ``num_outputs=10``)."""
  if name not in MODELS:
    raise unknown_name("model", name, MODELS)
  try:
    return MODELS[name](**kwargs)
  except TypeError as e:
    raise JaxnetsError(f"bad arguments for model {name!r}: {e}") from None


__all__ = ["MODELS", "get_model"]
