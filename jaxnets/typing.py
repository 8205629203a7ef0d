"""Type aliases shared across jaxnets."""

from typing import Any, Mapping, Protocol

import jax
import numpy as np

PyTree = Any
Array = jax.Array
Batch = Mapping[str, np.ndarray | jax.Array]  # {"image": (N, ...), "label": (N, ...)}
Metrics = Mapping[str, jax.Array | float]


class ApplyFn(Protocol):
  """``f(variables, x, **kwargs) -> outputs``, as returned by ``module.apply``."""

  def __call__(self, variables: PyTree, x: jax.Array, **kwargs: Any) -> Any: ...
