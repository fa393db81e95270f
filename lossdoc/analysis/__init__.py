"""Pure analysis primitives on numpy arrays: no I/O, no printing, no rules.

Modules (import them directly; this package imports nothing so ``lossdoc`` starts fast):

``lossdoc.analysis.smoothing``
    ``ema_debiased`` (TensorBoard), ``time_weighted_ema``, ``lowess``, ``savgol``,
    ``rolling_median``, ``rolling_mad``, ``robust_zscore``.
``lossdoc.analysis.downsample``
    ``bin_series`` (min/max-preserving bins) -> ``BinnedResult``, ``downsample_for_fit``.
``lossdoc.analysis.fitting``
    ``fit_curve`` -> ``FitResult``, ``extrapolate`` -> ``ExtrapolationResult``,
    ``backtest`` -> ``BacktestResult``.
``lossdoc.analysis.stats``
    ``trend_test`` -> ``TrendResult``, ``mann_kendall``, ``equivalence_slope``,
    ``change_point(s)``, ``adjust_pvalues``, ``block_bootstrap``, ``effective_sample_size``,
    ``lag1_autocorr``, ``robust_scale``, ``long_run_variance``.

Conventions: non-finite values are ignored (smoothers pass them through at their
positions); tiny or degenerate inputs give ``None`` (fits) or ``nan`` fields (tests), never an
exception or a warning; results are frozen dataclasses named ``*Result``.
"""
