"""Random features converge to their kernels; kernel ridge solves its equations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxnets.models import kernel_methods as km
from theory import least_squares as ls
from jaxnets.errors import JaxnetsError
from jaxnets.models import get_model
from jaxnets.models import kernel_classifier as kc


def _points(n=6, d=5, seed=0):
  return jax.random.normal(jax.random.key(seed), (n, d)) / np.sqrt(5)


@pytest.mark.parametrize("features,kernel", [
    (lambda x, key, D: kc.random_fourier_features(x, key, D, gamma=0.7),
     lambda x: km.rbf_kernel(x, x, gamma=0.7)),
    (lambda x, key, D: kc.relu_random_features(x, key, D),
     lambda x: km.arccos_kernel(x, x, order=1)),
])
def test_random_features_converge_to_their_kernel(features, kernel):
  # Monte Carlo error of <Phi(x), Phi(x')> shrinks like D^{-1/2}: 16x more features, ~4x less.
  x = _points()
  exact = kernel(x)
  errors = []
  for num_features in (500, 8000):
    trials = [features(x, jax.random.key(s), num_features) for s in range(5)]
    errors.append(np.mean([np.abs(p @ p.T - exact).max() for p in trials]))
  assert errors[1] < 0.1 * float(np.abs(exact).max())
  assert 2.0 < errors[0] / errors[1] < 8.0


def test_arccos_kernel_closed_forms():
  x = jnp.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
  k1 = km.arccos_kernel(x, x, order=1)
  np.testing.assert_allclose(jnp.diag(k1), [1.0, 4.0, 9.0], rtol=1e-6)  # theta = 0: |x|^2
  np.testing.assert_allclose(k1[0, 1], 2.0 / np.pi, rtol=1e-6)  # orthogonal: |x||x'|/pi
  np.testing.assert_allclose(k1[0, 2], 0.0, atol=1e-6)  # opposite: 0
  np.testing.assert_allclose(km.arccos_kernel(x, x, order=0)[0, 1], 0.5, rtol=1e-6)


def test_kernel_ridge_solves_its_normal_equations():
  x = _points(n=30, d=3, seed=1)
  labels = jnp.arange(30) % 3
  kernel = km.get_kernel("rbf", gamma=2.0)
  clf = km.KernelRidgeClassifier(kernel, reg=0.1).fit(x, labels, num_classes=3)
  gram = kernel(x, x)
  np.testing.assert_allclose((gram + 0.1 * jnp.eye(30)) @ clf.alpha,
                             jax.nn.one_hot(labels, 3), atol=1e-4)
  # Tiny ridge on distinct points interpolates: the training labels come back.
  exact = km.KernelRidgeClassifier(kernel, reg=1e-6).fit(x, labels, num_classes=3)
  np.testing.assert_array_equal(exact.predict(x), labels)


def test_ridge_path_by_one_eigendecomposition_matches_each_solve():
  x = _points(n=25, d=3, seed=3)
  gram = km.rbf_kernel(x, x, gamma=1.0)
  y = jax.nn.one_hot(jnp.arange(25) % 3, 3)
  regs = jnp.array([1e-3, 1e-1, 10.0])
  path = ls.ridge_path(gram, y, regs)
  for reg, alpha in zip(regs, path):
    # Both solve (K + reg I) alpha = Y; compare residuals (alpha itself is ill-conditioned
    # in float32 at reg 1e-3) and, where well conditioned, alpha.
    np.testing.assert_allclose((gram + reg * jnp.eye(25)) @ alpha, y, atol=2e-3)
    if reg >= 0.1:
      np.testing.assert_allclose(alpha, ls.ridge_solve(gram, y, reg), rtol=1e-4, atol=1e-4)


def test_linear_kernel_ridge_equals_primal_ridge():
  x = _points(n=20, d=4, seed=2)
  y = jax.nn.one_hot(jnp.arange(20) % 2, 2)
  alpha = ls.ridge_solve(x @ x.T, y, 0.5)
  w = jnp.linalg.solve(x.T @ x + 0.5 * jnp.eye(4), x.T @ y)  # (X^T X + l I)^-1 X^T Y
  np.testing.assert_allclose(x @ x.T @ alpha, x @ w, atol=1e-4)


def test_feature_map_is_fixed_and_only_the_head_trains():
  model = get_model("rff_classifier", num_outputs=2, num_features=64, gamma=0.5)
  x = _points(n=4, d=3)
  variables = model.init(jax.random.key(0), x)
  assert set(variables["params"]) == {"head"}
  again = get_model("rff_classifier", num_outputs=2, num_features=64, gamma=0.5)
  np.testing.assert_array_equal(model.apply(variables, x), again.apply(variables, x))
  other_seed = get_model("rff_classifier", num_outputs=2, num_features=64, gamma=0.5,
                         feature_seed=1)
  assert not np.allclose(model.apply(variables, x), other_seed.apply(variables, x))


def test_bad_kernel_inputs_raise():
  with pytest.raises(JaxnetsError):
    km.get_kernel("laplacian")
  with pytest.raises(JaxnetsError):
    km.KernelRidgeClassifier(km.linear_kernel, reg=0.0)
  with pytest.raises(JaxnetsError):
    km.KernelRidgeClassifier(km.linear_kernel).predict(jnp.ones((2, 2)))
  with pytest.raises(JaxnetsError):
    km.arccos_kernel(jnp.ones((2, 2)), jnp.ones((2, 2)), order=2)
