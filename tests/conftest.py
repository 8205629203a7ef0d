"""Shared test fixtures: subprocess runs of the real entry point, and checkpoint reading."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def run_module(module: str, *args: str, devices: int = 1, timeout: float = 300,
               check: bool = True) -> subprocess.CompletedProcess:
  """Runs ``python -m module args`` from the repo root with ``devices`` virtual CPU devices."""
  env = dict(os.environ)
  env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
  env["JAX_PLATFORMS"] = "cpu"
  proc = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=timeout)
  if check and proc.returncode != 0:
    raise AssertionError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n"
                         f"{proc.stderr[-3000:]}")
  return proc


@pytest.fixture
def repo() -> pathlib.Path:
  return REPO
