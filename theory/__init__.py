"""Importable theory utilities: pure functions of arrays or of ``(apply_fn, params, x)``.

Every public function and class, one line each, by module (``tests/theory_api_test.py`` checks
that each one listed exists). ``theory.kernels`` re-exports the layers of ``kernel_layers``,
``kernel_activations``, ``kernel_pooling`` and ``kernel_branches``; ``theory.ntk`` uses
``ntk_structured`` and ``ntk_blocks`` internally.

``theory.approximation`` -- Approximation by networks: errors, width sweeps, m-term (Maurey) and random-feature sums.
  approximation_errors: Errors of ``pred`` against ``true`` (both ``(N,)``) under the empirical input law
  fit_regression: Minimises ``mean |apply_fn(params, x)[:, 0] - y|^power`` (the squared error by default)
  train_width_sweep: Trains ``make_model(width)`` (a flax module with one output) per width and seed
  barron_variation: Total variation ``V`` of the step-unit representation of ``target`` on ``|x| <= radius``
  maurey_step_sample: m step units sampled from Barron's integral representation of a cosine sum (Maurey)
  step_network: ``offset + (1/m) sum_j w_j H(u_j . x - s_j)``: an ``(N,)`` evaluation of m step units
  random_neurons: m random first-layer neurons: directions uniform on the unit sphere, biases N(0, bias_std^2)
  spread_neurons: m ridge units ``s (u_j . x - u_j . c_j)`` whose transitions cover ``[0, 1]^d``
  fit_readout: Least-squares read-out ``a`` of ``a_0 + sum_j a_j act(w_j . x + b_j)`` for fixed neurons
  fit_random_features: ``fit_readout`` on ``random_neurons(key, d, m, bias_std)``: only the read-out is fitted
  random_features_apply: ``(N,)`` outputs ``a_0 + sum_j a_j act(w_j . x + b_j)`` of a fitted read-out
  hermite_coefficients: ``c_j = E[g(Z) He_j(Z)] / sqrt(j!)``, ``Z ~ N(0, 1)``, for ``j = 0..degree``
  num_polynomials: ``C(degree + d, d)``: the dimension of polynomials of total degree <= degree in d variables
  multi_indices: ``(num_polynomials(d, degree), d)`` exponents ``alpha`` with ``|alpha| <= degree``
  hermite_features: ``(N, C(degree + d, d))`` products ``prod_i He_{alpha_i}(x_i) / sqrt(alpha_i!)``
  count_linear_pieces: Number of affine pieces of a piecewise-linear function sampled on a sorted grid ``x``
  shallow_relu_pieces: Exact number of affine pieces on ``[lo, hi]`` of ``x -> sum_j a_j relu(w_j x + b_j) + c``
  tent_l1_lower_bound: Lower bound on ``int_0^1 |T^k - g|`` over g piecewise linear with ``pieces`` pieces

``theory.density`` -- Kernel density estimation and its curse of dimensionality, in closed form and by sampling.
  kde_log_density: ``log f_h(x)`` of the Gaussian KDE of ``data`` ``(n, d)`` at the points ``x`` ``(m, d)``
  silverman_bandwidth: ``h_j = (4 / (n (d + 2)))^(1/(d+4)) sigma_j`` (Silverman 1986, eq. 4.14)
  scott_bandwidth: ``h_j = n^(-1/(d+4)) sigma_j`` (Scott 1992, eq. 6.42)
  leave_one_out_log_likelihood: The mean leave-one-out log-likelihood of the KDE
  cross_validated_bandwidth: The bandwidth ``c * sigma_j`` maximising the leave-one-out log-likelihood
  kde_mse_at_zero: Exact ``(bias^2, variance)`` of ``f_h(0)`` for n draws of ``N(0, I_d)``
  relative_mse_at_zero: ``MSE(f_h(0)) / f(0)^2`` for the standard normal target
  optimal_bandwidth_at_zero: ``(h*, relative MSE at h*)`` minimising the exact MSE at 0
  silverman_sample_size: The least n with relative MSE at 0 below 0.1 (Silverman 1986, Table 4.2)
  round_significant: ``x`` rounded to a number of significant figures
  sample_kde_at_zero: ``(replicates,)`` Monte-Carlo values of ``f_h(0)``
  kde_rate_design: The design ``[1, log n, n^(-min(d, 2)/(d+4))]`` of ``log MSE(n)``
  kde_rate_design_bias: The design's own error on the exact MSE curve

``theory.dimensionality`` -- The curse of dimensionality, measured: covering numbers, distances, local averaging, clustering.
  log10_covering_sup: ``log10 N_inf(eps, [0, 1]^d) = d log10 ceil(1 / (2 eps))``: exact
  log10_covering_l2_bounds: ``(lower, upper)`` on ``log10 N_2(eps, [0, 1]^d)`` (Euclidean balls of radius eps)
  sup_grid_cover: The ``(ceil(1/(2 eps))^d, d)`` grid of cube centres whose eps-sup-balls cover the cube
  pairwise_distances: ``(N, M)`` Euclidean distances; with ``periodic``, on the torus ``[0, 1)^d``
  distance_statistics: Per query: mean, std, min and max distance to ``points``, relative spread and max/min
  predicted_relative_spread: Large-d limit of ``std_x |x - q| / E_x |x - q|`` for x uniform in ``[0, 1]^d``
  expected_max_normal: ``E max(Z_1..Z_n)`` for i.i.d. standard normals (numerical integration)
  predicted_max_over_min: Large-d prediction of ``max_i |x_i - q| / min_i |x_i - q|`` over n uniform points
  expected_nn_distance_torus: ``E min_i |x_i - q|`` for n uniform points on the torus ``[0, 1)^d``, Poisson limit
  stone_exponent: Stone's (1982) minimax exponent: squared L2 error ``~ n^(-2s / (2s + d))``
  two_gaussian_mixture: ``n`` points from ``N(+-mu, I_d)`` with equal classes, ``|mu| = mean_norm``, mu along e_1
  clustering_accuracy: Fraction of points whose cluster matches its class under the best relabelling
  chance_accuracy: ``E max(B, n - B) / n`` for ``B ~ Binomial(n, 1/2)``: a 2-clustering unrelated to the classes
  mean_difference_accuracy: Predicted test accuracy of the supervised nearest-class-mean classifier
  spectral_threshold_dimension: ``d* = n |mu|^4``: above it the top principal direction of the data carries no signal
  spectral_accuracy: Predicted accuracy of clustering by the top principal direction, large n and d

``theory.double_descent`` -- Double descent of minimum-norm interpolators: exact asymptotics and random-features models.
  min_norm_risk_isotropic: Limiting excess risk of min-norm least squares with isotropic features (HMRT, Thm. 1)
  measured_min_norm_risk: One draw of ``||beta_hat - beta||^2`` for the HMRT model with ``n`` samples, ``p`` features
  random_relu_features: Random ReLU features ``phi(x) = relu(x W / sqrt(d)) / sqrt(N)``
  random_features_fit: Min-norm least squares on ``num_features`` random ReLU features; returns test predictions

``theory.generalization`` -- Uniform-convergence generalization bounds: VC dimension, Rademacher complexity, norms.
  halfspace_vc_dim: VC dimension of halfspaces ``x -> sign(<w, x> + b)`` in ``R^dim``: ``dim + 1`` (``dim``
  relu_net_vc_dim_upper: Upper bound on the VC dimension of sign(ReLU network) with the given layer sizes
  log_growth_function_bound: ``ln Pi(m) <= min(m ln 2, d ln(e m / d))``: Sauer's lemma (MRT, Cor. 3.18) and the trivial
  vc_bound: VC generalization bound on the test error of any classifier of the class
  empirical_rademacher_mc: Monte Carlo estimate of the empirical Rademacher complexity of a class on ``m`` points
  linear_class_sup: ``sigma -> sup_{||w||_2 <= B} (1/m) sum_i sigma_i <w, x_i> = (B/m) ||X^T sigma||_2``
  finite_class_sup: ``sigma -> max_j (1/m) <f_j, sigma>`` for a finite class given as ``predictions`` ``(k, m)``
  linear_rademacher_upper: Closed-form upper bound for ``{x -> <w, x> : ||w||_2 <= B}`` (MRT, Thm. 5.10):
  linear_rademacher_lower: Khintchine-Kahane lower bound for the same linear class:
  massart_bound: Massart's lemma for a finite class of ``k`` functions (MRT, Thm. 3.7):
  rademacher_bound: Generalization bound from an empirical Rademacher complexity of the loss class
  frobenius_product: ``prod_j ||W_j||_F``: the product of the layers' Frobenius norms (Neyshabur et al. 2015)
  path_norm: The l2 path-norm ``sqrt(sum_paths prod_{edges} w_e^2)`` of a bias-free network
  grs_rademacher_bound: Golowich-Rakhlin-Shamir size-independent bound on the Rademacher complexity
  multiclass_log_growth_bound: ``ln Pi(m)`` of ``x -> argmax_k f_k(x)`` from the VC dimension of one pairwise comparison
  multiclass_vc_bound: :func:`vc_bound` with the growth function of :func:`multiclass_log_growth_bound`
  bounds: Every test-error bound of ``theory`` for a trained classifier, at confidence ``1 - delta``

``theory.kernel_predict`` -- Closed-form predictions of kernel regression and of MSE training in the kernel regime.
  Gaussian: A Gaussian over test outputs: ``mean (N*, K)`` and ``covariance (N*, N*)`` per output
  gradient_descent_mse: Gradient-flow predictions ``f_t`` for MSE with a constant kernel (Lee et al. 2019, eq. 9-10)
  gradient_descent_mse_discrete: Predictions after ``s`` steps of full-batch gradient descent on MSE, constant kernel
  kernel_ridge: Kernel ridge regression: ``predict(k_test_train) = K(x*, X) (K + diag_reg I)^{-1} Y``
  gp_inference: GP posterior over test outputs given noisy observations
  gradient_descent_mse_ensemble: Mean and covariance of infinitely wide networks trained by gradient flow on MSE

``theory.kernels`` -- Infinite-width NNGP and NTK kernels: from a jaxnets model, or from stax-style layers.
  AvgPool: Mean over windows of positions, per channel: ``(N, *S, C) -> (N, *S', C)``
  Conv: Convolution with weights shared over positions, NHWC inputs (any number of spatial axes)
  Dense: Fully connected layer on the last (channel) axis: ``W_std / sqrt(C) x @ W + b_std b``
  Elementwise: Any elementwise activation ``fn`` (jax-differentiable), its kernel by quadrature
  Erf: ``erf(x)``, with Williams' (1997) arcsine kernel
  FanInSum: ``(x_1, ..., x_k) -> x_1 + ... + x_k``, joining the branches of a ``FanOut``
  FanOut: ``x -> (x, ..., x)``, ``num`` copies, one per branch of a following ``parallel``
  Flatten: ``(N, *S, C) -> (N, |S| C)``. Kernel: the mean of the same-position covariances
  Gelu: Exact (erf) GELU ``x Phi(x)``, its kernel by Gauss-Hermite quadrature
  GlobalAvgPool: ``(N, *S, C) -> (N, C)``, the mean over positions. Kernel: the mean over all pairs ``p, q``
  Identity: ``x -> x``: the shortcut branch of a residual block
  Kernel: Infinite-width kernels of a network's outputs, each ``(N1, N2)`` (or ``(N1, N2, *S, *S)``)
  KernelFn: ``kernel_fn(x1, x2=None, get=None)``: the infinite-width NNGP and NTK of a network
  LayerNorm: ``(x - mean) / sqrt(eps + var)`` over ``axis`` of ``(N, *S, C)``, no learned scale or bias
  Relu: ``max(x, 0)``, with the arc-cosine kernel (Cho & Saul 2009)
  Tanh: ``tanh(x)``, its kernel by Gauss-Hermite quadrature (no closed form is known)
  arccos_kernel: Arc-cosine kernel ``k_n(x, y) = (1/pi) |x|^n |y|^n J_n(theta)`` (Cho & Saul 2009, eq. 1-3)
  cnn: ``[Conv(channels, filter_shape, SAME) -> act] x depth -> pool -> Dense(num_outputs)``
  from_model: The ``(init_fn, apply_fn, kernel_fn)`` triple of a jaxnets model in NTK parameterisation
  parallel: Applies ``layers[i]`` to branch ``i`` of the input (the output of a ``FanOut``)
  serial: Composes ``(init_fn, apply_fn, kernel_fn)`` triples, first layer first

``theory.least_squares`` -- The one ridge / least-squares solver: kernel ridge, min-norm least squares, ridge paths.
  Eigen: The eigen-decomposition of a (regularised) PSD matrix, with its numerical null space
  least_squares: ``beta = argmin ||Phi beta - Y||^2 + reg ||beta||^2``, the min-norm one when ``reg = 0``
  pseudo_inverse_values: ``1 / lam`` on the range, 0 on the null space: the spectrum of the pseudo-inverse
  psd_eigen: ``eigh((G + G^T) / 2 + reg I)`` with eigenvalues below ``lam_max n eps`` set to zero
  ridge_path: ``alpha(reg) = (G + reg I)^+ Y`` for every ``reg`` of ``regs (R,)``, one decomposition
  ridge_solve: Dual coefficients ``alpha = (G + reg I)^+ Y``: ``(N, N), (N,) | (N, K) -> like targets``

``theory.margins`` -- Margins, spectral complexity and margin-based generalization bounds of ReLU networks.
  mlp_weight_matrices: The effective weight matrices of a ``jaxnets.models.mlp.MLP`` with biases folded in
  augment_inputs: Flattens ``x`` to ``(m, d)`` and appends the constant-1 column when ``weights`` have
  classification_margins: Margins ``f(x)_y - max_{j != y} f(x)_j``, shape ``(N,)``; for one logit (binary,
  spectral_norm: Largest singular value ``||W||_sigma``
  spectral_complexity: BFT spectral complexity of a ReLU network (1-Lipschitz activations, ``rho_i = 1``):
  normalized_margins: BFT's spectrally-normalized margins ``margin / (R_A ||X||_2 / m)``, with ``||X||_2 =
  ramp_margin_error: Empirical margin loss ``Rhat_gamma = (1/m) #{i : margin_i <= gamma}`` (an upper bound on
  spectral_margin_bound: Spectrally-normalized margin bound on the 0-1 test error (BFT, Theorem 3.1 / 1.1)
  norm_margin_bound: Frobenius-norm margin bound (GRS Theorem 1 inside the multi-class margin bound)

``theory.ntk`` -- Finite-width neural tangent kernels, output covariances, and linearised networks.
  linearize: First-order Taylor expansion of ``f`` in its parameters around ``params0``
  empirical_ntk_fn: Returns ``ntk_fn(x1, x2, params)``: the empirical NTK ``J(x1) J(x2)^T`` of ``f``
  empirical_nngp_fn: Returns ``nngp_fn(x1, x2, params)``: the output covariance ``f(x1) f(x2)^T`` of one draw
  choose_implementation: The cheapest NTK implementation for these shapes by the FLOP model of Novak et al. (2022)

``theory.pac_bayes`` -- PAC-Bayes bounds on the error of a stochastic network, optimized Dziugaite & Roy's way.
  binary_kl: ``kl(q || p) = q ln(q/p) + (1-q) ln((1-q)/(1-p))``, the KL divergence of Bernoullis
  kl_inverse_upper: ``kl^{-1}(q, c) = max{p in [q, 1] : kl(q || p) <= c}`` by bisection
  monte_carlo_error_bound: Chernoff bound on a mean from ``num_trials`` independent Bernoulli trials
  pac_bayes_kl_bound: Maurer's PAC-Bayes-kl bound ``kl^{-1}(e_hat, (KL + ln(2 sqrt(m)/delta)) / m)`` (module doc)
  prior_variance: Prior variance on DR's grid, ``lambda_j = c exp(-j / b)``, ``j = 1, 2, ...``
  union_bound_cost: ``ln(pi^2 j^2 / 6)``: the price in nats of picking grid point ``j`` after seeing the data
  gaussian_kl: ``KL(N(w, diag s^2) || N(w_0, lambda I))`` summed over all parameters:
  per_example_sampler: Stochastic forward for any ``apply_fn(params, x)``: ``(mean, log_std, x, key) -> logits``
  mlp_local_reparam: Stochastic forward of a standard-parametrization ``jaxnets`` MLP (``dense_<i>`` layers
  stochastic_errors: Mean 0-1 error of the stochastic net over ``num_passes`` passes, each with a fresh network
  fit_gaussian_posterior: Optimizes DR's relaxed bound over the posterior ``(w, s)`` and prior variance ``lambda``
  dziugaite_roy_bound: The final PAC-Bayes bound on the stochastic net's error, confidence ``1 - delta - delta_mc``
  sharpness_sigma: Largest isotropic weight-noise scale ``sigma`` with ``e_hat(N(w, sigma^2 I)) <= e_hat(w) +

``theory.random_features`` -- The one random-features map: ``Phi(x) = scale * act(x W + b)`` with ``W, b`` fixed at random.
  fourier_weights: ``W ~ N(0, 2 gamma I)``, ``b ~ U[0, 2 pi]``: with ``cos`` and ``sqrt(2/D)``, RBF features
  gaussian_weights: ``W ~ N(0, std^2)``, ``b = 0``: ReLU features of the arc-cosine kernel (``std = 1``)
  random_features: ``scale * act(x W + b)``: ``(N, d) -> (N, D)``
  sphere_weights: Directions uniform on the unit sphere, biases ``N(0, bias_std^2)``

``theory.rates`` -- Power-law rates: fit ``y ~ C x^alpha`` by least squares in log-log with confidence intervals.
  PowerLawFit: ``y ~ constant * x^exponent`` fitted in log-log
  fit_power_law: Ordinary least squares of ``log y = log C + alpha log x`` with t-intervals
  fit_rate_constant: The constant ``C`` of ``y = C x^exponent`` at a *given* exponent, with a t-interval
  bootstrap_power_law: Power law of the *mean* of random draws, ``E y(x) ~ C x^alpha``, with bootstrap intervals

``theory.spectra`` -- Mercer spectra of dot-product kernels on the sphere, and of kernels on equispaced circles.
  harmonic_multiplicity: ``N(d, k)``: the dimension of the degree-``k`` spherical harmonics on ``S^{d-1}``
  legendre: ``P_k(t)`` in dimension ``d``, normalised so that ``P_k(1) = 1``
  sphere_eigenvalues: Eigenvalues ``mu_0 .. mu_{k_max}`` of ``kappa(<x, x'>)`` on ``S^{d-1}`` (Funk-Hecke)
  circulant_eigenvalues: Eigenvalues of a symmetric circulant matrix (a kernel on ``N`` equispaced circle points)

``theory.targets`` -- Target functions with known smoothness and known Barron constants, and their input laws.
  Target: A target function, its input law and its known constants
  CosineSum: ``f(x) = sum_k c_k cos(omega_k . x + phi_k)``: a finite Fourier sum
  sphere_sample: ``(n, d)`` points uniform on the sphere of the given radius
  gaussian_sample: ``(n, d)`` standard Gaussian inputs
  cube_sample: ``(n, d)`` points uniform on ``[0, 1]^d``
  random_directions: ``(k, d)`` unit vectors, uniform on the sphere
  slab_gaussian_sample: ``(n, d)`` draws of ``x ~ N(0, I_d)`` conditioned on ``|u_k . x| <= radius`` for all k
  barron_cosines: Sum of ``num_terms`` cosine ridges ``c_k cos(scale u_k . x + phi_k)``, ``sum |c_k| = 1``
  single_neuron: ``relu(u . x)`` with ``u`` a random unit vector and ``x ~ N(0, I_d)``
  cosine_ridge: ``cos(scale * u . x)`` with ``u`` a random unit vector and ``x ~ N(0, I_d)``
  torus_sines: ``sqrt(2/d) sum_j sin(2 pi x_j)`` on the torus ``[0, 1)^d``; variance 1 for every d
  cybenko: A continuous, not differentiable target on ``[0, 1]^d`` for ``d`` in {1, 2}
  tent_map: ``T^k(x)``: the tent map ``T(x) = 2 min(x, 1 - x)`` composed ``k`` times (Telgarsky 2016)
  tent: ``T^k`` on ``[0, 1]`` as a Target (``d`` must be 1)
  tent_mlp_params: Parameters of ``jaxnets.models.mlp.MLP(1, width=2, depth=k, act=relu)`` computing ``T^k``
  get_target: The registered target ``name`` in dimension ``d``
"""
