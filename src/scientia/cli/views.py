"""``scientia status`` and ``scientia export``: read-only views of a campaign."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from scientia.cli._common import (
    CampaignArgument,
    LedgerOption,
    console,
    fail,
    fmt,
    handle_errors,
    open_campaign,
    resolve_ledger,
    say,
    sparkline,
)


@handle_errors
def status(campaign: CampaignArgument, ledger: LedgerOption = None) -> None:
    """Show the best result so far, observation and pending counts, and the best-so-far curve."""
    with open_campaign(ledger, campaign) as camp:
        out = console()
        state = camp.state()
        obs = state.observations
        ok = sum(o.status == "ok" for o in obs)
        pending = len(camp.pending_proposals())
        obj = camp.objectives[0]
        say(out, f"campaign     {camp.name}  ({resolve_ledger(ledger)})", style="bold")
        say(out, f"objective    {'maximise' if obj.direction == 'max' else 'minimise'} {obj.name}")
        say(out, f"observations {len(obs)} ({ok} ok, {len(obs) - ok} failed)")
        say(out, f"pending      {pending} proposals")
        for c in camp.calibration():
            say(out, f"calibration  {c.describe()}")
        best = state.best()
        if best is None:
            say(out, "best so far  — (no successful observation yet)")
            return
        if len(camp.objectives) > 1:
            _pareto_table(out, camp, state)
        outcomes = ", ".join(f"{k} {fmt(v)}" for k, v in best.outcomes.items())
        say(out, f"best so far  {outcomes}")
        for k in camp.space.names:
            say(out, f"               {k} = {fmt(best.candidate.params[k], 6)}")
        curve = state.best_so_far()
        finite = [v for v in curve if v == v]
        say(
            out,
            f"best {obj.name} after each experiment ({len(curve)}; {fmt(finite[0])} → {fmt(finite[-1])}):",
        )
        say(out, f"  {sparkline(curve)}")


def _pareto_table(out: Any, camp: Any, state: Any) -> None:
    """The Pareto front of a multi-objective campaign, best first by the first objective."""
    from rich.table import Table

    front = state.pareto()
    obj = camp.objectives[0]
    front.sort(key=lambda o: -obj.sign * o.outcomes[obj.name])
    aims = ", ".join(f"{'max' if o.direction == 'max' else 'min'} {o.name}" for o in camp.objectives)
    table = Table(title=f"Pareto front: {len(front)} of {len(state.ok)} experiments ({aims})")
    for o in camp.objectives:
        table.add_column(o.name, justify="right")
    for name in camp.space.names:
        table.add_column(name, overflow="fold")
    for o in front[:20]:
        table.add_row(
            *(fmt(o.outcomes[x.name]) for x in camp.objectives),
            *(fmt(o.candidate.params[n]) for n in camp.space.names),
        )
    out.print(table)
    if len(front) > 20:
        say(out, f"  … and {len(front) - 20} more (scientia export lists every observation)")


class Format(enum.StrEnum):
    csv = "csv"
    parquet = "parquet"


@handle_errors
def export(
    campaign: CampaignArgument,
    format: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format [default: from --out's suffix, else csv]."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option("--out", "-o", metavar="FILE", help="Output file [default: stdout, for csv only]."),
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """Export the observations (parameters, outcomes, status, proposal and prediction) as a table."""
    fmt_ = format or (Format.parquet if out and out.endswith(".parquet") else Format.csv)
    if fmt_ is Format.parquet and out is None:
        fail("parquet is a binary format; give --out FILE.parquet")
    if out is not None and not Path(out).resolve().parent.is_dir():
        fail(f"cannot write {out!r}: its folder does not exist")
    with open_campaign(ledger, campaign) as camp:
        frame = camp.to_frame()
    if fmt_ is Format.parquet:
        frame.to_parquet(out, index=False)
    elif out is None:
        frame.to_csv(sys.stdout, index=False)
        return
    else:
        frame.to_csv(out, index=False)
    say(console(), f"wrote {len(frame)} observations to {out}")
