"""The ladder's one-command experiments run end to end (tiny settings), and predictions of a
trained checkpoint score exactly as the trainer evaluated them.

The experiments run as subprocesses: each defines absl flags at import, as entry points do.
"""

import csv
import json

import numpy as np

from experiments.configs import test as test_config
from jaxnets.eval.scoring import score
from jaxnets.train import train_and_evaluate
from tests.conftest import run_module


def test_mnist1d_table_writes_table_json_and_plot(tmp_path):
  run_module("experiments.mnist1d_table", f"--outdir={tmp_path}", "--models=logistic,cnn",
             "--seeds=2", "--steps=20", "--num_samples=300")
  results = json.loads((tmp_path / "results.json").read_text())
  rows = {(r["model"], r["shuffled"]): r for r in results["rows"]}
  assert set(rows) == {("logistic", False), ("cnn", False), ("logistic", True), ("cnn", True)}
  for (name, shuffled), r in rows.items():
    assert len(r["test_acc"]) == 2 and r["test_acc"] == r["shift_acc"]["0"]
    assert set(r["shift_acc"]) == {"0", "1", "2", "3"}
    assert all(0.0 <= a <= 100.0 for a in r["test_acc"] + r["train_acc"])
    assert r["paper"] == {"logistic": 32, "cnn": 56 if shuffled else 94}[name]
  table = (tmp_path / "table.md").read_text()
  assert "| cnn | shuffled |" in table and "python -m experiments.mnist1d_table" in table
  assert (tmp_path / "shift.png").stat().st_size > 1000


def test_digits_ladder_rungs_and_kernel_ridge_accuracy(tmp_path):
  run_module("experiments.digits_ladder", f"--outdir={tmp_path}",
             "--only=perceptron,kernel_ridge,digits_logistic", "--seeds=2", "--steps_scale=0.05")
  results = json.loads((tmp_path / "results.json").read_text())
  rows = {r["model"]: r for r in results["rows"]}
  assert set(rows) == {"perceptron (one-vs-rest)", "kernel ridge, RBF kernel",
                       "kernel ridge, arc-cosine kernel", "logistic"}
  # Exact kernel ridge is deterministic and fast: the acceptance line itself (>= 97%).
  assert rows["kernel ridge, RBF kernel"]["test_acc"][0] >= 97.0
  assert rows["kernel ridge, arc-cosine kernel"]["test_acc"][0] >= 97.0
  # Rosenblatt's rule on 64 pixels: far above chance (10%) even where classes do not separate.
  assert min(rows["perceptron (one-vs-rest)"]["test_acc"]) > 85.0
  assert len(rows["logistic"]["test_acc"]) == 2
  for r in rows.values():  # shifting images by 3 pixels hurts every rung
    assert np.mean(r["shift_acc"]["3"]) < np.mean(r["shift_acc"]["0"])
  assert (tmp_path / "shift.png").stat().st_size > 1000
  assert "| logistic |" in (tmp_path / "table.md").read_text()


def test_predictions_csv_scores_as_the_trainer_evaluated(tmp_path):
  config = test_config.get_config()
  train_and_evaluate(config, tmp_path)
  results = json.loads((tmp_path / "results.json").read_text())
  out = tmp_path / "predictions.csv"
  proc = run_module("experiments.predict", "--config=experiments/configs/test.py",
                    f"--workdir={tmp_path}", f"--output={out}")
  with out.open() as f:
    rows = list(csv.DictReader(f))
  assert len(rows) == 1000 and [int(r["index"]) for r in rows] == list(range(1000))
  probs = np.array([[float(r[f"p_{k}"]) for k in range(10)] for r in rows])
  labels = np.array([int(r["label"]) for r in rows])
  np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
  np.testing.assert_array_equal([int(r["prediction"]) for r in rows], probs.argmax(1))
  assert abs(score(probs, labels, "zero_one") - (1.0 - results["eval_accuracy"])) < 1e-9
  assert abs(score(probs, labels, "cross_entropy") - results["eval_loss"]) < 1e-4
  assert f"zero_one: {1.0 - results['eval_accuracy']:.6f}" in proc.stdout
  # The checkpoint of this MLP loaded with a CNN config: one line, no traceback.
  proc = run_module("experiments.predict", "--config=experiments/configs/test_cnn.py",
                    f"--workdir={tmp_path}", check=False)
  assert proc.returncode != 0 and "Traceback" not in proc.stderr
  assert "does not fit model 'cnn_mnist1d'" in proc.stderr
