"""python -m experiments.density: a short run writes its table and figure; bad input is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import run_module


def test_short_run_writes_table_figure_and_results(tmp_path):
  run_module("experiments.density", "--targets=ring", "--config.num_steps=100",
             "--config.train_size=1000", "--config.kl_samples=1000", "--config.flow.num_layers=2",
             f"--outdir={tmp_path}")
  rows = json.loads((tmp_path / "results.json").read_text())
  assert rows[0]["target"] == "ring" and np.isfinite(rows[0]["flow_kl"])
  assert rows[0]["kde_kl"] >= -0.05  # KL >= 0 up to Monte-Carlo error
  assert (tmp_path / "density_2d.png").stat().st_size > 0
  assert "| ring |" in (tmp_path / "density.md").read_text()


@pytest.mark.parametrize("case,message", [
    ("nan", "NaN or infinite"), ("3d", "(n, 2) points"), ("bandwidth", "--bandwidth must be > 0")])
def test_bad_input_is_one_error_line(tmp_path, case, message):
  points = np.random.default_rng(0).normal(size=(50, 3 if case == "3d" else 2))
  if case == "nan":
    points[4, 1] = np.nan
  np.save(tmp_path / "p.npy", points)
  args = [f"--data={tmp_path / 'p.npy'}", f"--outdir={tmp_path}"]
  if case == "bandwidth":
    args.append("--bandwidth=0")
  proc = run_module("experiments.density", *args, check=False)
  assert proc.returncode == 2
  errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
  assert len(errors) == 1 and message in errors[0] and "Traceback" not in proc.stderr
