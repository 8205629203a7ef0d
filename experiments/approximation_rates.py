r"""Sweeps the width of a jaxnets MLP on a target function and fits the approximation rate.

    python -m experiments.approximation_rates --target=barron_cosines --d=20 \
        --widths=4,8,16,32,64,128 --depth=1 --act=sigmoid --outdir=reports/approximation_rates
    python -m experiments.approximation_rates --config=experiments/configs/digits_mlp.py \
        --target=single_neuron --d=16 --outdir=reports/rates_digits_mlp

For each width, ``--seeds`` networks train together (``vmap``) with ``--steps`` steps of Adam
(cosine decay) on the mean squared error over ``--n`` samples of the target (minibatches of
``--batch_size`` if > 0); L1, L2 and L-infinity errors are measured on ``--n_test`` held-out
samples. The best seed per width is fitted as a power law ``error ~ C m^alpha`` with a 95%
interval (``theory.rates.fit_power_law``). With ``--config``, the model name, its keyword
arguments and the optimiser come from the config (``config.model``, ``config.optimizer``,
``config.seed``); ``--widths`` overrides ``width``. Targets: ``theory.targets.TARGETS``.
Writes ``approximation_rates.{json,md,png}`` into ``--outdir``.
"""

from __future__ import annotations

import json
import pathlib
import time

from absl import flags
from ml_collections import config_flags

from jaxnets import cli

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Optional MLP training config (model.name, model.kwargs, optimizer, seed).")
_TARGET = flags.DEFINE_string("target", "barron_cosines", "A name in theory.targets.TARGETS.")
_D = flags.DEFINE_integer("d", 2, "Input dimension of the target.")
_N = flags.DEFINE_integer("n", 4000, "Training samples.")
_N_TEST = flags.DEFINE_integer("n_test", 2000, "Held-out samples for the errors.")
_WIDTHS = flags.DEFINE_list("widths", ["4", "8", "16", "32", "64", "128"], "Hidden widths m.")
_DEPTH = flags.DEFINE_integer("depth", 1, "Hidden layers (without --config).")
_ACT = flags.DEFINE_string("act", "sigmoid", "Activation name in jaxnets.models.ACTIVATIONS.")
_PARAM = flags.DEFINE_enum("parametrization", "standard", ["standard", "ntk", "mup"],
                           "MLP parametrisation (without --config).")
_B_STD = flags.DEFINE_float("b_std", 0.1, "Bias scale of the ntk/mup parametrisations.")
_STEPS = flags.DEFINE_integer("steps", 8000, "Optimiser steps per network.")
_LR = flags.DEFINE_float("lr", 1e-2, "Adam learning rate (without --config).")
_BATCH = flags.DEFINE_integer("batch_size", 0, "Minibatch size; 0 for full batch.")
_SEEDS = flags.DEFINE_integer("seeds", 3, "Networks per width (the best is fitted).")
_SEED = flags.DEFINE_integer("seed", 0, "Root seed (data and initialisation).")


def model_factory(config, depth: int, act: str, parametrization: str, b_std: float):
  """``width -> flax module`` with one output: from ``config.model`` or from the flags."""
  from jaxnets.models import get_model

  if config is not None:
    name = config.model.name
    kwargs = dict(config.model.get("kwargs", {}))
  else:
    name = "mlp"
    kwargs = dict(depth=depth, act=act, parametrization=parametrization)
    if parametrization != "standard":
      kwargs["b_std"] = b_std
  kwargs.pop("num_outputs", None)
  get_model(name, num_outputs=1, **dict(kwargs, width=1))  # fail early on bad arguments
  return lambda width: get_model(name, num_outputs=1, **dict(kwargs, width=width)), name, kwargs


