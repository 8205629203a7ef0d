"""PGD adversarial training: the engine step lowers the robust loss; configs and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxnets import adversarial as adv
from jaxnets.errors import JaxnetsError
from jaxnets.train import minimize_model
from jaxnets.train.adversarial import PGDTraining
from tests.conftest import run_module


def _robust_loss(apply, v, x, y, eps):
  res = adv.pgd(apply, v, x, y, eps=eps, steps=10, key=jax.random.key(5))
  logits = apply(v, res.x_adv)
  return float(jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y)))


def test_adversarial_steps_reduce_the_robust_loss_more_than_standard_steps():
  from jaxnets.models import get_model

  rng = np.random.default_rng(0)
  n, d = 256, 10
  y = rng.integers(0, 2, size=n).astype(np.int32)
  x = np.clip(0.5 + 0.15 * (2 * y - 1)[:, None] * np.ones(d) / np.sqrt(d) * 3
              + 0.1 * rng.normal(size=(n, d)), 0, 1).astype(np.float32)
  data = {"image": x, "label": y}
  model = get_model("logistic", num_outputs=2)
  apply, eps = adv.flax_apply(model), 0.1
  key = jax.random.key(1)
  init = minimize_model(model, optax.sgd(0.0), data, key=key, num_steps=1).state.variables()
  robust = minimize_model(model, optax.adam(3e-2), data, key=key, num_steps=60,
                          adversarial=PGDTraining(eps=eps, steps=5)).state.variables()
  standard = minimize_model(model, optax.adam(3e-2), data, key=key, num_steps=60
                            ).state.variables()
  xj, yj = jnp.asarray(x), jnp.asarray(y)
  before = _robust_loss(apply, init, xj, yj, eps)
  after = _robust_loss(apply, robust, xj, yj, eps)
  assert after < 0.5 * before
  assert after < _robust_loss(apply, standard, xj, yj, eps)


@pytest.mark.parametrize("kwargs, message", [
    (dict(eps=-0.1), "eps >= 0"), (dict(eps=0.1, norm="l3"), "unknown norm 'l3'"),
    (dict(eps=0.1, steps=0), "steps >= 1"), (dict(eps=0.1, lo=1.0, hi=0.0), "lo < hi")])
def test_bad_training_attack_is_a_one_line_error(kwargs, message):
  with pytest.raises(JaxnetsError, match=message):
    PGDTraining(**kwargs)


def test_cli_trainer_runs_the_adversarial_config_and_rejects_bad_values(tmp_path):
  config = "--config=experiments/configs/digits_cnn_adversarial.py"
  small = ["--config.num_steps=2", "--config.log_every=1", "--config.eval_every=0",
           "--config.checkpoint_every=0", "--config.adversarial.steps=1"]
  proc = run_module("experiments.train", config, f"--workdir={tmp_path}/run", *small)
  assert "robust_accuracy" in (tmp_path / "run" / "results.json").read_text()
  for override, message in (("--config.adversarial.eps=-0.2", "eps >= 0"),
                            ("--config.adversarial.norm=l3", "unknown norm 'l3'"),
                            ("--config.adversarial.hi=0.5", "outside config.adversarial's")):
    proc = run_module("experiments.train", config, f"--workdir={tmp_path}/bad", *small, override,
                      check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert lines[-1].startswith("error: ") and message in lines[-1]
    assert sum(l.startswith("error:") for l in lines) == 1
