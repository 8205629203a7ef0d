r"""Adversarial examples on digits and MNIST-1D: a standard and a PGD-trained CNN under five
attacks, accuracy-vs-eps curves, and the course's figure.

    python -m experiments.adversarial --outdir=reports/adversarial

For each dataset, the standard config (``digits_cnn``, ``mnist1d_cnn``) and its PGD-trained
variant (``*_adversarial``, Madry et al. 2018) are trained by ``jaxnets.train.fit`` -- the run
``python -m experiments.train --config=<that file>`` would make -- and attacked on the test
split: FGSM, PGD-40, PGD-40 x 10 restarts (L-inf, eps stated per dataset), Carlini-Wagner L2
and DeepFool L2 (robust accuracy at a stated L2 radius, from their minimal perturbations) and
the median rho = ||r||_2 / ||x||_2 of every attack (``jaxnets.eval.robustness``: clean-correct
inputs, failures counted as inf). Writes ``table.md``, ``results.json``,
``accuracy_vs_eps.png`` and ``course_figure.png`` (digits: image, amplified perturbation,
adversarial image, labels; box-constrained L-BFGS, Szegedy et al. 2014) to ``--outdir``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import time

from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from jaxnets import adversarial as adv
from jaxnets import cli
from jaxnets.data import get_dataset
from jaxnets.eval import robustness as rb
from jaxnets.train import fit
from jaxnets.train.tasks import create_task

_QUICK = flags.DEFINE_bool("quick", False, "Tiny training and attacks (tests, debugging).")
_ONLY = flags.DEFINE_list("only", [], "Datasets to run (default: digits, mnist1d).")


@dataclasses.dataclass(frozen=True)
class Setup:
  """One dataset: its two configs, input box and the budgets the table states."""

  standard: str
  robust: str
  bounds: tuple[float, float]
  eps: float  # L-inf budget of FGSM / PGD
  eps_l2: float  # L2 radius at which CW / DeepFool robust accuracy is read
  eps_grid: tuple[float, ...]  # L-inf curve


SETUPS = {
    "digits": Setup("digits_cnn", "digits_cnn_adversarial", (0.0, 1.0), 0.2, 1.0,
                    (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)),
    "mnist1d": Setup("mnist1d_cnn", "mnist1d_cnn_adversarial", (-6.0, 6.0), 0.2, 1.0,
                     (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)),
}
ATTACKS = ("FGSM", "PGD-40", "PGD-40x10", "CW", "DeepFool")


def _config(name: str, quick: bool):
  config = importlib.import_module(f"experiments.configs.{name}").get_config()
  if quick:
    config.num_steps = 20
    if "adversarial" in config:
      config.adversarial.steps = 2
  return config


def _train(name: str, quick: bool):
  config = _config(name, quick)
  start = time.perf_counter()
  result = fit(config)
  model = create_task(config).model  # the module fit() trained, built from the same config
  return adv.flax_apply(model), result.state.variables(), time.perf_counter() - start


def attack_model(apply, variables, x, y, setup: Setup, quick: bool) -> dict:
  """Every attack of the table on ``(x, y)``; per-attack summaries and the curves."""
  bounds, key = setup.bounds, jax.random.key(0)
  steps, restarts = (5, 2) if quick else (40, 10)
  cw = dict(steps=10, binary_search_steps=2) if quick else dict(steps=100,
                                                                   binary_search_steps=5)
  clean = np.asarray(jnp.argmax(apply(variables, x), 1) == y)
  runs = {
      "FGSM": lambda: adv.fgsm(apply, variables, x, y, eps=setup.eps, bounds=bounds),
      "PGD-40": lambda: adv.pgd(apply, variables, x, y, eps=setup.eps, steps=steps,
                                bounds=bounds, key=key),
      "PGD-40x10": lambda: adv.pgd(apply, variables, x, y, eps=setup.eps, steps=steps,
                                   restarts=restarts, bounds=bounds, key=key),
      # c starts at 1: with a handful of search rounds, 1e-3 (the paper's) would spend them
      # all growing c.
      "CW": lambda: adv.carlini_wagner(apply, variables, x, y, initial_const=1.0,
                                       bounds=bounds, **cw),
      "DeepFool": lambda: adv.deepfool(apply, variables, x, y, bounds=bounds),
  }
  out = {"clean": float(clean.mean()), "attacks": {}}
  for name, run in runs.items():
    start = time.perf_counter()
    res = jax.device_get(run())
    seconds = time.perf_counter() - start
    minimal = name in ("CW", "DeepFool")
    acc = rb.accuracy_at_l2(res.success, res.l2, [setup.eps_l2])[0] if minimal else \
        rb.robust_accuracy(res.success)
    out["attacks"][name] = {"accuracy": acc, "median_rho": rb.median_rho(res.success, res.rho,
                                                                         clean),
                            "seconds": seconds}
    if minimal:
      radii = np.linspace(0, 3 * setup.eps_l2, 13)
      out.setdefault("l2_curves", {"radii": radii.tolist()})[name] = rb.accuracy_at_l2(
          res.success, res.l2, radii)
  curves = {"eps": list(setup.eps_grid), "FGSM": [], "PGD-40": []}
  for eps in setup.eps_grid:
    curves["FGSM"].append(rb.robust_accuracy(
        adv.fgsm(apply, variables, x, y, eps=eps, bounds=bounds).success))
    curves["PGD-40"].append(rb.robust_accuracy(
        adv.pgd(apply, variables, x, y, eps=eps, steps=steps, bounds=bounds, key=key).success))
  out["linf_curves"] = curves
  return out


def _cell_rho(v: float) -> str:
  return "inf" if not np.isfinite(v) else f"{v:.3f}"


def markdown(results: dict) -> str:
  rows = ["| dataset | model | clean | FGSM | PGD-40 | PGD-40x10 | CW (L2) | DeepFool (L2) "
          "| median rho: FGSM / PGD-40 / PGD-40x10 / CW / DeepFool | train s |",
          "|---|---|---|---|---|---|---|---|---|---|"]
  for ds, per_model in results["datasets"].items():
    for label, r in per_model.items():
      a = r["attacks"]
      rows.append(
          f"| {ds} | {label} | {100 * r['clean']:.1f} | "
          + " | ".join(f"{100 * a[n]['accuracy']:.1f}" for n in ATTACKS)
          + " | " + " / ".join(_cell_rho(a[n]["median_rho"]) for n in ATTACKS)
          + f" | {r['train_seconds']:.0f} |")
  notes = [f"- {ds}: L-inf eps = {s['eps']} for FGSM and PGD; CW and DeepFool columns are "
           f"accuracy at L2 radius {s['eps_l2']} (inputs in [{s['bounds'][0]}, "
           f"{s['bounds'][1]}], {s['n']} test examples)"
           for ds, s in results["setups"].items()]
  return "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def plot_curves(results: dict, path) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  names = list(results["datasets"])
  fig, axes = plt.subplots(2, len(names), figsize=(4.6 * len(names), 7), squeeze=False)
  for j, ds in enumerate(names):
    for i, (label, r) in enumerate(results["datasets"][ds].items()):
      c = r["linf_curves"]
      axes[0, j].plot(c["eps"], c["FGSM"], "o--", color=f"C{i}", label=f"{label}: FGSM")
      axes[0, j].plot(c["eps"], c["PGD-40"], "s-", color=f"C{i}", label=f"{label}: PGD-40")
      l2 = r["l2_curves"]
      axes[1, j].plot(l2["radii"], l2["CW"], "o-", color=f"C{i}", label=f"{label}: CW")
      axes[1, j].plot(l2["radii"], l2["DeepFool"], "s--", color=f"C{i}",
                      label=f"{label}: DeepFool")
    axes[0, j].set(xlabel="eps (L-inf)", ylabel="robust accuracy", title=f"{ds}: L-inf")
    axes[1, j].set(xlabel="eps (L2)", ylabel="robust accuracy", title=f"{ds}: L2")
    for ax in axes[:, j]:
      ax.legend(fontsize=7)
      ax.set_ylim(-0.02, 1.02)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)


def course_figure(apply, variables, x, y, bounds, path, count: int = 4, quick: bool = False):
  """Szegedy et al.'s figure: image, amplified perturbation, adversarial image, with labels."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  correct = np.flatnonzero(np.asarray(jnp.argmax(apply(variables, x), 1) == y))[:count]
  xs, ys = x[correct], y[correct]
  res = adv.lbfgs(apply, variables, xs, ys, bounds=bounds,
                  **(dict(steps=5, search_steps=2) if quick else {}))
  pred = np.asarray(jnp.argmax(apply(variables, res.x_adv), 1))
  fig, axes = plt.subplots(3, len(correct), figsize=(2.1 * len(correct), 6.4), squeeze=False)
  r = np.asarray(res.x_adv - xs)
  for k in range(len(correct)):
    scale = 0.5 / max(np.abs(r[k]).max(), 1e-12)  # amplified to fill the grey range
    panels = [(np.asarray(xs[k, ..., 0]), f"'{int(ys[k])}' (correct)", (0, 1)),
              (0.5 + scale * r[k, ..., 0], f"r x {scale:.0f}\nrho = {float(res.rho[k]):.3f}",
               (0, 1)),
              (np.asarray(res.x_adv[k, ..., 0]), f"'{pred[k]}'", (0, 1))]
    for i, (img, title, (vmin, vmax)) in enumerate(panels):
      axes[i, k].imshow(img, cmap="gray", vmin=vmin, vmax=vmax)
      axes[i, k].set_title(title, fontsize=9)
      axes[i, k].axis("off")
  fig.suptitle("x, amplified r = x_adv - x, x_adv (box-constrained L-BFGS; standard digits CNN)",
               fontsize=9)
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return {"rho": np.asarray(res.rho).tolist(), "success": np.asarray(res.success).tolist()}


