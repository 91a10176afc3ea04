"""Same seed, same campaign: in two fresh ledgers, and across a stop and a reopen."""

from __future__ import annotations

import textwrap

import pytest

from scientia.campaign import Campaign
from scientia.ledger import Ledger

BUDGET = 12


@pytest.fixture
def config(tmp_path):
    fn = tmp_path / "objective.py"
    fn.write_text(
        textwrap.dedent(
            """
            import math

            def reaction(p):
                # a smooth made-up yield over temperature, time and solvent
                bonus = {"THF": 0.0, "DMF": 4.0, "MeCN": 2.0}[p["solvent"]]
                return 80 * math.exp(-((p["temperature"] - 62) / 25) ** 2 - ((p["hours"] - 7) / 6) ** 2) + bonus
            """
        )
    )
    return {
        "name": "resume",
        "seed": 11,
        "batch_size": 3,
        "space": {
            "kind": "parameters",
            "parameters": [
                {"name": "temperature", "kind": "real", "low": 20, "high": 100},
                {"name": "hours", "kind": "real", "low": 1, "high": 24},
                {"name": "solvent", "kind": "categorical", "choices": ["THF", "DMF", "MeCN"]},
            ],
            "constraints": [
                {"kind": "excluded", "values": {"solvent": ["THF"], "temperature": {"low": 66, "high": 100}}}
            ],
        },
        "objectives": [{"name": "yield"}],
        "proposer": {
            "kind": "bo",
            "n_initial": 4,
            "options": {"num_restarts": 2, "raw_samples": 64, "mc_samples": 32, "n_candidates": 512},
        },
        "evaluator": {"kind": "function", "function": f"{fn}:reaction"},
    }


def _record(ledger_path: str) -> tuple[list, list]:
    ledger = Ledger(ledger_path, create=False)
    cid = ledger.campaign_id("resume")
    proposals = [
        (e.payload["id"], e.payload["candidate"]["id"], e.payload["strategy"])
        for e in ledger.events(cid, kinds=["proposal"])
    ]
    observations = [
        (e.payload["proposal_id"], e.payload["candidate"]["id"], e.payload["outcomes"])
        for e in ledger.events(cid, kinds=["observation"])
    ]
    ledger.close()
    return proposals, observations


def test_same_seed_gives_same_campaign_in_fresh_ledgers(config, tmp_path):
    # two campaigns with one config and seed, each in its own new ledger, propose the same
    a, b = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    Campaign.create(config, a).run(BUDGET)
    Campaign.create(config, b).run(BUDGET)
    prop_a, obs_a = _record(a)
    prop_b, obs_b = _record(b)
    assert any(s.startswith("bo:") for _, _, s in prop_a)  # the model was used, not only the design
    assert prop_a == prop_b
    assert obs_a == obs_b


def test_reopened_campaign_continues_as_if_never_stopped(config, tmp_path):
    # stopping after 6 experiments (two whole batches) and reopening from the ledger gives the uninterrupted campaign
    whole, split = str(tmp_path / "whole.sqlite"), str(tmp_path / "split.sqlite")
    Campaign.create(config, whole).run(BUDGET)
    first = Campaign.create(config, split)
    first.run(6)
    first.ledger.close()
    Campaign.open(split, "resume").run(BUDGET)
    assert _record(split) == _record(whole)
