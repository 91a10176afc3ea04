"""The wall-clock limit on SymPy calls."""

from __future__ import annotations

import signal
import time

from scientia.hypothesize.symbolic._limits import call_with_limit


def test_slow_call_returns_default_within_the_limit():
    # a call that would run for 5 s gives the default after about the limit
    start = time.monotonic()
    assert call_with_limit(lambda: time.sleep(5) or "done", 0.2, "late") == "late"
    assert time.monotonic() - start < 2


def test_fast_call_returns_its_value_and_restores_the_outer_timer():
    # a quick call returns its result; an outer timer keeps (nearly) the time it had left
    old = signal.signal(signal.SIGALRM, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        assert call_with_limit(lambda: 42, 1.0, None) == 42
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < left <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
