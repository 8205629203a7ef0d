"""The curse of dimensionality, measured: covering numbers, distances, local averaging, clustering.

* Covering numbers of ``[0, 1]^d``: the exact sup-norm count ``ceil(1 / (2 eps))^d`` and
  Euclidean volume bounds (all as log10, since they overflow for moderate d).
* Distance concentration: for x uniform in the cube and a uniform query q, ``|x - q|^2`` is a
  sum of d independent terms, so the spread of the distances from q relative to their mean
  shrinks like ``sqrt(3/10) / sqrt(d)`` (``predicted_relative_spread`` derives the constant).
* Nearest neighbours: the expected nearest-neighbour distance on the torus, k-NN and
  Nadaraya-Watson regression with optional wrap-around distances, Stone's (1982) exponent.
* Clustering: two-Gaussian mixtures, Lloyd's k-means with k-means++ restarts, the accuracy up to
  relabelling, and the closed-form accuracy of the supervised mean-difference classifier and the
  spectral (BBP) threshold ``d / n = |mu|^4`` beyond which no method beats chance.

Every function is a pure function of arrays (or of sizes, for the closed forms).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize
import scipy.special
import scipy.stats

from jaxnets.errors import JaxnetsError


# --- covering numbers ----------------------------------------------------------------------

def log10_covering_sup(eps: float, d: int) -> float:
  """``log10 N_inf(eps, [0, 1]^d) = d log10 ceil(1 / (2 eps))``: exact.

  A sup-norm ball of radius eps is a cube of side 2 eps. The grid of ``ceil(1/(2 eps))^d`` cube
  centres covers; conversely, a grid of ``ceil(1/(2 eps))`` points per axis with spacing
  ``> 2 eps`` (the end points 0 and 1 and equal steps) is an ``2 eps``-separated set whose points
  need distinct balls, so no cover is smaller (Kolmogorov & Tikhomirov 1959, sec. 1).
  "To cover [0,1]^d at distance 1/10 takes 10^d points" is ``eps = 1/20`` here.
  """
  _check_eps_d(eps, d)
  return d * math.log10(math.ceil(1.0 / (2.0 * eps) - 1e-12))


def log10_covering_l2_bounds(eps: float, d: int) -> tuple[float, float]:
  """``(lower, upper)`` on ``log10 N_2(eps, [0, 1]^d)`` (Euclidean balls of radius eps).

  Lower: volume, ``N >= 1 / vol(B_eps) = Gamma(d/2 + 1) / (pi^(d/2) eps^d)``. Upper: the sup-norm
  grid at radius ``eps / sqrt(d)`` (a cube of half-side ``eps / sqrt(d)`` fits in ``B_eps``),
  ``ceil(sqrt(d) / (2 eps))^d``. Both grow exponentially in d at fixed eps.
  """
  _check_eps_d(eps, d)
  lower = (scipy.special.gammaln(d / 2 + 1) - (d / 2) * math.log(math.pi)
           - d * math.log(eps)) / math.log(10)
  lower = max(lower, 0.0)
  upper = d * math.log10(math.ceil(math.sqrt(d) / (2 * eps) - 1e-12))
  return float(lower), float(upper)


def sup_grid_cover(eps: float, d: int) -> np.ndarray:
  """The ``(ceil(1/(2 eps))^d, d)`` grid of cube centres whose eps-sup-balls cover the cube."""
  _check_eps_d(eps, d)
  k = math.ceil(1.0 / (2.0 * eps) - 1e-12)
  axis = (np.arange(k) + 0.5) / k
  return np.stack(np.meshgrid(*([axis] * d), indexing="ij"), -1).reshape(-1, d)


def _check_eps_d(eps: float, d: int) -> None:
  if not eps > 0 or d < 1:
    raise JaxnetsError(f"covering numbers need eps > 0 and d >= 1, got eps={eps}, d={d}")


# --- distances -----------------------------------------------------------------------------

def pairwise_distances(x: jax.Array, y: jax.Array, periodic: bool = False) -> jax.Array:
  """``(N, M)`` Euclidean distances; with ``periodic``, on the torus ``[0, 1)^d``.

  The torus distance uses ``min(|dx|, 1 - |dx|)`` per coordinate (wrap-around), which removes
  boundary effects from local methods.
  """
  x, y = jnp.asarray(x), jnp.asarray(y)
  if not periodic:
    sq = (jnp.sum(x * x, 1)[:, None] + jnp.sum(y * y, 1)[None, :] - 2 * x @ y.T)
    return jnp.sqrt(jnp.maximum(sq, 0.0))
  diff = jnp.abs(x[:, None, :] - y[None, :, :])
  diff = jnp.minimum(diff, 1.0 - diff)
  return jnp.sqrt(jnp.sum(diff * diff, -1))


def distance_statistics(queries: jax.Array, points: jax.Array) -> dict[str, np.ndarray]:
  """Per query: mean, std, min and max distance to ``points``, relative spread and max/min.

  Returns arrays of shape ``(num_queries,)`` under keys ``mean, std, min, max,
  relative_spread (= std / mean), max_over_min``.
  """
  dist = np.asarray(pairwise_distances(queries, points), np.float64)
  dist = np.maximum(dist, np.finfo(np.float32).tiny)  # a query equal to a point
  mean, std = dist.mean(1), dist.std(1)
  mn, mx = dist.min(1), dist.max(1)
  return dict(mean=mean, std=std, min=mn, max=mx, relative_spread=std / mean,
              max_over_min=mx / mn)


def predicted_relative_spread(d: int | np.ndarray, query: str = "random") -> np.ndarray:
  """Large-d limit of ``std_x |x - q| / E_x |x - q|`` for x uniform in ``[0, 1]^d``.

  ``|x - q|^2 = sum_i Z_i`` with independent coordinates, so by the delta method
  ``std(D) / E D -> std(D^2) / (2 E D^2) = sqrt(v) / (2 e sqrt(d))`` with ``e``, ``v`` the
  mean and variance of one ``Z_i`` given the query:

  * ``"random"``: q uniform in the cube, spread over x for that q. ``E[Z | q] = (q - 1/2)^2 +
    1/12`` averages to ``e = 1/6``; ``Var(Z | q) = E(U - q)^4 - E[Z|q]^2`` averages to
    ``v = E(U - V)^4 - E_q E[Z|q]^2 = 1/15 - (1/36 + 1/180) = 1/30``: ``sqrt(3/10) / sqrt(d)``.
  * ``"center"``: q = (1/2, ..., 1/2), ``e = 1/12``, ``v = 1/80 - 1/144 = 1/180``:
    ``1 / sqrt(5 d)``.
  * ``"pairs"``: over independent pairs (x, q), ``e = 1/6``, ``v = 1/15 - 1/36 = 7/180``:
    ``sqrt(7/20) / sqrt(d)`` (larger: it adds the query-to-query variation of the mean).
  """
  d = np.asarray(d, np.float64)
  constants = {"random": math.sqrt(3.0 / 10.0), "center": 1.0 / math.sqrt(5.0),
               "pairs": math.sqrt(7.0 / 20.0)}
  if query not in constants:
    raise JaxnetsError(f"query must be one of {', '.join(constants)}, got {query!r}")
  return constants[query] / np.sqrt(d)


def expected_max_normal(n: int) -> float:
  """``E max(Z_1..Z_n)`` for i.i.d. standard normals (numerical integration)."""
  z = np.linspace(-10, 10, 20001)
  cdf = scipy.stats.norm.cdf(z)
  # E max = int z d(F^n) = int z n F^(n-1) f dz
  return float(np.trapezoid(z * n * cdf ** (n - 1) * scipy.stats.norm.pdf(z), z))


def predicted_max_over_min(d: int | np.ndarray, n: int, query: str = "random") -> np.ndarray:
  """Large-d prediction of ``max_i |x_i - q| / min_i |x_i - q|`` over n uniform points.

  With ``D_i ~ E D (1 + rho Z_i)`` (``rho`` = ``predicted_relative_spread``, ``Z_i`` standard
  normal by the CLT), ``max / min -> (1 + rho z_n) / (1 - rho z_n)``, ``z_n = E max_{i<=n} Z_i``.
  It tends to 1 like ``1 + 2 rho z_n ~ d^(-1/2)``; the Gaussian tails it assumes make it
  accurate only once ``rho z_n`` is small.
  """
  rho = predicted_relative_spread(d, query)
  z = expected_max_normal(n)
  return (1 + rho * z) / np.maximum(1 - rho * z, 1e-12)


def expected_nn_distance_torus(n: int, d: int) -> float:
  """``E min_i |x_i - q|`` for n uniform points on the torus ``[0, 1)^d``, Poisson limit.

  ``P(R > r) = (1 - V_d r^d)^n ~ exp(-n V_d r^d)`` gives
  ``E R = Gamma(1 + 1/d) (n V_d)^(-1/d)``, with ``V_d = pi^(d/2) / Gamma(d/2 + 1)``: nearest
  neighbours recede like ``n^(-1/d)`` -- the curse in one line.
  """
  log_vd = (d / 2) * math.log(math.pi) - scipy.special.gammaln(d / 2 + 1)
  return float(math.exp(scipy.special.gammaln(1 + 1 / d) - (math.log(n) + log_vd) / d))


# --- local averaging -------------------------------------------------------------------------

@functools.partial(jax.jit, static_argnames=("ks", "periodic", "chunk"))
def knn_predict(x_train: jax.Array, y_train: jax.Array, x_query: jax.Array, ks: tuple[int, ...],
                periodic: bool = False, chunk: int = 256) -> jax.Array:
  """k-nearest-neighbour regression ``(1/k) sum_{i in N_k(x)} y_i`` for every k in ``ks``.

  Queries are processed in chunks (``lax.map``) so memory stays ``chunk x n x d``.

  Returns:
    ``(len(ks), num_queries)`` predictions.
  """
  kmax = max(ks)
  n_q = x_query.shape[0]
  pad = (-n_q) % chunk
  xq = jnp.pad(x_query, ((0, pad), (0, 0))).reshape(-1, chunk, x_query.shape[1])

  def one(q):
    dist = pairwise_distances(q, x_train, periodic)
    _, idx = jax.lax.top_k(-dist, kmax)
    csum = jnp.cumsum(y_train[idx], axis=1)  # (chunk, kmax)
    return jnp.stack([csum[:, k - 1] / k for k in ks])

  out = jax.lax.map(one, xq)  # (chunks, K, chunk)
  return jnp.moveaxis(out, 1, 0).reshape(len(ks), -1)[:, :n_q]


@functools.partial(jax.jit, static_argnames=("periodic",))
def kernel_regression(x_train: jax.Array, y_train: jax.Array, x_query: jax.Array,
                      bandwidth: float, periodic: bool = False) -> jax.Array:
  """Nadaraya-Watson estimate ``sum_i K(x, x_i) y_i / sum_i K(x, x_i)``, Gaussian kernel.

  ``K(x, x') = exp(-|x - x'|^2 / (2 h^2))``; its bias is ``O(h^2)`` and variance
  ``O(1 / (n h^d))``, so the optimal ``h ~ n^(-1/(4+d))`` gives error ``n^(-4/(4+d))``.
  """
  dist = pairwise_distances(x_query, x_train, periodic)
  logw = -dist ** 2 / (2 * bandwidth ** 2)
  w = jax.nn.softmax(logw, axis=1)
  return w @ y_train


def stone_exponent(s: float, d: int) -> float:
  """Stone's (1982) minimax exponent: squared L2 error ``~ n^(-2s / (2s + d))``."""
  return 2 * s / (2 * s + d)


