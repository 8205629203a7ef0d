"""Kernel-regime checks (issue 4): when wide networks behave like their tangent kernels.

    python -m experiments.theory_report --outdir=reports/theory --only=kernel_regime

The checks live in three modules by concept: at initialisation (``kernel_regime_init``), during
training (``kernel_regime_training``), and spectra / inductive bias (``kernel_regime_spectrum``).
"""

from __future__ import annotations

from experiments.checks import kernel_regime_init as init
from experiments.checks import kernel_regime_spectrum as spectrum
from experiments.checks import kernel_regime_training as training

CHECKS = {
    "ntk_width_convergence": init.ntk_width_convergence,
    "ntk_sphere_diagonal": init.ntk_sphere_diagonal,
    "ntk_init_fluctuations": init.ntk_init_fluctuations,
    "lazy_training_width": training.lazy_training_width,
    "lazy_training_alpha": training.lazy_training_alpha,
    "mup_feature_learning": training.mup_feature_learning,
    "ntk_sphere_spectrum": spectrum.ntk_sphere_spectrum,
    "spectral_bias": spectrum.spectral_bias,
    "ntk_prediction_real_data": training.ntk_prediction_real_data,
    "conv_kernel_pooling": spectrum.conv_kernel_pooling,
}
