r"""PAC-Bayes bounds on the error of a stochastic network, optimized Dziugaite & Roy's way.

A posterior ``Q = N(w, diag(s^2))`` over the weights is compared with a prior
``P = N(w_0, lambda I)`` centred at the (data-independent) initialization ``w_0``. The bound
holds for the *stochastic* classifier that draws fresh weights from ``Q`` for every input.

Statement (Langford & Seeger 2001; Maurer 2004, Thm. 5): for ``m >= 8`` and any prior ``P``
chosen before seeing the data, with probability ``>= 1 - delta`` over the sample, for all ``Q``

    kl(e_hat(Q) || e(Q)) <= (KL(Q || P) + ln(2 sqrt(m) / delta)) / m,

so ``e(Q) <= kl^{-1}(e_hat(Q), (KL + ln(2 sqrt(m)/delta)) / m)``. Dziugaite & Roy (2017,
"Computing nonvacuous generalization bounds for deep (stochastic) neural networks with many more
parameters than training data", UAI; DR) optimize this bound over ``w``, ``s`` and ``lambda``,
restrict ``lambda`` to the grid ``c exp(-j / b)`` with a union bound over ``j`` (``delta_j =
6 delta / (pi^2 j^2)``), and bound ``e_hat(Q)`` by Monte Carlo with a Chernoff (kl) bound.

Departure from DR, stated: DR bound the Monte Carlo error with ``n`` sampled networks, each
run on the whole training set. We draw an independent network for every (pass, example) pair,
which gives ``n m`` independent Bernoulli trials with mean exactly ``e_hat(Q)`` (Hoeffding 1963,
Thm. 1 holds for independent, non-identical variables), hence a much tighter Chernoff term for
the same compute.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxnets.errors import JaxnetsError
from jaxnets.train.minimize import minimize
from jaxnets.typing import PyTree

ApplyFn = Callable[[PyTree, jax.Array], jax.Array]


def binary_kl(q: float, p: float) -> float:
  """``kl(q || p) = q ln(q/p) + (1-q) ln((1-q)/(1-p))``, the KL divergence of Bernoullis."""
  q = min(max(float(q), 0.0), 1.0)
  p = min(max(float(p), 1e-300), 1 - 1e-16)
  out = 0.0
  if q > 0:
    out += q * math.log(q / p)
  if q < 1:
    out += (1 - q) * math.log((1 - q) / (1 - p))
  return out


def kl_inverse_upper(q: float, c: float, tol: float = 1e-12) -> float:
  r"""``kl^{-1}(q, c) = max{p in [q, 1] : kl(q || p) <= c}`` by bisection.

  ``kl(q || .)`` increases on ``[q, 1]``, so bisection converges; ``tol`` is the width of the
  final bracket, and the upper end is returned so the result never undershoots.
  """
  if not 0 <= q <= 1 or c < 0:
    raise JaxnetsError(f"kl_inverse_upper needs q in [0, 1] and c >= 0, got q={q}, c={c}")
  lo, hi = float(q), 1.0
  if binary_kl(q, hi) <= c:
    return 1.0
  while hi - lo > tol:
    mid = 0.5 * (lo + hi)
    if binary_kl(q, mid) > c:
      hi = mid
    else:
      lo = mid
  return hi


def monte_carlo_error_bound(mean_error: float, num_trials: int, delta: float) -> float:
  r"""Chernoff bound on a mean from ``num_trials`` independent Bernoulli trials.

  With probability ``>= 1 - delta``, ``p <= kl^{-1}(p_hat, ln(1/delta) / n)`` (one-sided
  Chernoff-Hoeffding; Langford 2005, "Tutorial on practical prediction theory", Thm. 3.3)."""
  return kl_inverse_upper(mean_error, math.log(1 / delta) / num_trials)


def pac_bayes_kl_bound(train_error: float, kl: float, m: int, delta: float) -> float:
  """Maurer's PAC-Bayes-kl bound ``kl^{-1}(e_hat, (KL + ln(2 sqrt(m)/delta)) / m)`` (module doc)."""
  if m < 8:
    raise JaxnetsError(f"the PAC-Bayes-kl bound needs m >= 8 examples, got {m}")
  return kl_inverse_upper(train_error, (kl + math.log(2 * math.sqrt(m) / delta)) / m)


def prior_variance(j: int, b: float = 100.0, c: float = 0.1) -> float:
  """Prior variance on DR's grid, ``lambda_j = c exp(-j / b)``, ``j = 1, 2, ...``."""
  return c * math.exp(-j / b)


