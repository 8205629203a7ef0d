"""PGD adversarial training (Madry et al. 2018): the supervised step on worst-case inputs.

Madry et al. train on ``min_theta E max_{||r|| <= eps} L(theta, x + r, y)``: the inner
maximisation by PGD from a random start in the ball (one restart; their MNIST model:
eps = 0.3, 40 steps of 0.01), the outer minimisation by the optimiser on the adversarial batch
(Danskin's theorem: the gradient at the inner maximiser is a descent direction of the robust
loss). The step is ``step(state, batch, rng) -> (state, metrics)`` like
:func:`jaxnets.train.steps.make_train_step`, whose update it reuses, so it runs in the one
engine (``engine.run``: CLI trainer with ``config.task = "adversarial"``, ``fit``,
``minimize_model(..., adversarial=...)``). The attack runs the model in inference mode
(``train=False``: BatchNorm's running statistics, no dropout), the update in training mode.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections

from jaxnets.adversarial.pgd import ascend, random_start_point
from jaxnets.adversarial.base import NORMS
from jaxnets.errors import JaxnetsError, unknown_name
from jaxnets.train import parallel, supervised
from jaxnets.train.losses import cross_entropy
from jaxnets.train.state import TrainState
from jaxnets.train.steps import Augment, LossFn, Schedule, TrainStep, make_train_step
from jaxnets.typing import Batch, Metrics


@dataclasses.dataclass(frozen=True)
class PGDTraining:
  """The inner maximisation of adversarial training (hashable: steps are cached by it).

  Attributes:
    eps: radius of the ball in ``norm``.
    steps: PGD steps per training step (Madry et al. MNIST: 40; fewer suffice on small nets).
    rel_step: step size over ``eps`` (Madry et al. MNIST: 0.01 / 0.3 with 40 steps; default
      ``2.5 / steps``).
    norm: ``"linf"`` or ``"l2"``.
    lo, hi: the input box.
  """

  eps: float
  steps: int = 10
  rel_step: float | None = None
  norm: str = "linf"
  lo: float = 0.0
  hi: float = 1.0

  def __post_init__(self):
    if not (isinstance(self.eps, (int, float)) and self.eps >= 0):
      raise JaxnetsError(f"adversarial training needs eps >= 0, got {self.eps!r}")
    if self.norm not in NORMS:
      raise unknown_name("norm", self.norm, NORMS)
    if not (isinstance(self.steps, int) and self.steps >= 1):
      raise JaxnetsError(f"adversarial training needs steps >= 1 (PGD steps), got {self.steps!r}")
    if not self.lo < self.hi:
      raise JaxnetsError(f"adversarial training needs lo < hi, got ({self.lo}, {self.hi})")

  @property
  def alpha(self) -> float:
    return self.eps * (2.5 / self.steps if self.rel_step is None else self.rel_step)

  @classmethod
  def from_config(cls, config: ml_collections.ConfigDict) -> "PGDTraining":
    """From ``config.adversarial`` (fields ``eps, steps, rel_step, norm, lo, hi``)."""
    return cls(**{k: config[k] for k in ("eps", "steps", "rel_step", "norm", "lo", "hi")
                  if k in config})


def pgd_examples(state: TrainState, x: jax.Array, y: jax.Array, attack: PGDTraining,
                 rng: jax.Array) -> jax.Array:
  """One random-start PGD attack on the current model (inference mode), inside jit."""
  apply = lambda variables, z: state.apply_fn(variables, z, train=False)
  variables = state.variables()
  eps, alpha = jnp.float32(attack.eps), jnp.float32(attack.alpha)
  x0 = random_start_point(rng, x, eps, attack.norm)
  x_adv = ascend(apply, variables, x, y, x0, eps, alpha, attack.norm, attack.steps,
                         attack.lo, attack.hi)
  return jax.lax.stop_gradient(x_adv)


@functools.lru_cache(maxsize=64)
def make_adversarial_train_step(attack: PGDTraining, loss_fn: LossFn = cross_entropy,
                                augment: Augment | None = None,
                                learning_rate: Schedule | None = None) -> TrainStep:
  """Returns ``step(state, batch, rng) -> (state, metrics)`` training on PGD examples.

  ``rng`` splits into the attack's random start and the supervised step's key (augmentation,
  dropout). Metrics: the supervised step's (``loss`` and ``accuracy`` are on the adversarial
  batch: the robust loss and accuracy under this PGD) plus ``clean_accuracy``.
  """
  inner = make_train_step(loss_fn, augment, learning_rate)

  def step(state: TrainState, batch: Batch, rng: jax.Array):
    attack_rng, train_rng = jax.random.split(rng)
    x, y = batch["image"], batch["label"]
    logits = state.apply_fn(state.variables(), x, train=False)
    clean_accuracy = jnp.mean(jnp.argmax(logits, -1) == y)
    x_adv = pgd_examples(state, x, y, attack, attack_rng)
    new_state, metrics = inner(state, {**batch, "image": x_adv}, train_rng)
    return new_state, {**metrics, "clean_accuracy": clean_accuracy}

  return step


def validate(config: ml_collections.ConfigDict) -> None:
  """The supervised checks, then ``config.adversarial``'s."""
  supervised.validate(config)
  if "adversarial" not in config:
    raise JaxnetsError("config.task = 'adversarial' needs config.adversarial (eps, steps, norm, "
                       "lo, hi); see experiments/configs/digits_cnn_adversarial.py")
  PGDTraining.from_config(config.adversarial)


