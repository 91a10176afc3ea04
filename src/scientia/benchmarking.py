"""Helpers for benchmark scripts: run a real campaign (ledger and all) against a lookup table."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scientia.types import Candidate, Observation

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["run_pool_campaign"]


def run_pool_campaign(
    df: pd.DataFrame,
    parameter_columns: Sequence[str],
    objective: str,
    start_rows: Sequence[int],
    seed: int,
    budget: int,
    batch_size: int = 5,
    encoding: str = "descriptors",
    *,
    descriptors: str = "rdkit",
    surrogate: str = "gp",
    surrogate_options: dict[str, Any] | None = None,
    proposer_options: dict[str, Any] | None = None,
    direction: str = "max",
    max_components: int = 8,
    stop: Callable[[list[int]], bool] | None = None,
    workdir: str | None = None,
) -> tuple[list[int], list[float], list]:
    """Run a campaign over the rows of ``df`` with the emulator as evaluator.

    The ``start_rows`` are observed first (as historical data); then the campaign runs until
    ``budget`` experiments in total.

    Returns
    -------
    rows : list of int
        Row indices of ``df`` in the order they were measured (start rows first).
    seconds : list of float
        Wall time of each proposal round.
    calibration : list of scientia.campaign.calibration.Calibration
        How the campaign's predictions for its proposals fared, per objective.

    ``stop(rows)``, if given, is called after every batch and ends the run early when true
    (for tuning runs that only need the first hit).
    """
    from scientia.campaign import Campaign

    proposer_options = dict(proposer_options or {})
    acquisition = proposer_options.pop("acquisition", "qlognei")
    cols = list(parameter_columns)
    key = {Candidate({c: r[c] for c in cols}).id: i for i, r in enumerate(df[cols].to_dict("records"))}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        table = Path(tmp) / "table.csv"
        df[[*cols, objective]].to_csv(table, index=False)
        cfg = {
            "name": "benchmark",
            "seed": seed,
            "batch_size": batch_size,
            "space": {
                "kind": "pool",
                "table": str(table),
                "columns": cols,
                "descriptors": descriptors if encoding != "onehot" else None,
                "encoding": encoding,
                "max_components": max_components,
            },
            "objectives": [{"name": objective, "direction": direction}],
            "surrogate": {"kind": surrogate, "options": surrogate_options or {}},
            "proposer": {
                "kind": "bo",
                "n_initial": len(start_rows),
                "acquisition": acquisition,
                "options": proposer_options,
            },
            "evaluator": {"kind": "emulator", "table": str(table)},
        }
        camp = Campaign.create(cfg, str(Path(tmp) / "ledger.sqlite"))
        start = [
            Observation(
                Candidate({c: df.iloc[i][c] for c in cols}), {objective: float(df.iloc[i][objective])}
            )
            for i in start_rows
        ]
        camp.observe(start, actor="benchmark", source="start")
        if stop is None:
            camp.run(budget)
        else:
            while len(camp.observations()) < budget:
                if not camp.step(budget):
                    break
                if stop([key[o.candidate_id] for o in camp.observations()]):
                    break
        rows = [key[o.candidate_id] for o in camp.observations()]
        seconds = [
            e.payload["seconds"]
            for e in camp.ledger.events(camp.id, kinds=["proposal"])
            if e.payload["id"].endswith(".0")
        ]
        calibration = camp.calibration()
        camp.ledger.close()
    return rows, seconds, calibration
