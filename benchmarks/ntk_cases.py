"""Networks and sizes of the side-by-side NTK benchmark, shared by the jaxnets process and the
neural-tangents process (``benchmarks/ntk.py``, ``benchmarks/ntk_neural_tangents.py``).

Plain Python and numpy only: the neural-tangents side runs on JAX 0.4 in its own virtualenv and
cannot import jaxnets.

Both networks are in the NTK parameterisation with ``W_std = sqrt(2)`` and no biases:

* MLP: ``[Dense(512), ReLU] x 3 -> Dense(1)`` (jaxnets ``MLP(num_outputs=1, width=512,
  depth=3, parametrization="ntk")``) on inputs ``(N, 64)``;
* CNN: ``[Conv(64, 3x3, SAME), ReLU] x 2 -> GlobalAvgPool -> Dense(1)`` on inputs
  ``(N, 8, 8, 3)``.
"""

from __future__ import annotations

import math

import numpy as np

W_STD = math.sqrt(2.0)
WIDTH, DEPTH = 512, 3
CHANNELS, FILTER = 64, (3, 3)
INPUT_SHAPES = {"mlp": (64,), "cnn": (8, 8, 3)}

# (kind, network, number of inputs): the empirical NTK of the finite net (output traced, x2=None)
# or the analytic NNGP and NTK of its infinite-width limit.
CASES = (("empirical", "mlp", 128), ("empirical", "cnn", 32), ("analytic", "mlp", 128),
         ("analytic", "mlp", 4096), ("analytic", "cnn", 32))
# Implementations timed for the empirical NTK, in both frameworks (neural-tangents numbers them
# 1, 2, 3 in this order).
EMPIRICAL_IMPLEMENTATIONS = ("jacobian_contraction", "ntk_vector_products",
                             "structured_derivatives")


def case_name(kind: str, network: str, n: int) -> str:
  return f"{kind} {network} N={n}"


def inputs(network: str, n: int) -> np.ndarray:
  """The same float32 inputs ``(n, *INPUT_SHAPES[network])`` in both processes."""
  rng = np.random.default_rng(n)
  return rng.normal(size=(n,) + INPUT_SHAPES[network]).astype(np.float32)


def selected(only: str = "") -> tuple[tuple[str, str, int], ...]:
  """The cases whose name contains ``only`` (all of them for ``""``)."""
  cases = tuple(c for c in CASES if only in case_name(*c))
  if not cases:
    raise SystemExit(f"error: no case name contains {only!r}; names: "
                     + ", ".join(case_name(*c) for c in CASES))
  return cases
