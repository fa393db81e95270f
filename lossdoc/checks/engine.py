"""The detector API under the import path detectors have always used (``from lossdoc.checks.engine
import Hit, RunContext, Series``); plugins' detectors may keep importing it from here, and
``run_checks`` too.

The checks are split by decision:

- :mod:`lossdoc.checks.series`: the run's series, and the one place deciding which is the loss;
- :mod:`lossdoc.checks.context`: the detector API (context, hits, the trend test);
- :mod:`lossdoc.checks.selection`: rule selection and parameter binding;
- :mod:`lossdoc.checks.summary`: the summary and extrapolation policy;
- :mod:`lossdoc.checks.runner`: the run loop with false-alarm control.
"""

from __future__ import annotations

from lossdoc.checks.context import Detector, Hit, RunContext, robust_trend
from lossdoc.checks.runner import run_checks
from lossdoc.checks.series import Series, final_level

__all__ = ["Detector", "Hit", "RunContext", "Series", "final_level", "robust_trend", "run_checks"]
