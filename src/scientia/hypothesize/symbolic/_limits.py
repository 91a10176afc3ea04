"""A wall-clock limit for SymPy calls that can run for minutes (``simplify`` on trigonometry).

SymPy has no timeout of its own. In the main thread of a Unix process the limit is a
``SIGALRM`` timer whose handler raises :class:`TimeLimitExceeded`; an outer timer (pytest-timeout
uses one) is saved and re-armed afterwards with the time it had left, and the previous handler is
restored, so nothing outside this block is changed. Elsewhere (another thread, Windows) the call
runs without a limit.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["TimeLimitExceeded", "call_with_limit"]


class TimeLimitExceeded(Exception):
    """The call did not finish within its time limit."""


def _raise(signum: int, frame: Any) -> None:
    raise TimeLimitExceeded


def call_with_limit(fn: Callable[[], T], seconds: float, default: T) -> T:
    """Return ``fn()``, or ``default`` if it runs longer than ``seconds``."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return fn()
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_left and outer_left <= seconds:  # an outer deadline comes first: let it win
        return fn()
    old = signal.signal(signal.SIGALRM, _raise)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    except TimeLimitExceeded:
        return default
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer_left:
            left = max(outer_left - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
