"""experiments/approximation_rates.py end to end, as a subprocess (its flag names are generic)."""

from __future__ import annotations

import json

from tests.conftest import run_module


def test_width_sweep_writes_rates_json_table_and_plot(tmp_path):
  run_module("experiments.approximation_rates", "--target=cybenko", "--d=1", "--n=256",
             "--n_test=128", "--widths=2,4,8", "--steps=150", "--seeds=2", "--act=tanh",
             f"--outdir={tmp_path}")
  record = json.loads((tmp_path / "approximation_rates.json").read_text())
  assert record["widths"] == [2, 4, 8] and record["model"] == "mlp"
  assert len(record["errors"]["sq_l2"]) == 3 and len(record["all_seeds"]["linf"][0]) == 2
  fit = record["fits"]["sq_l2"]
  assert fit["exponent_ci"][0] <= fit["exponent"] <= fit["exponent_ci"][1]
  # the squared L2 error never exceeds the L-infinity error squared
  for sq, sup in zip(record["errors"]["sq_l2"], record["errors"]["linf"]):
    assert sq <= sup ** 2 + 1e-9
  assert "rate (95% CI)" in (tmp_path / "approximation_rates.md").read_text()
  assert (tmp_path / "approximation_rates.png").stat().st_size > 0


def test_config_file_supplies_model_and_optimizer(tmp_path):
  run_module("experiments.approximation_rates", "--config=experiments/configs/digits_mlp.py",
             "--config.model.kwargs.depth=2", "--target=single_neuron", "--d=4", "--n=200",
             "--n_test=64", "--widths=2,4,8", "--steps=20", "--seeds=1", f"--outdir={tmp_path}")
  record = json.loads((tmp_path / "approximation_rates.json").read_text())
  assert record["model_kwargs"]["depth"] == "2" and record["model_kwargs"]["act"] == "relu"


def test_bad_input_exits_with_one_line(tmp_path):
  proc = run_module("experiments.approximation_rates", "--target=tent", "--d=3",
                    f"--outdir={tmp_path}", check=False)
  assert proc.returncode == 2
  assert proc.stderr.strip().splitlines()[-1] == \
      "error: the tent target is one-dimensional, got d=3; pass --d=1"
  proc = run_module("experiments.approximation_rates", "--widths=4,8", f"--outdir={tmp_path}",
                    check=False)
  assert proc.returncode == 2 and "at least 3 distinct widths" in proc.stderr
