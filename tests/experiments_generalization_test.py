"""The generalization experiments' main() run end to end on tiny settings."""

import json

from absl import flags
from absl.testing import flagsaver
import pytest

from experiments import double_descent, generalization_measures
from jaxnets.errors import JaxnetsError

FLAGS = flags.FLAGS


def _parse():
  if not FLAGS.is_parsed():
    FLAGS(["test"])


def test_generalization_measures_main(tmp_path):
  _parse()
  # A loose target (train cross-entropy <= 2.0) is met at the first check (500 steps): the run
  # stops there, the network is ranked, and the step count says the rule fired.
  with flagsaver.flagsaver(outdir=str(tmp_path), grid_size=2, max_steps=2000, target_loss=2.0):
    generalization_measures.main(["prog"])
  out = json.loads((tmp_path / "measures.json").read_text())
  assert len(out["rows"]) == 2 and out["target_loss"] == 2.0
  assert all(r["reached_target"] and r["steps"] == 500 for r in out["rows"])
  expected = {"vc_bound", "path_norm", "spectral_margin_bound", "pacbayes_bound"}
  assert expected <= set(out["kendall_tau"])
  for row in out["rows"]:
    assert 0 <= row["test_error"] <= 1 and row["vc_bound"] > row["train_error"]
  assert "Kendall" in (tmp_path / "measures.md").read_text()
  assert (tmp_path / "measures.png").stat().st_size > 0


def test_grid_configs_are_distinct_and_checked():
  cfgs = generalization_measures.grid_configs(10, seed=1)
  assert len({tuple(c.values()) for c in cfgs}) == 10
  with pytest.raises(JaxnetsError):
    generalization_measures.grid_configs(1000, seed=0)


def test_double_descent_main(tmp_path):
  _parse()
  with flagsaver.flagsaver(outdir=str(tmp_path), sweep_widths=["2", "16"], sweep_steps=100,
                           sweep_seeds=1, label_noise=0.2):
    double_descent.main(["prog"])
  rows = json.loads((tmp_path / "double_descent.json").read_text())["rows"]
  assert [r["width"] for r in rows] == [2, 16]
  assert rows[1]["params"] == 41 * 16 + 17 * 10


def test_noisy_labels_flips_the_stated_fraction():
  import numpy as np
  y = np.zeros(20000, dtype=np.int32)
  noisy = double_descent.noisy_labels(y, 0.5, 10, seed=0)
  # A flipped label stays 0 with probability 1/10: changed fraction 0.5 * 0.9 = 0.45.
  assert abs(np.mean(noisy != 0) - 0.45) < 0.02
  with pytest.raises(JaxnetsError):
    double_descent.noisy_labels(y, 1.5, 10, seed=0)
