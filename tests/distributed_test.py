"""Data parallelism, multi-process training and crash-resume give the same params as one run.

Each run is the real entry point in a subprocess, because the number of (virtual CPU) devices
is fixed when a process starts.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np

from jaxnets.train.checkpoint import load_arrays
from tests.conftest import REPO, run_module

TRAIN = "experiments.train"
CNN_TEST = ["--config=experiments/configs/test_cnn.py",
            "--config.batch_size=32", "--config.num_steps=20"]


def max_param_difference(workdir_a, workdir_b) -> float:
  a, b = load_arrays(workdir_a), load_arrays(workdir_b)
  assert int(a["step"]) == int(b["step"])
  diffs = [np.max(np.abs(np.asarray(x) - np.asarray(y)))
           for x, y in zip(jax.tree.leaves(a["params"]), jax.tree.leaves(b["params"]))]
  return float(max(diffs))


def test_eight_devices_give_the_same_params_as_one(tmp_path):
  run_module(TRAIN, *CNN_TEST, f"--workdir={tmp_path / 'one'}", devices=1)
  proc = run_module(TRAIN, *CNN_TEST, f"--workdir={tmp_path / 'eight'}", devices=8)
  assert "8 x 1" in proc.stdout  # devices x processes
  assert max_param_difference(tmp_path / "one", tmp_path / "eight") <= 1e-5


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def test_two_processes_give_the_same_params_as_one_process(tmp_path):
  port = _free_port()
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
             JAX_PLATFORMS="cpu")
  procs = [subprocess.Popen(
      [sys.executable, "-m", TRAIN, *CNN_TEST, f"--workdir={tmp_path / 'two'}",
       f"--coordinator_address=localhost:{port}", "--num_processes=2", f"--process_id={i}"],
      cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]
  outputs = [p.communicate(timeout=300) for p in procs]
  for p, (_, err) in zip(procs, outputs):
    assert p.returncode == 0, err[-3000:]
  assert "4 x 2" in outputs[0][0]
  run_module(TRAIN, *CNN_TEST, f"--workdir={tmp_path / 'one'}", devices=4)
  assert max_param_difference(tmp_path / "one", tmp_path / "two") <= 1e-5


def test_sigkill_mid_training_then_rerun_ends_with_the_same_params(tmp_path):
  args = ["--config=experiments/configs/test.py", "--config.num_steps=3000",
          "--config.checkpoint_every=100", "--config.log_every=100", "--config.eval_every=0"]
  run_module(TRAIN, *args, f"--workdir={tmp_path / 'straight'}")

  killed = tmp_path / "killed"
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=1",
             JAX_PLATFORMS="cpu")
  proc = subprocess.Popen([sys.executable, "-m", TRAIN, *args, f"--workdir={killed}"],
                          cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + 120
  while not (killed / "checkpoints" / "200").exists() and time.monotonic() < deadline:
    time.sleep(0.02)
  proc.send_signal(signal.SIGKILL)
  proc.wait()
  assert proc.returncode == -signal.SIGKILL
  saved = sorted(int(p.name) for p in (killed / "checkpoints").iterdir() if p.name.isdigit())
  assert saved and max(saved) < 3000, f"the run was not killed mid-training: {saved}"

  proc = run_module(TRAIN, *args, f"--workdir={killed}")
  assert max_param_difference(tmp_path / "straight", killed) <= 1e-6
