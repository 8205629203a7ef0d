"""Train state: flax's TrainState plus BatchNorm statistics."""

from __future__ import annotations

from typing import Any

from flax.training import train_state

from jaxnets.typing import PyTree


class TrainState(train_state.TrainState):
  """``step``, ``params``, ``opt_state`` (and static ``apply_fn``, ``tx``) plus ``batch_stats``.

  ``batch_stats`` is an empty dict for models without BatchNorm. ``params`` stays a plain
  pytree, so any ``theory`` function can take it.
  """

  batch_stats: PyTree = None

  def variables(self, params: PyTree | None = None) -> dict[str, Any]:
    """The ``variables`` dict ``module.apply`` takes."""
    variables = {"params": self.params if params is None else params}
    if self.batch_stats:
      variables["batch_stats"] = self.batch_stats
    return variables
