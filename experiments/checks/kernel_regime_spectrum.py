"""Kernel-regime checks of spectra and inductive bias: sphere spectrum, spectral bias, pooling.

* ``ntk_sphere_spectrum``: the bias-free two-layer ReLU NTK on ``S^{d-1}`` has eigenvalues
  ``mu_k ~ k^{-d}`` for even ``k`` and ``mu_k = 0`` for odd ``k >= 3`` (Bietti & Mairal 2019).
* ``spectral_bias``: GD on a wide net fits the frequency-``k`` part of a target on the circle
  after ``~ 1 / (eta lam_k)`` steps: low frequencies first (Rahaman et al. 2019; Basri et al.
  2019; Bietti & Mairal 2019).
* ``conv_kernel_pooling``: the CNN kernel with global average pooling is (up to the borders)
  invariant to translations, the one with flattening is not; on shifted digits the first keeps
  its accuracy (Novak et al. 2019; Arora et al. 2019).
"""

from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from experiments.checks.kernel_regime_init import save_figure
from experiments.checks.kernel_regime_training import gd_trainer
from experiments.checks.result import CheckResult, at_least, at_most, below, relative, within
from jaxnets.data import get_dataset
from jaxnets.models.mlp import MLP
from theory import kernel_predict
from theory import kernels as K
from theory import spectra
from theory.least_squares import least_squares


def _two_layer_relu_kappa(d: int, b_std: float = 0.0):
  """``kappa(t)``: the analytic NTK of Dense -> ReLU -> Dense at two points of the sphere of
  radius ``sqrt(d)`` with cosine ``t`` (``W_std^2 = 2``), evaluated with ``theory.kernels``."""
  kernel_fn = K.serial(K.Dense(1, W_std=math.sqrt(2), b_std=b_std), K.Relu(),
                       K.Dense(1, W_std=math.sqrt(2), b_std=b_std))[2]

  def kappa(t):
    t = np.asarray(t, np.float64)
    x0 = np.zeros((1, d))
    x0[0, 0] = math.sqrt(d)
    xs = np.zeros((len(t), d))
    xs[:, 0], xs[:, 1] = t * math.sqrt(d), np.sqrt(np.clip(1 - t ** 2, 0, None)) * math.sqrt(d)
    with jax.enable_x64(True):
      return np.asarray(kernel_fn(x0, xs, "ntk"))[0]

  return kappa


