r"""foolbox side of ``benchmarks/foolbox_attacks.py``: the same attacks on the same model and
inputs, per-example results and timings printed as JSON.

Runs in its own process and virtualenv (foolbox, eagerpy, jax, numpy; jaxnets is not
imported)::

  python3 -m venv /work/venvs/foolbox && /work/venvs/foolbox/bin/pip install foolbox==3.3.4 "jax[cpu]" numpy
  /work/venvs/foolbox/bin/python benchmarks/foolbox_worker.py --data=model.npz --attack=fgsm

The model is rebuilt from the ``.npz`` the driver wrote (the digits ``cnn2d``'s parameters
under their Flax names) in plain ``jax.lax``: 3x3 SAME convolutions with ReLU, 2x2 max-pooling
between stages, global average pooling, a ReLU hidden layer and the output layer -- what
``jaxnets.models.cnn.CNN2D`` computes (``tests/benchmarks_foolbox_test.py`` checks that the
logits agree with the Flax model's).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.timing import median_seconds  # noqa: E402


def load(path) -> tuple[dict, np.ndarray, np.ndarray, dict]:
  """``(params, x, y, meta)`` from the driver's ``.npz`` (``params/<flax path>`` keys)."""
  data = np.load(path)
  params = {k[len("params/"):]: jnp.asarray(data[k]) for k in data.files
            if k.startswith("params/")}
  meta = json.loads(str(data["meta"]))
  return params, data["x"], data["y"], meta


def cnn2d_apply(params: dict, x: jax.Array) -> jax.Array:
  """``CNN2D`` (global pooling) from its flat parameters ``{"Conv_0/kernel": ..., ...}``."""
  convs = sorted({k.split("/")[0] for k in params if k.startswith("Conv_")},
                 key=lambda s: int(s.split("_")[1]))
  h = x
  for i, name in enumerate(convs):
    h = jax.lax.conv_general_dilated(h, params[f"{name}/kernel"], (1, 1), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    h = jax.nn.relu(h + params[f"{name}/bias"])
    if i < len(convs) - 1:
      h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
  h = h.mean(axis=(1, 2))
  h = jax.nn.relu(h @ params["Dense_0/kernel"] + params["Dense_0/bias"])
  return h @ params["Dense_1/kernel"] + params["Dense_1/bias"]


def run(attack: str, data: str, repeats: int) -> dict:
  import foolbox as fb

  params, x_np, y_np, meta = load(data)
  model_fn = jax.jit(lambda z: cnn2d_apply(params, z))
  fmodel = fb.JAXModel(model_fn, bounds=tuple(meta["bounds"]))
  x, y = jnp.asarray(x_np), jnp.asarray(y_np)
  s = meta["settings"]
  out: dict = {"foolbox": fb.__version__, "jax": jax.__version__}
  if attack in ("fgsm", "pgd"):
    fb_attack = fb.attacks.FGSM() if attack == "fgsm" else fb.attacks.LinfPGD(
        steps=s["pgd_steps"], rel_stepsize=s["pgd_rel_step"], random_start=True)
    eps = [float(e) for e in s["eps"]]
    holder = {}

    def call():
      _, clipped, success = fb_attack(fmodel, x, y, epsilons=eps)
      holder["success"] = np.asarray(success)
      holder["clipped"] = clipped

    seconds = median_seconds(call, repeats, warmup=call)
    out["success"] = holder["success"].tolist()  # (len(eps), N)
    out["linf"] = [float(np.abs(np.asarray(c) - x_np).max()) for c in holder["clipped"]]
    out["examples_per_s"] = len(eps) * len(x_np) / seconds
  else:
    fb_attack = fb.attacks.L2DeepFoolAttack(steps=s["deepfool_steps"], candidates=10,
                                            overshoot=s["overshoot"], loss="logits") \
        if attack == "deepfool" else fb.attacks.L2CarliniWagnerAttack(
            binary_search_steps=s["cw_search"], steps=s["cw_steps"], stepsize=s["cw_lr"],
            confidence=0.0, initial_const=s["cw_const"], abort_early=True)
    holder = {}

    def call():
      _, clipped, success = fb_attack(fmodel, x, y, epsilons=None)
      holder["success"], holder["clipped"] = np.asarray(success), np.asarray(clipped)

    seconds = median_seconds(call, repeats, warmup=call)
    r = (holder["clipped"] - x_np).reshape(len(x_np), -1)
    out["success"] = holder["success"].tolist()
    out["rho"] = (np.linalg.norm(r, axis=1) /
                  np.linalg.norm(x_np.reshape(len(x_np), -1), axis=1)).tolist()
    out["examples_per_s"] = len(x_np) / seconds
  out["logits"] = np.asarray(model_fn(x)).tolist()
  return out


def main() -> None:
  parser = argparse.ArgumentParser()
  parser.add_argument("--data", required=True)
  parser.add_argument("--attack", required=True, choices=["fgsm", "pgd", "deepfool", "cw"])
  parser.add_argument("--repeats", type=int, default=1)
  args = parser.parse_args()
  print(json.dumps(run(args.attack, args.data, args.repeats)))


if __name__ == "__main__":
  main()
