"""The flowjax side of ``benchmarks/flows.py``: runs in flowjax's own virtualenv, never imports
jaxnets (flowjax is not a dependency of jaxnets).

    /work/venvs/flowjax/bin/python benchmarks/flowjax_peer.py --data=D.npz --flow=realnvp \
        --layers=8 --width=128 --depth=2 --steps=3000 --batch=256 --lr=1e-3 --seed=0

Trains flowjax's ``coupling_flow`` (affine, the RealNVP family) or
``masked_autoregressive_flow`` on ``D.npz["train"]`` with flowjax's own training step
(``flowjax.train.train_utils.step`` with ``MaximumLikelihoodLoss``, what ``fit_to_data``
calls) and Adam, on the same minibatch schedule as jaxnets (epoch permutations), validating
once per epoch on ``D.npz["validation"]`` and keeping the best parameters, and prints one JSON
line: test log-densities, training seconds (after a compiling warm-up step), parameter count.
"""

from __future__ import annotations

import argparse
import json
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import paramax
from flowjax.distributions import Normal
from flowjax.flows import coupling_flow, masked_autoregressive_flow
from flowjax.train.losses import MaximumLikelihoodLoss
from flowjax.train.train_utils import step


def main() -> None:
  parser = argparse.ArgumentParser()
  for name, kind in (("data", str), ("flow", str), ("layers", int), ("width", int),
                     ("depth", int), ("steps", int), ("batch", int), ("lr", float),
                     ("seed", int)):
    parser.add_argument(f"--{name}", type=kind, required=True)
  args = parser.parse_args()
  arrays = np.load(args.data)
  train, test = jnp.asarray(arrays["train"]), jnp.asarray(arrays["test"])
  validation = jnp.asarray(arrays["validation"])
  dim = train.shape[1]
  key = jax.random.key(args.seed)
  make = coupling_flow if args.flow == "realnvp" else masked_autoregressive_flow
  dist = make(key, base_dist=Normal(jnp.zeros(dim)), flow_layers=args.layers,
              nn_width=args.width, nn_depth=args.depth)
  # flowjax's Normal base has a trainable loc and scale; ours is fixed N(0, I): freeze them
  dist = eqx.tree_at(lambda d: d.base_dist, dist, replace_fn=paramax.non_trainable)
  params, static = eqx.partition(dist, eqx.is_inexact_array,
                                 is_leaf=lambda leaf: isinstance(leaf, paramax.NonTrainable))
  count = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))
  optimizer = optax.adam(args.lr)
  opt_state = optimizer.init(params)
  loss_fn = MaximumLikelihoodLoss()
  n = len(train)
  per_epoch = n // args.batch
  order = np.concatenate([np.random.default_rng([0, e]).permutation(n)[:per_epoch * args.batch]
                          for e in range(args.steps // per_epoch + 2)])
  batches = [order[i * args.batch:(i + 1) * args.batch] for i in range(args.steps + 1)]
  # warm-up: compile the step once on the first batch (not timed, not counted)
  warm = step(params, static, train[batches[0]], optimizer=optimizer, opt_state=opt_state,
              loss_fn=loss_fn)
  jax.block_until_ready(warm)
  validate = eqx.filter_jit(loss_fn)
  jax.block_until_ready(validate(params, static, validation))
  # Keep the parameters of lowest validation loss, evaluated once per epoch (as jaxnets does,
  # and as fit_to_data's return_best does).
  best, best_loss, best_step = params, float("inf"), 0
  start = time.perf_counter()
  for t, idx in enumerate(batches[:args.steps], start=1):
    params, opt_state, loss = step(params, static, train[idx], optimizer=optimizer,
                                   opt_state=opt_state, loss_fn=loss_fn)
    if t % per_epoch == 0:
      val = float(validate(params, static, validation))
      if val < best_loss:
        best, best_loss, best_step = params, val, t
  jax.block_until_ready(params)
  seconds = time.perf_counter() - start
  trained = paramax.unwrap(eqx.combine(best, static))
  log_q = np.asarray(eqx.filter_jit(trained.log_prob)(test))
  print(json.dumps({"framework": "flowjax", "flow": args.flow, "params": count,
                    "train_seconds": seconds, "final_loss": float(loss), "best_step": best_step,
                    "test_log_density": log_q.tolist()}))


if __name__ == "__main__":
  main()