# --- clustering ------------------------------------------------------------------------------

def two_gaussian_mixture(n: int, d: int, mean_norm: float, seed: int
                         ) -> tuple[np.ndarray, np.ndarray]:
  """``n`` points from ``N(+-mu, I_d)`` with equal classes, ``|mu| = mean_norm``, mu along e_1.

  Returns ``(x (n, d) float32, labels (n,) in {0, 1})``. The class centres are
  ``2 |mu|`` apart.
  """
  rng = np.random.default_rng(seed)
  labels = np.arange(n) % 2
  rng.shuffle(labels)
  x = rng.normal(size=(n, d))
  x[:, 0] += np.where(labels == 1, mean_norm, -mean_norm)
  return x.astype(np.float32), labels


@functools.partial(jax.jit, static_argnames=("k", "iters", "restarts"))
def kmeans(key: jax.Array, x: jax.Array, k: int = 2, iters: int = 50, restarts: int = 8
           ) -> tuple[jax.Array, jax.Array]:
  """Lloyd's algorithm from k-means++ seeds (Arthur & Vassilvitskii 2007), best of ``restarts``.

  Returns:
    ``(labels (n,), inertia ())`` of the restart with the smallest within-cluster sum of squares.
  """
  def sqdist(c):
    return (jnp.sum(x * x, 1)[:, None] + jnp.sum(c * c, 1)[None, :] - 2 * x @ c.T)

  def seed_centres(key):
    keys = jax.random.split(key, k)
    first = x[jax.random.randint(keys[0], (), 0, x.shape[0])]
    centres = jnp.zeros((k, x.shape[1]), x.dtype).at[0].set(first)
    for j in range(1, k):
      dmin = jnp.min(sqdist(centres[:j]), axis=1)
      idx = jax.random.categorical(keys[j], jnp.log(jnp.maximum(dmin, 1e-30)))
      centres = centres.at[j].set(x[idx])
    return centres

  def lloyd(centres, _):
    labels = jnp.argmin(sqdist(centres), axis=1)
    onehot = jax.nn.one_hot(labels, k, dtype=x.dtype)
    counts = onehot.sum(0)
    new = (onehot.T @ x) / jnp.maximum(counts, 1)[:, None]
    return jnp.where(counts[:, None] > 0, new, centres), None

  def run(key):
    centres, _ = jax.lax.scan(lloyd, seed_centres(key), None, length=iters)
    d2 = sqdist(centres)
    return jnp.argmin(d2, axis=1), jnp.sum(jnp.min(d2, axis=1))

  labels, inertia = jax.vmap(run)(jax.random.split(key, restarts))
  best = jnp.argmin(inertia)
  return labels[best], inertia[best]


