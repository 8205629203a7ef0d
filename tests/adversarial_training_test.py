"""PGD adversarial training: the engine step lowers the robust loss; configs and bad input."""

from __future__ import annotations

import json

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


def test_adversarial_steps_reduce_the_robust_loss_below_standard_training():
  from jaxnets.models import get_model

  # Tsipras et al. (2019)'s toy: x_0 = +-0.3 (right 90% of the time) survives eps = 0.1; nine
  # weak features shifted by +-0.05 < eps help a standard model but flip under the attack.
  rng = np.random.default_rng(0)
  n, eps = 512, 0.1
  y = rng.integers(0, 2, size=n).astype(np.int32)
  s = 2.0 * y - 1
  robust_feature = 0.3 * s * np.where(rng.random(n) < 0.9, 1, -1)
  weak = 0.05 * s[:, None] + 0.05 * rng.normal(size=(n, 9))
  x = np.clip(0.5 + np.concatenate([robust_feature[:, None], weak], 1), 0, 1).astype(np.float32)
  data = {"image": x, "label": y}
  model = get_model("logistic", num_outputs=2)
  apply, key = adv.flax_apply(model), jax.random.key(1)
  run = minimize_model(model, optax.adam(3e-2), data, key=key, num_steps=100, log_every=10,
                       adversarial=PGDTraining(eps=eps, steps=5))
  standard = minimize_model(model, optax.adam(3e-2), data, key=key, num_steps=100)
  # the step's loss is the loss on its PGD batch: the robust loss, falling as it trains
  assert run.history[-1]["loss"] < 0.8 * run.history[0]["loss"]
  xj, yj = jnp.asarray(x), jnp.asarray(y)
  robust_loss = _robust_loss(apply, run.state.variables(), xj, yj, eps)
  assert robust_loss < _robust_loss(apply, standard.state.variables(), xj, yj, eps)


@pytest.mark.parametrize("kwargs, message", [
    (dict(eps=-0.1), "eps >= 0"), (dict(eps=0.1, norm="l3"), "unknown norm 'l3'"),
    (dict(eps=0.1, steps=0), "steps >= 1"), (dict(eps=0.1, lo=1.0, hi=0.0), "lo < hi")])
def test_bad_training_attack_is_a_one_line_error(kwargs, message):
  with pytest.raises(JaxnetsError, match=message):
    PGDTraining(**kwargs)


def _config(**adversarial):
  from experiments.configs import digits_cnn_adversarial

  config = digits_cnn_adversarial.get_config()
  config.model.kwargs.channels = (4, 8)  # tiny: the test checks the plumbing, not robustness
  config.model.kwargs.hidden = 8
  config.num_steps, config.log_every, config.eval_every, config.checkpoint_every = 2, 1, 0, 0
  config.adversarial.steps = 1
  config.adversarial.update(adversarial)
  return config


def test_trainer_runs_the_adversarial_task_and_evaluates_robust_accuracy(tmp_path):
  from jaxnets.train import train_and_evaluate

  train_and_evaluate(_config(), tmp_path / "run")
  results = json.loads((tmp_path / "run" / "results.json").read_text())
  assert 0 <= results["eval_robust_accuracy"] <= results["eval_accuracy"] <= 1


@pytest.mark.parametrize("override, message", [
    (dict(eps=-0.2), "eps >= 0"), (dict(norm="l3"), "unknown norm 'l3'"),
    (dict(hi=0.5), "outside config.adversarial's range")])
def test_bad_adversarial_config_is_a_one_line_error(override, message):
  from jaxnets.train.tasks import create_task
  from jaxnets.train.validation import validate_config

  with pytest.raises(JaxnetsError, match=message) as info:
    config = _config(**override)
    validate_config(config, 1)
    create_task(config)
  assert "\n" not in str(info.value)


def test_cli_prints_one_error_line_for_a_negative_eps(tmp_path):
  proc = run_module("experiments.train", "--config=experiments/configs/digits_cnn_adversarial.py",
                    f"--workdir={tmp_path}", "--config.adversarial.eps=-0.2", check=False,
                    timeout=120)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
  assert lines[-1].startswith("error: ") and "eps >= 0" in lines[-1]
  assert sum(l.startswith("error:") for l in lines) == 1