def run(outdir: pathlib.Path, *, config, target_name: str, d: int, n: int, n_test: int,
        widths: list[int], depth: int, act: str, parametrization: str, b_std: float,
        steps: int, lr: float, batch_size: int, seeds: int, seed: int) -> dict:
  """Trains the sweep, fits the rates and writes the report; returns the JSON record."""
  import jax
  import matplotlib

  matplotlib.use("Agg")
  import matplotlib.pyplot as plt
  import numpy as np

  from jaxnets.errors import JaxnetsError
  from jaxnets.train.optim import create_optimizer
  from theory import approximation, rates, targets

  if not widths or min(widths) < 1:
    raise JaxnetsError(f"--widths must be positive integers, got {widths}")
  if len(set(widths)) < 3:
    raise JaxnetsError(f"--widths needs at least 3 distinct widths to fit a rate with an "
                       f"interval, got {widths}")
  if n < 1 or n_test < 1 or steps < 1 or seeds < 1:
    raise JaxnetsError("--n, --n_test, --steps and --seeds must be >= 1")
  target = targets.get_target(target_name, d, seed)
  make_model, model_name, kwargs = model_factory(config, depth, act, parametrization, b_std)
  if config is not None:
    seed = config.get("seed", seed)
    optimizer = lambda num_steps: create_optimizer(config.optimizer, num_steps)
  else:
    optimizer = None
  x, x_test = target.sample(n, seed + 1), target.sample(n_test, seed + 2)
  y, y_test = np.asarray(target.fn(x)), np.asarray(target.fn(x_test))
  start = time.perf_counter()
  sweep = approximation.train_width_sweep(
      make_model, widths, x, y, x_test, y_test, key=jax.random.key(seed), seeds=seeds,
      steps=steps, optimizer=optimizer, learning_rate=lr, batch_size=batch_size or None)
  seconds = time.perf_counter() - start
  best = np.argmin(sweep["sq_l2"], axis=1)
  norms = {"sq_l2": "squared L2", "l1": "L1", "linf": "L-infinity"}
  errors = {k: sweep[k][np.arange(len(widths)), best] for k in norms}
  fits = {}
  for k in norms:
    try:
      fits[k] = rates.fit_power_law(widths, errors[k]).as_dict()
    except JaxnetsError:  # zero error (exactly representable target) has no log-log slope
      fits[k] = None
  record = dict(target=target.name, target_info=target.info, d=d, n=n, n_test=n_test,
                model=model_name, model_kwargs={k: str(v) for k, v in kwargs.items()},
                widths=widths, steps=steps, seeds=seeds, seed=seed,
                target_variance=float(np.var(y_test)), errors={k: v.tolist() for k, v in
                                                              errors.items()},
                all_seeds={k: sweep[k].tolist() for k in norms},
                train_mse=sweep["train_loss"].tolist(), fits=fits, seconds=seconds,
                barron_constant=target.barron_constant, smoothness=target.smoothness,
                command=cli.command_line("experiments.approximation_rates"))
  outdir.mkdir(parents=True, exist_ok=True)
  (outdir / "approximation_rates.json").write_text(json.dumps(record, indent=2) + "\n")
  table = ["| width | " + " | ".join(norms.values()) + " |", "|---|---|---|---|"]
  table += [f"| {w} | " + " | ".join(f"{errors[k][i]:.3g}" for k in norms) + " |"
            for i, w in enumerate(widths)]
  table += ["| rate (95% CI) | " + " | ".join(
      "n/a" if fits[k] is None else
      f"{fits[k]['exponent']:.2f} [{fits[k]['exponent_ci'][0]:.2f}, "
      f"{fits[k]['exponent_ci'][1]:.2f}]" for k in norms) + " |"]
  (outdir / "approximation_rates.md").write_text(
      f"{target.name}, d={d}, model {model_name} {kwargs}\n\n" + "\n".join(table) + "\n")
  fig, ax = plt.subplots(figsize=(5, 3.6))
  for k, label in norms.items():
    fit = fits[k]
    text = "" if fit is None else f", slope {fit['exponent']:.2f}"
    ax.loglog(widths, np.maximum(errors[k], 1e-12), "o-", label=label + text)
  ax.set(xlabel="width m", ylabel="held-out error",
         title=f"{target.name} (d={d}), {model_name}")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(outdir / "approximation_rates.png", dpi=110)
  plt.close(fig)
  print("\n".join(table))
  return record


def main(argv: list[str]) -> None:
  from jaxnets.errors import JaxnetsError

  config = cli.load_config(_CONFIG) if _CONFIG.value is not None else None
  try:
    widths = [int(w) for w in _WIDTHS.value]
  except ValueError:
    raise JaxnetsError(f"--widths must be integers, got {','.join(_WIDTHS.value)}") from None
  run(cli.outdir("reports/approximation_rates"), config=config, target_name=_TARGET.value,
      d=_D.value, n=_N.value, n_test=_N_TEST.value, widths=widths, depth=_DEPTH.value,
      act=_ACT.value, parametrization=_PARAM.value, b_std=_B_STD.value, steps=_STEPS.value,
      lr=_LR.value, batch_size=_BATCH.value, seeds=_SEEDS.value, seed=_SEED.value)


if __name__ == "__main__":
  cli.run(main)