class AdversarialTask(supervised.SupervisedTask):
  """The supervised task with the PGD step; evaluation adds PGD robust accuracy.

  ``config.adversarial``: ``eps``, ``steps``, ``rel_step``, ``norm``, ``lo``, ``hi`` (see
  :class:`PGDTraining`). The eval split is attacked with the training attack.
  """

  validate = staticmethod(validate)

  def __init__(self, config: ml_collections.ConfigDict):
    validate(config)
    super().__init__(config)
    self.attack = PGDTraining.from_config(config.adversarial)
    if hasattr(self.train_data, "image"):  # in-memory data: check the declared box now
      lo, hi = float(self.train_data.image.min()), float(self.train_data.image.max())
      if lo < self.attack.lo or hi > self.attack.hi:
        raise JaxnetsError(f"dataset {config.dataset.name!r} lies in [{lo:.4g}, {hi:.4g}], "
                           f"outside config.adversarial's range [{self.attack.lo:.4g}, "
                           f"{self.attack.hi:.4g}]; set config.adversarial.lo/hi to contain it")
    self.train_step = make_adversarial_train_step(
        self.attack, self.loss_fn, supervised._augmentation(config.dataset.get("augment", "none")),
        self.schedule)
    self._robust_step = None

  def evaluate(self, state: TrainState, mesh) -> Metrics:
    """Clean loss and accuracy, and ``robust_accuracy`` under the training attack."""
    from jaxnets.data.sampling import eval_batches

    metrics = super().evaluate(state, mesh)
    if self._robust_step is None:
      attack = self.attack

      def robust(state, batch):
        x_adv = pgd_examples(state, batch["image"], batch["label"], attack, jax.random.key(0))
        logits = state.apply_fn(state.variables(), x_adv, train=False)
        correct = (jnp.argmax(logits, -1) == batch["label"]) * batch["mask"]
        return jnp.sum(correct), jnp.sum(batch["mask"])

      rep, shard = parallel.replicated(mesh), parallel.batch_sharded(mesh)
      self._robust_step = jax.jit(robust, in_shardings=(rep, shard), out_shardings=rep)
    correct = count = 0.0
    batch_size = self.config.get("eval_batch_size", self.config.batch_size)
    for local in eval_batches(self.eval_data, batch_size, process_index=jax.process_index(),
                              process_count=jax.process_count()):
      c, n = parallel.host_copy(self._robust_step(state, parallel.global_batch(local, mesh)))
      correct, count = correct + float(c), count + float(n)
    return {**metrics, "robust_accuracy": correct / count}

  def console(self, metrics: Metrics) -> str:
    line = super().console(metrics)
    if "clean_accuracy" in metrics:
      line += f" clean {metrics['clean_accuracy']:.3f}"
    return line
