"""The trainer end to end on the test config: outputs, resume, divergence, config errors."""

import json

import jax
import numpy as np
import pytest

from experiments.configs import test as test_config
from jaxnets.errors import JaxnetsError
from jaxnets.train import TrainingDiverged, train_and_evaluate
from jaxnets.train.checkpoint import load_arrays
from jaxnets.train.validation import validate_config
from tests.conftest import run_module


def test_train_and_evaluate_writes_metrics_checkpoints_and_results(tmp_path):
  config = test_config.get_config()
  state = train_and_evaluate(config, tmp_path)
  assert int(state.step) == config.num_steps
  results = json.loads((tmp_path / "results.json").read_text())
  assert results["step"] == 20 and 0.0 <= results["eval_accuracy"] <= 1.0
  assert results["examples_per_s"] > 0
  rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  train_rows = [r for r in rows if r["split"] == "train"]
  assert [r["step"] for r in train_rows] == [5, 10, 15, 20]
  assert {"loss", "accuracy", "grad_norm", "param_norm", "update_norm",
          "examples_per_s"} <= set(train_rows[0])
  assert [r["step"] for r in rows if r["split"] == "eval"] == [10, 20]
  assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
  assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()) == [
      "10", "20"]
  saved = load_arrays(tmp_path)
  for a, b in zip(jax.tree.leaves(saved["params"]), jax.tree.leaves(state.params)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_rerun_resumes_from_the_latest_checkpoint_and_matches_one_run(tmp_path):
  config = test_config.get_config()
  config.num_steps = 10
  train_and_evaluate(config, tmp_path / "split")
  config.num_steps = 20
  resumed = train_and_evaluate(config, tmp_path / "split")
  results = json.loads((tmp_path / "split" / "results.json").read_text())
  assert results["steps_trained_this_run"] == 10
  straight = train_and_evaluate(test_config.get_config(), tmp_path / "straight")
  for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(straight.params)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-6)


def test_non_finite_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
  config = test_config.get_config()
  config.optimizer.name = "sgd"
  config.optimizer.learning_rate = 1e30  # diverges within a few steps after the first save
  config.checkpoint_every = 1
  config.log_every = 1
  with pytest.raises(TrainingDiverged, match=r"non-finite at step (\d+)") as e:
    train_and_evaluate(config, tmp_path)
  bad_step = int(e.value.args[0].split("step ")[1].split(";")[0])
  saved = load_arrays(tmp_path)
  assert int(saved["step"]) == bad_step - 1
  assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(saved["params"]))


@pytest.mark.parametrize("field,value,message", [
    ("num_steps", -5, "num_steps must be a positive integer"),
    ("batch_size", 0, "batch_size must be a positive integer"),
    ("checkpoint_every", -1, "checkpoint_every must be a non-negative"),
    ("model.name", "resnet9000", "unknown model 'resnet9000'; known models: "),
    ("dataset.name", "imagenet21k", "unknown dataset 'imagenet21k'; known datasets: "),
    ("optimizer.name", "lion", "unknown optimizer 'lion'; known optimizers: "),
    ("optimizer.learning_rate", -0.1, "learning_rate must be positive"),
    ("optimizer.schedule", "zigzag", "unknown schedule 'zigzag'"),
    ("loss", "hinge", "unknown loss 'hinge'"),
    ("dtype", "float8", "unknown dtype 'float8'"),
])
def test_impossible_config_values_give_one_clear_line(field, value, message):
  config = test_config.get_config()
  node, leaf = config, field
  if "." in field:
    parent, leaf = field.split(".")
    node = config[parent]
  node[leaf] = value
  with pytest.raises(JaxnetsError) as e:
    validate_config(config, device_count=1)
  assert message in str(e.value) and "\n" not in str(e.value)


def test_batch_not_divisible_by_device_count_is_rejected():
  config = test_config.get_config()
  config.batch_size = 30
  with pytest.raises(JaxnetsError, match="batch_size=30 is not divisible by the 8 devices"):
    validate_config(config, device_count=8)


@pytest.mark.parametrize("flag,expected", [
    ("--config.model.name=nope", "error: unknown model 'nope'; known models:"),
    ("--config.optimizer.learning_rate=-1", "error: config.optimizer.learning_rate must be positive"),
    ("--config.no_such_field=3", "error: the config has no field 'no_such_field'"),
    ("--config.num_steps=many", "error: flag --config.num_steps=many"),
    ("--config=experiments/configs/nonexistent.py", "error: cannot load the --config file"),
    ("--config.dataset.name=mnist", "error: TFDS dataset 'mnist' is not prepared"),
])
def test_entry_point_prints_one_line_and_no_traceback(tmp_path, flag, expected):
  args = ["--config=experiments/configs/test.py", f"--workdir={tmp_path}", flag]
  if "mnist" in flag and "mnist1d" not in flag:
    args.append(f"--config.dataset.data_dir={tmp_path / 'tfds'}")
  proc = run_module("experiments.train", *args, check=False)
  _assert_one_error_line(proc, expected)


def _assert_one_error_line(proc, expected: str) -> None:
  """Exit status 2 (jaxnets.cli.USER_ERROR), no traceback, one ``error:`` line saying it."""
  assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
  assert "Traceback" not in proc.stderr
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
  assert len(errors) == 1 and expected in errors[0], proc.stderr[-2000:]


def test_workdir_that_is_a_file_is_one_line(tmp_path):
  workdir = tmp_path / "results.txt"
  workdir.write_text("not a directory")
  proc = run_module("experiments.train", "--config=experiments/configs/test.py",
                    f"--workdir={workdir}", check=False)
  _assert_one_error_line(proc, "is an existing file, not a directory")
  assert workdir.read_text() == "not a directory"


def test_config_file_with_a_syntax_error_is_one_line(tmp_path):
  config = tmp_path / "broken.py"
  config.write_text("def get_config(:\n  pass\n")
  proc = run_module("experiments.train", f"--config={config}", f"--workdir={tmp_path / 'w'}",
                    check=False)
  _assert_one_error_line(proc, f"syntax error at {config}:1")


def test_rerun_with_another_model_is_one_line_and_keeps_the_checkpoints(tmp_path):
  common = ["--config=experiments/configs/test.py", f"--workdir={tmp_path}",
            "--config.num_steps=10"]
  run_module("experiments.train", *common)
  before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "checkpoints").iterdir()}
  config_json = (tmp_path / "config.json").read_text()
  proc = run_module("experiments.train", *common, "--config.model.kwargs.width=64",
                    "--config.num_steps=20", check=False)
  _assert_one_error_line(proc, "holds a checkpoint (step 10) of a different model")
  assert "['params']['dense_0']" in proc.stderr and "is (32,) in the checkpoint but (64,)" \
      in proc.stderr
  after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "checkpoints").iterdir()}
  assert after == before and (tmp_path / "config.json").read_text() == config_json


def test_divergence_before_the_first_checkpoint_says_nothing_was_saved(tmp_path):
  config = test_config.get_config()
  config.optimizer.name = "sgd"
  config.optimizer.learning_rate = 1e30
  config.checkpoint_every = 0
  config.log_every = 1
  with pytest.raises(TrainingDiverged) as e:
    train_and_evaluate(config, tmp_path)
  assert "no checkpoint had been written yet" in str(e.value) and "None" not in str(e.value)
