r"""Time of empirical (finite-width) and analytic (infinite-width) NTKs, jaxnets vs neural-tangents.

    python -m benchmarks.ntk                          # jaxnets only, one table
    python -m benchmarks.ntk --compare_nt --rounds=3  # side by side with neural-tangents
    python -m benchmarks.ntk --peak_memory            # peak memory of the structured NTK, N=4096

Cases (``benchmarks/ntk_cases.py``; float32, NTK parameterisation, ``W_std = sqrt(2)``, no bias):
empirical NTK ``(N, N)`` (output traced, ``x2=None``) of the MLP ``[Dense 512, ReLU] x 3 +
Dense 1`` on 128 x 64 inputs and of the CNN ``2 x [Conv64 3x3 SAME, ReLU] + GlobalAvgPool +
Dense 1`` on 32 x 8x8x3 inputs, with every implementation; analytic NNGP + NTK of the same MLP
at 128 and 4096 inputs and of the same CNN at 32 inputs. Every time is a median over calls
after one untimed call (compilation); both frameworks jit what they time.

``--compare_nt`` runs each framework in its own subprocess (one framework's threads would slow
the other), alternating jaxnets, neural-tangents, jaxnets, ... for ``--rounds`` rounds of
``--repeats`` calls each; the medians pool all rounds, and "best" is the fastest implementation
of each framework. neural-tangents 0.6.5 imports only on JAX 0.4 (it uses names removed from
``jax.core``), so it lives in its own virtualenv; this set-up works (Python 3.11)::

  python -m venv /work/venvs/nt
  /work/venvs/nt/bin/pip install "jax[cpu]==0.4.23" "numpy<2" "scipy<1.13" neural-tangents==0.6.5

(it resolves to jax/jaxlib 0.4.23, numpy 1.26.4, scipy 1.12.0, tf2jax 0.3.6 and tensorflow
2.21.0, which neural-tangents imports). ``--nt_python`` points at that interpreter.
"""

from __future__ import annotations

import json
import pathlib
import resource
import statistics
import subprocess
import sys
import time

from absl import flags

from benchmarks import ntk_cases as C

_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed calls per case and round.")
_ROUNDS = flags.DEFINE_integer("rounds", 3, "Alternating rounds per framework (--compare_nt).")
_COMPARE = flags.DEFINE_bool("compare_nt", False, "Also time neural-tangents, side by side.")
_NT_PYTHON = flags.DEFINE_string("nt_python", "/work/venvs/nt/bin/python",
                                 "Python of the neural-tangents virtualenv.")
_WORKER = flags.DEFINE_bool("worker", False, "Internal: time jaxnets once, print JSON.")
_PEAK = flags.DEFINE_bool("peak_memory", False,
                          "Peak memory of the structured NTK of the MLP at N=4096.")
_PEAK_CASE = flags.DEFINE_string("peak_case", "", "Internal: one --peak_memory measurement.")
_ONLY = flags.DEFINE_string("only", "", "Time only the cases whose name contains this, e.g. "
                            "'analytic' or 'empirical mlp'.")

_ROOT = pathlib.Path(__file__).resolve().parent.parent


def _timed(fn, repeats: int) -> list[float]:
  import jax  # noqa: PLC0415 (the parent process of --compare_nt never imports JAX)
  jax.block_until_ready(fn())  # compile and warm up
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    times.append(time.perf_counter() - start)
  return times


def _networks():
  """``{name: (model apply_fn, init(key, x) -> params, kernel_fn)}`` of the two networks."""
  import jax  # noqa: PLC0415

  from jaxnets.models.mlp import MLP  # noqa: PLC0415
  from theory import kernels as K  # noqa: PLC0415

  mlp = MLP(num_outputs=1, width=C.WIDTH, depth=C.DEPTH, parametrization="ntk", w_std=C.W_STD)
  cnn_init, cnn_apply, cnn_kernel = K.cnn(2, channels=C.CHANNELS, filter_shape=C.FILTER,
                                          pool="avg", w_std=C.W_STD)
  return {"mlp": (mlp.apply, lambda key, x: mlp.init(key, x[:1]), K.from_model(mlp)[2]),
          "cnn": (cnn_apply, lambda key, x: cnn_init(key, x.shape)[1], cnn_kernel)}


def _time_jaxnets(repeats: int) -> dict:
  """Times every case once in this process: ``{case: {implementation: [seconds]}}``."""
  import jax  # noqa: PLC0415
  import jax.numpy as jnp  # noqa: PLC0415

  from theory import ntk  # noqa: PLC0415

  networks, times = _networks(), {}
  for kind, network, n in C.selected(_ONLY.value):
    apply_fn, init, kernel_fn = networks[network]
    x = jnp.asarray(C.inputs(network, n))
    name = C.case_name(kind, network, n)
    if kind == "empirical":
      params = init(jax.random.key(0), x)
      times[name] = {}
      for impl in C.EMPIRICAL_IMPLEMENTATIONS + ("auto",):
        ntk_fn = ntk.empirical_ntk_fn(apply_fn, implementation=impl)
        label = impl
        if impl == "auto":
          label = f"auto ({ntk.choose_implementation(apply_fn, params, x, x)})"
        times[name][label] = _timed(lambda: ntk_fn(x, None, params), repeats)
    else:
      times[name] = {"analytic": _timed(lambda: kernel_fn(x, None), repeats)}
  return times


