"""The benchmark scripts import their shared helpers (``_common``) as a sibling module, as they
do when run as ``python benchmarks/<name>.py``: put that folder on the path for the tests."""

import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)
