r"""Training throughput of jaxnets' jitted step and of PyTorch on the same CPU, same networks.

    python -m benchmarks.train_throughput --rounds=3 --repeats=3
    python -m benchmarks.train_throughput --only=resnet20,unet --rounds=3

Each (framework, case, variant) runs in a **fresh subprocess** -- in one process the two
frameworks' thread pools slow each other (PyTorch came out 20-80x too slow that way) -- and the
runs alternate: round 1 runs every case in every framework, then round 2, ... Each run times
a case's steps (``CASES``; ``--steps`` overrides) after warm-up, ``--repeats`` times, and
reports the median; the table shows
the median over rounds. PyTorch (``benchmarks/torch_throughput.py``, in its own virtualenv,
``--torch_python``) runs eager, ``channels_last`` (2-D cases) and ``torch.compile``; the ratio
is jaxnets over the best PyTorch variant. Both frameworks: the same architecture (the parameter
counts are printed side by side), the same batch size, host (numpy) batches, 2 threads / the
2 CPU devices of this machine, Adam (momentum SGD for ResNet-20, BatchNorm in training mode).

The last table times the full trainer (``python -m experiments.train``: host batching, metrics,
logging, checkpoints; compilation included in its wall time) beside the bare step.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

from absl import flags

from benchmarks.timing import median_seconds
from jaxnets import cli

REPO = pathlib.Path(__file__).resolve().parents[1]

_ROUNDS = flags.DEFINE_integer("rounds", 3, "Alternating rounds (median over rounds).")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed repetitions per run (median).")
_STEPS = flags.DEFINE_integer("steps", 0, "Steps per repetition (0: each case's own).")
_THREADS = flags.DEFINE_integer("threads", 2, "PyTorch threads (torch.set_num_threads).")
_TORCH_PYTHON = flags.DEFINE_string("torch_python", "/work/venvs/torch/bin/python",
                                    "Interpreter of a virtualenv with torch and numpy.")
_ONLY = flags.DEFINE_list("only", [], "Cases to run (default: all).")
_VARIANTS = flags.DEFINE_list("torch_variants", ["eager", "channels_last", "compile"],
                              "PyTorch variants.")
_TRAINER = flags.DEFINE_bool("trainer", True, "Also time the full trainer (two configs).")
_WORKER = flags.DEFINE_string("worker", "", "Internal: time one jaxnets case, print JSON.")

# name -> (jaxnets model, kwargs, input shape without batch, batch, classes, optimizer, steps):
# ``steps`` per timed repetition, about 5 s of training on this machine's two cores.
CASES = {
    "mnist1d_cnn": ("cnn_mnist1d", {}, (40, 1), 100, 10, "adam", 200),
    "mnist1d_mlp": ("mlp_mnist1d", {}, (40, 1), 100, 10, "adam", 200),
    "digits_cnn2d": ("cnn2d", {"channels": (32, 64)}, (8, 8, 1), 64, 10, "adam", 200),
    "cifar_cnn2d": ("cnn2d", {"channels": (32, 64)}, (32, 32, 3), 128, 10, "adam", 40),
    "lenet5": ("lenet5", {}, (28, 28, 1), 128, 10, "adam", 100),
    "resnet20": ("resnet20", {}, (32, 32, 3), 128, 10, "momentum", 10),
    "unet": ("unet", {"width": 16, "depth": 3}, (32, 32, 3), 16, 4, "adam", 40),
}

# (config, steps): the trainer's examples/s over a whole run
TRAINER_RUNS = {"mnist1d_cnn": ("experiments/configs/default.py", 6000),
                "unet": ("experiments/configs/shapes_unet.py", 400)}


def jaxnets_examples_per_s(case: str, steps: int, repeats: int) -> dict:
  """The bare jitted step, as the trainer compiles it (mesh-sharded batch, donated state)."""
  import jax
  import jax.numpy as jnp
  import ml_collections
  import numpy as np

  from jaxnets.models import get_model
  from jaxnets.train import parallel
  from jaxnets.train.losses import cross_entropy, pixel_cross_entropy
  from jaxnets.train.optim import create_optimizer
  from jaxnets.train.state import TrainState
  from jaxnets.train.steps import make_train_step

  name, kwargs, shape, batch, classes, opt, _ = CASES[case]
  model = get_model(name, num_outputs=classes, **kwargs)
  mesh = parallel.create_mesh()
  config = ml_collections.ConfigDict({"name": opt, "schedule": "constant", "momentum": 0.9,
                                      "learning_rate": 0.1 if opt == "momentum" else 1e-3})
  variables = model.init(jax.random.key(0), jnp.zeros((1, *shape)))
  state = TrainState.create(apply_fn=model.apply, params=variables["params"],
                            tx=create_optimizer(config, steps),
                            batch_stats=variables.get("batch_stats", {}))
  params = int(sum(a.size for a in jax.tree.leaves(variables["params"])))
  loss = pixel_cross_entropy if case == "unet" else cross_entropy
  rep, shard = parallel.replicated(mesh), parallel.batch_sharded(mesh)
  step_fn = jax.jit(make_train_step(loss), in_shardings=(rep, shard, rep),
                    out_shardings=(rep, rep), donate_argnums=0)
  rng = np.random.default_rng(0)
  label_shape = (batch, *shape[:2]) if case == "unet" else (batch,)
  batches = [{"image": rng.normal(size=(batch, *shape)).astype(np.float32),
              "label": rng.integers(0, classes, size=label_shape).astype(np.int32)}
             for _ in range(8)]
  key = jax.random.key(1)
  holder = [jax.device_put(state, rep)]

  def run(n=steps):
    s = holder[0]
    for i in range(n):
      s, metrics = step_fn(s, parallel.global_batch(batches[i % 8], mesh), key)
    jax.block_until_ready(metrics["loss"])
    holder[0] = s

  seconds = median_seconds(run, repeats, warmup=lambda: run(5))  # warm-up compiles
  return {"examples_per_s": steps * batch / seconds, "params": params,
          "jax": jax.__version__, "devices": jax.device_count()}


def _run_json(cmd: list[str]) -> dict:
  proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1800)
  if proc.returncode != 0:
    return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
  return json.loads(proc.stdout.strip().splitlines()[-1])


def _worker_command(framework: str, case: str, variant: str) -> list[str]:
  common = [f"--steps={_STEPS.value or CASES[case][6]}", f"--repeats={_REPEATS.value}"]
  if framework == "jaxnets":
    return [sys.executable, "-m", "benchmarks.train_throughput", f"--worker={case}", *common]
  return [_TORCH_PYTHON.value, "benchmarks/torch_throughput.py", f"--case={case}",
          f"--variant={variant}", f"--threads={_THREADS.value}", *common]


def _trainer_examples_per_s(config: str, steps: int) -> float:
  with tempfile.TemporaryDirectory() as workdir:
    subprocess.run([sys.executable, "-m", "experiments.train", f"--config={config}",
                    f"--workdir={workdir}", f"--config.num_steps={steps}"], cwd=REPO,
                   check=True, capture_output=True, timeout=3600)
    return json.loads((pathlib.Path(workdir) / "results.json").read_text())["examples_per_s"]


def main(argv: list[str]) -> int:
  del argv
  if _WORKER.value:
    steps = _STEPS.value or CASES[_WORKER.value][6]
    print(json.dumps(jaxnets_examples_per_s(_WORKER.value, steps, _REPEATS.value)))
    return 0
  cases = _ONLY.value or list(CASES)
  unknown = [c for c in cases if c not in CASES]
  if unknown:
    cli.fail(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
  have_torch = pathlib.Path(_TORCH_PYTHON.value).exists()
  if not have_torch:
    print(f"PyTorch interpreter {_TORCH_PYTHON.value} not found (see benchmarks/"
          "torch_throughput.py for the virtualenv): jaxnets column only.\n")
  runs = [("jaxnets", "jax")] + ([("torch", v) for v in _VARIANTS.value] if have_torch else [])
  results: dict[tuple[str, str, str], list[dict]] = {}
  for r in range(_ROUNDS.value):
    for case in cases:
      for framework, variant in runs:
        out = _run_json(_worker_command(framework, case, variant))
        results.setdefault((case, framework, variant), []).append(out)
        val = out.get("examples_per_s")
        print(f"round {r + 1} {case} {framework} {variant}: "
              + (f"{val:,.0f} ex/s" if val else str(out)), flush=True)

  def median(case, framework, variant):
    vals = [o["examples_per_s"] for o in results[(case, framework, variant)]
            if "examples_per_s" in o]
    return statistics.median(vals) if vals else None

  header = "| case | batch | params (jaxnets / PyTorch) | jaxnets ex/s |"
  header += "".join(f" PyTorch {v} |" for _, v in runs[1:]) + " jaxnets / best PyTorch |"
  lines = [header, "|" + "---|" * (5 + len(runs) - 1)]
  for case in cases:
    j = median(case, "jaxnets", "jax")
    torch_vals = {v: median(case, "torch", v) for _, v in runs[1:]}
    best = max([t for t in torch_vals.values() if t], default=None)
    p_j = results[(case, "jaxnets", "jax")][0].get("params")
    p_t = results[(case, "torch", runs[1][1])][0].get("params") if have_torch else None
    cells = "".join(f" {t:,.0f} |" if t else " — |" for t in torch_vals.values())
    ratio = f"**{j / best:.2f}**" if j and best else "—"
    lines.append(f"| {case} | {CASES[case][3]} | {p_j} / {p_t} | "
                 + (f"{j:,.0f}" if j else "—") + f" |{cells} {ratio} |")
  print("\n" + "\n".join(lines))
  if _TRAINER.value:
    print("\n| config | trainer ex/s (whole run, compile included) | bare step ex/s |")
    print("|---|---|---|")
    for case, (config, steps) in TRAINER_RUNS.items():
      if case in cases:
        print(f"| `{config}` ({steps} steps) | {_trainer_examples_per_s(config, steps):,.0f} "
              f"| {median(case, 'jaxnets', 'jax'):,.0f} |", flush=True)
  return 0


if __name__ == "__main__":
  cli.run(main)
