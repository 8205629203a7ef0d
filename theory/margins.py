r"""Margins, spectral complexity and margin-based generalization bounds of ReLU networks.

A network's margin on ``(x, y)`` is ``f(x)_y - max_{j != y} f(x)_j``; it is scale dependent, so
Bartlett, Foster & Telgarsky (2017, "Spectrally-normalized margin bounds for neural networks",
NeurIPS; BFT) divide it by the spectral complexity ``R_A`` times the data scale. Random labels
can be fit with raw margins like those of true labels, but only with a much larger ``R_A``:
their normalized margins are much smaller (BFT, Figure 2).

Weights are handed over as a list of matrices ``(fan_in, fan_out)`` (flax's kernel layout),
input layer first; ``mlp_weight_matrices`` extracts them from a ``jaxnets`` MLP, folding the
biases in so that the bias-free theorems apply exactly.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError
from jaxnets.models.layers import layer_scales
from jaxnets.typing import PyTree
from theory import generalization


def mlp_weight_matrices(model: Any, params: PyTree) -> list[np.ndarray]:
  r"""The effective weight matrices of a ``jaxnets.models.mlp.MLP`` with biases folded in.

  Layer ``i`` computes ``h -> a_i h W_i + c_i b_i`` (``a_i``, ``c_i`` the parametrization's
  multipliers). Appending a constant 1 to the input and keeping it through every ReLU
  (``relu(1) = 1``) makes the network bias-free with matrices

      hidden: [[a W, 0], [c b, 1]]  (fan_in + 1, fan_out + 1),   output: [[a W], [c b]],

  which compute exactly the same function of ``[x, 1]``. Without biases the matrices are
  ``a W``. Returns float64 numpy matrices, input layer first.
  """
  params = params.get("params", params)
  names = sorted((k for k in params if k.startswith("dense_")), key=lambda k: int(k[6:]))
  if not names:
    raise JaxnetsError("params have no dense_<i> layers; pass the params of a jaxnets MLP")
  has_bias = any("bias" in params[n] for n in names)
  mats = []
  for i, name in enumerate(names):
    kernel = np.asarray(params[name]["kernel"], dtype=np.float64)
    fan_in, fan_out = kernel.shape
    if model.parametrization == "standard":
      mult, bias_mult = 1.0, 1.0
    else:
      role = "input" if i == 0 else ("output" if i == len(names) - 1 else "hidden")
      mult, _ = layer_scales(model.parametrization, role, fan_in, fan_out, model.w_std)
      bias_mult = model.b_std
    w = mult * kernel
    if has_bias:
      bias = bias_mult * np.asarray(params[name].get("bias", np.zeros(fan_out)), np.float64)
      w = np.vstack([w, bias[None]])
      if i < len(names) - 1:  # carry the constant 1 to the next layer
        carry = np.zeros((fan_in + 1, 1))
        carry[-1] = 1.0
        w = np.hstack([w, carry])
    mats.append(w)
  return mats


def augment_inputs(x: jax.Array, weights: Sequence[np.ndarray]) -> np.ndarray:
  """Flattens ``x`` to ``(m, d)`` and appends the constant-1 column when ``weights`` have
  folded biases (first matrix has ``d + 1`` rows)."""
  x = np.asarray(x, dtype=np.float64).reshape(np.asarray(x).shape[0], -1)
  rows = np.asarray(weights[0]).shape[0]
  if rows == x.shape[1] + 1:
    return np.hstack([x, np.ones((x.shape[0], 1))])
  if rows != x.shape[1]:
    raise JaxnetsError(f"inputs have {x.shape[1]} features but the first layer expects {rows}")
  return x


def classification_margins(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Margins ``f(x)_y - max_{j != y} f(x)_j``, shape ``(N,)``; for one logit (binary,
  labels in {0, 1}) the margin is ``(2 y - 1) f(x)``. Positive iff correctly classified."""
  logits = jnp.asarray(logits)
  labels = jnp.asarray(labels)
  if logits.ndim != 2:
    raise JaxnetsError(f"logits must be (N, K), got shape {logits.shape}")
  if logits.shape[1] == 1:
    return (2.0 * labels - 1.0) * logits[:, 0]
  true = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
  others = jnp.where(jax.nn.one_hot(labels, logits.shape[1], dtype=bool), -jnp.inf, logits)
  return true - others.max(axis=1)


def spectral_norm(w: np.ndarray) -> float:
  """Largest singular value ``||W||_sigma``."""
  return float(np.linalg.norm(np.asarray(w, dtype=np.float64), 2))


