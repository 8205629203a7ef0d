r"""Generalization checks that train networks: VC bound, random labels and margins, PAC-Bayes.

Merged into ``generalization.CHECKS``; run with
``python -m experiments.theory_report --only=generalization``.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from experiments.checks import generalization_data as gdata  # noqa: E402
from experiments.checks.result import CheckResult  # noqa: E402
from jaxnets.models import get_model  # noqa: E402
from theory import generalization as gen  # noqa: E402
from theory import margins as mg  # noqa: E402
from theory import pac_bayes as pb  # noqa: E402


def _num_params(params) -> int:
  return int(sum(a.size for a in jax.tree.leaves(params)))


def vc_bound_vacuous(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Over-parameterized MLPs on binary digits (digit >= 5) reach small test error, while the
  VC bound, even with d = number of parameters, exceeds 1."""
  x, y, xt, yt = gdata.digits(seed)
  y, yt = (y >= 5).astype(np.int32), (yt >= 5).astype(np.int32)
  m = len(x)
  widths = [8, 64, 512] if quick else [8, 32, 128, 512]
  steps = 1000 if quick else 2000
  key = jax.random.key(seed)
  rows = []
  for i, width in enumerate(widths):
    model = get_model("mlp", num_outputs=1, width=width, depth=2)
    params = model.init(jax.random.fold_in(key, i), x[:1])
    opt = optax.adam(1e-3)
    run = gdata.make_trainer(model.apply, opt, x, y, batch_size=100, chunk=steps)
    params, _ = run(params, opt.init(params), jax.random.fold_in(key, 100 + i))
    train_err = 1 - gdata.accuracy(model.apply(params, x), y)
    test_err = 1 - gdata.accuracy(model.apply(params, xt), yt)
    d_bhlm = gen.relu_net_vc_dim_upper([x.shape[1], width, width, 1])
    num_params = _num_params(params)
    rows.append(dict(width=width, params=num_params, train_error=train_err, test_error=test_err,
                     vc_dim_bhlm=d_bhlm, bound_bhlm=gen.vc_bound(train_err, d_bhlm, m),
                     bound_params=gen.vc_bound(train_err, num_params, m)))
  big = rows[-1]
  ok = big["bound_params"] > 1 and big["bound_bhlm"] > 1 and big["test_error"] <= 0.1

  fig, ax = plt.subplots(figsize=(5, 3.5))
  w = [r["width"] for r in rows]
  ax.semilogx(w, [r["bound_bhlm"] for r in rows], "s-", label="VC bound, BHLM d")
  ax.semilogx(w, [r["bound_params"] for r in rows], "o-", label="VC bound, d = #params")
  ax.semilogx(w, [r["test_error"] for r in rows], "^-", label="measured test error")
  ax.axhline(1.0, color="gray", ls="--")
  ax.set_yscale("log"), ax.set_xlabel("width"), ax.set_ylabel("error / bound")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(outdir / "vc_bound_vacuous.png", dpi=120)
  plt.close(fig)
  return CheckResult(
      name="vc_bound_vacuous",
      claim="VC bounds (MRT Cor. 3.19; VC dim of ReLU nets, Bartlett-Harvey-Liaw-Mehrabian 2019 "
            "Thm 7) are vacuous for over-parameterized nets that still generalize",
      prediction="VC bound > 1 while the test error is small",
      measured=f"width {big['width']} ({big['params']} params, m={m}): test error "
               f"{big['test_error']:.3f}, bound {big['bound_params']:.2f} (d=#params), "
               f"{big['bound_bhlm']:.2f} (BHLM d={big['vc_dim_bhlm']:.3g})",
      tolerance="both bounds > 1 and test error <= 0.10 (delta = 0.05)",
      passed=bool(ok), figure="vc_bound_vacuous.png", values={"m": m, "rows": rows})


def _fit_until(model, x, y, key, *, max_steps: int, chunk: int, loss_target: float):
  """Adam until the training loss <= ``loss_target``; returns params, the first step with 100%
  train accuracy and the steps taken."""
  params = model.init(key, x[:1])
  opt = optax.adam(1e-3)
  run = gdata.make_trainer(model.apply, opt, x, y, batch_size=128, chunk=chunk)
  state = opt.init(params)
  fit_step, steps = None, 0
  while steps < max_steps:
    params, state = run(params, state, jax.random.fold_in(key, steps))
    steps += chunk
    logits = model.apply(params, x)
    if fit_step is None and gdata.accuracy(logits, y) == 1.0:
      fit_step = steps
    loss = float(jnp.mean(gdata.loss_fn(logits, jnp.asarray(y))))
    if fit_step is not None and loss <= loss_target:
      break
  return params, fit_step, steps