def ntk_sphere_spectrum(outdir: pathlib.Path, *, quick: bool = False,
                        seed: int = 0) -> CheckResult:
  """Funk-Hecke eigenvalues of the analytic NTK: decay exponent per dimension, odd zeros."""
  del seed  # deterministic
  dims, k_max = [3, 5], 80
  fit_range = range(20, k_max + 1, 2)
  results = {}
  for d in dims:
    mu = spectra.sphere_eigenvalues(_two_layer_relu_kappa(d), d, k_max, num_nodes=1000)
    even = np.array(list(fit_range))
    # log mu_k = a - s log k + b / k: the power law with its first asymptotic correction,
    # which at d = 5 still bends the local slope by ~0.1 at k = 80
    design = np.stack([np.ones(len(even)), np.log(even), 1 / even], 1)
    slope = float(least_squares(design, np.log(mu[even]))[1])
    # odd zeros resolved up to k = 41, where mu_{k-1} >= 1e-8 mu_0: float64 kernel values
    # (~1e-16 relative) cannot resolve zeros next to much smaller even eigenvalues
    odd_ratio = max(abs(mu[k]) / mu[k - 1] for k in range(3, 42, 2))
    results[d] = dict(mu=mu, slope=slope, odd_ratio=float(odd_ratio))
  mu_bias = spectra.sphere_eigenvalues(_two_layer_relu_kappa(3, b_std=0.5), 3, 12, 600)
  comparisons = [within(f"eigenvalue exponent d={d}", r["slope"], -d, 0.1,
                        "a tenth of the gap between the integer predictions of neighbouring d")
                 for d, r in results.items()]
  comparisons += [at_most(f"max |mu_odd| / mu_(k-1), d={d}", r["odd_ratio"], 1e-8,
                          "float64 quadrature resolves 1e-8 where mu_(k-1) >= 1e-8 mu_0")
                  for d, r in results.items()]
  fig, ax = plt.subplots(figsize=(4.8, 3.6))
  for d, r in results.items():
    k = np.arange(1, k_max + 1)
    mu = r["mu"][1:]
    ax.loglog(k[k % 2 == 0], mu[k % 2 == 0], "o-", ms=3, label=f"d={d}: slope {r['slope']:.2f}")
    ax.loglog(k[(k % 2 == 1) & (k >= 3)], np.abs(mu[(k % 2 == 1) & (k >= 3)]) + 1e-300, "x",
              ms=3, label=f"d={d}, odd k≥3 (≈0)")
  ax.set_ylim(1e-20, 1)
  ax.set(xlabel="frequency k", ylabel="μ_k", title="Two-layer ReLU NTK on the sphere, b=0")
  ax.legend(fontsize=7)
  return CheckResult(
      name="ntk_sphere_spectrum",
      claim="The bias-free two-layer ReLU NTK on S^{d-1} has Mercer eigenvalues mu_k ~ k^-d "
            "for even k and mu_k = 0 for odd k >= 3 (Bietti & Mairal 2019, Prop. 5)",
      prediction=", ".join(f"slope -{d} (d={d})" for d in dims) + "; odd mu_k = 0",
      measured=", ".join(f"slope {r['slope']:.3f} (d={d})" for d, r in results.items())
               + "; max |mu_odd|/mu_{k-1} "
               + f"{max(r['odd_ratio'] for r in results.values()):.1e} (with bias b=0.5: "
               + f"mu_3/mu_2 = {abs(mu_bias[3]) / mu_bias[2]:.2e})",
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "ntk_sphere_spectrum"),
      values=dict(dims=dims, eigenvalues={d: r["mu"] for d, r in results.items()},
                  slopes={d: r["slope"] for d, r in results.items()},
                  odd_ratio={d: r["odd_ratio"] for d, r in results.items()},
                  eigenvalues_with_bias=mu_bias))


