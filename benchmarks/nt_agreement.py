r"""Float64 agreement of ``theory.kernels`` with neural-tangents 0.6.5, printed.

    python -m benchmarks.nt_agreement

Every architecture of ``benchmarks/nt_reference.py`` is rebuilt with ``theory.kernels``
combinators, layer for layer; its analytic NNGP and NTK on the reference inputs (``x1`` with
itself and with ``x2``, float64) are compared with neural-tangents' values stored in
``tests/data/nt_reference_kernels.npz``, and the largest relative difference over every entry is
printed per architecture. ``tests/theory_kernels_test.py`` asserts each is below 1e-6; this is
the command behind the README's agreement figure.
"""

from __future__ import annotations

import pathlib

import numpy as np

from theory import kernels as K

REFERENCE = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "nt_reference_kernels.npz"
W_STD, B_STD = 1.5, 0.05


def architecture(name: str):
  """The ``(init_fn, apply_fn, kernel_fn)`` of ``name``: ours, layer for layer as in
  ``benchmarks/nt_reference.py``."""
  def conv(**kw):
    return K.Conv(64, (3, 3), W_std=W_STD, b_std=B_STD, **kw)

  def dense():
    return K.Dense(512, W_std=W_STD, b_std=B_STD)

  def head(*pool):
    return (*pool, K.Dense(1, W_std=W_STD, b_std=B_STD))

  def cnn(pool, **kw):
    return K.serial(conv(**kw), K.Relu(), conv(**kw), K.Relu(), *head(pool()))

  def residual(layer):
    return K.serial(K.FanOut(2), K.parallel(K.Identity(), K.serial(K.Relu(), layer(), K.Relu(),
                                                                   layer())), K.FanInSum())

  if name.startswith("mlp_") and name.split("_")[1] in ("relu", "erf", "gelu"):
    _, act, depth = name.split("_")
    # GELU has a closed form in NT; ours is quadrature, here with enough nodes for 1e-6.
    act = K.Gelu(degree=128) if act == "gelu" else {"relu": K.Relu, "erf": K.Erf}[act]()
    hidden = [layer for _ in range(int(depth[-1])) for layer in (dense(), act)]
    return K.serial(*hidden, *head())
  return {
      "cnn_relu_avg": lambda: cnn(K.GlobalAvgPool),
      "cnn_relu_flatten": lambda: cnn(K.Flatten),
      "cnn_relu_flatten_stride2": lambda: cnn(K.Flatten, strides=(2, 1)),
      "cnn_relu_avg_valid": lambda: cnn(K.GlobalAvgPool, padding="VALID"),
      "mlp_residual": lambda: K.serial(dense(), residual(dense), residual(dense), K.Relu(),
                                       *head()),
      "mlp_layernorm": lambda: K.serial(dense(), K.LayerNorm(), K.Relu(), dense(), K.LayerNorm(),
                                        K.Relu(), *head()),
      "cnn_residual": lambda: K.serial(conv(), residual(conv), K.Relu(),
                                       *head(K.GlobalAvgPool())),
      "cnn_avgpool_valid": lambda: K.serial(conv(), K.Relu(), K.AvgPool((2, 2), strides=(2, 2)),
                                            conv(), K.Relu(), *head(K.Flatten())),
      "cnn_avgpool_same": lambda: K.serial(conv(), K.Relu(), K.AvgPool((3, 3), padding="SAME"),
                                           conv(), K.Relu(), *head(K.GlobalAvgPool())),
      "cnn_layernorm": lambda: K.serial(conv(), K.LayerNorm(), K.Relu(), conv(),
                                        K.LayerNorm(axis=(1, 2, 3)), K.Relu(),
                                        *head(K.GlobalAvgPool())),
      "cnn_resnet": lambda: K.serial(conv(), residual(conv), K.AvgPool((2, 2), strides=(2, 2)),
                                     K.LayerNorm(), K.Relu(), conv(), K.Relu(),
                                     *head(K.Flatten())),
  }[name]()


NAMES = ([f"mlp_{act}_depth{d}" for act in ("relu", "erf") for d in (1, 2, 3)]
            + ["mlp_gelu_depth2", "cnn_relu_avg", "cnn_relu_flatten", "cnn_relu_flatten_stride2",
               "cnn_relu_avg_valid", "mlp_residual", "mlp_layernorm", "cnn_residual",
               "cnn_avgpool_valid", "cnn_avgpool_same", "cnn_layernorm", "cnn_resnet"])


def relative_differences(name: str, reference=None) -> dict[str, float]:
  """``{"11/nngp": max relative difference, ...}`` of ``name`` against neural-tangents.

  Call with float64 enabled (``jax.enable_x64``): the reference is float64.
  """
  ref = np.load(REFERENCE) if reference is None else reference
  kind = "img" if name.startswith("cnn") else "vec"
  x1, x2 = ref[f"{kind}_x1"], ref[f"{kind}_x2"]
  # One call on [x1; x2] gives both blocks (and compiles once).
  k = architecture(name)[2](np.concatenate([x1, x2]))
  n1 = len(x1)
  out = {}
  for kernel in ("nngp", "ntk"):
    measured = np.asarray(getattr(k, kernel))
    if measured.dtype != np.float64:
      raise ValueError("enable float64 (jax.enable_x64) before comparing with neural-tangents")
    for pair, block in (("11", measured[:n1, :n1]), ("12", measured[:n1, n1:])):
      expected = ref[f"{name}/{pair}/{kernel}"]
      out[f"{pair}/{kernel}"] = float(np.max(np.abs(block - expected) / np.abs(expected)))
  return out


def main() -> None:
  import jax  # noqa: PLC0415

  with jax.enable_x64(True):
    ref = np.load(REFERENCE)
    worst = 0.0
    print(f"{'architecture':<26} max relative difference (NNGP and NTK, x1x1 and x1x2)")
    for name in NAMES:
      err = max(relative_differences(name, ref).values())
      worst = max(worst, err)
      print(f"{name:<26} {err:.2e}")
    print(f"largest over {len(NAMES)} architectures: {worst:.2e} (float64)")


if __name__ == "__main__":
  main()
