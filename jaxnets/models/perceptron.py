"""Rosenblatt's perceptron: a threshold unit y = H(<w, x> + b) (Rosenblatt 1958).

McCulloch & Pitts (1943) fire when a weighted sum of inputs reaches a threshold; Rosenblatt's
perceptron learns the weights. With ``num_outputs = K`` the module holds K perceptrons, one per
class (one-vs-rest): class c "fires" when its local field ``s_c = <w_c, x> + b_c >= 0``, and a
prediction is the class with the largest field. It is trained by Rosenblatt's rule in
:mod:`jaxnets.models.perceptron_rule`, and, as any linear classifier, also by gradient descent.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


def heaviside(s: jax.Array) -> jax.Array:
  """The threshold H(s) = 1 if s >= 0 else 0 (the perceptron's output), same shape as ``s``."""
  return (s >= 0).astype(jnp.int32)


class Perceptron(nn.Module):
  """K threshold units on flattened inputs: fields ``s = x W + b``, outputs ``H(s)``.

  ``__call__`` returns the fields ``(N, num_outputs)`` (so argmax and losses apply to them);
  :func:`heaviside` of them is the units' binary output. The weights start at zero, as in
  Rosenblatt's rule. Input ``(N, ...)`` is flattened to ``(N, d)``.
  """

  num_outputs: int
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    del train
    h = x.reshape((x.shape[0], -1))
    return nn.Dense(self.num_outputs, kernel_init=nn.initializers.zeros, dtype=self.dtype,
                    name="dense")(h)
