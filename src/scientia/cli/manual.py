"""``scientia suggest`` and ``scientia observe``: a person runs the experiments.

``suggest --out`` writes the proposals as a CSV template (``proposal_id``, the parameters, one
empty column per objective); the person fills it in and imports it with ``observe``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from scientia.cli._common import (
    CampaignArgument,
    LedgerOption,
    console,
    fail,
    fmt,
    handle_errors,
    open_campaign,
    plural,
    resolve_ledger,
    say,
)

if TYPE_CHECKING:
    from scientia.campaign import Campaign
    from scientia.proposers.base import Proposal


def _proposal_table(campaign: Campaign, proposals: list[Proposal]) -> Table:
    table = Table(title=f"{len(proposals)} proposals for {campaign.name}")
    table.add_column("proposal", no_wrap=True)
    for name in campaign.space.names:
        table.add_column(name, overflow="fold", min_width=min(len(name), 12))
    for o in campaign.objectives:
        table.add_column(f"predicted {o.name}", justify="right")
    table.add_column("acquisition", justify="right")
    table.add_column("strategy", overflow="fold")
    for p in proposals:
        predicted = [
            f"{fmt(p.mean[o.name])} ± {fmt(p.std[o.name] if p.std else None, 2)}"
            if p.mean and o.name in p.mean
            else "—"
            for o in campaign.objectives
        ]
        table.add_row(
            p.id,
            *(fmt(p.candidate.params[n]) for n in campaign.space.names),
            *predicted,
            fmt(p.acquisition),
            p.strategy,
        )
    return table


@handle_errors
def suggest(
    campaign: CampaignArgument,
    number: Annotated[
        int | None,
        typer.Option(
            "-n", "--number", min=1, help="How many experiments to propose [default: the batch size]."
        ),
    ] = None,
    ledger: LedgerOption = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE.csv",
            help="Also write the proposals as a CSV template to fill in and import with `observe`.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --out file if it exists.")] = False,
) -> None:
    """Propose the next experiments and record them as pending in the ledger."""
    from scientia.campaign.results import proposals_csv

    if out is not None:  # check before anything is recorded
        target = Path(out)
        if target.exists() and not force:
            fail(f"{out} exists; choose another --out file or add --force to overwrite it")
        if not target.resolve().parent.is_dir():
            fail(f"cannot write {out!r}: its folder does not exist")
    with open_campaign(ledger, campaign) as camp:
        proposals = camp.suggest(number)
        if not proposals:
            say(console(), f"nothing to propose: every candidate of {camp.name} is observed or pending")
            return
        if out is not None:
            Path(out).write_text(proposals_csv(camp, proposals), encoding="utf-8")
        con = console()
        con.print(_proposal_table(camp, proposals))
        if out is not None:
            objectives = ", ".join(o.name for o in camp.objectives)
            hint = f" --ledger {ledger}" if ledger else ""
            say(con, f"wrote {out}: fill in {objectives}, then run: scientia observe {camp.name} {out}{hint}")


@handle_errors
def observe(
    campaign: CampaignArgument,
    results: Annotated[
        str,
        typer.Argument(
            metavar="RESULTS.csv",
            help="CSV with every parameter and objective, optionally proposal_id and status (ok|failed).",
        ),
    ],
    ledger: LedgerOption = None,
) -> None:
    """Import measured results; the whole file is checked before anything is recorded."""
    from scientia.campaign.results import already_imported, file_digest, read_results

    data = Path(results).read_bytes()
    source = file_digest(data)
    name = Path(results).name
    with open_campaign(ledger, campaign) as camp:
        con = console()
        if already_imported(camp, source):
            say(con, f"{name} was already imported into {camp.name}; nothing recorded")
            return
        observations = read_results(camp, data, name)
        written = camp.observe(observations, actor="cli", source=source)
        failed = sum(o.status != "ok" for o in observations)
        linked = sum(
            o.proposal_id is not None for o in camp.observations() if o.metadata.get("source") == source
        )
        detail = f" ({linked} linked to proposals" + (f", {failed} failed" if failed else "") + ")"
        say(con, f"recorded {plural(written, 'observation')} for {camp.name} from {name}{detail}")
        pending = len(camp.pending_proposals())
        if pending:
            say(con, f"{plural(pending, 'proposal')} still pending in {resolve_ledger(ledger)}", style="dim")
