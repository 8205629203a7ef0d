r"""A flow on scikit-learn's digits, uniformly dequantized and logit-transformed; test bits/dim.

    python -m experiments.density --config=experiments/configs/flow_digits.py
    python -m benchmarks.flows   # the same size against flowjax

Sizes match ``benchmarks/flows.py`` (RealNVP: 8 couplings; MAF: 5 MADE layers; hidden 2 x 128).
"""

import ml_collections


def get_config():
  config = ml_collections.ConfigDict()
  config.flow = ml_collections.ConfigDict()
  config.flow.name = "realnvp"  # realnvp | maf
  config.flow.num_layers = 8
  config.flow.hidden = (128, 128)
  config.num_steps = 1000  # Adam steps, constant learning rate (as the benchmark)
  config.validation_fraction = 0.1  # held out of the train split; the best-validation params
  # are kept (checked once per epoch): 1294 points overfit within a few hundred steps
  config.batch_size = 256
  config.learning_rate = 1e-3
  config.steps_per_call = 1  # measured faster than a fused lax.scan for 64-d flows on CPU
  config.logit_alpha = 0.05  # y = logit(a + (1 - 2a) x), Dinh et al. 2017 sec. 4.1
  return config
