"""The throughput benchmark's driver: fresh worker processes, the table, and bad input.

(PyTorch is not a dependency of jaxnets, so the test runs the jaxnets column only; the
PyTorch twins' parameter counts are printed beside jaxnets' by the benchmark itself.)
"""

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
