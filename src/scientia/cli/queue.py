"""``scientia queue``: review proposals from the terminal (the web app's review queue).

Without a decision option it lists the open proposals. ``--approve``, ``--reject`` (with
``--reason``) and ``--edit`` (with ``--set``) record decisions in the ledger; every id is
checked before the first decision is written. ``--propose N`` adds N proposals to the queue.
"""

from __future__ import annotations

import getpass
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
    say,
)

if TYPE_CHECKING:
    from scientia.campaign import Campaign
    from scientia.campaign.history import QueueItem

_STYLE = {"awaiting": "yellow", "approved": "green", "rejected": "red", "observed": "dim"}


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (e.g. a container): fall back
        return "cli"


def _table(camp: Campaign, items: list[QueueItem]) -> Table:
    table = Table(title=f"review queue of {camp.name} ({camp.config.review} review)")
    table.add_column("proposal", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=8)
    for name in camp.space.names:
        table.add_column(name, overflow="fold", min_width=min(len(name), 12))
    for o in camp.objectives:
        table.add_column(f"predicted {o.name}", justify="right")
    table.add_column("acquisition", justify="right")
    for it in items:
        p = it.proposal
        predicted = [
            f"{fmt(p.mean[o.name])} ± {fmt(p.std[o.name] if p.std else None, 2)}"
            if p.mean and o.name in p.mean
            else "—"
            for o in camp.objectives
        ]
        table.add_row(
            p.id,
            f"[{_STYLE[it.status]}]{it.status}[/]",
            *(fmt(p.candidate.params[n]) for n in camp.space.names),
            *predicted,
            fmt(p.acquisition),
        )
    return table


def _decisions(items: list[QueueItem]) -> list[str]:
    """One line per decided proposal: who decided what, when and why."""
    out = []
    for it in items:
        d = it.decision
        if d:
            why = f": {d['reason']}" if d.get("reason") else ""
            out.append(f"{it.proposal.id} {d['decision']} by {d['actor']} at {d['at']}{why}")
    return out


def _parse_sets(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            fail(f"--set expects NAME=VALUE; got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


@handle_errors
def queue(
    campaign: CampaignArgument,
    approve: Annotated[
        list[str] | None,
        typer.Option(
            "--approve", metavar="ID", help="Approve a proposal (repeatable; `all` = every awaiting one)."
        ),
    ] = None,
    reject: Annotated[
        list[str] | None,
        typer.Option("--reject", metavar="ID", help="Reject a proposal (repeatable); needs --reason."),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the proposals are rejected (kept in the ledger).")
    ] = None,
    edit: Annotated[
        str | None,
        typer.Option("--edit", metavar="ID", help="Change a proposal's values (with --set) and approve it."),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", metavar="NAME=VALUE", help="New parameter value for --edit (repeatable)."
        ),
    ] = None,
    propose: Annotated[
        int | None, typer.Option("--propose", min=1, metavar="N", help="Add N new proposals to the queue.")
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every proposal (observed and rejected ones too).")
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who decides [default: your login name].")] = None,
    ledger: LedgerOption = None,
) -> None:
    """List the proposals waiting for review, or decide them."""
    actor = by or _who()
    if reject and not (reason or "").strip():
        fail("--reject needs --reason: say why, it is kept in the ledger")
    if set_ and not edit:
        fail("--set changes a proposal given with --edit ID")
    if edit and not set_:
        fail("--edit needs at least one --set NAME=VALUE")
    changes = _parse_sets(set_ or [])
    with open_campaign(ledger, campaign) as camp:
        con = console()
        open_ids = {it.proposal.id: it for it in camp.queue()}
        approve_ids = list(approve or [])
        if "all" in approve_ids:
            approve_ids = [i for i, it in open_ids.items() if it.status == "awaiting"]
        decisions = [(i, "approve") for i in approve_ids] + [(i, "reject") for i in reject or []]
        if edit:
            decisions.append((edit, "edit"))
        seen: set[str] = set()
        for pid, _ in decisions:  # check every id before recording anything
            if pid in seen:
                fail(f"proposal {pid!r} is named twice")
            seen.add(pid)
            if pid not in open_ids:
                camp.review(pid, "approve")  # raises the precise error (unknown id, did you mean)
            if open_ids[pid].status not in ("awaiting", "approved") or open_ids[pid].decision:
                fail(f"proposal {pid!r} is already {open_ids[pid].status}; nothing was recorded")
        if edit:  # validate the edit before any decision is written
            proposal = open_ids[edit].proposal
            camp.space.candidate({**proposal.candidate.params, **changes})
        for pid, decision in decisions:
            camp.review(
                pid, decision, reason=reason, changes=changes if decision == "edit" else None, actor=actor
            )
        if decisions:
            counts = {d: sum(1 for _, x in decisions if x == d) for d in ("approve", "reject", "edit")}
            done = ", ".join(
                f"{plural(n, w)}"
                for w, n in zip(("approval", "rejection", "edit"), counts.values(), strict=True)
                if n
            )
            say(con, f"recorded {done} for {camp.name}")
        if propose:
            new = camp.suggest(propose, actor=actor)
            say(
                con,
                f"added {plural(len(new), 'proposal')} to the queue" if new else "nothing left to propose",
            )
        items = (
            camp.queue() if show_all else [it for it in camp.queue() if it.status in ("awaiting", "approved")]
        )
        if not items:
            say(con, f"the queue of {camp.name} is empty; add proposals with --propose N")
            return
        con.print(_table(camp, items))
        for line in _decisions(items):
            con.print(line, markup=False, highlight=False)