def main(argv: list[str]) -> None:
  del argv
  unknown = [d for d in _ONLY.value if d not in SETUPS]
  if unknown:
    cli.fail(f"unknown dataset(s) {', '.join(unknown)}; known: {', '.join(SETUPS)}")
  outdir = cli.outdir("reports/adversarial")
  if outdir.exists() and not outdir.is_dir():
    cli.fail(f"--outdir {outdir} is a file; name a directory")
  outdir.mkdir(parents=True, exist_ok=True)
  quick = _QUICK.value
  start = time.perf_counter()
  results = {"datasets": {}, "setups": {}}
  for ds in _ONLY.value or list(SETUPS):
    setup = SETUPS[ds]
    test = get_dataset(ds, "test")
    n = 64 if quick else len(test)
    x, y = jnp.asarray(test.image[:n]), jnp.asarray(test.label[:n])
    results["setups"][ds] = {**dataclasses.asdict(setup), "n": n}
    results["datasets"][ds] = {}
    for label, config_name in (("standard", setup.standard), ("PGD-trained", setup.robust)):
      apply, variables, train_seconds = _train(config_name, quick)
      r = attack_model(apply, variables, x, y, setup, quick)
      r["train_seconds"], r["config"] = train_seconds, config_name
      results["datasets"][ds][label] = r
      print(f"{ds} {label}: clean {r['clean']:.3f}, "
            + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in r["attacks"].items()), flush=True)
      if ds == "digits" and label == "standard":
        results["course_figure"] = course_figure(apply, variables, x, y, setup.bounds,
                                                 outdir / "course_figure.png", quick=quick)
  results["seconds"] = time.perf_counter() - start
  results["command"] = cli.command_line("experiments.adversarial")
  table = markdown(results) + (f"\n`{results['command']}` ({results['seconds']:.0f} s, "
                               f"jax {jax.__version__}, {jax.device_count()} CPU device(s))\n")
  plot_curves(results, outdir / "accuracy_vs_eps.png")
  (outdir / "table.md").write_text(table)
  (outdir / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
  print(table)


if __name__ == "__main__":
  cli.run(main)