def random_labels_margins(outdir: pathlib.Path, *, quick: bool = False,
                          seed: int = 0) -> CheckResult:
  """Zhang et al. (2017) and Bartlett, Foster & Telgarsky (2017) Figure 2 on digits."""
  x, y, xt, yt = gdata.digits(seed)
  y_rand = np.random.default_rng(seed + 1).integers(0, 10, len(y)).astype(np.int32)
  model = get_model("mlp", num_outputs=10, width=256 if quick else 512, depth=2)
  key = jax.random.key(seed)
  runs = {}
  for name, labels in (("true", y), ("random", y_rand)):
    params, fit_step, steps = _fit_until(model, x, labels, jax.random.fold_in(key, len(runs)),
                                         max_steps=30000, chunk=100, loss_target=0.01)
    logits = model.apply(params, x)
    raw = np.asarray(mg.classification_margins(logits, jnp.asarray(labels)))
    weights = mg.mlp_weight_matrices(model, params)
    runs[name] = dict(fit_step=fit_step, steps=steps,
                      train_acc=gdata.accuracy(logits, labels),
                      test_acc=gdata.accuracy(model.apply(params, xt), yt),
                      raw=raw, normalized=mg.normalized_margins(raw, weights, x),
                      spectral_complexity=mg.spectral_complexity(weights))
  t, r = runs["true"], runs["random"]
  raw_ratio = float(np.median(t["raw"]) / np.median(r["raw"]))
  norm_ratio = float(np.median(t["normalized"]) / np.median(r["normalized"]))
  step_ratio = (r["fit_step"] / t["fit_step"]) if r["fit_step"] and t["fit_step"] else float("inf")
  ok = (t["train_acc"] == 1.0 and r["train_acc"] == 1.0 and abs(r["test_acc"] - 0.1) <= 0.05
        and step_ratio <= 10 and norm_ratio >= 2 and 0.5 <= raw_ratio <= 2)

  fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.2))
  for name, run in runs.items():
    a1.hist(run["raw"], bins=40, alpha=0.5, density=True, label=f"{name} labels")
    a2.hist(run["normalized"], bins=40, alpha=0.5, density=True, label=f"{name} labels")
  a1.set_xlabel("raw margin"), a2.set_xlabel("spectrally-normalized margin"), a2.legend()
  fig.tight_layout()
  fig.savefig(outdir / "random_labels_margins.png", dpi=120)
  plt.close(fig)
  return CheckResult(
      name="random_labels_margins",
      claim="an MLP fits random labels (Zhang et al. 2017) with raw margins like true labels' "
            "but much smaller spectrally-normalized margins (Bartlett, Foster & Telgarsky 2017)",
      prediction="train acc 1 for both; random test acc 0.1; fit-step ratio <= 10; "
                 "normalized-margin ratio >= 2 while raw-margin ratio within [1/2, 2]",
      measured=f"train acc {t['train_acc']:.3f}/{r['train_acc']:.3f}; random test acc "
               f"{r['test_acc']:.3f}; steps to fit {t['fit_step']} vs {r['fit_step']} "
               f"(x{step_ratio:.1f}); median margin ratio raw {raw_ratio:.2f}, "
               f"normalized {norm_ratio:.2f}",
      tolerance="|test acc - 0.1| <= 0.05; both trained to train loss <= 0.01 before margins",
      passed=bool(ok), figure="random_labels_margins.png",
      values={name: {k: (v if np.isscalar(v) or v is None else np.quantile(v, [0.1, 0.5, 0.9]))
                     for k, v in run.items()} for name, run in runs.items()})


