r"""Flows against flowjax: the same flow size, data, steps and optimizer, each in its own process.

    python -m benchmarks.flows --rounds=3
    python -m benchmarks.flows --flowjax_python=/work/venvs/flowjax/bin/python

Data: scikit-learn digits uniformly dequantized (``jaxnets.data.densities``), logit-transformed
(``a = 0.05``); both frameworks fit the same transformed training points (90% of the digits
train split; the other 10% is validation), evaluate the validation NLL once per epoch and keep
the best parameters (flowjax's ``fit_to_data`` does the same; without it both overfit 1294
points within a few hundred steps and test bits/dim run into the hundreds), and both test
log-densities get the same logit Jacobian before bits/dim (an upper bound on the discrete
digits' code length). Flows: RealNVP (``jaxnets.models.flows.RealNVP`` / flowjax's
``coupling_flow`` with its affine default) and MAF (``MAF`` / ``masked_autoregressive_flow``),
equal layer counts and conditioner widths and depths (parameter counts printed), Adam, the same
epoch-permutation minibatches. Each (framework, flow) runs in a fresh subprocess, the
frameworks alternating, ``--rounds`` times, round r initialising both from seed r; the table
reports medians over rounds (so over seeds) of test bits/dim and of training seconds
(compilation excluded: both compile before the clock starts).

flowjax lives in its own virtualenv (``python3 -m venv /work/venvs/flowjax &&
/work/venvs/flowjax/bin/pip install flowjax``); it is not a dependency of jaxnets.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time

from absl import flags

from jaxnets import cli
from benchmarks.flows_table import bits_per_dim, table, write_data
from jaxnets.errors import JaxnetsError

REPO = pathlib.Path(__file__).resolve().parents[1]

_ROUNDS = flags.DEFINE_integer("rounds", 3, "Alternating rounds (medians over rounds).")
_STEPS = flags.DEFINE_integer("steps", 1000, "Training steps of every run.")
_BATCH = flags.DEFINE_integer("batch", 256, "Minibatch size.")
_LR = flags.DEFINE_float("lr", 1e-3, "Adam's learning rate (constant).")
_WIDTH = flags.DEFINE_integer("width", 128, "Conditioner / MADE hidden width.")
_DEPTH = flags.DEFINE_integer("depth", 2, "Conditioner / MADE hidden layers.")
_FLOWS = flags.DEFINE_list("flows", ["realnvp", "maf"], "Flows to compare.")
_LAYERS = {"realnvp": 8, "maf": 5}
_FLOWJAX_PYTHON = flags.DEFINE_string("flowjax_python", "/work/venvs/flowjax/bin/python",
                                      "Python of the virtualenv where flowjax is installed.")
_WORKER = flags.DEFINE_string("worker", "", "Internal: train one jaxnets flow, print JSON.")
_DATA = flags.DEFINE_string("data", "", "Internal: the worker's data file.")
_SEED = flags.DEFINE_integer("seed", 0, "Initialisation seed of both frameworks in round 0 "
                             "(round r uses seed + r).")
_STEPS_PER_CALL = flags.DEFINE_integer(
    "steps_per_call", 1, "jaxnets steps fused per dispatch (1: measured fastest for these "
    "64-d flows on XLA:CPU; a lax.scan body ran ~1.5x slower)")


def jaxnets_worker(flow: str, data: str) -> dict:
  """Trains our flow of the benchmark's size; compiles on a short run first (untimed)."""
  import jax
  import numpy as np
  import optax

  from jaxnets.models import flows
  from jaxnets.train.likelihood import fit_density
  arrays = np.load(data)
  train = arrays["train"]
  hidden = (_WIDTH.value,) * _DEPTH.value
  model = flows.get_flow(flow, train.shape[1], num_layers=_LAYERS[flow], hidden=hidden)
  tx = optax.adam(_LR.value)  # one object: the timed run reuses the warm-up's compilation
  key = jax.random.key(_SEED.value)
  every = len(train) // _BATCH.value  # validate once per epoch
  run = lambda: fit_density(model, train, key=key, tx=tx, num_steps=_STEPS.value,
                            batch_size=_BATCH.value, steps_per_call=_STEPS_PER_CALL.value,
                            validation=arrays["validation"], validate_every=every)
  # The warm-up is the same run: the engine's permutation table is sized by num_steps, so a
  # shorter warm-up would compile a different program and leave compilation in the timing.
  jax.block_until_ready(run().state.params)
  start = time.perf_counter()
  result = run()
  jax.block_until_ready(result.state.params)
  seconds = time.perf_counter() - start
  params = result.state.best_params
  log_q = np.asarray(jax.jit(model.apply)({"params": params}, arrays["test"]))
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  return {"framework": "jaxnets", "flow": flow, "params": count, "train_seconds": seconds,
          "best_step": int(result.state.best_step), "test_log_density": log_q.tolist()}


