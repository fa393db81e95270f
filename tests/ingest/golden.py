"""Golden-file helper: a parser's tidy table vs a checked-in expected CSV.

Run ``LOSSDOC_REGEN=1 pytest tests/ingest`` to rewrite the expected files, then review the
diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from lossdoc.model import SCHEMA, validate

EXPECTED = Path(__file__).parent / "expected"


def assert_golden(frame: pl.DataFrame, expected: str | Path) -> None:
    """Compare ``frame`` (in SCHEMA) with ``tests/ingest/expected/<expected>`` (CSV)."""
    validate(frame)
    path = EXPECTED / expected if not Path(expected).is_absolute() else Path(expected)
    if os.environ.get("LOSSDOC_REGEN") or not path.exists():
        if not os.environ.get("LOSSDOC_REGEN") and os.environ.get("CI"):
            raise AssertionError(f"missing golden file {path}; run LOSSDOC_REGEN=1 pytest locally")
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path, float_precision=None)
    want = pl.read_csv(path, schema=SCHEMA, null_values=[""])
    # NaN / inf survive the CSV round trip as 'NaN' / 'inf' strings read back by polars.
    assert_frame_equal(frame, want, check_exact=False, rel_tol=1e-12, abs_tol=0.0)
