"""A slow experiment for the asynchronous-campaign tests: sleeps, logs its start and end."""

from __future__ import annotations

import json
import os
import time


def experiment(params):
    log = os.environ.get("SCIENTIA_TEST_LOG")
    start = time.time()
    time.sleep(float(os.environ.get("SCIENTIA_TEST_SLEEP", "0.6")))
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                json.dumps({"x": params["x"], "start": start, "end": time.time(), "pid": os.getpid()}) + "\n"
            )
    return -((params["x"] - 0.3) ** 2)
