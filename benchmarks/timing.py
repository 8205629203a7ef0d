"""The one timing rule of the throughput benchmarks, importable by both frameworks' workers
(standard library only: the PyTorch worker runs in a virtualenv without jaxnets)."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median_seconds(run: Callable[[], None], repeats: int, warmup: Callable[[], None]) -> float:
  """Calls ``warmup()`` once (compilation, caches), then ``run()`` ``repeats`` times; returns
  the median wall time of one ``run()``."""
  warmup()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
  return statistics.median(times)
