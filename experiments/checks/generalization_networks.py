r"""Generalization checks that train networks: VC bound, random labels and margins, PAC-Bayes.

Merged into ``generalization.CHECKS``; run with
``python -m experiments.theory_report --only=generalization``.
"""

from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from experiments.checks import generalization_data as gdata  # noqa: E402
from experiments.checks.result import (CheckResult, Comparison, above,  # noqa: E402
                                      at_least, at_most, below, holds, inside, within)
from jaxnets.models import get_model  # noqa: E402
from theory import generalization as gen  # noqa: E402
from theory import margins as mg  # noqa: E402
from theory import pac_bayes as pb  # noqa: E402


def _num_params(params) -> int:
  return int(sum(a.size for a in jax.tree.leaves(params)))


def _binomial_se(p: float, n: int) -> float:
  """Standard error of an error rate ``p`` measured on ``n`` independent test examples."""
  p = min(max(p, 1.0 / n), 1 - 1.0 / n)  # an observed 0 still has sampling error
  return math.sqrt(p * (1 - p) / n)


def vc_bound_vacuous(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """A sweep over sample size m and capacity d (#params) through d < m and d > m on binary
  digits (digit >= 5): the VC bound beside the measured test error of each trained MLP."""
  x_all, y_all, xt, yt = gdata.digits()
  # Centred pixels: on the raw non-negative pixels a ReLU unit is dead on every input about
  # half the time at init, which leaves the narrow nets (width 1, 4) untrainable.
  mean = x_all.mean(0)
  x_all, xt = x_all - mean, xt - mean
  y_all, yt = (y_all >= 5).astype(np.int32), (yt >= 5).astype(np.int32)
  perm = np.random.default_rng(seed).permutation(len(x_all))
  sample_sizes = [200, len(x_all)]
  # One hidden layer (a second layer of width 1 would be dead at init half the time): widths 1
  # and 4 give d = 67 and 265 parameters (d < m for m = 1438); 64 and 512 give d = 4,225 and
  # 33,793 > m for every m.
  widths = [1, 64] if quick else [1, 4, 64, 512]
  steps = 200 if quick else 2000
  key = jax.random.key(seed)
  rows = []
  for i, m in enumerate(sample_sizes):
    x, y = x_all[perm[:m]], y_all[perm[:m]]
    for j, width in enumerate(widths):
      model = get_model("mlp", num_outputs=1, width=width, depth=1)
      params, _, _ = gdata.fit(model, optax.adam(1e-2 if width < 8 else 1e-3), x, y,
                               jax.random.fold_in(key, 10 * i + j), num_steps=steps,
                               batch_size=min(100, m))
      train_err = 1 - gdata.accuracy(model.apply(params, x), y)
      test_err = 1 - gdata.accuracy(model.apply(params, xt), yt)
      d = _num_params(params)
      d_bhlm = gen.relu_net_vc_dim_upper([x.shape[1], width, 1])
      rows.append(dict(m=m, width=width, params=d, train_error=train_err, test_error=test_err,
                       vc_dim_bhlm=d_bhlm, bound_params=gen.vc_bound(train_err, d, m),
                       bound_bhlm=gen.vc_bound(train_err, d_bhlm, m)))
  n_test = len(yt)
  comparisons = []
  for m in sample_sizes:
    cells = [r for r in rows if r["m"] == m]
    small = [r for r in cells if r["params"] < m]
    large = [r for r in cells if r["params"] > m]
    for r in small:
      # A valid bound cannot sit below the true risk; the test error estimates it to within
      # 2 binomial standard errors (95%).
      comparisons.append(at_least(
          f"bound - test error (m={m}, d={r['params']})",
          r["bound_params"] - r["test_error"] + 2 * _binomial_se(r["test_error"], n_test), 0.0,
          "MRT Cor. 3.19 holds with prob. 0.95; test error +- 2 binomial s.e."))
      complexity = gen.vc_bound(0.0, r["params"], m)
      if complexity < 0.9:
        # Where the capacity term leaves room, an informative bound needs a small train error:
        # the part of the comparison the network can fail.
        comparisons.append(below(
            f"bound (m={m}, d={r['params']} < m)", r["bound_params"], 1.0,
            f"capacity term {complexity:.2f} < 1 at d ln(em/d) < m; the rest is train error"))
    if small and large:
      best_small = min(r["test_error"] for r in small)
      for r in large:
        comparisons.append(at_most(
            f"test error (m={m}, d={r['params']} > m)", r["test_error"],
            best_small + 2 * _binomial_se(best_small, n_test),
            "no worse than the best d < m net, up to 2 binomial s.e. (Zhang et al. 2017)"))
        comparisons.append(above(f"bound (m={m}, d={r['params']} > m)", r["bound_params"], 1.0,
                                 "the VC bound with d > m exceeds 1 (MRT Cor. 3.19)"))
  if not comparisons:
    comparisons.append(holds("sweep crosses d = m", False, "the sweep must have d < m cells"))

  fig, ax = plt.subplots(figsize=(5.5, 3.8))
  for k, m in enumerate(sample_sizes):
    cells = [r for r in rows if r["m"] == m]
    d = [r["params"] for r in cells]
    ax.loglog(d, [r["bound_params"] for r in cells], "o-", color=f"C{k}",
              label=f"VC bound, m={m}")
    ax.loglog(d, [max(r["test_error"], 1e-3) for r in cells], "^--", color=f"C{k}",
              label=f"test error, m={m}")
    ax.axvline(m, color=f"C{k}", lw=0.5)
  ax.axhline(1.0, color="gray", ls="--")
  ax.set_xlabel("d = number of parameters"), ax.set_ylabel("error / bound")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(outdir / "vc_bound_vacuous.png", dpi=120)
  plt.close(fig)
  big = [r for r in rows if r["m"] == sample_sizes[-1]]
  return CheckResult(
      name="vc_bound_vacuous",
      claim="the VC bound (MRT Cor. 3.19, d = #params; BHLM 2019 Thm 7 shown too) is valid and "
            "informative when d < m, and vacuous when d > m although over-parameterized nets "
            "still generalize (Zhang et al. 2017)",
      prediction="d < m: test error <= bound < 1; d > m: bound > 1 while the test error is no "
                 "worse than with d < m",
      measured="; ".join(f"m={r['m']} d={r['params']}: test {r['test_error']:.3f} bound "
                         f"{r['bound_params']:.2f}" for r in rows if r in big or r["width"] == 1),
      comparisons=comparisons, figure="vc_bound_vacuous.png",
      values={"sample_sizes": sample_sizes, "test_examples": n_test, "rows": rows})


def random_labels_margins(outdir: pathlib.Path, *, quick: bool = False,
                          seed: int = 0) -> CheckResult:
  """Zhang et al. (2017) and Bartlett, Foster & Telgarsky (2017) Figure 2 on digits."""
  x, y, xt, yt = gdata.digits()
  y_rand = np.random.default_rng(seed + 1).integers(0, 10, len(y)).astype(np.int32)
  model = get_model("mlp", num_outputs=10, width=64 if quick else 512, depth=2)
  key = jax.random.key(seed)
  runs = {}
  for name, labels in (("true", y), ("random", y_rand)):
    params, steps, fitted = gdata.fit(model, optax.adam(1e-3), x, labels,
                                      jax.random.fold_in(key, len(runs)),
                                      num_steps=200 if quick else 30000, batch_size=128,
                                      loss_target=0.01, check_every=100)
    logits = model.apply(params, x)
    raw = np.asarray(mg.classification_margins(logits, jnp.asarray(labels)))
    weights = mg.mlp_weight_matrices(model, params)
    runs[name] = dict(steps=steps, fitted=fitted,
                      train_acc=gdata.accuracy(logits, labels),
                      test_acc=gdata.accuracy(model.apply(params, xt), yt),
                      raw=raw, normalized=mg.normalized_margins(raw, weights, x),
                      spectral_complexity=mg.spectral_complexity(weights))
  t, r = runs["true"], runs["random"]
  raw_ratio = float(np.median(t["raw"]) / np.median(r["raw"]))
  norm_ratio = float(np.median(t["normalized"]) / np.median(r["normalized"]))
  step_ratio = r["steps"] / t["steps"]
  n_test = len(yt)
  chance_se = math.sqrt(0.1 * 0.9 / n_test)
  comparisons = [
      holds("true labels fitted (loss <= 0.01, train acc 1)", t["fitted"],
            "Zhang et al. 2017 sec. 2: over-parameterized nets fit their training set"),
      holds("random labels fitted (loss <= 0.01, train acc 1)", r["fitted"],
            "Zhang et al. 2017 sec. 2: ... and random labels too"),
      within("random-label test acc", r["test_acc"], 0.1, 3 * chance_se,
             f"chance 1/10; 3 binomial s.e. of {n_test} test examples"),
      at_most("steps to fit, random / true", step_ratio, 10.0,
              "Zhang et al. 2017 Fig. 1a: a small constant factor (~3 on CIFAR-10); 10 allows "
              "for another dataset"),
      at_least("median normalized margin, true / random", norm_ratio, 2.0,
               "Bartlett et al. 2017 Fig. 2: the normalized-margin distributions separate "
               "(a factor > 2 on CIFAR-10)"),
      inside("median raw margin, true / random", raw_ratio, 0.5, 2.0,
             "Bartlett et al. 2017 Fig. 2: raw margins do not separate the two (same loss "
             "target for both runs)"),
  ]

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
      prediction="both fitted; random test acc 0.1; fit-step ratio <= 10; "
                 "normalized-margin ratio >= 2 while raw-margin ratio within [1/2, 2]",
      measured=f"train acc {t['train_acc']:.3f}/{r['train_acc']:.3f}; random test acc "
               f"{r['test_acc']:.3f}; steps to fit {t['steps']} vs {r['steps']} "
               f"(x{step_ratio:.1f}); median margin ratio raw {raw_ratio:.2f}, "
               f"normalized {norm_ratio:.2f}",
      comparisons=comparisons, figure="random_labels_margins.png",
      values={name: {k: (v if np.isscalar(v) or v is None else np.quantile(v, [0.1, 0.5, 0.9]))
                     for k, v in run.items()} for name, run in runs.items()})


