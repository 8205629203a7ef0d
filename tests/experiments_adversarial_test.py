"""``python -m experiments.adversarial --quick`` and the ImageNet context figure, end to end."""

from __future__ import annotations

import json

from tests.conftest import run_module


def test_quick_run_writes_the_table_and_figures(tmp_path):
  run_module("experiments.adversarial", "--quick", "--only=digits", f"--outdir={tmp_path}",
             timeout=300)
  table = (tmp_path / "table.md").read_text()
  assert "| digits | standard |" in table and "| digits | PGD-trained |" in table
  results = json.loads((tmp_path / "results.json").read_text())
  attacks = results["datasets"]["digits"]["standard"]["attacks"]
  assert set(attacks) == {"FGSM", "PGD-40", "PGD-40x10", "CW", "DeepFool"}
  for name in ("accuracy_vs_eps.png", "course_figure.png"):
    assert (tmp_path / name).stat().st_size > 0


def test_unknown_dataset_is_one_error_line(tmp_path):
  proc = run_module("experiments.adversarial", "--only=cifar", f"--outdir={tmp_path}",
                    check=False, timeout=60)
  lines = proc.stderr.strip().splitlines()
  assert proc.returncode == 2 and lines[-1].startswith("error: unknown dataset(s) cifar")


def test_context_figure_cites_its_sources(tmp_path):
  run_module("experiments.adversarial_context", f"--outdir={tmp_path}", timeout=60)
  text = (tmp_path / "imagenet_top5_error.md").read_text()
  assert "| 2012 | SuperVision (AlexNet) | 16.4 |" in text and "He et al. 2016" in text
  assert (tmp_path / "imagenet_top5_error.png").stat().st_size > 0