def clustering_accuracy(labels: np.ndarray, truth: np.ndarray) -> float:
  """Fraction of points whose cluster matches its class under the best relabelling.

  The relabelling is a maximum-weight matching of the confusion matrix
  (``scipy.optimize.linear_sum_assignment``).
  """
  labels, truth = np.asarray(labels), np.asarray(truth)
  k = int(max(labels.max(), truth.max())) + 1
  conf = np.zeros((k, k))
  np.add.at(conf, (labels, truth), 1)
  rows, cols = scipy.optimize.linear_sum_assignment(-conf)
  return float(conf[rows, cols].sum() / len(truth))


def chance_accuracy(n: int) -> float:
  """``E max(B, n - B) / n`` for ``B ~ Binomial(n, 1/2)``: a 2-clustering unrelated to the classes.

  This is the accuracy up to relabelling of a partition independent of the labels, about
  ``1/2 + 0.4 / sqrt(n)``.
  """
  b = np.arange(n + 1)
  pmf = scipy.stats.binom.pmf(b, n, 0.5)
  return float(np.sum(pmf * np.maximum(b, n - b)) / n)


def mean_difference_accuracy(mean_norm: float, d: int, n: int) -> float:
  """Predicted test accuracy of the supervised nearest-class-mean classifier.

  Trained on n points (n/2 per class) of ``N(+-mu, I_d)``: ``w = mu_+ - mu_- = 2 mu + xi`` with
  ``xi ~ N(0, 4/n I)``, so for large d ``w . mu ~ 2|mu|^2`` and ``|w|^2 ~ 4|mu|^2 + 4d/n``:
  accuracy ``Phi(|mu|^2 / sqrt(|mu|^2 + d/n))``. It decays towards 1/2 only like
  ``sqrt(n/d)`` -- labels keep a linear classifier useful where clustering has failed.
  """
  m2 = mean_norm ** 2
  return float(scipy.stats.norm.cdf(m2 / math.sqrt(m2 + d / n)))


