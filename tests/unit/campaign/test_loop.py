"""The campaign loop: suggest, observe, review, run; everything rebuilt from the ledger."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from scientia.campaign import Campaign
from scientia.errors import EvaluationError, LedgerError, UnknownNameError, ValidationError
from scientia.evaluators import FunctionEvaluator
from scientia.types import Candidate, Observation


def quadratic(p):
    return -((p["x"] - 0.3) ** 2) - (p["y"] - 0.6) ** 2


def config(**changes):
    cfg = {
        "name": "loop",
        "seed": 1,
        "batch_size": 3,
        "space": {
            "parameters": [
                {"name": "x", "kind": "real", "low": 0, "high": 1},
                {"name": "y", "kind": "real", "low": 0, "high": 1},
            ]
        },
        "objectives": [{"name": "f"}],
        "proposer": {"kind": "space-filling"},
    }
    cfg.update(changes)
    return cfg


@pytest.fixture
def campaign(tmp_ledger):
    return Campaign.create(config(), tmp_ledger, evaluator=FunctionEvaluator(quadratic, ["f"]))


def test_create_records_config_and_versions(campaign):
    # the campaign_created event holds the resolved config and package versions
    (event,) = campaign.ledger.events(campaign.id, kinds=["campaign_created"])
    assert event.payload["config"]["name"] == "loop" and event.payload["config"]["batch_size"] == 3
    assert "numpy" in event.payload["versions"] and "python" in event.payload["versions"]


def test_create_with_a_bad_config_writes_no_ledger(tmp_path):
    # a config that does not build fails before a ledger file is created
    path = tmp_path / "ledger.sqlite"
    bad = config(space={"kind": "pool", "table": str(tmp_path / "missing.csv")})
    with pytest.raises(Exception, match="no table file"):
        Campaign.create(bad, str(path))
    assert not os.path.exists(path)


def test_suggest_records_numbered_pending_proposals(campaign):
    # suggest(n) records n proposals with ids r<round>.<i>, pending until observed
    first = campaign.suggest(2)
    second = campaign.suggest(3)
    assert [p.id for p in first] == ["r0000.0", "r0000.1"]
    assert [p.id for p in second] == ["r0001.0", "r0001.1", "r0001.2"]
    assert [p.id for p in campaign.pending_proposals()] == [p.id for p in first + second]
    assert len({p.candidate.id for p in first + second}) == 5


def test_observe_links_a_result_to_its_pending_proposal(campaign):
    # an observation of a pending candidate answers that proposal and clears it
    (p,) = campaign.suggest(1)
    assert campaign.observe([Observation(p.candidate, {"f": 1.0})]) == 1
    (o,) = campaign.observations()
    assert o.proposal_id == p.id and campaign.pending_proposals() == []


def test_observe_same_source_twice_writes_once(campaign):
    # re-importing one results file (same source) is a no-op
    rows = [Observation(Candidate({"x": 0.1, "y": 0.2}), {"f": 1.0})]
    assert campaign.observe(rows, source="file-hash") == 1
    assert campaign.observe(rows, source="file-hash") == 0
    assert len(campaign.observations()) == 1


def test_observe_is_atomic(campaign):
    # a batch with one invalid row (outside the space) writes none of its rows
    rows = [
        Observation(Candidate({"x": 0.1, "y": 0.2}), {"f": 1.0}),
        Observation(Candidate({"x": 7, "y": 0.2}), {"f": 1.0}),
    ]
    with pytest.raises(ValidationError, match="'x'"):
        campaign.observe(rows)
    assert campaign.observations() == []


def test_observe_requires_every_objective_of_an_ok_row(campaign):
    # an ok observation without the objective is refused, naming it
    with pytest.raises(ValidationError, match="'f'"):
        campaign.observe([Observation(Candidate({"x": 0.1, "y": 0.2}), {"g": 1.0})])


def test_rejected_proposal_is_excluded_not_pending(campaign):
    # a review rejecting a proposal removes it from pending and excludes its candidate
    p, q = campaign.suggest(2)
    campaign.ledger.append(campaign.id, "review", {"proposal_id": p.id, "decision": "reject"})
    state = campaign.state()
    assert [x.id for x in campaign.pending_proposals()] == [q.id]
    assert p.candidate.id in state.excluded and p.candidate.id in state.taken_ids()


def test_run_stops_at_the_budget(campaign):
    # run(budget) leaves exactly budget observations, also when budget is not a batch multiple
    state = campaign.run(7)
    assert len(state.observations) == 7 and campaign.pending_proposals() == []
    assert len({o.candidate_id for o in state.observations}) == 7


def test_run_budget_counts_earlier_observations(campaign):
    # a second run(budget) only tops the campaign up to budget
    campaign.run(4)
    assert len(campaign.run(6).observations) == 6


def test_run_reports_progress_after_each_observation(campaign):
    # the callback sees done = 1 … budget with the running best
    seen = []
    campaign.run(5, callback=seen.append)
    assert [p.done for p in seen] == [1, 2, 3, 4, 5] and all(p.budget == 5 for p in seen)
    assert seen[-1].best == max(o.outcomes["f"] for o in campaign.observations())


def test_step_evaluates_pending_proposals_before_new_ones(campaign):
    # proposals left pending (e.g. by an interrupted run) are measured first
    pending = campaign.suggest(2)
    done = campaign.step()
    assert [o.proposal_id for o in done] == [p.id for p in pending]


def test_a_failing_experiment_is_recorded_not_raised(tmp_ledger):
    # an evaluator error on one candidate becomes a failed observation and the run goes on
    def flaky(p):
        if p["x"] > 0.5:
            raise RuntimeError("the instrument jammed")
        return p["x"]

    camp = Campaign.create(config(), tmp_ledger, evaluator=FunctionEvaluator(flaky, ["f"]))
    state = camp.run(6)
    failed = [o for o in state.observations if o.status == "failed"]
    assert len(state.observations) == 6 and failed
    assert all("jammed" in o.metadata["error"] for o in failed)


def test_evaluation_error_is_logged_and_raised(tmp_ledger):
    # an evaluator that cannot run at all raises, after recording an error event
    class Broken:
        def evaluate(self, candidates):
            raise EvaluationError("lab offline")

    camp = Campaign.create(config(), tmp_ledger, evaluator=Broken())
    with pytest.raises(EvaluationError, match="offline"):
        camp.run(3)
    (err,) = camp.ledger.events(camp.id, kinds=["error"])
    assert err.payload["message"] == "lab offline" and err.payload["proposal_id"] == "r0000.0"


def test_run_refuses_campaigns_waiting_for_a_person(tmp_ledger):
    # a campaign with review = "human" cannot run unattended
    camp = Campaign.create(config(review="human"), tmp_ledger, evaluator=FunctionEvaluator(quadratic, ["f"]))
    with pytest.raises(ValidationError, match="human"):
        camp.run(3)


def test_run_on_an_exhausted_pool_stops(tmp_path, tmp_ledger):
    # with a budget larger than the pool the run measures every row once and stops
    table = tmp_path / "t.csv"
    pd.DataFrame({"c": list("abcde"), "f": [1.0, 2.0, 3.0, 4.0, 5.0]}).to_csv(table, index=False)
    cfg = config(
        space={"kind": "pool", "table": str(table), "columns": ["c"]},
        evaluator={"kind": "emulator", "table": str(table)},
        proposer={"kind": "random"},
    )
    state = Campaign.create(cfg, tmp_ledger).run(50)
    assert sorted(o.candidate["c"] for o in state.observations) == list("abcde")


def test_reopened_emulator_campaign_does_not_remeasure_rows(tmp_path):
    # reopening marks measured rows as used, so the emulator is never asked for a row twice
    table = tmp_path / "t.csv"
    pd.DataFrame({"c": list("abcdefgh"), "f": range(8)}).to_csv(table, index=False)
    cfg = config(
        space={"kind": "pool", "table": str(table), "columns": ["c"]},
        evaluator={"kind": "emulator", "table": str(table)},
        proposer={"kind": "random"},
    )
    path = str(tmp_path / "ledger.sqlite")
    Campaign.create(cfg, path).run(3)
    state = Campaign.open(path, "loop").run(8)
    assert len({o.candidate_id for o in state.observations}) == 8


def test_open_unknown_campaign_suggests_the_name(campaign):
    # opening a misspelt campaign name gives a did-you-mean
    with pytest.raises(UnknownNameError, match="did you mean 'loop'"):
        Campaign.open(campaign.ledger, "lopo")


def test_open_missing_ledger_file_is_a_ledger_error(tmp_path):
    # opening a campaign in a ledger that does not exist says so
    with pytest.raises(LedgerError):
        Campaign.open(str(tmp_path / "nope.sqlite"), "loop")


def test_changed_pool_table_is_refused_on_open(tmp_path):
    # if the pool's table file changed since creation, reopening refuses to go on
    table = tmp_path / "t.csv"
    pd.DataFrame({"c": list("abc"), "f": [1.0, 2.0, 3.0]}).to_csv(table, index=False)
    cfg = config(space={"kind": "pool", "table": str(table), "columns": ["c"]})
    path = str(tmp_path / "ledger.sqlite")
    Campaign.create(cfg, path)
    pd.DataFrame({"c": list("abd"), "f": [1.0, 2.0, 3.0]}).to_csv(table, index=False)
    with pytest.raises(LedgerError, match="changed"):
        Campaign.open(path, "loop")


def test_to_frame_has_parameters_outcomes_and_predictions(campaign):
    # the observation table has one row per observation with parameters, objective and strategy
    campaign.run(4)
    df = campaign.to_frame()
    assert len(df) == 4
    assert {"seq", "x", "y", "f", "status", "proposal_id", "strategy", "predicted_f"} <= set(df.columns)
    assert list(df["strategy"]) == ["space-filling"] * 4
