"""A campaign killed with SIGKILL at arbitrary moments and restarted loses and repeats nothing.

A real subprocess runs ``Campaign.run(budget=30)`` on a SQLite ledger; the test kills it
(SIGKILL: no cleanup, no atexit, no rollback by Python) right after the first observation, right
after a proposal batch was written, and at random delays after an observation, restarting it
each time, then lets it finish. The evaluator is the emulator taking 20 ms per experiment, like
an instrument, so that a kill can land between a proposal batch and its observations. The
emulator answers each row at most once per process and is told about earlier observations on
restart, so a repeated candidate would crash the run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from scientia import datasets
from scientia.campaign import Campaign
from scientia.ledger import Ledger

BUDGET = 30
NAME = "sigkill"
SMILES = ["Electrophile_SMILES", "Nucleophile_SMILES", "Ligand_SMILES", "Base_SMILES", "Solvent_SMILES"]
RUNNER = """
import sys
import time

from scientia.campaign import Campaign
from scientia.campaign.build import build_evaluator


class Instrument:
    \"\"\"The campaign's emulator, taking 20 ms per experiment (so kills can land mid-batch).\"\"\"

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):  # mark_used and the rest go to the emulator
        return getattr(self.inner, name)

    def evaluate(self, candidates):
        time.sleep(0.02 * len(candidates))
        return self.inner.evaluate(candidates)


path, name, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
camp = Campaign.open(path, name)
Campaign(camp.ledger, camp.id, Instrument(build_evaluator(camp.config, camp.space))).run(budget)
"""


@pytest.fixture
def campaign_files(tmp_path):
    table = tmp_path / "suzuki_200.csv"
    datasets.load("suzuki_miyaura").sample(200, random_state=7)[[*SMILES, "yield"]].to_csv(table, index=False)
    config = {
        "name": NAME,
        "seed": 3,
        "batch_size": 3,
        "space": {"kind": "pool", "table": str(table), "columns": SMILES, "encoding": "onehot"},
        "objectives": [{"name": "yield"}],
        "surrogate": {"kind": "forest", "options": {"n_estimators": 60}},
        "proposer": {"kind": "bo", "n_initial": 5},
        "evaluator": {"kind": "emulator", "table": str(table)},
    }
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    return config, runner


class _Watcher:
    """Reads the ledger from outside the running process."""

    def __init__(self, path: str) -> None:
        self.ledger = Ledger(path, create=False)
        self.cid = self.ledger.campaign_id(NAME)

    def count(self, kind: str) -> int:
        return len(self.ledger.events(self.cid, kinds=[kind]))

    def observations(self) -> dict[int, dict]:
        return {e.seq: e.payload for e in self.ledger.events(self.cid, kinds=["observation"])}


def _start(runner, ledger_path, log):
    return subprocess.Popen(
        [sys.executable, str(runner), ledger_path, NAME, str(BUDGET)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def _wait_until(proc, condition, timeout=60.0):
    """Poll until ``condition()``; return False if the process exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.005)
    raise AssertionError("the campaign process made no progress within the timeout")


def test_sigkill_at_random_moments_loses_and_repeats_nothing(campaign_files, tmp_path):
    # killing and restarting the loop keeps every record and never repeats an experiment
    config, runner = campaign_files
    ledger_path = str(tmp_path / "ledger.sqlite")
    Campaign.create(config, ledger_path).ledger.close()
    watch = _Watcher(ledger_path)
    seed = random.randrange(2**32)
    rnd = random.Random(seed)
    where = f"(kill-timing seed {seed}; log {tmp_path / 'run.log'})"

    # each plan waits for one thing, then kills: the first observation; a fresh proposal batch;
    # the next observations after a random delay (within an evaluation or a model fit)
    plans = ["first-observation", "proposal-batch", "random", "proposal-batch"]
    snapshots, pending_at_kill, kills = [], [], 0
    with open(tmp_path / "run.log", "ab") as log:
        for plan in plans:
            obs0, prop0 = watch.count("observation"), watch.count("proposal")
            if obs0 >= BUDGET:
                break
            proc = _start(runner, ledger_path, log)
            if plan == "proposal-batch":
                alive = _wait_until(proc, lambda p0=prop0: watch.count("proposal") > p0)
            else:
                alive = _wait_until(proc, lambda o0=obs0: watch.count("observation") > o0)
                if plan == "random":
                    time.sleep(rnd.uniform(0.0, 0.4))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            assert alive or proc.returncode == 0, f"the runner failed {where}"
            assert proc.returncode in (0, -signal.SIGKILL), f"runner exit {proc.returncode} {where}"
            snapshots.append(watch.observations())
            pending_at_kill.append(watch.count("proposal") - len(snapshots[-1]))

        proc = _start(runner, ledger_path, log)
        assert proc.wait(timeout=120) == 0, f"the final run failed {where}"

    assert kills >= 3, f"only {kills} kills landed before the budget was spent {where}"
    assert max(pending_at_kill) > 0, f"no kill left a proposal batch unanswered {pending_at_kill} {where}"
    final = watch.observations()
    payloads = list(final.values())
    assert len(payloads) == BUDGET, where
    proposal_ids = [p["proposal_id"] for p in payloads]
    assert None not in proposal_ids, where
    assert len(set(proposal_ids)) == BUDGET, f"two observations answer one proposal {where}"
    candidates = [p["candidate"]["id"] for p in payloads]
    assert len(set(candidates)) == BUDGET, f"a candidate was measured twice {where}"
    for snap in snapshots:  # what was recorded before each kill is still there, unchanged
        assert all(final.get(seq) == payload for seq, payload in snap.items()), where

    proposals = [e.payload for e in watch.ledger.events(watch.cid, kinds=["proposal"])]
    ids = [p["id"] for p in proposals]
    assert len(set(ids)) == len(ids), f"a proposal id was used twice {where}"
    by_id = {p["id"]: p["candidate"]["id"] for p in proposals}
    assert all(by_id[p["proposal_id"]] == p["candidate"]["id"] for p in payloads), where

    # and the killed campaign is the one an uninterrupted run makes
    clean = Campaign.create(config, str(tmp_path / "clean.sqlite")).run(BUDGET)
    assert candidates == [o.candidate_id for o in clean.observations], where
    watch.ledger.close()