def _run(cmd: list[str]) -> dict:
  done = subprocess.run(cmd, cwd=_ROOT, capture_output=True, text=True, check=False)
  if done.returncode != 0:
    sys.exit(f"error: {' '.join(cmd[:3])} failed:\n{done.stderr[-3000:]}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def _merge(pooled: dict, times: dict) -> None:
  for case, impls in times.items():
    for impl, ts in impls.items():
      pooled.setdefault(case, {}).setdefault(impl, []).extend(ts)


def _best(impls: dict) -> tuple[str, float]:
  impl = min(impls, key=lambda i: statistics.median(impls[i]))
  return impl, statistics.median(impls[impl])


def _ms(seconds: float) -> str:
  return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _compare(repeats: int, rounds: int) -> None:
  if not pathlib.Path(_NT_PYTHON.value).exists():
    sys.exit(f"error: no neural-tangents Python at {_NT_PYTHON.value}; create the virtualenv "
             "as in the docstring of benchmarks/ntk.py or pass --nt_python")
  only = f"--only={_ONLY.value}"
  jn_cmd = [sys.executable, "-m", "benchmarks.ntk", "--worker", f"--repeats={repeats}", only]
  nt_cmd = [_NT_PYTHON.value, "-m", "benchmarks.ntk_neural_tangents", f"--repeats={repeats}",
            only]
  pooled = {"jaxnets": {}, "neural-tangents": {}}
  versions = {}
  order = [("jaxnets", jn_cmd), ("neural-tangents", nt_cmd)]
  for r in range(rounds):
    for framework, cmd in order if r % 2 == 0 else order[::-1]:  # who goes first alternates
      out = _run(cmd)
      versions[framework] = out["version"]
      _merge(pooled[framework], out["times"])
      print(f"round {r + 1}/{rounds}: {framework} done", file=sys.stderr, flush=True)
  rows = ["| case | jaxnets best | neural-tangents best | ratio (jaxnets / NT) |",
          "|---|---|---|---|"]
  for kind, network, n in C.selected(_ONLY.value):
    case = C.case_name(kind, network, n)
    (jn_impl, jn_t), (nt_impl, nt_t) = _best(pooled["jaxnets"][case]), _best(
        pooled["neural-tangents"][case])
    label = lambda impl, t: _ms(t) if kind == "analytic" else f"{_ms(t)} ({impl})"  # noqa: E731
    rows.append(f"| {case} | {label(jn_impl, jn_t)} | {label(nt_impl, nt_t)} | "
                f"{jn_t / nt_t:.2f}x |")
  detail = ["| case | framework | implementation | median | calls |", "|---|---|---|---|---|"]
  for framework, cases in pooled.items():
    for case, impls in cases.items():
      for impl, ts in impls.items():
        detail.append(f"| {case} | {framework} | {impl} | {_ms(statistics.median(ts))} | "
                      f"{len(ts)} |")
  print(f"\n{versions['jaxnets']}; {versions['neural-tangents']}; float32, CPU, medians of "
        f"{rounds} alternating rounds x {repeats} calls\n")
  print("\n".join(rows))
  print("\nEvery implementation:\n")
  print("\n".join(detail))


def _peak_case(case: str) -> None:
  """One measurement in a fresh process: peak RSS growth of one structured NTK at N=4096."""
  import jax  # noqa: PLC0415
  import jax.numpy as jnp  # noqa: PLC0415

  from theory import ntk  # noqa: PLC0415

  apply_fn, init, _ = _networks()["mlp"]
  x = jnp.asarray(C.inputs("mlp", 4096))
  params = init(jax.random.key(0), x)
  batch_size = None if case == "one block" else int(case)
  ntk_fn = ntk.empirical_ntk_fn(apply_fn, implementation="structured_derivatives",
                                batch_size=batch_size)
  jax.block_until_ready(ntk_fn(x[:8], None, params))  # XLA and the runtime loaded
  before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  theta = jax.block_until_ready(ntk_fn(x, None, params))
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  print(json.dumps({"case": case, "peak_mib": (peak - before) / 1024,
                    "kernel_mib": theta.nbytes / 2**20}))


def _peak_memory() -> None:
  rows = ["| batch_size | peak memory growth | of which the kernel |", "|---|---|---|"]
  for case in ("one block", "1024", "512"):
    out = _run([sys.executable, "-m", "benchmarks.ntk", f"--peak_case={case}"])
    rows.append(f"| {case} | {out['peak_mib']:.0f} MiB | {out['kernel_mib']:.0f} MiB |")
  print("Structured-derivatives NTK of the MLP [Dense 512, ReLU] x 3 + Dense 1, N = 4096, "
        "float32 (growth of the peak resident set over the process before the call):\n")
  print("\n".join(rows))


def _print_jaxnets(times: dict, repeats: int) -> None:
  import jax  # noqa: PLC0415
  rows = ["| case | implementation | median |", "|---|---|---|"]
  for case, impls in times.items():
    for impl, ts in impls.items():
      rows.append(f"| {case} | {impl} | {_ms(statistics.median(ts))} |")
  print(f"\njax {jax.__version__}, {jax.devices()[0].platform}, float32, median of "
        f"{repeats}\n")
  print("\n".join(rows))


def main(argv: list[str]) -> None:
  del argv  # cli.run rejects positional arguments
  if _REPEATS.value < 1 or _ROUNDS.value < 1:
    from jaxnets import cli

    cli.fail("--repeats and --rounds must be positive")
  if _PEAK_CASE.value:
    _peak_case(_PEAK_CASE.value)
  elif _PEAK.value:
    _peak_memory()
  elif _WORKER.value:
    import jax  # noqa: PLC0415
    times = _time_jaxnets(_REPEATS.value)
    print(json.dumps({"framework": "jaxnets", "version": f"jaxnets on jax {jax.__version__}",
                      "times": times}))
  elif _COMPARE.value:
    _compare(_REPEATS.value, _ROUNDS.value)
  else:
    _print_jaxnets(_time_jaxnets(_REPEATS.value), _REPEATS.value)


if __name__ == "__main__":
  from jaxnets import cli

  cli.run(main)
