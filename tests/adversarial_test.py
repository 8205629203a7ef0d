"""The attacks against closed forms on linear models, the box and the ball, and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxnets import adversarial as adv
from jaxnets.errors import JaxnetsError


def _linear(params, x):
  return x.reshape(x.shape[0], -1) @ params["w"] + params["b"]


def _binary_problem(d=32, n=16, seed=0):
  rng = np.random.default_rng(seed)
  params = {"w": jnp.asarray(rng.normal(size=(d, 2)), jnp.float32),
            "b": jnp.asarray(rng.normal(size=2), jnp.float32)}
  x = jnp.asarray(rng.uniform(0.3, 0.7, size=(n, d)), jnp.float32)
  y = jnp.argmax(_linear(params, x), 1)  # every input correctly classified
  return params, x, y


def _exact_distance(params, x):
  w = params["w"][:, 1] - params["w"][:, 0]
  b = params["b"][1] - params["b"][0]
  return jnp.abs(x @ w + b) / jnp.linalg.norm(w)


def test_fgsm_changes_the_logit_difference_by_eps_times_the_l1_norm():
  params, x, y = _binary_problem()
  eps = 0.05  # inputs in [0.3, 0.7]: the box [0, 1] does not clip
  res = adv.fgsm(_linear, params, x, y, eps=eps)
  diff = lambda z: (_linear(params, z) @ jnp.array([-1.0, 1.0])) * jnp.where(y == 1, -1, 1)
  w = params["w"][:, 1] - params["w"][:, 0]
  np.testing.assert_allclose(diff(res.x_adv) - diff(x), eps * jnp.sum(jnp.abs(w)), rtol=1e-5)
  np.testing.assert_allclose(res.linf, eps, rtol=1e-6)


def test_deepfool_finds_the_exact_distance_of_an_affine_binary_classifier():
  params, x, y = _binary_problem()
  exact = _exact_distance(params, x)
  raw = adv.deepfool(_linear, params, x, y, overshoot=0.0, refine_steps=0, bounds=(-50, 50))
  # one step lands on the boundary; the 1e-4 of the step (Algorithm 2) is all that is added
  np.testing.assert_allclose(raw.l2, exact + 1e-4 / jnp.linalg.norm(
      params["w"][:, 1] - params["w"][:, 0]), rtol=1e-4)
  res = adv.deepfool(_linear, params, x, y, bounds=(-50, 50))
  assert bool(jnp.all(res.success))
  assert bool(jnp.all(res.l2 >= exact * (1 - 1e-4)))
  assert bool(jnp.all(res.l2 <= exact * (1 + 2e-3)))


def test_cw_and_lbfgs_are_no_larger_than_deepfool_on_a_linear_model():
  params, x, y = _binary_problem(n=8)
  box = (-50.0, 50.0)
  df = adv.deepfool(_linear, params, x, y, bounds=box)
  cw = adv.carlini_wagner(_linear, params, x, y, steps=200, binary_search_steps=6,
                          initial_const=1.0, learning_rate=0.05, bounds=box)
  lb = adv.lbfgs(_linear, params, x, y, steps=20, search_steps=6, bounds=box)
  # DeepFool is exact here (previous test); the others minimise by iterations: 1% allows
  # their optimisers' finite steps (measured: CW within 0.7%, L-BFGS within 0.08%).
  for res in (cw, lb):
    assert bool(jnp.all(res.success))
    assert bool(jnp.all(res.l2 <= df.l2 * 1.01))


def _mlp(p, x):  # module level: every test reuses the attacks' compilations
  return jnp.tanh(x.reshape(x.shape[0], -1) @ p["w1"]) @ p["w2"]


def _mlp_problem(n=12, seed=1):
  rng = np.random.default_rng(seed)
  params = {"w1": jnp.asarray(rng.normal(size=(20, 16)), jnp.float32),
            "w2": jnp.asarray(rng.normal(size=(16, 5)), jnp.float32)}
  apply = _mlp
  x = jnp.asarray(rng.uniform(0, 1, size=(n, 4, 5)), jnp.float32).at[:, 0, 0].set(0.0)
  y = jnp.asarray(rng.integers(0, 5, size=n), jnp.int32)
  return apply, params, x, y


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_budgeted_attacks_stay_in_the_box_and_the_ball(norm):
  apply, params, x, y = _mlp_problem()
  eps = 0.3
  for res in (adv.fgsm(apply, params, x, y, eps=eps, norm=norm),
              adv.pgd(apply, params, x, y, eps=eps, norm=norm, steps=5, restarts=2)):
    assert float(res.x_adv.min()) >= 0.0 and float(res.x_adv.max()) <= 1.0
    size = res.linf if norm == "linf" else res.l2
    assert float(size.max()) <= eps * (1 + 1e-5)
    np.testing.assert_allclose(res.rho, res.l2 / jnp.linalg.norm(x.reshape(len(x), -1), axis=1),
                               rtol=1e-5)


def test_minimal_attacks_stay_in_the_box():
  apply, params, x, y = _mlp_problem()
  for res in (adv.deepfool(apply, params, x, y, steps=10),
              adv.carlini_wagner(apply, params, x, y, steps=10, binary_search_steps=2)):
    # (L-BFGS shares CW's change of variables into the box; it is tested on the linear model)
    assert float(res.x_adv.min()) >= 0.0 and float(res.x_adv.max()) <= 1.0
    fooled = jnp.argmax(apply(params, res.x_adv), 1) != y
    np.testing.assert_array_equal(res.success, fooled)


def test_more_restarts_never_weaken_pgd():
  apply, params, x, y = _mlp_problem()
  key = jax.random.key(3)
  one = adv.pgd(apply, params, x, y, eps=0.05, steps=3, key=key)
  many = adv.pgd(apply, params, x, y, eps=0.05, steps=3, restarts=4, key=key)
  assert bool(jnp.all(many.success | ~one.success))  # restart 0 is the one-restart run


def test_pgd_is_at_least_as_strong_as_fgsm_on_a_trained_model():
  from jaxnets.data import get_dataset
  from jaxnets.models import get_model
  from jaxnets.train import minimize_model

  train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
  model = get_model("logistic", num_outputs=10)
  state = minimize_model(model, optax.adam(1e-2), {"image": train.image, "label": train.label},
                         key=jax.random.key(0), num_steps=60).state
  apply, v = adv.flax_apply(model), state.variables()
  x, y = jnp.asarray(test.image[:160]), jnp.asarray(test.label[:160])
  clean = float(jnp.mean(jnp.argmax(apply(v, x), 1) == y))
  f = 1 - float(adv.fgsm(apply, v, x, y, eps=0.1).success.mean())
  p = 1 - float(adv.pgd(apply, v, x, y, eps=0.1, steps=10).success.mean())
  assert clean > 0.85 and p <= f < clean


def test_bad_input_raises_one_line_errors():
  apply, params, x, y = _mlp_problem()
  with pytest.raises(JaxnetsError, match="epsilon must be"):
    adv.fgsm(apply, params, x, y, eps=-0.1)
  with pytest.raises(JaxnetsError, match="unknown norm 'l3'"):
    adv.pgd(apply, params, x, y, eps=0.1, norm="l3")
  with pytest.raises(JaxnetsError, match="outside the declared range"):
    adv.deepfool(apply, params, x + 2.0, y)
  with pytest.raises(JaxnetsError, match="lo < hi"):
    adv.carlini_wagner(apply, params, x, y, bounds=(1.0, 0.0))


SHARDED = r"""
import jax, jax.numpy as jnp, numpy as np
from jaxnets import adversarial as adv
rng = np.random.default_rng(0)
w = jnp.asarray(rng.normal(size=(20, 5)), jnp.float32)
apply = lambda p, x: jnp.tanh(x.reshape(x.shape[0], -1) @ p)
x = jnp.asarray(rng.uniform(0, 1, size=(16, 20)), jnp.float32)
y = jnp.asarray(rng.integers(0, 5, size=16), jnp.int32)
xs, ys = adv.shard_batch(x, y)
assert len(xs.sharding.device_set) == 8
for fn in (lambda a, b: adv.pgd(apply, w, a, b, eps=0.1, steps=3, restarts=2),):
  r1, r8 = fn(x, y), fn(xs, ys)
  assert len(r8.x_adv.sharding.device_set) == 8
  np.testing.assert_allclose(np.asarray(r8.x_adv), np.asarray(r1.x_adv), atol=1e-5)
print("ok")
"""


def test_attacks_run_data_parallel_on_8_devices():
  import os
  import subprocess
  import sys

  from tests.conftest import REPO

  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
             JAX_PLATFORMS="cpu")
  proc = subprocess.run([sys.executable, "-c", SHARDED], cwd=REPO, env=env, capture_output=True,
                        text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip() == "ok"