def _pac_bayes(random_labels: bool, quick: bool, seed: int) -> dict:
  """DR pipeline on binary MNIST-1D (digit >= 5): train, then optimize the bound over a
  Gaussian posterior, then the Monte Carlo bound and the stochastic net's test error.

  True labels: a 1-D CNN, m = 20,000, 2,000 steps of momentum SGD. Random labels: the labels
  are memorized first -- an MLP (40-512-512-1) trained by Adam until its train error is at
  most 0.05, as Dziugaite & Roy (2017, sec. 6) do before bounding -- on m = 4,000, the size
  such a net memorizes in minutes on a CPU.
  """
  if random_labels:
    m = 200 if quick else 4000
  else:
    m = 400 if quick else 20000
  x, y, xt, yt = gdata.mnist1d(int(m / 0.8), seed=seed)
  y, yt = (y >= 5).astype(np.int32), (yt >= 5).astype(np.int32)
  key = jax.random.key(seed)
  if random_labels:
    y = np.random.default_rng(seed + 1).integers(0, 2, len(y)).astype(np.int32)
    model = get_model("mlp", num_outputs=1, width=128 if quick else 512, depth=2)
    init = model.init(jax.random.split(jax.random.fold_in(key, 0))[0], x[:1])
    params, steps, _ = gdata.fit(model, optax.adam(1e-3), x, y, jax.random.fold_in(key, 0),
                                 num_steps=100 if quick else 30000, batch_size=100,
                                 loss_target=float("inf"), error_target=0.05, check_every=100)
  else:
    x, xt = x[..., None], xt[..., None]
    model = get_model("cnn1d", num_outputs=1, channels=16)
    init = model.init(jax.random.split(jax.random.fold_in(key, 0))[0], x[:1])
    params, steps, _ = gdata.fit(model, optax.sgd(0.01, momentum=0.9), x, y,
                                 jax.random.fold_in(key, 0), num_steps=100 if quick else 2000,
                                 batch_size=100)
  post = pb.fit_gaussian_posterior(model.apply, params, init, jnp.asarray(x), jnp.asarray(y),
                                   jax.random.fold_in(key, 2), num_steps=50 if quick else 3000,
                                   learning_rate=3e-3, init_log_std=-4.0)
  sampler = pb.per_example_sampler(model.apply)
  res = pb.dziugaite_roy_bound(sampler, post, init, jnp.asarray(x), jnp.asarray(y),
                               jax.random.fold_in(key, 3), num_passes=1 if quick else 2)
  res["test_error_q"] = float(pb.stochastic_errors(
      sampler, post["mean"], post["log_std"], jnp.asarray(xt), jnp.asarray(yt),
      jax.random.fold_in(key, 4)).mean())
  res["test_examples"] = len(yt)
  res["sgd_steps"] = steps
  res["sgd_test_error"] = 1 - gdata.accuracy(model.apply(params, xt), yt)
  res["sgd_train_error"] = 1 - gdata.accuracy(model.apply(params, x), y)
  res["num_params"] = _num_params(init)
  res["history_stride"] = max(1, len(post["history"]) // 50)
  res["history"] = post["history"][:: res["history_stride"]]
  return res


def _bound_is_valid(res: dict) -> Comparison:
  """The bound must not sit below the stochastic net's true risk (estimated by its test error
  to within 2 binomial standard errors)."""
  slack = 2 * _binomial_se(res["test_error_q"], res["test_examples"])
  return at_least("bound - Q test error", res["bound"] - res["test_error_q"] + slack, 0.0,
                  f"PAC-Bayes-kl holds w.p. {res['confidence']:.3f}; Q test error +- 2 "
                  f"binomial s.e. of {res['test_examples']}")


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
  _pac_bayes_figure(res, outdir / "pac_bayes_nonvacuous.png", "binary MNIST-1D, true labels")
  return CheckResult(
      name="pac_bayes_nonvacuous",
      claim="PAC-Bayes-kl bound (Maurer 2004) optimized over N(w, diag s^2) with prior "
            "N(w0, lambda I) at init (Dziugaite & Roy 2017) is non-vacuous and valid",
      prediction="bound well under 0.5 and >= the stochastic net's test error",
      measured=f"bound {res['bound']:.3f} (KL {res['kl']:.0f} nats, m={res['m']}, "
               f"{res['num_params']} params); Q test error {res['test_error_q']:.3f}, "
               f"Q train error {res['train_error_mc']:.3f}",
      comparisons=[
          at_most("bound", res["bound"], 0.4,
                  "non-vacuous: below a coin's 0.5 with room; DR 2017 Table 1 reports "
                  "0.16-0.22 on binary MNIST with m = 55,000"),
          _bound_is_valid(res)],
      figure="pac_bayes_nonvacuous.png", values=res)


def pac_bayes_random_labels(outdir: pathlib.Path, *, quick: bool = False,
                            seed: int = 0) -> CheckResult:
  """With memorized random labels the same bound is vacuous (no better than a coin)."""
  res = _pac_bayes(True, quick, seed)
  _pac_bayes_figure(res, outdir / "pac_bayes_random_labels.png",
                    "binary MNIST-1D, random labels (memorized)")
  return CheckResult(
      name="pac_bayes_random_labels",
      claim="a net that memorizes random labels (train error near 0) does not generalize, and "
            "the optimized PAC-Bayes bound says so (Dziugaite & Roy 2017, sec. 6, Table 1)",
      prediction="SGD train error <= 0.05, yet the bound >= 0.5 (a coin flip does as well)",
      measured=f"SGD train error {res['sgd_train_error']:.3f} after {res['sgd_steps']} steps, "
               f"test {res['sgd_test_error']:.3f}; bound {res['bound']:.3f} "
               f"(KL {res['kl']:.0f}); Q train error {res['train_error_mc']:.3f}, "
               f"Q test error {res['test_error_q']:.3f}",
      comparisons=[
          at_most("SGD train error on random labels", res["sgd_train_error"], 0.05,
                  "memorized first, as Dziugaite & Roy 2017 sec. 6"),
          at_least("bound", res["bound"], 0.5,
                   "labels independent of inputs: no classifier beats 0.5 in expectation"),
          _bound_is_valid(res)],
      figure="pac_bayes_random_labels.png", values=res)
