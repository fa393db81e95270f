"""Run the hardening fuzzers (``tests/hardening/test_fuzz.py``: parsers; ``test_fuzz_inputs.py``:
baseline snapshots and configuration) for longer, with random seeds.

CI runs each property a fixed, derandomized number of times (well under a minute in all). This
script multiplies the example counts and lets Hypothesis pick fresh random inputs, so a nightly
job or a developer can search much further::

    python scripts/fuzz_long.py                 # 50x the CI examples (~10 minutes)
    python scripts/fuzz_long.py --scale 200 -k garbled
    python scripts/fuzz_long.py --seed 1234     # reproduce a run

A failure prints the falsifying example and a ``@reproduce_failure`` blob to paste into the test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=50.0, help="multiply every property's example count (default 50)")
    ap.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: random, printed)")
    ap.add_argument("-k", default=None, help="only properties whose name matches (pytest -k)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"fuzz_long: scale {args.scale:g}, seed {seed} (rerun with --seed {seed})", flush=True)
    os.environ["LOSSDOC_FUZZ_SCALE"] = str(args.scale)
    sys.path.insert(0, str(ROOT))
    import pytest

    pytest_args = [str(ROOT / "tests" / "hardening" / "test_fuzz.py"),
                   str(ROOT / "tests" / "hardening" / "test_fuzz_inputs.py"), "-q", "-p", "no:cacheprovider",
                   f"--hypothesis-seed={seed}", "--hypothesis-show-statistics"]
    if args.k:
        pytest_args += ["-k", args.k]
    return int(pytest.main(pytest_args))


if __name__ == "__main__":
    raise SystemExit(main())