def union_bound_cost(j: int) -> float:
  r"""``ln(pi^2 j^2 / 6)``: the price in nats of picking grid point ``j`` after seeing the data
  (``delta_j = 6 delta / (pi^2 j^2)`` sums to ``delta``; DR eq. (6) writes it
  ``2 ln(b ln(c / lambda)) + ln(pi^2 / 6)``)."""
  if j < 1:
    raise JaxnetsError(f"grid index j must be >= 1, got {j}")
  return 2 * math.log(j) + math.log(math.pi ** 2 / 6)


def gaussian_kl(mean: PyTree, log_std: PyTree, prior_mean: PyTree,
                prior_var: jax.Array) -> jax.Array:
  r"""``KL(N(w, diag s^2) || N(w_0, lambda I))`` summed over all parameters:

      (1/2) sum_k [ (s_k^2 + (w_k - w0_k)^2) / lambda - 1 + ln lambda - 2 ln s_k ].
  """
  def leaf(w, ls, w0):
    return 0.5 * jnp.sum((jnp.exp(2 * ls) + (w - w0) ** 2) / prior_var - 1
                         + jnp.log(prior_var) - 2 * ls)
  return sum(jax.tree.leaves(jax.tree.map(leaf, mean, log_std, prior_mean)))


def _errors(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """0-1 errors ``(N,)``: sign of one logit for binary labels in {0, 1}, else argmax."""
  if logits.shape[-1] == 1:
    return ((logits[..., 0] > 0).astype(jnp.int32) != labels).astype(jnp.float32)
  return (jnp.argmax(logits, -1) != labels).astype(jnp.float32)


def _surrogate(logits: jax.Array, labels: jax.Array) -> jax.Array:
  """Cross-entropy over ln 2, an upper bound on the 0-1 error (misclassified => p_y <= 1/2)."""
  if logits.shape[-1] == 1:
    ce = jax.nn.softplus(-(2.0 * labels - 1.0) * logits[..., 0])
  else:
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  return ce / math.log(2.0)


StochasticFn = Callable[[PyTree, PyTree, jax.Array, jax.Array], jax.Array]


def per_example_sampler(apply_fn: ApplyFn) -> StochasticFn:
  """Stochastic forward for any ``apply_fn(params, x)``: ``(mean, log_std, x, key) -> logits``
  ``(N, K)`` with independent weights ``w + s * eps`` drawn for every input (costs one weight
  draw per example)."""
  def stochastic(mean, log_std, x, key):
    leaves, treedef = jax.tree.flatten(mean)
    std_leaves = jax.tree.leaves(log_std)

    def one(k, xi):
      keys = jax.random.split(k, len(leaves))
      w = [mu + jnp.exp(ls) * jax.random.normal(kk, mu.shape, mu.dtype)
           for mu, ls, kk in zip(leaves, std_leaves, keys)]
      return apply_fn(jax.tree.unflatten(treedef, w), xi[None])[0]

    return jax.vmap(one)(jax.random.split(key, x.shape[0]), x)
  return stochastic


def mlp_local_reparam(act: Callable[[jax.Array], jax.Array] = jax.nn.relu) -> StochasticFn:
  r"""Stochastic forward of a standard-parametrization ``jaxnets`` MLP (``dense_<i>`` layers
  with ``kernel`` and ``bias``) with independent Gaussian weights per example, sampled exactly
  and cheaply by the local reparameterization trick (Kingma, Salimans & Welling 2015): given the
  layer input ``h``, the pre-activations ``h W + b`` with ``W_{ab} ~ N(M_{ab}, S_{ab}^2)``
  independent are independent Gaussians ``N(h M + mu_b, h^2 S^2 + s_b^2)``."""
  def stochastic(mean, log_std, x, key):
    mean = mean.get("params", mean)
    log_std = log_std.get("params", log_std)
    names = sorted((k for k in mean if k.startswith("dense_")), key=lambda k: int(k[6:]))
    h = x.reshape((x.shape[0], -1))
    for i, (name, k) in enumerate(zip(names, jax.random.split(key, len(names)))):
      mu = h @ mean[name]["kernel"] + mean[name]["bias"]
      var = (h * h) @ jnp.exp(2 * log_std[name]["kernel"]) + jnp.exp(2 * log_std[name]["bias"])
      h = mu + jnp.sqrt(var) * jax.random.normal(k, mu.shape, mu.dtype)
      if i < len(names) - 1:
        h = act(h)
    return h
  return stochastic


@jax.jit(static_argnums=0)
def _pass_error(stochastic_fn, mean, log_std, xs, ys, vs, key):
  """Number of errors in one pass over chunked inputs ``xs`` ``(chunks, chunk, ...)``."""
  def body(_, inp):
    xc, yc, vc, kc = inp
    return None, jnp.sum(_errors(stochastic_fn(mean, log_std, xc, kc), yc) * vc)
  _, sums = jax.lax.scan(body, None, (xs, ys, vs, jax.random.split(key, xs.shape[0])))
  return sums.sum()


def stochastic_errors(stochastic_fn: StochasticFn, mean: PyTree, log_std: PyTree, x: jax.Array,
                      labels: jax.Array, key: jax.Array, num_passes: int = 1,
                      chunk: int = 512) -> np.ndarray:
  """Mean 0-1 error of the stochastic net over ``num_passes`` passes, each with a fresh network
  per example; returns the per-pass mean errors ``(num_passes,)``. ``x``: ``(N, ...)``."""
  n = x.shape[0]
  chunk = min(chunk, n)
  pad = (-n) % chunk
  xp = jnp.concatenate([jnp.asarray(x), jnp.zeros((pad,) + x.shape[1:], x.dtype)])
  yp = jnp.concatenate([jnp.asarray(labels), jnp.zeros((pad,), jnp.int32)])
  valid = jnp.arange(n + pad) < n
  xs, ys, vs = (a.reshape((-1, chunk) + a.shape[1:]) for a in (xp, yp, valid))

  return np.array([float(_pass_error(stochastic_fn, mean, log_std, xs, ys, vs, k)) / n
                   for k in jax.random.split(key, num_passes)])


def fit_gaussian_posterior(apply_fn: ApplyFn, params: PyTree, init_params: PyTree, x: jax.Array,
                           labels: jax.Array, key: jax.Array, *, num_steps: int = 2000,
                           batch_size: int = 100, learning_rate: float = 1e-3,
                           init_log_prior_var: float = -6.0, init_log_std: float | None = None,
                           delta: float = 0.025, grid_b: float = 100.0, grid_c: float = 0.1
                           ) -> dict[str, Any]:
  r"""Optimizes DR's relaxed bound over the posterior ``(w, s)`` and prior variance ``lambda``.

  Minimizes by Adam, on minibatches, the differentiable surrogate (DR eq. (7) with Maurer's
  constant and Pinsker's ``kl^{-1}(q, c) <= q + sqrt(c / 2)``):

      E_{w ~ Q}[CE / ln 2] + sqrt((KL(Q||P_lambda) + 2 ln(b ln(c/lambda)) + ln(pi^2/6)
                                   + ln(2 sqrt(m) / delta)) / (2 m)),

  with one weight draw per minibatch (reparameterization, as DR). ``w`` starts at ``params``
  (the SGD solution), ``ln s`` at ``init_log_std`` or ``ln |w|`` (DR), ``ln lambda`` at
  ``init_log_prior_var``.

  Returns:
    ``{"mean", "log_std", "log_prior_var", "history"}``; ``history`` holds the objective's
    mean over each window of ``gcd(num_steps, 50)`` steps.
  """
  m = x.shape[0]
  x = jnp.asarray(x)
  labels = jnp.asarray(labels)
  log_std0 = jax.tree.map(
      lambda w: (jnp.full_like(w, init_log_std) if init_log_std is not None
                 else jnp.log(jnp.abs(w) + 1e-8)), params)
  theta = {"mean": params, "log_std": log_std0,
           "log_prior_var": jnp.asarray(init_log_prior_var, jnp.float32)}
  const = math.log(math.pi ** 2 / 6) + math.log(2 * math.sqrt(m) / delta)

  objective = _relaxed_bound(apply_fn, init_params, m, const, grid_b, grid_c)
  data_seed = int(jax.random.randint(jax.random.fold_in(key, 1), (), 0, 2**31 - 1))
  result = minimize(objective, theta, optax.adam(learning_rate), {"x": x, "y": labels},
                    num_steps=num_steps, batch_size=batch_size, data_seed=data_seed, rng=key,
                    steps_per_call=_fused(num_steps), log_every=_fused(num_steps))
  history = np.stack([h["loss"] for h in result.history])
  return {**result.state.params, "history": history}


def _fused(num_steps: int) -> int:
  """Steps per dispatch: a divisor of the budget, at most 50 (tiny steps, dispatch dominates)."""
  return math.gcd(num_steps, 50)


def _relaxed_bound(apply_fn, init_params, m, const, grid_b, grid_c):
  """DR's relaxed bound ``(theta, batch, rng) -> objective`` (see fit_gaussian_posterior)."""

  def objective(theta, batch, k):
    log_lam = jnp.minimum(theta["log_prior_var"], math.log(grid_c) - 1.0 / grid_b)
    kl = gaussian_kl(theta["mean"], theta["log_std"], init_params, jnp.exp(log_lam))
    j = grid_b * (math.log(grid_c) - log_lam)
    complexity = (kl + 2 * jnp.log(j) + const) / m
    leaves, treedef = jax.tree.flatten(theta["mean"])
    noise = [jax.random.normal(kk, w.shape, w.dtype)
             for w, kk in zip(leaves, jax.random.split(k, len(leaves)))]
    w = jax.tree.map(lambda mu, ls, e: mu + jnp.exp(ls) * e, theta["mean"], theta["log_std"],
                     jax.tree.unflatten(treedef, noise))
    logits = apply_fn(w, batch["x"])
    return jnp.mean(_surrogate(logits, batch["y"])) + jnp.sqrt(complexity / 2)

  return objective


def dziugaite_roy_bound(stochastic_fn: StochasticFn, posterior: dict[str, Any], init_params: PyTree,
                        x: jax.Array, labels: jax.Array, key: jax.Array, *,
                        num_passes: int = 10, delta: float = 0.025, delta_mc: float = 0.01,
                        grid_b: float = 100.0, grid_c: float = 0.1) -> dict[str, float]:
  r"""The final PAC-Bayes bound on the stochastic net's error, confidence ``1 - delta - delta_mc``.

  1. Round ``lambda`` to the grid: ``j`` = floor and ceil of ``b ln(c / lambda)``, keep the
     better bound (both are covered by the union bound).
  2. Monte Carlo: ``e_hat(Q) <= kl^{-1}(mean error, ln(1/delta_mc) / (num_passes m))``.
  3. ``e(Q) <= kl^{-1}(that, (KL(Q||P_j) + ln(pi^2 j^2 / 6) + ln(2 sqrt(m)/delta)) / m)``.

  Returns:
    dict with ``bound``, ``train_error_mc`` (MC mean), ``train_error_upper`` (step 2), ``kl``,
    ``j``, ``prior_var``, ``m``, ``confidence``.
  """
  m = int(x.shape[0])
  errs = stochastic_errors(stochastic_fn, posterior["mean"], posterior["log_std"], x, labels, key,
                           num_passes=num_passes)
  mean_err = float(errs.mean())
  err_upper = monte_carlo_error_bound(mean_err, num_passes * m, delta_mc)
  j_cont = grid_b * (math.log(grid_c) - float(posterior["log_prior_var"]))
  best = None
  for j in sorted({max(1, math.floor(j_cont)), max(1, math.ceil(j_cont))}):
    lam = prior_variance(j, grid_b, grid_c)
    kl = float(gaussian_kl(posterior["mean"], posterior["log_std"], init_params, jnp.asarray(lam)))
    bound = kl_inverse_upper(err_upper, (kl + union_bound_cost(j)
                                         + math.log(2 * math.sqrt(m) / delta)) / m)
    if best is None or bound < best["bound"]:
      best = {"bound": bound, "kl": kl, "j": j, "prior_var": lam}
  return {**best, "train_error_mc": mean_err, "train_error_upper": err_upper, "m": m,
          "confidence": 1 - delta - delta_mc}


def sharpness_sigma(stochastic_fn: StochasticFn, params: PyTree, x: jax.Array, labels: jax.Array,
                    key: jax.Array, *, increase: float = 0.1, num_passes: int = 2,
                    lo: float = 1e-4, hi: float = 1.0, num_bisections: int = 8) -> float:
  r"""Largest isotropic weight-noise scale ``sigma`` with ``e_hat(N(w, sigma^2 I)) <= e_hat(w) +
  increase`` (bisection on a log scale): the flatness behind Jiang et al.'s (2020, eq. 49)
  PAC-Bayes measure ``1 / sigma^2``; the same ``sigma`` as a posterior with prior ``N(w0,
  sigma^2 I)`` gives a PAC-Bayes bound with ``KL = ||w - w0||^2 / (2 sigma^2)``."""
  tiny = jax.tree.map(lambda w: jnp.full_like(w, -30.0), params)
  base = float(stochastic_errors(stochastic_fn, params, tiny, x, labels, key)[0])
  for i in range(num_bisections):
    mid = math.sqrt(lo * hi)
    log_std = jax.tree.map(lambda w: jnp.full_like(w, math.log(mid)), params)
    err = float(stochastic_errors(stochastic_fn, params, log_std, x, labels,
                                  jax.random.fold_in(key, i + 1), num_passes=num_passes).mean())
    lo, hi = (mid, hi) if err <= base + increase else (lo, mid)
  return lo
