"""The theory report's command line: check selection, the markdown table and its figures."""

import json
import re

from tests.conftest import run_module


def test_report_table_is_well_formed_and_links_figures(tmp_path):
  checks = ["ntk_sphere_spectrum", "min_norm_least_squares"]
  run_module("experiments.theory_report", f"--only={','.join(checks)}", "--quick",
             f"--outdir={tmp_path}", timeout=300)
  lines = (tmp_path / "report.md").read_text().splitlines()
  rows = [l for l in lines if l.startswith("| ") and "---" not in l][1:]
  assert len(rows) == 2
  for row, name in zip(rows, checks):
    # 8 columns: 9 unescaped pipes, even though tolerances contain |x| (escaped as \|).
    assert len(re.findall(r"(?<!\\)\|", row)) == 9, row
    assert f"[{name}]({name}.png)" in row and "| pass |" in row
    assert (tmp_path / f"{name}.png").stat().st_size > 0
  assert "seed 0: 2/2 passed" in lines[-1] and "--only=" in lines[-1]
  report = json.loads((tmp_path / "report.json").read_text())
  assert [r["name"] for r in report] == checks and all(r["passed"] for r in report)


def test_unknown_check_is_one_line_error(tmp_path):
  proc = run_module("experiments.theory_report", "--only=ntk_sprectrum", f"--outdir={tmp_path}",
                    check=False, timeout=120)
  assert proc.returncode == 2
  assert "Traceback" not in proc.stderr
  err = proc.stderr.strip().splitlines()[-1]
  assert err.startswith("error: ") and "ntk_sprectrum" in err and "ntk_sphere_spectrum" in err


def test_several_seeds_write_one_directory_each_and_count_passes(tmp_path):
  run_module("experiments.theory_report", "--only=ntk_sphere_spectrum", "--quick",
             "--seeds=0,1", f"--outdir={tmp_path}", timeout=300)
  for seed in (0, 1):
    assert (tmp_path / f"seed{seed}" / "ntk_sphere_spectrum.json").exists()
  last = (tmp_path / "report.md").read_text().splitlines()[-1]
  assert "seed 0: 1/1 passed; seed 1: 1/1 passed" in last
  report = json.loads((tmp_path / "report.json").read_text())
  assert [r["seed"] for r in report] == [0, 1]


def test_bad_seeds_flag_is_one_line_error(tmp_path):
  proc = run_module("experiments.theory_report", "--seeds=0,x", f"--outdir={tmp_path}",
                    check=False, timeout=120)
  assert proc.returncode == 2 and "Traceback" not in proc.stderr
  err = proc.stderr.strip().splitlines()[-1]
  assert err.startswith("error: ") and "--seeds" in err
