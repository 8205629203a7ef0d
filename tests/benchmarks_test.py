"""The throughput benchmark's driver: fresh worker processes, the table, and bad input.

(PyTorch is not a dependency of jaxnets, so the test runs the jaxnets column only; the
PyTorch twins' parameter counts are printed beside jaxnets' by the benchmark itself.)
"""

import pytest

from tests.conftest import run_module


def test_driver_times_a_case_in_a_worker_and_prints_the_table(tmp_path):
  proc = run_module("benchmarks.train_throughput", "--only=mnist1d_mlp", "--rounds=1",
                    "--repeats=1", "--steps=3", f"--torch_python={tmp_path}/no-python",
                    "--notrainer", timeout=300)
  assert "jaxnets column only" in proc.stdout
  row = [l for l in proc.stdout.splitlines() if l.startswith("| mnist1d_mlp |")]
  assert len(row) == 1 and "15210" in row[0]  # the 40-100-100-10 MLP's parameters


def test_unknown_case_is_one_line_error():
  proc = run_module("benchmarks.train_throughput", "--only=resnet21", check=False, timeout=120)
  assert proc.returncode == 2 and "Traceback" not in proc.stderr
  assert proc.stderr.strip().splitlines()[-1].startswith("error: unknown case(s) resnet21")


def test_flows_benchmark_table_and_bits_per_dim(tmp_path):
  """The flowjax comparison's own arithmetic (the peer itself runs only in its venv)."""
  import numpy as np

  from benchmarks import flows_table as bench
  bench.write_data(tmp_path / "d.npz")
  arrays = np.load(tmp_path / "d.npz")
  # the digits train split (1438) less the 10% validation, and the test split
  assert arrays["train"].shape == (1294, 64) and arrays["validation"].shape == (144, 64)
  assert arrays["test"].shape == (359, 64)
  # q = standard normal in logit space: bits/dim from its log-density plus the Jacobian
  log_q = -0.5 * np.sum(arrays["test"] ** 2, 1) - 32 * np.log(2 * np.pi)
  bpd = bench.bits_per_dim({"test_log_density": log_q.tolist()}, arrays["test_log_det"])
  expected = (-np.mean(log_q + arrays["test_log_det"]) + 64 * np.log(17)) / (64 * np.log(2))
  assert bpd == pytest.approx(expected)
  rows = {"realnvp": {"jaxnets": {"bpd": [2.0, 2.2, 2.1], "seconds": [10.0, 30.0, 20.0],
                                  "params": 100},
                      "flowjax": {"bpd": [2.5], "seconds": [40.0], "params": 101}}}
  text = bench.table(rows, steps=1000)
  assert "| realnvp | jaxnets | 100 | 2.100" in text and "| 0.50 |" in text
