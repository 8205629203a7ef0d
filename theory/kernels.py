"""Infinite-width NNGP and NTK kernels: from a jaxnets model, or from stax-style layers.

One route from a jaxnets model to its kernel, :func:`from_model`::

  from theory import kernels as K
  model = MLP(num_outputs=10, width=512, depth=3, parametrization="ntk")
  init_fn, apply_fn, kernel_fn = K.from_model(model)
  k = kernel_fn(x1, x2)              # Kernel(nngp, ntk), each (N1, N2)
  ntk = kernel_fn(x1, None, "ntk")   # x2=None means x1

and, for architectures of your own, layers in the style of neural-tangents' ``stax`` (Novak et
al. 2020), in the NTK parameterisation with ``W_std``, ``b_std`` as there::

  init_fn, apply_fn, kernel_fn = K.serial(
      K.Conv(64, (3, 3), W_std=1.5), K.Relu(),
      K.FanOut(2), K.parallel(K.Identity(), K.serial(K.Relu(), K.Conv(64, (3, 3)))),
      K.FanInSum(), K.AvgPool((2, 2), (2, 2)), K.LayerNorm(), K.Relu(),
      K.GlobalAvgPool(), K.Dense(1))

Each triple's ``init_fn``/``apply_fn`` is a finite network of the same architecture (for
empirical NTKs and Monte Carlo checks); ``kernel_fn`` is its infinite-width limit.

Layers: ``Dense``, ``Conv`` (:mod:`theory.kernel_layers`); ``Flatten``, ``GlobalAvgPool``,
``AvgPool``, ``LayerNorm`` (:mod:`theory.kernel_pooling`); ``serial``, ``parallel``, ``FanOut``,
``FanInSum``, ``Identity`` (:mod:`theory.kernel_branches`); ``Relu``, ``Erf`` in closed form,
``Tanh``, ``Gelu``, ``Elementwise(fn)`` by quadrature (:mod:`theory.kernel_activations`).
``cnn`` is a ready-made ``Conv``/``Relu`` stack. :func:`arccos_kernel` is the arc-cosine kernel
of Cho & Saul (2009), the one-layer ReLU kernel on raw inputs.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxnets.errors import JaxnetsError
from jaxnets.models.mlp import MLP
from theory.kernel_activations import Elementwise, Erf, Gelu, Relu, Tanh, _relu_dual
from theory.kernel_branches import FanInSum, FanOut, Identity, parallel, serial
from theory.kernel_layers import Conv, Dense, Kernel, KernelFn
from theory.kernel_pooling import AvgPool, Flatten, GlobalAvgPool, LayerNorm

ACTIVATIONS: dict[str, Callable] = {"relu": Relu, "erf": Erf, "tanh": Tanh, "gelu": Gelu}
# The activation callables jaxnets models take, mapped to their layers (closed form if known).
_CALLABLES = {nn.relu: Relu, jax.nn.relu: Relu, jax.scipy.special.erf: Erf, jnp.tanh: Tanh,
              nn.tanh: Tanh}


def _act_layer(act: str | Callable):
  if isinstance(act, str):
    if act not in ACTIVATIONS:
      raise JaxnetsError(f"unknown activation {act!r}; known: {', '.join(sorted(ACTIVATIONS))}")
    return ACTIVATIONS[act]()
  return _CALLABLES[act]() if act in _CALLABLES else Elementwise(act)


def from_model(model: nn.Module):
  """The ``(init_fn, apply_fn, kernel_fn)`` triple of a jaxnets model in NTK parameterisation.

  Supported: ``jaxnets.models.mlp.MLP(parametrization="ntk")`` of any depth, activation
  (closed form for ReLU and erf, quadrature otherwise), ``w_std`` and ``b_std``: the triple is
  ``Flatten -> [Dense(width) -> act] x depth -> Dense(num_outputs)``. ``model.apply`` and
  ``apply_fn`` compute the same function of ``x`` (parameters are laid out differently);
  ``kernel_fn`` is its infinite-width limit, the same for every output. Only the NTK
  parameterisation has this limit (standard and muP nets have others); jaxnets' CNNs and
  ResNets use the standard one, max-pooling and batch norm, so build convolutional and
  residual kernels from the layers of this module (see the module docstring).
  """
  if not isinstance(model, MLP) or model.parametrization != "ntk":
    raise JaxnetsError(f"from_model needs a jaxnets MLP with parametrization='ntk', got "
                       f"{type(model).__name__}(parametrization="
                       f"{getattr(model, 'parametrization', None)!r}); build convolutional "
                       "and residual kernels from the layers of theory.kernels")
  if int(model.depth) != model.depth or model.depth < 0:
    raise JaxnetsError(f"MLP depth must be an integer >= 0, got {model.depth!r}")
  dense = functools.partial(Dense, W_std=model.w_std, b_std=model.b_std)
  hidden = [layer for _ in range(model.depth) for layer in (dense(model.width),
                                                             _act_layer(model.act))]
  return serial(Flatten(), *hidden, dense(model.num_outputs))


def cnn(depth: int, *, channels: int = 64, filter_shape: tuple[int, ...] = (3, 3),
        pool: str = "avg", act: str | Callable = "relu", w_std: float = math.sqrt(2.0),
        b_std: float = 0.0, num_outputs: int = 1):
  """``[Conv(channels, filter_shape, SAME) -> act] x depth -> pool -> Dense(num_outputs)``.

  A composition of the layers above, for convolutional kernels without writing them out.
  ``pool="avg"`` is ``GlobalAvgPool`` (translation invariant), ``"flatten"`` is ``Flatten``.
  Inputs ``(N, *S, C)``. Returns the triple; its finite network is an NTK-parameterised CNN.
  """
  pools = {"avg": GlobalAvgPool, "flatten": Flatten}
  if pool not in pools:
    raise JaxnetsError(f"pool must be 'avg' or 'flatten', got {pool!r}")
  if int(depth) != depth or depth < 1:
    raise JaxnetsError(f"cnn depth must be an integer >= 1, got {depth!r}")
  convs = [layer for _ in range(depth)
           for layer in (Conv(channels, filter_shape, padding="SAME", W_std=w_std, b_std=b_std),
                         _act_layer(act))]
  return serial(*convs, pools[pool](), Dense(num_outputs, W_std=w_std, b_std=b_std))


def arccos_kernel(x1: jax.Array, x2: jax.Array, order: int = 1) -> jax.Array:
  r"""Arc-cosine kernel ``k_n(x, y) = (1/pi) |x|^n |y|^n J_n(theta)`` (Cho & Saul 2009, eq. 1-3).

  ``J_0 = pi - theta``, ``J_1 = sin theta + (pi - theta) cos theta``, ``theta`` the angle
  between ``x`` and ``y``. Normalisation of Cho & Saul's eq. (1): ``k_n(x, y) = 2 E_w[
  step(w.x) step(w.y) (w.x)^n (w.y)^n]`` with ``w ~ N(0, I)``, so ``k_1`` is twice the
  covariance of ReLU random features, ``k_1(x, y) = 2 E_w[relu(w.x) relu(w.y)]``.

  Relation to :func:`from_model` / ``serial(Dense(m, W_std=sqrt(2)), Relu(), Dense(1))``
  (``b_std = 0``, inputs of dimension ``d``): that net's NNGP is ``k_1(x, y) / d`` and its
  NTK is ``k_1(x, y) / d + (x.y / d) k_0(x, y)`` (the first layer's ``1/sqrt(d)`` is the only
  difference; with ``W_std = sqrt(2)`` in the readout too, both double).

  Args:
    x1: ``(N1, d)``; x2: ``(N2, d)``; order: 0 or 1.

  Returns:
    ``(N1, N2)``. A zero vector has ``theta = pi / 2`` (the limit of independent directions).
  """
  if order not in (0, 1):
    raise JaxnetsError(f"arc-cosine kernel of order {order!r} is not implemented; use 0 or 1")
  x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
  if x1.ndim != 2 or x2.ndim != 2 or x1.shape[1] != x2.shape[1]:
    raise JaxnetsError(f"arccos_kernel needs x1 (N1, d) and x2 (N2, d), got {x1.shape} and "
                       f"{x2.shape}")
  return _arccos(x1, x2, order)


@functools.partial(jax.jit, static_argnames="order")
def _arccos(x1: jax.Array, x2: jax.Array, order: int) -> jax.Array:
  # E[relu(u) relu(v)] = k_1 / 2 and E[step(u) step(v)] = k_0 / 2 for (u, v) with the Gram
  # matrix of (x, y) as covariance (Cho & Saul 2009, eq. 1), computed as the ReLU layer's dual.
  e_relu, e_step = _relu_dual(x1 @ x2.T, jnp.sum(x1 * x1, -1)[:, None],
                              jnp.sum(x2 * x2, -1)[None, :])
  return 2 * (e_step if order == 0 else e_relu)


__all__ = ["ACTIVATIONS", "AvgPool", "Conv", "Dense", "Elementwise", "Erf", "FanInSum",
           "FanOut", "Flatten", "Gelu", "GlobalAvgPool", "Identity", "Kernel", "KernelFn",
           "LayerNorm", "Relu", "Tanh", "arccos_kernel", "cnn", "from_model", "parallel",
           "serial"]
