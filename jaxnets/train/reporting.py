"""Where metrics go: JSON lines and TensorBoard event files in the workdir, and the console.

Only process 0 writes. TensorBoard events are written with ``tensorboardX``, which needs no
TensorFlow (flax's and clu's writers import TensorFlow).
"""

from __future__ import annotations

import json
import pathlib
import sys
import time
from typing import Mapping

import jax


class MetricsWriter:
  """Appends ``{"step", "split", **metrics}`` rows to ``metrics.jsonl`` and to TensorBoard."""

  def __init__(self, workdir: str | pathlib.Path):
    self._active = jax.process_index() == 0
    self._jsonl = None
    self._tb = None
    if self._active:
      workdir = pathlib.Path(workdir)
      workdir.mkdir(parents=True, exist_ok=True)
      self._jsonl = open(workdir / "metrics.jsonl", "a", encoding="utf-8")
      from tensorboardX import SummaryWriter  # imported lazily: slow, and only process 0

      self._tb = SummaryWriter(str(workdir / "tensorboard"))

  def write(self, step: int, split: str, metrics: Mapping[str, float]) -> None:
    if not self._active:
      return
    row = {"step": int(step), "split": split, **{k: float(v) for k, v in metrics.items()}}
    self._jsonl.write(json.dumps(row) + "\n")
    self._jsonl.flush()
    for name, value in metrics.items():
      self._tb.add_scalar(f"{split}/{name}", float(value), int(step))
    self._tb.flush()

  def close(self) -> None:
    if self._active:
      self._jsonl.close()
      self._tb.close()


class Progress:
  """A periodic one-line console status with throughput and ETA."""

  def __init__(self, total_steps: int, start_step: int, batch_size: int, stream=sys.stderr):
    self.total, self.batch_size, self.stream = total_steps, batch_size, stream
    self._t0, self._s0 = time.perf_counter(), start_step
    self._last_t, self._last_s = self._t0, start_step
    self.active = jax.process_index() == 0

  def rates(self, step: int) -> dict[str, float]:
    """Steps/s and examples/s since the previous call."""
    now = time.perf_counter()
    dt, ds = now - self._last_t, step - self._last_s
    self._last_t, self._last_s = now, step
    steps_per_s = ds / dt if dt > 0 else float("nan")
    return {"steps_per_s": steps_per_s, "examples_per_s": steps_per_s * self.batch_size}

  def line(self, step: int, text: str, rates: Mapping[str, float]) -> None:
    """Prints ``step | <text> | examples/s | ETA``; ``text`` is the task's metrics summary."""
    if not self.active:
      return
    elapsed = time.perf_counter() - self._t0
    done = step - self._s0
    eta = elapsed / done * (self.total - step) if done else float("nan")
    eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if eta == eta else "?"
    print(f"step {step:>7d}/{self.total} | {text} | {rates['examples_per_s']:,.0f} ex/s "
          f"| ETA {eta_text}",
          file=self.stream, flush=True)
