r"""Uniform-convergence generalization bounds: VC dimension, Rademacher complexity, norms.

Each bound ``B`` computed here is a statement "with probability at least ``1 - delta`` over the
draw of ``m`` i.i.d. training examples, every classifier ``h`` of the class has test error at most
``train_error(h) + B``" (or the Rademacher complexity that enters such a statement). The margin
and spectral bounds live in ``theory/margins.py``, the PAC-Bayes bound in ``theory/pac_bayes.py``,
double descent in ``theory/double_descent.py``.

References:
  Mohri, Rostamizadeh & Talwalkar (2018), Foundations of Machine Learning, 2nd ed. (MRT).
  Bartlett, Harvey, Liaw & Mehrabian (2019), "Nearly-tight VC-dimension and pseudodimension
    bounds for piecewise linear neural networks", JMLR 20 (BHLM).
  Golowich, Rakhlin & Shamir (2018), "Size-independent sample complexity of neural networks",
    COLT (GRS).
  Neyshabur, Tomioka & Srebro (2015), "Norm-based capacity control in neural networks", COLT.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnets.errors import JaxnetsError

# ------------------------------------------------------------------------------------------------
# VC dimension


def halfspace_vc_dim(dim: int, bias: bool = True) -> int:
  """VC dimension of halfspaces ``x -> sign(<w, x> + b)`` in ``R^dim``: ``dim + 1`` (``dim``
  without the bias ``b``). Radon's theorem gives the upper bound, ``dim + 1`` affinely independent
  points give the lower one (MRT, Example 3.12)."""
  if dim < 1:
    raise JaxnetsError(f"halfspace_vc_dim needs dim >= 1, got {dim}")
  return dim + 1 if bias else dim


def relu_net_vc_dim_upper(layer_sizes: Sequence[int]) -> float:
  r"""Upper bound on the VC dimension of sign(ReLU network) with the given layer sizes.

  BHLM Theorem 7 with a piecewise-linear activation of ``p + 1 = 2`` pieces and degree 1:

      VCdim <= L + Lbar W log2(4 e R log2(2 e R)),
      R = sum_{i=1}^{L} i k_i,   Lbar = (1/W) sum_{i=1}^{L} W_i,

  where ``L`` counts the layers with parameters (hidden layers and the output unit), ``k_i`` is
  the width of layer ``i``, ``W_i`` the number of weights and biases feeding layers ``1..i`` and
  ``W = W_L`` all of them. It is ``O(W L log W)``; BHLM also show networks with VC dimension
  ``Omega(W L log(W / L))``, so the bound is tight up to constants and the log.

  Args:
    layer_sizes: ``[d_in, k_1, ..., k_{L-1}, 1]``: input dimension, hidden widths, one output.

  Returns:
    The bound (a float; it need not be an integer).
  """
  sizes = [int(s) for s in layer_sizes]
  if len(sizes) < 2 or min(sizes) < 1:
    raise JaxnetsError(f"layer_sizes must be [d_in, widths..., 1] with positive entries, got "
                       f"{list(layer_sizes)}")
  num_layers = len(sizes) - 1
  per_layer = [(sizes[i] + 1) * sizes[i + 1] for i in range(num_layers)]
  cumulative = np.cumsum(per_layer)
  num_params = float(cumulative[-1])
  mean_depth = float(cumulative.sum()) / num_params
  r = float(sum((i + 1) * sizes[i + 1] for i in range(num_layers)))
  log_term = math.log2(4 * math.e * r * math.log2(2 * math.e * r))
  return num_layers + mean_depth * num_params * log_term


def log_growth_function_bound(vc_dim: float, m: int) -> float:
  """``ln Pi(m) <= min(m ln 2, d ln(e m / d))``: Sauer's lemma (MRT, Cor. 3.18) and the trivial
  ``2^m`` labelings."""
  if m < 1 or vc_dim <= 0:
    raise JaxnetsError(f"need m >= 1 and vc_dim > 0, got m={m}, vc_dim={vc_dim}")
  trivial = m * math.log(2.0)
  if vc_dim >= m:
    return trivial
  return min(trivial, vc_dim * math.log(math.e * m / vc_dim))


def vc_bound(train_error: float, vc_dim: float, m: int, delta: float = 0.05) -> float:
  r"""VC generalization bound on the test error of any classifier of the class.

  With probability ``>= 1 - delta`` over ``m`` examples, for all ``h`` (MRT, Cor. 3.19):

      R(h) <= Rhat(h) + sqrt(2 ln Pi(m) / m) + sqrt(ln(1 / delta) / (2 m)),

  with ``ln Pi(m)`` from ``log_growth_function_bound``. It exceeds 1 (is vacuous) as soon as
  ``d ln(e m / d)`` is of order ``m``, e.g. whenever ``d >= m``.
  """
  if not 0 < delta < 1:
    raise JaxnetsError(f"delta must be in (0, 1), got {delta}")
  log_growth = log_growth_function_bound(vc_dim, m)
  return (float(train_error) + math.sqrt(2 * log_growth / m)
          + math.sqrt(math.log(1 / delta) / (2 * m)))


# ------------------------------------------------------------------------------------------------
# Rademacher complexity


def empirical_rademacher_mc(sup_fn: Callable[[jax.Array], jax.Array], m: int, key: jax.Array,
                            num_draws: int = 1000) -> tuple[float, float]:
  r"""Monte Carlo estimate of the empirical Rademacher complexity of a class on ``m`` points.

      Rhat_S(F) = E_sigma [ sup_{f in F} (1/m) sum_i sigma_i f(x_i) ],  sigma_i = +-1 uniform

  (MRT, Def. 3.1). ``sup_fn(sigma)`` must return the supremum for one sign vector ``sigma`` of
  shape ``(m,)``; it is ``vmap``-ed over ``num_draws`` independent draws.

  Returns:
    ``(estimate, standard_error)``: the mean over draws and its standard error.
  """
  signs = jax.random.rademacher(key, (num_draws, m), dtype=jnp.float32)
  sups = np.asarray(jax.jit(jax.vmap(sup_fn))(signs), dtype=np.float64)
  return float(sups.mean()), float(sups.std(ddof=1) / math.sqrt(num_draws))


def linear_class_sup(x: jax.Array, norm_bound: float) -> Callable[[jax.Array], jax.Array]:
  r"""``sigma -> sup_{||w||_2 <= B} (1/m) sum_i sigma_i <w, x_i> = (B/m) ||X^T sigma||_2``
  (Cauchy-Schwarz, attained at ``w`` parallel to ``X^T sigma``). ``x``: ``(m, d)``."""
  x = jnp.asarray(x)
  m = x.shape[0]
  return lambda sigma: norm_bound * jnp.linalg.norm(sigma @ x) / m


def finite_class_sup(predictions: jax.Array) -> Callable[[jax.Array], jax.Array]:
  """``sigma -> max_j (1/m) <f_j, sigma>`` for a finite class given as ``predictions`` ``(k, m)``
  (row ``j`` holds ``f_j(x_1..x_m)``)."""
  predictions = jnp.asarray(predictions)
  m = predictions.shape[1]
  return lambda sigma: jnp.max(predictions @ sigma) / m


def linear_rademacher_upper(x: jax.Array, norm_bound: float) -> float:
  r"""Closed-form upper bound for ``{x -> <w, x> : ||w||_2 <= B}`` (MRT, Thm. 5.10):

      Rhat_S <= (B / m) sqrt(sum_i ||x_i||^2),

  Jensen's inequality on ``E ||X^T sigma|| <= sqrt(E ||X^T sigma||^2)``; equality when the
  ``x_i`` are orthogonal. ``x``: ``(m, d)``."""
  x = np.asarray(x, dtype=np.float64)
  return float(norm_bound * math.sqrt(np.sum(x * x)) / x.shape[0])


def linear_rademacher_lower(x: jax.Array, norm_bound: float) -> float:
  r"""Khintchine-Kahane lower bound for the same linear class:

      Rhat_S >= (B / (sqrt(2) m)) sqrt(sum_i ||x_i||^2),

  from ``E ||sum_i sigma_i x_i|| >= 2^{-1/2} (sum_i ||x_i||^2)^{1/2}`` in a Hilbert space, with the
  optimal constant ``1/sqrt(2)`` (Szarek 1976; Latala & Oleszkiewicz 1994). Attained for two
  equal scalars. ``x``: ``(m, d)``."""
  return linear_rademacher_upper(x, norm_bound) / math.sqrt(2.0)


def massart_bound(predictions: jax.Array) -> float:
  r"""Massart's lemma for a finite class of ``k`` functions (MRT, Thm. 3.7):

      Rhat_S <= max_j ||f_j||_2 sqrt(2 ln k) / m.

  ``predictions``: ``(k, m)``."""
  predictions = np.asarray(predictions, dtype=np.float64)
  k, m = predictions.shape
  return float(np.max(np.linalg.norm(predictions, axis=1)) * math.sqrt(2 * math.log(k)) / m)


def rademacher_bound(train_error: float, rademacher: float, m: int, delta: float = 0.05,
                     lipschitz: float = 1.0) -> float:
  r"""Generalization bound from an empirical Rademacher complexity of the loss class.

  With probability ``>= 1 - delta``, for all ``f`` in ``F`` and a loss with values in ``[0, 1]``
  that is ``lipschitz``-Lipschitz in ``f`` (MRT, Thm. 3.3 with Talagrand's contraction lemma):

      E loss(f) <= Ehat loss(f) + 2 lipschitz Rhat_S(F) + 3 sqrt(ln(2 / delta) / (2 m)).

  With the ramp loss of margin ``gamma`` (``lipschitz = 1 / gamma``) the left side bounds the
  0-1 test error and ``train_error`` is the fraction of training margins below ``gamma``
  (MRT, Thm. 5.8).
  """
  if not 0 < delta < 1:
    raise JaxnetsError(f"delta must be in (0, 1), got {delta}")
  return (float(train_error) + 2 * lipschitz * float(rademacher)
          + 3 * math.sqrt(math.log(2 / delta) / (2 * m)))


# ------------------------------------------------------------------------------------------------
# Norm-based capacity of deep networks. ``weights`` are the layer matrices as stored by flax,
# shape (fan_in, fan_out), input layer first (see ``margins.mlp_weight_matrices``).


def frobenius_product(weights: Sequence[jax.Array]) -> float:
  """``prod_j ||W_j||_F``: the product of the layers' Frobenius norms (Neyshabur et al. 2015)."""
  return float(np.prod([np.linalg.norm(np.asarray(w, dtype=np.float64)) for w in weights]))


def path_norm(weights: Sequence[jax.Array]) -> float:
  r"""The l2 path-norm ``sqrt(sum_paths prod_{edges} w_e^2)`` of a bias-free network.

  Equals ``sqrt(1^T |W_1|^2 |W_2|^2 ... |W_L|^2 1)`` with elementwise squares: run the network
  with squared weights, identity activations, on the all-ones input, and sum the outputs
  (Neyshabur, Tomioka & Srebro 2015, sec. 3; Jiang et al. 2020, eq. 44). For one layer it is the
  Frobenius norm. Fold biases into the matrices first (``margins.mlp_weight_matrices``).
  """
  v = np.ones(np.asarray(weights[0]).shape[0])
  for w in weights:
    v = v @ np.square(np.asarray(w, dtype=np.float64))
  return float(math.sqrt(v.sum()))


def grs_rademacher_bound(weights: Sequence[jax.Array], x: jax.Array) -> float:
  r"""Golowich-Rakhlin-Shamir size-independent bound on the Rademacher complexity.

  For the class of depth-``L`` bias-free networks ``x -> W_L s(W_{L-1} ... s(W_1 x))`` with scalar
  output, a 1-Lipschitz positive-homogeneous activation ``s`` (ReLU) and ``||W_j||_F <= M_j``,
  GRS Theorem 1 gives

      Rhat_S <= (prod_j M_j) (sqrt(2 L ln 2) + 1) sqrt(sum_i ||x_i||^2) / m.

  Here ``M_j`` are the network's own norms (the bound for the class of networks no larger than
  this one). ``x``: ``(m, d)``.
  """
  x = np.asarray(x, dtype=np.float64).reshape(np.asarray(x).shape[0], -1)
  depth = len(weights)
  return (frobenius_product(weights) * (math.sqrt(2 * depth * math.log(2)) + 1)
          * math.sqrt(np.sum(x * x)) / x.shape[0])


# ------------------------------------------------------------------------------------------------
# Every bound of the package for one trained classifier


def multiclass_log_growth_bound(binary_vc_dim: float, m: int, num_classes: int) -> float:
  r"""``ln Pi(m)`` of ``x -> argmax_k f_k(x)`` from the VC dimension of one pairwise comparison.

  The predicted label is a function of the signs of the ``C(K, 2)`` differences
  ``f_i - f_j``, so the number of labelings of ``m`` points is at most the product of the
  pairwise growth functions: ``ln Pi_K(m) <= C(K, 2) ln Pi_2(m)`` (the pairwise reduction,
  Shalev-Shwartz & Ben-David 2014, sec. 29.1; each ``f_i - f_j`` of a ReLU net is a ReLU net
  with the same hidden layers and one output, whose VC dimension ``binary_vc_dim`` bounds).
  ``K = 2`` with one logit is the binary case itself.
  """
  pairs = 1 if num_classes <= 2 else num_classes * (num_classes - 1) // 2
  return pairs * log_growth_function_bound(binary_vc_dim, m)


def multiclass_vc_bound(train_error: float, binary_vc_dim: float, m: int, num_classes: int,
                        delta: float = 0.05) -> float:
  """:func:`vc_bound` with the growth function of :func:`multiclass_log_growth_bound`."""
  if not 0 < delta < 1:
    raise JaxnetsError(f"delta must be in (0, 1), got {delta}")
  log_growth = multiclass_log_growth_bound(binary_vc_dim, m, num_classes)
  return (float(train_error) + math.sqrt(2 * log_growth / m)
          + math.sqrt(math.log(1 / delta) / (2 * m)))


def _errors(logits: np.ndarray, labels: np.ndarray) -> float:
  pred = (logits[:, 0] > 0).astype(int) if logits.shape[-1] == 1 else logits.argmax(-1)
  return float(np.mean(pred != labels))


def bounds(apply_fn: Callable, params, train_data: tuple, *, init_params=None,
           key: jax.Array | None = None, delta: float = 0.05, delta_mc: float = 0.01,
           num_passes: int = 2, architecture=None) -> dict[str, float]:
  r"""Every test-error bound of ``theory`` for a trained classifier, at confidence ``1 - delta``.

  Args:
    apply_fn: ``apply_fn(params, x) -> logits (m, K)`` (one logit for binary labels in {0, 1}).
    params: the trained variables (``{"params": ...}`` as ``module.apply`` takes them).
    train_data: ``(x (m, ...), labels (m,))`` the network was trained on.
    init_params: the initialisation, the PAC-Bayes prior's centre (default: the origin).
    key: PRNG key of the stochastic-network Monte Carlo (default ``key(0)``).
    delta: confidence of each bound; the PAC-Bayes one spends ``delta`` on the bound and
      ``delta_mc`` on its Monte-Carlo estimate of the stochastic train error.
    num_passes: Monte-Carlo passes over the training set for the PAC-Bayes train error.
    architecture: the ``jaxnets.models.mlp.MLP`` the params belong to (for its layer sizes and
      parametrization); default ``apply_fn.__self__`` when ``apply_fn`` is ``module.apply``.

  Returns:
    ``{"train_error", "num_classes", "m", "vc_dim_pairwise", "vc_bound", "margin_gamma",
    "spectral_margin_bound", "grs_margin_bound", "pacbayes_sigma", "pacbayes_kl",
    "pacbayes_train_error_mc", "pacbayes_bound"}``. For ``K`` classes the VC bound uses the
    pairwise growth function (:func:`multiclass_log_growth_bound`) and the margin bounds their
    ``K``-class forms (``theory.margins``); the PAC-Bayes bound is Maurer's kl form with
    posterior ``N(w, sigma^2 I)`` and prior ``N(w_0, sigma^2 I)``, ``sigma`` the largest on a
    grid of ``2^8`` log-spaced values that raises the train error by <= 0.1 (the grid costs
    ``ln 2^8`` in the union bound), and the stochastic train error bounded above by the
    Chernoff Monte-Carlo bound (``pac_bayes.monte_carlo_error_bound``) before it enters.

  Raises:
    JaxnetsError: the params are not a jaxnets MLP's (norm-based bounds need its matrices).
  """
  from theory import margins as mg  # margins builds on this module
  from theory import pac_bayes as pb

  model = architecture if architecture is not None else getattr(apply_fn, "__self__", None)
  if model is None or not hasattr(model, "parametrization") or not hasattr(model, "depth"):
    raise JaxnetsError("bounds() needs a jaxnets MLP (jaxnets.models.mlp.MLP): pass "
                       "apply_fn=model.apply or architecture=model")
  x, labels = (np.asarray(a) for a in train_data)
  x = x.reshape(len(x), -1).astype(np.float32)
  m = len(x)
  logits = np.asarray(apply_fn(params, x), np.float64)
  num_classes = 2 if logits.shape[-1] == 1 else logits.shape[-1]
  train_error = _errors(logits, labels)
  sizes = [x.shape[1]] + [model.width] * model.depth + [1]
  vc_dim = relu_net_vc_dim_upper(sizes)
  weights = mg.mlp_weight_matrices(model, params)
  margins = np.asarray(mg.classification_margins(jnp.asarray(logits), jnp.asarray(labels)))
  # Jiang et al. (2020, sec. 6) take the margin gamma as the 10th percentile of train margins.
  gamma = float(max(np.quantile(margins, 0.1), 1e-6))
  key = jax.random.key(0) if key is None else key
  init = jax.tree.map(jnp.zeros_like, params) if init_params is None else init_params
  # The local reparameterization is exact and cheap for standard-parametrization MLPs.
  stochastic = (pb.mlp_local_reparam(model.act) if model.parametrization == "standard"
                else pb.per_example_sampler(apply_fn))
  sigma = pb.sharpness_sigma(stochastic, params, jnp.asarray(x), jnp.asarray(labels), key)
  log_std = jax.tree.map(lambda w: jnp.full_like(w, math.log(sigma)), params)
  errs = pb.stochastic_errors(stochastic, params, log_std, jnp.asarray(x), jnp.asarray(labels),
                              jax.random.fold_in(key, 1), num_passes=num_passes)
  q_train_upper = pb.monte_carlo_error_bound(float(errs.mean()), num_passes * m, delta_mc)
  dist2 = sum(float(jnp.sum((a - b) ** 2)) for a, b in zip(jax.tree.leaves(params),
                                                         jax.tree.leaves(init)))
  kl = dist2 / (2 * sigma ** 2)  # KL(N(w, s^2 I) || N(w0, s^2 I))
  return {
      "train_error": train_error, "num_classes": float(num_classes), "m": float(m),
      "vc_dim_pairwise": vc_dim,
      "vc_bound": multiclass_vc_bound(train_error, vc_dim, m, num_classes, delta),
      "margin_gamma": gamma,
      "spectral_margin_bound": mg.spectral_margin_bound(margins, weights, x, gamma, delta),
      "grs_margin_bound": mg.norm_margin_bound(margins, weights, x, gamma, delta),
      "pacbayes_sigma": sigma, "pacbayes_kl": kl,
      "pacbayes_train_error_mc": float(errs.mean()),
      "pacbayes_bound": pb.pac_bayes_kl_bound(q_train_upper, kl + 8 * math.log(2), m, delta),
  }
