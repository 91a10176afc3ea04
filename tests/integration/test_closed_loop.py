"""Closed loop on real data: BO over the bundled Suzuki–Miyaura HTE screen, graded against random.

The emulator answers from the measured table (Perera et al., Science 2018), so the campaign
sees real yields. The random baseline is computed directly from the table: many draws of 30
rows, no model involved.
"""

from __future__ import annotations

import numpy as np
import pytest

from scientia import datasets
from scientia.campaign import Campaign

BUDGET = 30
SMILES = ["Electrophile_SMILES", "Nucleophile_SMILES", "Ligand_SMILES", "Base_SMILES", "Solvent_SMILES"]


@pytest.fixture(scope="module")
def suzuki_run(tmp_path_factory):
    pytest.importorskip("rdkit")
    config = {
        "name": "suzuki-bo",
        "seed": 0,
        "batch_size": 5,
        "space": {"kind": "pool", "dataset": "suzuki_miyaura", "columns": SMILES, "descriptors": "rdkit"},
        "objectives": [{"name": "yield", "direction": "max"}],
        "surrogate": {"kind": "gp"},
        "proposer": {"kind": "bo", "n_initial": 5},
        "evaluator": {"kind": "emulator", "dataset": "suzuki_miyaura"},
    }
    ledger = str(tmp_path_factory.mktemp("suzuki") / "ledger.sqlite")
    state = Campaign.create(config, ledger).run(BUDGET)
    yields = np.array([o.outcomes["yield"] for o in state.observations if o.status == "ok"])
    return state, yields


@pytest.fixture(scope="module")
def random_draws():
    table = datasets.load("suzuki_miyaura")["yield"].to_numpy()
    gen = np.random.default_rng(2024)
    # 200 random campaigns of BUDGET distinct rows each
    return np.stack([table[gen.choice(len(table), BUDGET, replace=False)] for _ in range(200)])


def test_campaign_uses_its_whole_budget_on_distinct_rows(suzuki_run):
    # the loop ran exactly BUDGET experiments, each on a different row, none failed
    state, yields = suzuki_run
    assert len(state.observations) == BUDGET
    assert len({o.candidate_id for o in state.observations}) == BUDGET
    assert len(yields) == BUDGET


def test_bo_best_yield_beats_random_median_best(suzuki_run, random_draws):
    # after 30 experiments BO's best yield beats the median best of random campaigns of 30
    _, yields = suzuki_run
    random_best = float(np.median(random_draws.max(1)))
    assert yields.max() > random_best, f"BO best {yields.max():.1f} vs random median best {random_best:.1f}"


def test_bo_top_five_beat_random_median_top_five(suzuki_run, random_draws):
    # BO's five best experiments average higher than random campaigns' five best (median)
    _, yields = suzuki_run
    random_top5 = float(np.median(np.sort(random_draws, 1)[:, -5:].mean(1)))
    assert np.sort(yields)[-5:].mean() > random_top5


def test_bo_finds_more_high_yield_conditions_than_random(suzuki_run, random_draws):
    # BO runs more experiments above 80 % yield than random sampling typically does
    _, yields = suzuki_run
    random_hits = float(np.median((random_draws > 80).sum(1)))
    assert (yields > 80).sum() > random_hits