def spectral_bias(outdir: pathlib.Path, *, quick: bool = False, seed: int = 0) -> CheckResult:
  """Per-frequency fitting times of GD on the circle vs ``1 / (eta lam_k)`` from the NTK."""
  # width 8192 even in quick mode: the slowest mode's eigenvalue is ~70x below the top one, and
  # the n^-1/2 noise of the finite-width kernel shifts its time by ~20% at width 1024, ~10% at
  # 4096 (measured over seeds)
  n_points, width, b_std = 64, 8192, 0.5
  # even frequencies: for the ReLU NTK the odd ones above 1 come only from the bias and are
  # tiny (cf. ntk_sphere_spectrum), which would make the run long for no extra information
  freqs = [1, 2, 4]
  phi = 2 * np.pi * np.arange(n_points) / n_points
  x = np.stack([np.cos(phi), np.sin(phi)], 1) * math.sqrt(2)
  y = sum(np.cos(k * phi) for k in freqs)[:, None]
  with jax.enable_x64(True):
    k_inf = np.asarray(K.from_model(MLP(num_outputs=1, depth=1, parametrization="ntk",
                                        b_std=b_std))[2](x, None, "ntk"))
  # circulant kernel: eigenvalues by FFT; lam_k / N are those of the GD operator (eta/N) Theta
  lam = spectra.circulant_eigenvalues(k_inf[0]) / n_points
  lr = 0.05 / lam[freqs[0]]  # eta lam_1 = 0.05: a small step, so steps ~ continuous time
  steps = int(1.5 / (lr * lam[freqs[-1]]))  # long enough for the slowest mode to pass 1/e
  net = MLP(num_outputs=1, width=width, depth=1, parametrization="ntk", b_std=b_std)
  f = lambda p, x: net.apply(p, x)
  xs, ys = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
  p = net.init(jax.random.key(seed), xs[:1])
  chunk = 10
  train = gd_trainer(f, xs, ys, chunk)
  basis = {k: np.stack([np.cos(k * phi), np.sin(k * phi)], 1) for k in freqs}
  amplitude = {k: [] for k in freqs}
  for _ in range(steps // chunk + 1):
    r = np.asarray(f(p, xs), np.float64)[:, 0] - y[:, 0]
    for k in freqs:
      amplitude[k].append(np.linalg.norm(basis[k].T @ r))
    p = train(p, lr)
  t = np.arange(len(amplitude[freqs[0]])) * chunk
  measured, predicted = {}, {}
  for k in freqs:
    a = np.array(amplitude[k]) / amplitude[k][0]
    first = np.flatnonzero(a <= math.exp(-1))[0]  # first record under 1/e; interpolate in log
    t0, t1 = t[first - 1], t[first]
    la0, la1 = math.log(a[first - 1]), math.log(a[first])
    measured[k] = float(t0 + (-1 - la0) / (la1 - la0) * (t1 - t0))
    predicted[k] = float(1 / (lr * lam[k]))
  rel = {k: abs(measured[k] / predicted[k] - 1) for k in freqs}
  comparisons = [relative(f"1/e time k={k}", measured[k], predicted[k], 0.1,
                          "finite-width kernel noise (~7% at width 8192, n^-1/2 from ~10% at "
                          "4096) + first-order discretisation (eta lam_1 = 0.05)")
                 for k in freqs]
  comparisons += [below(f"time k={a} - time k={b}", measured[a] - measured[b], 0.0,
                        "spectral bias: lam_k decreases with k") for a, b in zip(freqs, freqs[1:])]
  fig, ax = plt.subplots(figsize=(4.8, 3.6))
  for k in freqs:
    ax.semilogy(t, np.array(amplitude[k]) / amplitude[k][0], label=f"k={k}")
    ax.axvline(predicted[k], ls="--", lw=0.8, color=ax.lines[-1].get_color())
  ax.axhline(math.exp(-1), color="k", lw=0.5)
  ax.set(xlabel="GD step", ylabel="residual at frequency k (relative)",
         title=f"Spectral bias, width {width} (dashed: 1/(ηλ_k))")
  ax.legend()
  return CheckResult(
      name="spectral_bias",
      claim="In the kernel regime the residual along an NTK eigenfunction decays as "
            "exp(-eta lam_k t), so GD fits low frequencies (large lam_k) first, at times "
            "1/(eta lam_k) (Lee et al. 2019, eq. 9; Basri et al. 2019; Bietti & Mairal 2019)",
      prediction="1/e times " + ", ".join(f"{predicted[k]:.0f} (k={k})" for k in freqs)
                 + " steps, increasing with k",
      measured="1/e times " + ", ".join(f"{measured[k]:.0f} (k={k})" for k in freqs)
               + f" steps; max relative deviation {max(rel.values()):.3f}",
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "spectral_bias"),
      values=dict(freqs=freqs, measured=measured, predicted=predicted, width=width,
                  learning_rate=lr, eigenvalues=lam[:8]))


def _shift(images: np.ndarray, dx: int) -> np.ndarray:
  """Translate NHWC images right by ``dx`` pixels, filling with zeros (the digits' background)."""
  out = np.zeros_like(images)
  out[:, :, dx:] = images[:, :, :images.shape[2] - dx]
  return out


