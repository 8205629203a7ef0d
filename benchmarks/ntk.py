r"""Time of finite-width (empirical) and infinite-width (analytic) NTKs on CPU.

    python -m benchmarks.ntk --repeats=5

Empirical NTK ``(N, N)`` (output traced) with each implementation of ``theory.ntk``:
  * a jaxnets ``MLP(width=512, depth=3, parametrization="ntk")``, ReLU, on 128 inputs of dim 64;
  * a two-``Conv(64, 3x3, SAME)`` ReLU CNN with global average pooling and ``Dense(1)`` (the
    finite network of ``theory.kernels.cnn``) on 32 inputs of shape 8x8x3.
Analytic NNGP + NTK with ``theory.kernels``: the same MLP on 1000 x 1000 input pairs, the same
CNN on 100 x 100 pairs. Inputs are float32. Each entry is the median of ``--repeats`` timed
calls after one untimed call (compilation); prints a markdown table.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import jax
import numpy as np
from absl import app, flags

from jaxnets.models.mlp import MLP
from theory import kernels as K
from theory import ntk

_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repetitions (median reported).")


def _median_seconds(fn: Callable[[], jax.Array], repeats: int) -> float:
  jax.block_until_ready(fn())  # compile and warm up
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def _cases():
  """``(name, apply_fn, params, x_empirical, kernel_fn, x_analytic)`` for the MLP and the CNN."""
  rng = np.random.default_rng(0)
  mlp = MLP(num_outputs=1, width=512, depth=3, parametrization="ntk")
  x_mlp = rng.normal(size=(128, 64)).astype(np.float32)
  mlp_params = mlp.init(jax.random.key(0), x_mlp[:1])
  mlp_kernel = K.kernel_fn_from_mlp(3, "relu")
  x_mlp_big = rng.normal(size=(1000, 64)).astype(np.float32)

  cnn_init, cnn_apply, cnn_kernel = K.cnn(2, channels=64, pool="avg")
  x_cnn = rng.normal(size=(32, 8, 8, 3)).astype(np.float32)
  _, cnn_params = cnn_init(jax.random.key(0), x_cnn.shape)
  x_cnn_big = rng.normal(size=(100, 8, 8, 3)).astype(np.float32)
  return [("MLP 512x3", lambda p, x: mlp.apply(p, x), mlp_params, x_mlp, mlp_kernel, x_mlp_big),
          ("CNN 2xConv64 + GAP", cnn_apply, cnn_params, x_cnn, cnn_kernel, x_cnn_big)]


def main(argv: list[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f"unexpected arguments: {argv[1:]}")
  repeats = _REPEATS.value
  rows = ["| network | kernel | implementation | inputs | median s |", "|---|---|---|---|---|"]
  for name, apply_fn, params, x, kernel_fn, x_big in _cases():
    num_params = sum(p.size for p in jax.tree.leaves(params))
    for impl in ("jacobian_contraction", "ntk_vector_products", "auto"):
      ntk_fn = ntk.empirical_ntk_fn(apply_fn, implementation=impl)
      seconds = _median_seconds(lambda: ntk_fn(x, None, params), repeats)
      chosen = ntk.choose_implementation(apply_fn, params, x, x) if impl == "auto" else impl
      label = f"auto ({chosen})" if impl == "auto" else impl
      rows.append(f"| {name} ({num_params:,} params) | empirical NTK | {label} | "
                  f"{len(x)} x {len(x)}, {x.shape[1:]} | {seconds:.3f} |")
      print(rows[-1], flush=True)
    seconds = _median_seconds(lambda: kernel_fn(x_big, None), repeats)
    rows.append(f"| {name} | analytic NNGP + NTK | theory.kernels | "
                f"{len(x_big)} x {len(x_big)}, {x_big.shape[1:]} | {seconds:.3f} |")
    print(rows[-1], flush=True)
  print(f"\njax {jax.__version__}, {jax.devices()[0].platform}, float32, median of {repeats}\n")
  print("\n".join(rows))


if __name__ == "__main__":
  app.run(main)
