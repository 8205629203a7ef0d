"""The neural-tangents side of ``python -m benchmarks.ntk --compare_nt`` (run by it).

Runs under the neural-tangents virtualenv (set-up in ``benchmarks/ntk.py``), from the repository
root: ``/work/venvs/nt/bin/python -m benchmarks.ntk_neural_tangents --repeats=5``. Builds the
networks of ``benchmarks/ntk_cases.py`` with ``neural_tangents.stax``, compiles each measured
function with one untimed call, times ``--repeats`` calls and prints one JSON line
``{"framework", "version", "times": {case: {implementation: [seconds, ...]}}}``.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import neural_tangents as nt
from neural_tangents import stax

from benchmarks import ntk_cases as C


def _network(name: str):
  if name == "mlp":
    layers = [layer for _ in range(C.DEPTH)
              for layer in (stax.Dense(C.WIDTH, W_std=C.W_STD), stax.Relu())]
  else:
    layers = [layer for _ in range(2)
              for layer in (stax.Conv(C.CHANNELS, C.FILTER, padding="SAME", W_std=C.W_STD),
                            stax.Relu())] + [stax.GlobalAvgPool()]
  return stax.serial(*layers, stax.Dense(1, W_std=C.W_STD))


def _timed(fn, repeats: int) -> list[float]:
  jax.block_until_ready(fn())  # compile and warm up
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    times.append(time.perf_counter() - start)
  return times


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--only", default="", help="time only cases whose name contains this")
  args = parser.parse_args()
  times = {}
  for kind, network, n in C.selected(args.only):
    init_fn, apply_fn, kernel_fn = _network(network)
    x = jnp.asarray(C.inputs(network, n))
    name = C.case_name(kind, network, n)
    if kind == "empirical":
      _, params = init_fn(jax.random.PRNGKey(0), x.shape)
      times[name] = {}
      for number, impl in enumerate(C.EMPIRICAL_IMPLEMENTATIONS, start=1):
        ntk_fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), vmap_axes=0,
                                             implementation=number))
        times[name][impl] = _timed(lambda: ntk_fn(x, None, params), args.repeats)
    else:
      kernel = jax.jit(kernel_fn, static_argnames="get")
      times[name] = {"analytic": _timed(lambda: kernel(x, None, ("nngp", "ntk")),
                                        args.repeats)}
  print(json.dumps({"framework": "neural-tangents",
                    "version": f"neural-tangents {nt.__version__}, jax {jax.__version__}",
                    "times": times}))


if __name__ == "__main__":
  main()
