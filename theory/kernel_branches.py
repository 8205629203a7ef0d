"""Composition and branching of infinite-width layers: ``serial``, ``parallel``, ``FanOut``,
``FanInSum`` and ``Identity`` (neural-tangents' ``stax`` names), e.g. a pre-activation residual
block (He et al. 2016, "Identity Mappings in Deep Residual Networks")::

  block = serial(FanOut(2), parallel(Identity(), serial(Relu(), Conv(64, (3, 3)),
                                                        Relu(), Conv(64, (3, 3)))),
                 FanInSum())

Between ``FanOut`` and ``FanInSum`` the kernel state is a tuple of per-branch states.
"""

from __future__ import annotations

import jax

from jaxnets.errors import JaxnetsError
from theory.kernel_layers import State, make_layer


def serial(*layers):
  """Composes ``(init_fn, apply_fn, kernel_fn)`` triples, first layer first."""
  if not layers:
    raise JaxnetsError("serial needs at least one layer")
  init_fns, apply_fns, kernel_fns = zip(*layers)

  def init_fn(key, input_shape):
    params = []
    for init, k in zip(init_fns, jax.random.split(key, len(layers))):
      input_shape, p = init(k, input_shape)
      params.append(p)
    return input_shape, params

  def apply_fn(params, x):
    for apply, p in zip(apply_fns, params):
      x = apply(p, x)
    return x

  def transform(state):
    for kernel_fn in kernel_fns:
      state = kernel_fn.transform(state)
    return state

  return make_layer(init_fn, apply_fn, transform, branches=True)


def Identity():  # noqa: N802 (stax names)
  """``x -> x``: the shortcut branch of a residual block."""
  return make_layer(lambda key, shape: (shape, {}), lambda params, x: x, lambda state: state)


def FanOut(num: int):  # noqa: N802
  """``x -> (x, ..., x)``, ``num`` copies, one per branch of a following ``parallel``."""
  if int(num) != num or num < 1:
    raise JaxnetsError(f"FanOut needs a positive number of branches, got {num!r}")
  num = int(num)

  def transform(state):
    # The copies are one and the same value: none is independent of the others (not fresh).
    return tuple(state._replace(fresh=False) for _ in range(num))

  return make_layer(lambda key, shape: ([shape] * num, {}), lambda params, x: [x] * num,
                    transform)


def parallel(*layers):
  """Applies ``layers[i]`` to branch ``i`` of the input (the output of a ``FanOut``)."""
  if not layers:
    raise JaxnetsError("parallel needs at least one layer")
  init_fns, apply_fns, kernel_fns = zip(*layers)

  def check(branches):
    if len(branches) != len(layers):
      raise JaxnetsError(f"parallel has {len(layers)} layers but got {len(branches)} "
                         "branches; put FanOut(len(layers)) before it")

  def init_fn(key, input_shapes):
    check(input_shapes)
    outs = [init(k, shape) for init, k, shape in
            zip(init_fns, jax.random.split(key, len(layers)), input_shapes)]
    return [o[0] for o in outs], [o[1] for o in outs]

  def apply_fn(params, xs):
    check(xs)
    return [apply(p, x) for apply, p, x in zip(apply_fns, params, xs)]

  def transform(states):
    if isinstance(states, State):
      raise JaxnetsError("parallel needs branches: put FanOut(len(layers)) before it")
    check(states)
    return tuple(kernel_fn.transform(s) for kernel_fn, s in zip(kernel_fns, states))

  return make_layer(init_fn, apply_fn, transform, branches=True)


def FanInSum():  # noqa: N802
  """``(x_1, ..., x_k) -> x_1 + ... + x_k``, joining the branches of a ``FanOut``.

  The covariance of a sum is the sum of covariances when the branches are uncorrelated, and
  the NTK cross terms vanish at infinite width for the same reason (Yang 2019, "Tensor Programs
  I"; Arora et al. 2019, residual CNTK). That holds when every branch but at most one ends in
  weights drawn after the ``FanOut`` (a ``Dense`` or ``Conv``, maybe pooled or normalised
  after it): those branches are zero-mean and independent of everything else. Two branches
  that are both identities (or both end in an activation) are correlated and raise an error.
  The sum is Gaussian if every branch is.
  """
  def init_fn(key, input_shapes):
    del key
    if any(tuple(s) != tuple(input_shapes[0]) for s in input_shapes):
      raise JaxnetsError(f"FanInSum needs branches of one shape, got {input_shapes}")
    return input_shapes[0], {}

  def apply_fn(params, xs):
    del params
    return sum(xs[1:], xs[0])

  def transform(states):
    if isinstance(states, State):
      return states  # a sum of one branch
    if len({s.nngp.shape for s in states}) != 1:
      raise JaxnetsError(f"FanInSum needs branches of one shape, got kernel shapes "
                         f"{[s.nngp.shape for s in states]}")
    if sum(not s.fresh for s in states) > 1:
      raise JaxnetsError("FanInSum can add the kernels of branches only when all but one end "
                         "in a Dense or Conv layer (fresh, independent weights); "
                         f"got {sum(not s.fresh for s in states)} branches that do not")
    total = lambda field: sum(getattr(s, field) for s in states)  # noqa: E731
    ntk = None if states[0].ntk is None else total("ntk")
    return State(total("cov1"), total("cov2"), total("nngp"), ntk,
                 gaussian=all(s.gaussian for s in states), fresh=all(s.fresh for s in states))

  return make_layer(init_fn, apply_fn, transform, branches=True)