def _run(cmd: list[str]) -> dict:
  proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=3600)
  if proc.returncode != 0:
    raise JaxnetsError(f"benchmark worker failed ({' '.join(cmd[:3])} ...): "
                       f"{proc.stderr.strip().splitlines()[-1] if proc.stderr else 'no output'}")
  return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
  del argv
  if _WORKER.value:
    print(json.dumps(jaxnets_worker(_WORKER.value, _DATA.value)))
    return 0
  import numpy as np
  if not pathlib.Path(_FLOWJAX_PYTHON.value).exists():
    raise JaxnetsError(f"no python at --flowjax_python={_FLOWJAX_PYTHON.value}; create the "
                       "peer's venv: python3 -m venv /work/venvs/flowjax && "
                       "/work/venvs/flowjax/bin/pip install flowjax")
  unknown = [f for f in _FLOWS.value if f not in _LAYERS]
  if unknown:
    raise JaxnetsError(f"unknown flows {unknown}; known: {', '.join(_LAYERS)}")
  with tempfile.TemporaryDirectory() as tmp:
    data = pathlib.Path(tmp) / "digits.npz"
    write_data(data)
    test_log_det = np.load(data)["test_log_det"]
    rows: dict = {}
    for rnd in range(_ROUNDS.value):
      # each round initialises both frameworks from a new seed: the medians are over seeds
      common = [f"--steps={_STEPS.value}", f"--batch={_BATCH.value}", f"--lr={_LR.value}",
                f"--seed={_SEED.value + rnd}"]
      for flow in _FLOWS.value:
        order = ["jaxnets", "flowjax"] if rnd % 2 == 0 else ["flowjax", "jaxnets"]
        for fw in order:
          if fw == "jaxnets":
            cmd = [sys.executable, "-m", "benchmarks.flows", f"--worker={flow}",
                   f"--data={data}", f"--width={_WIDTH.value}", f"--depth={_DEPTH.value}",
                   f"--steps_per_call={_STEPS_PER_CALL.value}", *common]
          else:
            cmd = [_FLOWJAX_PYTHON.value, str(REPO / "benchmarks" / "flowjax_peer.py"),
                   f"--data={data}", f"--flow={flow}", f"--layers={_LAYERS[flow]}",
                   f"--width={_WIDTH.value}", f"--depth={_DEPTH.value}", *common]
          record = _run(cmd)
          entry = rows.setdefault(flow, {}).setdefault(
              fw, {"bpd": [], "seconds": [], "params": record["params"]})
          entry["bpd"].append(bits_per_dim(record, test_log_det))
          entry["seconds"].append(record["train_seconds"])
          entry.setdefault("best_step", []).append(record["best_step"])
          print(f"round {rnd} {flow} {fw}: {entry['bpd'][-1]:.3f} bits/dim (best validation "
                f"at step {record['best_step']}), {record['train_seconds']:.1f} s, "
                f"{record['params']:,} params", flush=True)
  print(table(rows, _STEPS.value))
  return 0


if __name__ == "__main__":
  cli.run(main)
