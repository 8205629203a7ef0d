"""Reference kernels from neural-tangents 0.6.5, saved for ``tests/theory_kernels_test.py``.

neural-tangents no longer imports on current JAX, so this script runs in its own virtualenv with
the last JAX it supports (it imports names removed from ``jax.core`` in JAX 0.6)::

  python -m venv /work/venvs/nt
  /work/venvs/nt/bin/pip install "jax[cpu]==0.4.23" "numpy<2" "scipy<1.13" neural-tangents==0.6.5
  /work/venvs/nt/bin/python benchmarks/nt_reference.py --out=tests/data/nt_reference_kernels.npz

It computes, in float64, the analytic NNGP and NTK of the architectures below on fixed seeded
inputs (``x1`` with itself and with ``x2``) and stores them with the inputs. Only numpy and
neural-tangents are used; jaxnets is not imported (it needs a newer JAX).
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

W_STD, B_STD = 1.5, 0.05


def _mlp(depth: int, act):
  layers = []
  for _ in range(depth):
    layers += [stax.Dense(512, W_std=W_STD, b_std=B_STD), act()]
  return stax.serial(*layers, stax.Dense(1, W_std=W_STD, b_std=B_STD))


def _cnn(pool, strides=(1, 1), padding="SAME"):
  conv = lambda: stax.Conv(64, (3, 3), strides=strides, padding=padding, W_std=W_STD,  # noqa: E731
                           b_std=B_STD)
  return stax.serial(conv(), stax.Relu(), conv(), stax.Relu(), pool(),
                     stax.Dense(1, W_std=W_STD, b_std=B_STD))


def _dense():
  return stax.Dense(512, W_std=W_STD, b_std=B_STD)


def _conv():
  return stax.Conv(64, (3, 3), padding="SAME", W_std=W_STD, b_std=B_STD)


def _residual(layer):
  """Pre-activation residual block ``x + layer(relu(layer(relu(x))))`` (He et al. 2016)."""
  return stax.serial(stax.FanOut(2),
                     stax.parallel(stax.Identity(),
                                   stax.serial(stax.Relu(), layer(), stax.Relu(), layer())),
                     stax.FanInSum())


# name -> (input kind, architecture); the names are the keys the test reads.
ARCHITECTURES = {
    **{f"mlp_relu_depth{d}": ("vec", _mlp(d, stax.Relu)) for d in (1, 2, 3)},
    **{f"mlp_erf_depth{d}": ("vec", _mlp(d, stax.Erf)) for d in (1, 2, 3)},
    "mlp_gelu_depth2": ("vec", _mlp(2, stax.Gelu)),  # NT's closed form; ours uses quadrature
    "cnn_relu_avg": ("img", _cnn(stax.GlobalAvgPool)),
    "cnn_relu_flatten": ("img", _cnn(stax.Flatten)),
    "cnn_relu_flatten_stride2": ("img", _cnn(stax.Flatten, strides=(2, 1))),
    "cnn_relu_avg_valid": ("img", _cnn(stax.GlobalAvgPool, padding="VALID")),
    # Residual blocks, average pooling and layer normalisation.
    "mlp_residual": ("vec", stax.serial(_dense(), _residual(_dense), _residual(_dense),
                                        stax.Relu(), stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "mlp_layernorm": ("vec", stax.serial(_dense(), stax.LayerNorm(), stax.Relu(), _dense(),
                                         stax.LayerNorm(), stax.Relu(),
                                         stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "cnn_residual": ("img", stax.serial(_conv(), _residual(_conv), stax.Relu(),
                                        stax.GlobalAvgPool(),
                                        stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "cnn_avgpool_valid": ("img", stax.serial(_conv(), stax.Relu(),
                                             stax.AvgPool((2, 2), strides=(2, 2)),
                                             _conv(), stax.Relu(), stax.Flatten(),
                                             stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "cnn_avgpool_same": ("img", stax.serial(_conv(), stax.Relu(),
                                            stax.AvgPool((3, 3), padding="SAME"),
                                            _conv(), stax.Relu(), stax.GlobalAvgPool(),
                                            stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "cnn_layernorm": ("img", stax.serial(_conv(), stax.LayerNorm(), stax.Relu(), _conv(),
                                         stax.LayerNorm(axis=(1, 2, 3)), stax.Relu(),
                                         stax.GlobalAvgPool(),
                                         stax.Dense(1, W_std=W_STD, b_std=B_STD))),
    "cnn_resnet": ("img", stax.serial(_conv(), _residual(_conv),
                                      stax.AvgPool((2, 2), strides=(2, 2)), stax.LayerNorm(),
                                      stax.Relu(), _conv(), stax.Relu(), stax.Flatten(),
                                      stax.Dense(1, W_std=W_STD, b_std=B_STD))),
}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="tests/data/nt_reference_kernels.npz")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  inputs = {"vec_x1": rng.normal(size=(6, 5)), "vec_x2": rng.normal(size=(4, 5)),
            "img_x1": rng.normal(size=(4, 5, 5, 2)), "img_x2": rng.normal(size=(3, 5, 5, 2))}
  out = dict(inputs)
  for name, (kind, (_, _, kernel_fn)) in ARCHITECTURES.items():
    x1, x2 = inputs[f"{kind}_x1"], inputs[f"{kind}_x2"]
    for pair, second in (("11", None), ("12", x2)):
      k = kernel_fn(x1, second, ("nngp", "ntk"))
      out[f"{name}/{pair}/nngp"] = np.asarray(k[0], np.float64)
      out[f"{name}/{pair}/ntk"] = np.asarray(k[1], np.float64)
  np.savez_compressed(args.out, **out)
  print(f"wrote {len(out)} arrays to {args.out}")


if __name__ == "__main__":
  main()
