"""Adversarial examples: the five classical attacks as pure, jitted, batched functions.

Every attack is ``attack(apply_fn, params, x, y, ..., bounds=(lo, hi)) -> AttackResult`` with
per-example ``success``, ``rho = ||r||_2 / ||x||_2``, ``linf = ||r||_inf`` (see
:mod:`jaxnets.adversarial.base` for the conventions, Flax models and sharding):

* :func:`lbfgs` -- box-constrained L-BFGS (Szegedy et al. 2014);
* :func:`fgsm` -- the fast gradient sign method (Goodfellow, Shlens & Szegedy 2015);
* :func:`pgd` -- L-inf / L2 projected gradient with random restarts (Madry et al. 2018);
* :func:`carlini_wagner` -- CW-L2 (Carlini & Wagner 2017);
* :func:`deepfool` -- DeepFool-L2 (Moosavi-Dezfooli et al. 2016).

Gradients here are with respect to inputs; training against an attack (PGD adversarial
training) is a step of the training engine, ``jaxnets.train.adversarial``.
"""

from jaxnets.adversarial.base import (NORMS, AttackResult, check_inputs, flax_apply,
                                      shard_batch)
from jaxnets.adversarial.carlini_wagner import carlini_wagner
from jaxnets.adversarial.deepfool import deepfool
from jaxnets.adversarial.fgsm import fgsm
from jaxnets.adversarial.lbfgs import lbfgs
from jaxnets.adversarial.pgd import pgd

__all__ = ["NORMS", "AttackResult", "carlini_wagner", "check_inputs", "deepfool", "fgsm",
           "flax_apply", "lbfgs", "pgd", "shard_batch"]
