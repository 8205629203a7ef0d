"""The one training engine: in-memory runs equal the CLI trainer, seeds equal single runs, fused
steps equal single steps, stopping rules freeze each run where it met them, health guards."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from experiments.configs import test as test_config
from jaxnets.models import get_model
from jaxnets.train import TrainingDiverged, fit, minimize, minimize_model, train_and_evaluate
from jaxnets.train.losses import cross_entropy


def _max_diff(a, b) -> float:
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
             for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_in_memory_fit_gives_the_cli_trainers_params(tmp_path):
  config = test_config.get_config()
  cli_state = train_and_evaluate(config, tmp_path)
  memory = fit(config)
  # Same batches (epoch permutations of the same seed), same per-step keys, same step: the
  # programs differ only in where the batch is gathered, so the params agree to the bit.
  assert _max_diff(cli_state.params, memory.state.params) == 0.0
  assert int(memory.state.step) == config.num_steps


def test_each_vmapped_seed_is_the_run_of_that_seed():
  config = test_config.get_config()
  stacked = fit(config, seeds=[0, 3]).state.params
  config.seed = 3
  alone = fit(config).state.params
  # vmap changes the order of float32 reductions only: differences at rounding level.
  assert _max_diff(jax.tree.map(lambda p: p[1], stacked), alone) < 1e-5
  assert _max_diff(jax.tree.map(lambda p: p[0], stacked), alone) > 1e-2  # seeds do differ


def _regression_data(n=64, d=3, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.standard_normal((n, d)).astype(np.float32)
  return {"x": x, "y": (x @ np.arange(1.0, d + 1.0)).astype(np.float32)}


def _mse(params, batch, rng):
  del rng
  return jnp.mean((batch["x"] @ params["w"] - batch["y"]) ** 2)


_SGD = optax.sgd(0.05)


def test_fused_steps_equal_one_step_per_call():
  data = _regression_data()
  params = {"w": jnp.zeros(3)}
  one = minimize(_mse, params, _SGD, data, num_steps=40, batch_size=16, log_every=10)
  fused = minimize(_mse, params, _SGD, data, num_steps=40, batch_size=16, steps_per_call=10,
                   log_every=10)
  assert _max_diff(one.state.params, fused.state.params) < 1e-6
  np.testing.assert_allclose([h["loss"] for h in one.history],
                             [h["loss"] for h in fused.history], rtol=1e-5)
  assert [h["step"] for h in fused.history] == [10, 20, 30, 40]


def _loss_below(state, data):
  return _mse(state.params, data, None) <= 1.0


def test_stopping_rule_freezes_each_seed_where_it_met_the_rule():
  data = _regression_data()
  # Two runs: one starts at the solution (meets the rule at the first check), one far away.
  start = {"w": jnp.stack([jnp.arange(1.0, 4.0), jnp.full(3, -5.0)])}
  result = minimize(_mse, start, _SGD, data, num_steps=400, batch_size=None, seeds=True,
                    stop_when=_loss_below, check_every=20)
  steps = np.asarray(result.state.step)
  assert steps[0] == 20 and 20 < steps[1] < 400, steps
  assert result.stopped.tolist() == [True, True]
  losses = [float(_mse({"w": result.state.params["w"][i]}, data, None)) for i in range(2)]
  assert losses[1] <= 1.0
  # The frozen run kept its state: SGD from the exact solution would not move it anyway, so
  # check the other run stopped at a check boundary.
  assert steps[1] % 20 == 0


def test_budget_ends_a_run_that_never_meets_its_rule():
  data = _regression_data()
  never = lambda state, data: jnp.asarray(False)
  result = minimize(_mse, {"w": jnp.zeros(3)}, _SGD, data, num_steps=60, stop_when=never,
                    check_every=20)
  assert int(result.state.step) == 60 and not bool(result.stopped)


def test_non_finite_loss_in_memory_names_the_step_and_the_seed():
  model = get_model("mlp", num_outputs=10, width=8, depth=1)
  rng = np.random.default_rng(0)
  data = {"image": rng.standard_normal((32, 5)).astype(np.float32),
          "label": rng.integers(0, 10, 32).astype(np.int32)}
  with pytest.raises(TrainingDiverged, match=r"loss became non-finite at step \d+ \(seed index"
                                             r" \d\); nothing was saved"):
    minimize_model(model, optax.sgd(1e30), data, key=jax.random.key(0), num_steps=50,
                   batch_size=8, loss_fn=cross_entropy, seeds=2, log_every=1)


def test_bad_engine_arguments_are_one_line_errors():
  from jaxnets.errors import JaxnetsError

  data = _regression_data()
  with pytest.raises(JaxnetsError, match="num_steps=45 is not a multiple of steps_per_call=10"):
    minimize(_mse, {"w": jnp.zeros(3)}, _SGD, data, num_steps=45, steps_per_call=10)
  with pytest.raises(JaxnetsError, match="stop_when needs check_every"):
    minimize(_mse, {"w": jnp.zeros(3)}, _SGD, data, num_steps=10, stop_when=_loss_below)
  with pytest.raises(JaxnetsError, match="batch_size 100 is larger than the dataset"):
    minimize(_mse, {"w": jnp.zeros(3)}, _SGD, data, num_steps=10, batch_size=100)