def conv_kernel_pooling(outdir: pathlib.Path, *, quick: bool = False,
                        seed: int = 0) -> CheckResult:
  """Kernel regression with the CNN NNGP, GlobalAvgPool vs Flatten, on shifted test digits."""
  del seed  # fixed splits
  num_train, num_test = (60, 40) if quick else (120, 100)
  train, test = get_dataset("digits", "train"), get_dataset("digits", "test")
  x, labels = train.image[:num_train], train.label[:num_train]
  x_test, test_labels = test.image[:num_test], test.label[:num_test]
  y = np.eye(10)[labels] - 0.1
  shifts = [0, 1, 2]
  accuracy, invariance = {}, {}
  for pool in ("avg", "flatten"):
    # The NNGP (the kernel of the network's output at init, Novak et al. 2019) has the same
    # pooling structure as the NTK at half the cost; kernels in float32, solves in float64.
    kernel_fn = K.cnn(2, pool=pool)[2]
    kernel = lambda a, b: np.asarray(kernel_fn(a, b, "nngp", batch_size=100), np.float64)
    k_train = kernel(x, None)
    k_tests = {s: kernel(_shift(x_test, s), x) for s in shifts}
    with jax.enable_x64(True):
      reg = 1e-4 * np.trace(k_train) / num_train  # tiny ridge for conditioning only
      predict = kernel_predict.kernel_ridge(k_train, y, diag_reg=reg)
      accuracy[pool] = [float((np.asarray(predict(k_tests[s])).argmax(1) == test_labels).mean())
                        for s in shifts]
    invariance[pool] = float(np.linalg.norm(k_tests[1] - k_tests[0]) / np.linalg.norm(k_tests[0]))
  # Criterion at a 1-pixel shift: at 2 pixels, strokes of these 8x8 digits leave the frame,
  # so every classifier loses information (shown in the figure, not tested).
  drop = {pool: accuracy[pool][0] - accuracy[pool][1] for pool in accuracy}
  # Accuracy thresholds: the standard error of a paired difference of two accuracies on
  # num_test examples is at most 1 / sqrt(num_test). Kernel: with zero padding the shift also
  # moves the image against the frame, so the GAP kernel is invariant only up to border terms
  # of unknown size -- the check compares it with Flatten's instead of a fixed number.
  se = 1 / math.sqrt(num_test)
  comparisons = [
      below("GAP - Flatten kernel change at 1 px", invariance["avg"] - invariance["flatten"],
            0.0, "GAP sums over all position pairs; Flatten keeps same-position terms only"),
      at_most("GAP accuracy drop at 1 px", drop["avg"], 2 * se,
              f"2 s.e. of a paired accuracy difference on {num_test} images"),
      at_least("Flatten drop - GAP drop at 1 px", drop["flatten"] - drop["avg"], 2 * se,
               f"2 s.e. of a paired accuracy difference on {num_test} images"),
  ]
  fig, ax = plt.subplots(figsize=(4.5, 3.5))
  for pool, acc in accuracy.items():
    ax.plot(shifts, acc, "o-", label=f"{'GlobalAvgPool' if pool == 'avg' else 'Flatten'}")
  ax.set(xlabel="test-image shift (pixels)", ylabel="test accuracy", ylim=(0, 1),
         title=f"CNN-GP regression on digits ({num_train} train)")
  ax.legend()
  return CheckResult(
      name="conv_kernel_pooling",
      claim="Global average pooling makes the CNN kernel sum over all pairs of positions, so "
            "it is invariant to translations (up to borders); Flatten keeps only same-position "
            "terms and is not (Novak et al. 2019, sec. 3; Arora et al. 2019, sec. 4)",
      prediction="a 1-pixel shift changes the GAP kernel rows less than the Flatten ones; "
                 "under that shift GAP keeps its accuracy, Flatten loses much of it",
      measured=f"kernel change {invariance['avg']:.3f} (GAP) vs {invariance['flatten']:.3f} "
               f"(Flatten); accuracy at shifts {shifts}: GAP "
               + "/".join(f"{a:.2f}" for a in accuracy["avg"]) + ", Flatten "
               + "/".join(f"{a:.2f}" for a in accuracy["flatten"]),
      comparisons=comparisons,
      figure=save_figure(fig, outdir, "conv_kernel_pooling"),
      values=dict(shifts=shifts, accuracy=accuracy, kernel_change=invariance, drop=drop,
                  num_train=num_train, num_test=num_test))