def spectral_threshold_dimension(mean_norm: float, n: int) -> float:
  """``d* = n |mu|^4``: above it the top principal direction of the data carries no signal.

  The data covariance is ``I + mu mu^T``; with ``gamma = d / n``, the top sample eigenvector
  correlates with mu iff ``|mu|^2 > sqrt(gamma)`` (Baik, Ben Arous & Péché 2005; Paul 2007), and
  for the symmetric two-Gaussian mixture no estimator does better than chance below it (Banks,
  Moore, Vershynin, Verzelen & Xu 2018).
  """
  return n * mean_norm ** 4


def spectral_accuracy(mean_norm: float, d: int, n: int) -> float:
  """Predicted accuracy of clustering by the top principal direction, large n and d.

  Above the threshold the squared cosine between the top eigenvector and mu is
  ``(1 - gamma/beta^2) / (1 + gamma/beta)`` with ``beta = |mu|^2`` (Paul 2007, Thm. 4); projecting
  a point on that direction gives accuracy ``Phi(|mu| cos)``. Below it: 1/2.
  """
  beta, gamma = mean_norm ** 2, d / n
  cos2 = max(0.0, (1 - gamma / beta ** 2) / (1 + gamma / beta))
  return float(scipy.stats.norm.cdf(mean_norm * math.sqrt(cos2)))
