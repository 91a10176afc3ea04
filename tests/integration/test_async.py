"""Asynchronous campaigns: k experiments in flight, locally or on Ray, nothing lost or repeated."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from scientia.campaign import Campaign

FUNCTION = str(Path(__file__).with_name("slow_function.py")) + ":experiment"


def _config(workers, backend="local", proposer="random"):
    return {
        "name": "async",
        "seed": 0,
        "batch_size": 4,
        "space": {"kind": "parameters", "parameters": [{"name": "x", "kind": "real", "low": 0, "high": 1}]},
        "objectives": [{"name": "y"}],
        "proposer": {"kind": proposer, "n_initial": 4} if proposer == "bo" else {"kind": proposer},
        "evaluator": {"kind": "function", "function": FUNCTION, "workers": workers, "backend": backend},
    }


def _intervals(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _max_overlap(rows: list[dict]) -> int:
    events = sorted([(r["start"], 1) for r in rows] + [(r["end"], -1) for r in rows])
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def test_local_pool_keeps_k_in_flight_and_records_each_once(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("SCIENTIA_TEST_LOG", str(log))
    camp = Campaign.create(_config(workers=3), str(tmp_path / "l.sqlite"))
    t0 = time.perf_counter()
    camp.run(9)
    wall = time.perf_counter() - t0
    obs = camp.observations()
    assert len(obs) == 9 and len({o.proposal_id for o in obs}) == 9
    rows = _intervals(log)
    assert len(rows) == 9
    assert _max_overlap(rows) == 3  # three at once, never more
    assert wall < 9 * 0.6  # faster than one at a time, even with process start-up
    assert camp.pending_proposals() == []


def test_bo_proposes_with_running_experiments_pending(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIENTIA_TEST_SLEEP", "0.2")
    camp = Campaign.create(_config(workers=2, proposer="bo"), str(tmp_path / "l.sqlite"))
    camp.run(10)
    fits = camp.ledger.events(camp.id, kinds=["model_fitted"])
    assert fits, "BO never fitted a model"
    # each BO proposal was made while another experiment was still running: one per round
    rounds = [e.payload for e in camp.ledger.events(camp.id, kinds=["proposal"])]
    assert all(r["id"].endswith(".0") for r in rounds)
    xs = [o.candidate.params["x"] for o in camp.observations()]
    assert len(set(xs)) == len(xs)


def test_killed_async_run_resumes_in_flight_first(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIENTIA_TEST_SLEEP", "0.1")
    camp = Campaign.create(_config(workers=2), str(tmp_path / "l.sqlite"))
    left = camp.suggest(2)  # as if a run died with these two in flight
    camp.run(5)
    answered = {o.proposal_id for o in camp.observations()}
    assert {p.id for p in left} <= answered and len(camp.observations()) == 5


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_ray_backend_on_a_local_cluster(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("SCIENTIA_TEST_LOG", str(log))
    monkeypatch.setenv("SCIENTIA_TEST_SLEEP", "0.5")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    camp = Campaign.create(_config(workers=2, backend="ray"), str(tmp_path / "l.sqlite"))
    camp.run(6)
    assert not ray.is_initialized()  # the cluster the run started is stopped again
    obs = camp.observations()
    assert len(obs) == 6 and len({o.proposal_id for o in obs}) == 6
    rows = _intervals(log)
    assert _max_overlap(rows) == 2 and len({r["pid"] for r in rows}) >= 2