def _pac_bayes(random_labels: bool, quick: bool, seed: int) -> dict:
  """DR pipeline on binary MNIST-1D (digit >= 5), m = 20,000: SGD, then the bound optimization,
  then the Monte Carlo bound and the stochastic net's test error."""
  x, y, xt, yt = gdata.mnist1d(25000, seed=seed)
  x, xt = x[..., None], xt[..., None]
  y, yt = (y >= 5).astype(np.int32), (yt >= 5).astype(np.int32)
  if random_labels:
    y = np.random.default_rng(seed + 1).integers(0, 2, len(y)).astype(np.int32)
  model = get_model("cnn1d", num_outputs=1, channels=16)
  key = jax.random.key(seed)
  init = model.init(jax.random.fold_in(key, 0), x[:1])
  opt = optax.sgd(0.01, momentum=0.9)
  run = gdata.make_trainer(model.apply, opt, x, y, batch_size=100, chunk=2000)
  params, _ = run(init, opt.init(init), jax.random.fold_in(key, 1))
  post = pb.fit_gaussian_posterior(model.apply, params, init, jnp.asarray(x), jnp.asarray(y),
                                   jax.random.fold_in(key, 2), num_steps=1500 if quick else 3000,
                                   learning_rate=3e-3, init_log_std=-4.0)
  sampler = pb.per_example_sampler(model.apply)
  res = pb.dziugaite_roy_bound(sampler, post, init, jnp.asarray(x), jnp.asarray(y),
                               jax.random.fold_in(key, 3), num_passes=1 if quick else 2)
  res["test_error_q"] = float(pb.stochastic_errors(
      sampler, post["mean"], post["log_std"], jnp.asarray(xt), jnp.asarray(yt),
      jax.random.fold_in(key, 4)).mean())
  res["sgd_test_error"] = 1 - gdata.accuracy(model.apply(params, xt), yt)
  res["sgd_train_error"] = 1 - gdata.accuracy(model.apply(params, x), y)
  res["num_params"] = _num_params(init)
  res["history_stride"] = max(1, len(post["history"]) // 50)
  res["history"] = post["history"][:: res["history_stride"]]
  return res


def _pac_bayes_figure(res: dict, path: pathlib.Path, title: str) -> None:
  fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.2))
  names = ["SGD test", "Q train (MC)", "Q test", "bound"]
  vals = [res["sgd_test_error"], res["train_error_mc"], res["test_error_q"], res["bound"]]
  a1.bar(names, vals, color=["C0", "C1", "C2", "C3"])
  a1.axhline(0.5, color="gray", ls="--"), a1.set_ylabel("error"), a1.set_title(title, fontsize=8)
  a2.plot(res["history"]), a2.set_xlabel(f"step / {res['history_stride']}")
  a2.set_ylabel("relaxed bound objective")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def pac_bayes_nonvacuous(outdir: pathlib.Path, *, quick: bool = False,
                         seed: int = 0) -> CheckResult:
  """Dziugaite & Roy (2017): an optimized PAC-Bayes bound is non-vacuous with 20,000 examples."""
  res = _pac_bayes(False, quick, seed)
  ok = res["bound"] <= 0.4 and res["bound"] >= res["test_error_q"]
  _pac_bayes_figure(res, outdir / "pac_bayes_nonvacuous.png", "binary MNIST-1D, true labels")
  return CheckResult(
      name="pac_bayes_nonvacuous",
      claim="PAC-Bayes-kl bound (Maurer 2004) optimized over N(w, diag s^2) with prior "
            "N(w0, lambda I) at init (Dziugaite & Roy 2017) is non-vacuous and valid",
      prediction="bound well under 0.5 and >= the stochastic net's test error",
      measured=f"bound {res['bound']:.3f} (KL {res['kl']:.0f} nats, m={res['m']}, "
               f"{res['num_params']} params); Q test error {res['test_error_q']:.3f}, "
               f"Q train error {res['train_error_mc']:.3f}",
      tolerance=f"bound <= 0.40 and bound >= Q test error; confidence {res['confidence']:.3f}",
      passed=bool(ok), figure="pac_bayes_nonvacuous.png", values=res)


def pac_bayes_random_labels(outdir: pathlib.Path, *, quick: bool = False,
                            seed: int = 0) -> CheckResult:
  """The same pipeline with random labels gives a vacuous bound (no better than a coin)."""
  res = _pac_bayes(True, quick, seed)
  ok = res["bound"] >= 0.5
  _pac_bayes_figure(res, outdir / "pac_bayes_random_labels.png", "binary MNIST-1D, random labels")
  return CheckResult(
      name="pac_bayes_random_labels",
      claim="with random labels nothing generalizes, and the optimized PAC-Bayes bound says so "
            "(Dziugaite & Roy 2017, Table 1)",
      prediction="bound >= 0.5 (a coin flip does as well)",
      measured=f"bound {res['bound']:.3f} (KL {res['kl']:.0f}); Q train error "
               f"{res['train_error_mc']:.3f}, Q test error {res['test_error_q']:.3f}",
      tolerance="bound >= 0.5",
      passed=bool(ok), figure="pac_bayes_random_labels.png", values=res)
