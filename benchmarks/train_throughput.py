r"""Training throughput of jaxnets' jitted step versus PyTorch on the same CPU, same model.

    pip install torch==2.13.0  # CPU build; benchmark only
    python -m benchmarks.train_throughput --repeats=5 --steps=200

For each model, both frameworks train the same architecture with Adam on the same batch size
from host (numpy) batches; we time ``--steps`` steps after warm-up, ``--repeats`` times, and
report the median examples/s and the ratio jaxnets / PyTorch measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import app, flags

from jaxnets.models import get_model
from jaxnets.train import parallel
from jaxnets.train.losses import cross_entropy
from jaxnets.train.optim import create_optimizer
from jaxnets.train.state import TrainState
from jaxnets.train.steps import make_train_step

_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repetitions (median reported).")
_STEPS = flags.DEFINE_integer("steps", 200, "Steps per repetition.")
_THREADS = flags.DEFINE_integer("torch_threads", 2, "torch.set_num_threads.")

# name -> (jaxnets model name, kwargs, input shape (no batch), batch size)
CASES = {
    "mnist1d_cnn": ("cnn_mnist1d", {}, (40, 1), 100),
    "mnist1d_mlp": ("mlp_mnist1d", {}, (40, 1), 100),
    "digits_cnn2d": ("cnn2d", {"channels": (32, 64)}, (8, 8, 1), 64),
    "cifar_cnn2d": ("cnn2d", {"channels": (32, 64)}, (32, 32, 3), 128),
}


def _time(run: Callable[[], None], repeats: int) -> float:
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def jax_examples_per_s(case: str, steps: int, repeats: int) -> float:
  name, kwargs, shape, batch = CASES[case]
  model = get_model(name, num_outputs=10, **kwargs)
  mesh = parallel.create_mesh()
  config = ml_collections.ConfigDict({"name": "adam", "learning_rate": 1e-3})
  variables = model.init(jax.random.key(0), jnp.zeros((1, *shape)))
  state = TrainState.create(apply_fn=model.apply, params=variables["params"],
                            tx=create_optimizer(config, steps), batch_stats={})
  rep, shard = parallel.replicated(mesh), parallel.batch_sharded(mesh)
  step_fn = jax.jit(make_train_step(cross_entropy), in_shardings=(rep, shard, rep),
                    out_shardings=(rep, rep), donate_argnums=0)
  rng = np.random.default_rng(0)
  batches = [{"image": rng.normal(size=(batch, *shape)).astype(np.float32),
              "label": rng.integers(0, 10, size=batch).astype(np.int32)} for _ in range(8)]
  key = jax.random.key(1)
  holder = [jax.device_put(state, rep)]

  def run(n=steps):
    s = holder[0]
    for i in range(n):
      s, metrics = step_fn(s, parallel.global_batch(batches[i % 8], mesh), key)
    jax.block_until_ready(metrics["loss"])
    holder[0] = s

  run(5)  # compile
  return steps * batch / _time(run, repeats)


def torch_examples_per_s(case: str, steps: int, repeats: int) -> float:
  import torch
  from torch import nn

  torch.set_num_threads(_THREADS.value)
  _, kwargs, shape, batch = CASES[case]
  if case == "mnist1d_cnn":
    net = nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10))
    to_torch = lambda x: x.transpose(0, 2, 1)  # NWC -> NCW
  elif case == "mnist1d_mlp":
    net = nn.Sequential(nn.Flatten(), nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100),
                        nn.ReLU(), nn.Linear(100, 10))
    to_torch = lambda x: x
  else:
    c = shape[-1]
    net = nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    to_torch = lambda x: x.transpose(0, 3, 1, 2)  # NHWC -> NCHW
  opt = torch.optim.Adam(net.parameters(), lr=1e-3)
  rng = np.random.default_rng(0)
  batches = [(rng.normal(size=(batch, *shape)).astype(np.float32),
              rng.integers(0, 10, size=batch)) for _ in range(8)]
  loss_fn = nn.CrossEntropyLoss()

  def run(n=steps):
    for i in range(n):
      x, y = batches[i % 8]
      opt.zero_grad(set_to_none=True)
      loss = loss_fn(net(torch.from_numpy(np.ascontiguousarray(to_torch(x)))), torch.from_numpy(y))
      loss.backward()
      opt.step()

  run(5)
  return steps * batch / _time(run, repeats)


def main(argv):
  del argv
  try:
    import torch  # noqa: F401
    have_torch = True
  except ImportError:
    # The jaxnets column is still worth having (e.g. to compare JAX versions); say why the
    # PyTorch one is empty instead of stopping on the import.
    have_torch = False
    print("PyTorch is not installed (`pip install torch`, CPU build): jaxnets column only.\n")
  print("| model | batch | jaxnets ex/s | PyTorch ex/s | jaxnets / PyTorch |")
  print("|---|---|---|---|---|")
  for case in CASES:
    j = jax_examples_per_s(case, _STEPS.value, _REPEATS.value)
    if have_torch:
      t = torch_examples_per_s(case, _STEPS.value, _REPEATS.value)
      print(f"| {case} | {CASES[case][3]} | {j:,.0f} | {t:,.0f} | {j / t:.2f} |", flush=True)
    else:
      print(f"| {case} | {CASES[case][3]} | {j:,.0f} | — | — |", flush=True)


if __name__ == "__main__":
  app.run(main)