def spectral_complexity(weights: Sequence[np.ndarray],
                        references: Sequence[np.ndarray] | None = None) -> float:
  r"""BFT spectral complexity of a ReLU network (1-Lipschitz activations, ``rho_i = 1``):

      R_A = (prod_i ||A_i||_sigma) (sum_i ||A_i^T - M_i^T||_{2,1}^{2/3} / ||A_i||_sigma^{2/3})^{3/2}

  (BFT, eq. 1.2). ``A_i`` maps layer ``i-1`` to layer ``i``; our matrices are ``A_i^T`` (shape
  ``(fan_in, fan_out)``), and ``||Z||_{2,1}`` sums the l2 norms of the columns of ``Z``, i.e. of
  the incoming weights of each unit. ``references`` ``M_i`` default to zero (BFT's experiments);
  the initialization is another admissible choice.
  """
  if references is None:
    references = [np.zeros_like(np.asarray(w)) for w in weights]
  specs = [spectral_norm(w) for w in weights]
  corr = sum((np.linalg.norm(np.asarray(w, np.float64) - np.asarray(m, np.float64), axis=0).sum()
              / s) ** (2.0 / 3.0) for w, m, s in zip(weights, references, specs))
  return float(np.prod(specs) * corr ** 1.5)


def normalized_margins(margins: jax.Array, weights: Sequence[np.ndarray],
                       x: jax.Array) -> np.ndarray:
  r"""BFT's spectrally-normalized margins ``margin / (R_A ||X||_2 / m)``, with ``||X||_2 =
  sqrt(sum_i ||x_i||^2)`` (BFT, sec. 2, Figure 2). ``x``: training inputs ``(m, ...)``."""
  xa = augment_inputs(x, weights)
  scale = spectral_complexity(weights) * math.sqrt(np.sum(xa * xa)) / xa.shape[0]
  return np.asarray(margins, dtype=np.float64) / scale


def ramp_margin_error(margins: jax.Array, gamma: float) -> float:
  """Empirical margin loss ``Rhat_gamma = (1/m) #{i : margin_i <= gamma}`` (an upper bound on
  the ramp loss used in the theorems)."""
  return float(np.mean(np.asarray(margins) <= gamma))


def spectral_margin_bound(margins: jax.Array, weights: Sequence[np.ndarray], x: jax.Array,
                          gamma: float, delta: float = 0.05) -> float:
  r"""Spectrally-normalized margin bound on the 0-1 test error (BFT, Theorem 3.1 / 1.1).

  With probability ``>= 1 - delta`` over the ``m`` training examples,

      P[argmax_j f(x)_j != y] <= Rhat_gamma(f) + 8/m
                                 + 72 ||X||_2 R_A ln(2 W) ln(m) / (gamma m)
                                 + 3 sqrt(ln(1/delta) / (2 m)),

  ``W`` the largest layer width. This is the statement for norm budgets fixed in advance
  (BFT, Lemma A.8 with ``s_i, b_i`` set to this network's norms); the fully data-dependent
  Theorem 1.1 adds a union bound over the budgets costing ``O(sqrt(ln ln / m))`` more, so the
  value returned is slightly optimistic. Deep nets make it vacuous by orders of magnitude; its
  use is in comparing networks.
  """
  if gamma <= 0:
    raise JaxnetsError(f"gamma must be positive, got {gamma}")
  xa = augment_inputs(x, weights)
  m = xa.shape[0]
  width = max(max(np.asarray(w).shape) for w in weights)
  complexity = (72 * math.sqrt(np.sum(xa * xa)) * spectral_complexity(weights)
                * math.log(2 * width) * math.log(m) / (gamma * m))
  return (ramp_margin_error(margins, gamma) + 8 / m + complexity
          + 3 * math.sqrt(math.log(1 / delta) / (2 * m)))


def norm_margin_bound(margins: jax.Array, weights: Sequence[np.ndarray], x: jax.Array,
                      gamma: float, delta: float = 0.05) -> float:
  r"""Frobenius-norm margin bound (GRS Theorem 1 inside the multi-class margin bound).

  With probability ``>= 1 - delta`` (MRT, Thm. 9.2, ``k`` classes, empirical Rademacher form),

      P[error] <= Rhat_gamma(f) + (4 k / gamma) Rhat_S(Pi_1(H)) + 3 sqrt(ln(2/delta) / (2 m)),

  where ``Pi_1(H) = {x -> f(x)_y}`` are the scalar networks reading one output; each has the
  network's hidden layers and one column of the last, so GRS bounds its complexity by
  ``grs_rademacher_bound`` of the full matrices. Binary nets with one logit use ``k = 1`` and
  the factor 2 of MRT Thm. 5.8.
  """
  k = np.asarray(weights[-1]).shape[1]
  rad = generalization.grs_rademacher_bound(weights, augment_inputs(x, weights))
  factor = 2.0 if k == 1 else 4.0 * k
  m = np.asarray(x).shape[0]
  return (ramp_margin_error(margins, gamma) + factor * rad / gamma
          + 3 * math.sqrt(math.log(2 / delta) / (2 * m)))
