"""``scientia init`` and ``scientia run``: campaigns created (or resumed) from a TOML config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from scientia.cli._common import (
    ConfigLedgerOption,
    SetOption,
    console,
    fail,
    fmt,
    handle_errors,
    resolve_ledger,
    say,
)

if TYPE_CHECKING:
    from rich.console import Console

    from scientia.campaign import Campaign, Progress
    from scientia.config import CampaignConfig, StopConfig

ConfigArgument = Annotated[str, typer.Argument(metavar="CONFIG.toml", help="Campaign file (TOML).")]

# config keys that may change between runs of the same campaign
_RESUMABLE_KEYS = ("budget", "ledger", "description", "stop")


# -- rendering ---------------------------------------------------------------------------------
def _domain(p: Any) -> str:
    kind = p.kind
    if kind == "real":
        return f"real in [{p.low:g}, {p.high:g}]" + (", log scale" if p.log else "")
    if kind == "integer":
        return f"integer in [{p.low}, {p.high}]"
    if kind == "ordinal":
        return "ordinal: " + ", ".join(map(str, p.values))
    text = f"categorical, {len(p.choices)} choices"
    shown = ", ".join(p.choices)
    if len(shown) <= 50:
        text += f": {shown}"
    if isinstance(p.descriptors, str):
        text += f" ({p.descriptors} descriptors)"
    return text


def _describe(out: Console, campaign: Campaign, location: str) -> None:
    cfg, space = campaign.config, campaign.space
    say(out, f"campaign  {campaign.name}", style="bold")
    if cfg.description:
        say(out, f"          {cfg.description}")
    pool = getattr(space, "pool", None)
    size = f"pool of {len(pool):,} combinations" if pool is not None else "continuous/mixed"
    say(out, f"space     {len(space.parameters)} parameters, {size}")
    for p in space.parameters:
        say(out, f"            {p.name}: {_domain(p)}")
    for c in space.constraints:
        say(out, f"            constraint: {c.describe()}")
    for o in campaign.objectives:
        say(out, f"objective {'maximise' if o.direction == 'max' else 'minimise'} {o.name}")
    pc = cfg.proposer
    extra = (
        f" ({pc.acquisition}, {cfg.surrogate.kind} surrogate, n_initial {pc.n_initial})"
        if pc.kind == "bo"
        else ""
    )
    say(out, f"proposer  {pc.kind}{extra}, batches of {cfg.batch_size}, seed {cfg.seed}")
    say(out, f"evaluator {cfg.evaluator.kind}")
    say(out, f"ledger    {location}")


def _checkpoints(n: int) -> list[int]:
    """5, 10, 20, 50, 100, 200, 500, … up to ``n``, and ``n`` itself."""
    marks, base = [], 1
    while base * 5 <= n:
        marks += [m for m in (5 * base, 10 * base, 20 * base) if m <= n]
        base *= 10
    marks = sorted(set(marks) - {n})
    return [*marks, n] if n else []


def _first_difference(old: Any, new: Any, where: str = "") -> tuple[str, Any, Any] | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            diff = _first_difference(old.get(key), new.get(key), f"{where}.{key}" if where else key)
            if diff:
                return diff
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            diff = _first_difference(a, b, f"{where}[{i}]")
            if diff:
                return diff
        return None
    return None if old == new else (where, old, new)


# -- init --------------------------------------------------------------------------------------
@handle_errors
def init(config: ConfigArgument, ledger: ConfigLedgerOption = None, set_: SetOption = None) -> None:
    """Validate CONFIG.toml and create its campaign in the ledger."""
    from scientia.campaign import Campaign
    from scientia.config import load_config

    cfg = load_config(config, set_ or ())
    location = resolve_ledger(ledger, cfg.ledger)
    campaign = Campaign.create(cfg, location)
    try:
        out = console()
        _describe(out, campaign, location)
        hint = f" --ledger {location}" if ledger or cfg.ledger else ""
        if cfg.evaluator.kind == "manual":
            say(out, f"next: scientia suggest {campaign.name}{hint} --out proposals.csv", style="dim")
        else:
            say(out, f"next: scientia run {config}{hint} --budget N", style="dim")
    finally:
        campaign.ledger.close()


# -- run ---------------------------------------------------------------------------------------
def _create_or_resume(cfg: CampaignConfig, location: str, config: str) -> tuple[Campaign, bool]:
    from scientia.campaign import Campaign
    from scientia.ledger import Ledger

    if "://" not in location and not Path(location).exists():
        return Campaign.create(cfg, location), False
    store = Ledger(location, create=False)
    if cfg.name not in {c["name"] for c in store.campaigns()}:
        return Campaign.create(cfg, store), False
    campaign = Campaign.open(store, cfg.name)
    stored = campaign.config.model_dump(mode="json", exclude=set(_RESUMABLE_KEYS))
    diff = _first_difference(stored, cfg.model_dump(mode="json", exclude=set(_RESUMABLE_KEYS)))
    if diff:
        store.close()
        key, old, new = diff
        fail(
            f"campaign {cfg.name!r} already exists in {location} with {key} = {old!r}, but {config} "
            f"now says {new!r}; restore the config to resume it, or start a new campaign with --set name=…"
        )
    return campaign, True


def _progress_printer(out: Console, campaign: Campaign) -> Any:
    obj = campaign.objectives[0].name

    def show(p: Progress) -> None:
        o = p.observation
        value = fmt(o.outcomes.get(obj)) if o.status == "ok" else o.status
        say(out, f"{p.done}/{p.budget}  {obj} {value}  best {fmt(p.best)}")

    return show


def _run_with_bar(
    out: Console, campaign: Campaign, budget: int, done: int, best: float | None, stop: StopConfig
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    obj = campaign.objectives[0].name
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"best {obj} " + "{task.fields[best]}", markup=False),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=out) as bar:
        task = bar.add_task(campaign.name, total=budget, completed=done, best=fmt(best))
        campaign.run(budget, lambda p: bar.update(task, completed=p.done, best=fmt(p.best)), stop=stop)


def _summary(out: Console, campaign: Campaign, budget: int) -> None:
    state = campaign.state()
    obj = campaign.objectives[0]
    curve = state.best_so_far()
    n = len(curve)
    if n < budget:
        say(out, f"stopped at {n} experiments: no untested candidates are left")
    table = Table(title=f"best {obj.name} vs experiments")
    table.add_column("experiments", justify="right")
    table.add_column(f"best {obj.name}", justify="right")
    for k in _checkpoints(n):
        table.add_row(str(k), fmt(curve[k - 1]))
    out.print(table)
    best = state.best()
    if best is not None:
        params = ", ".join(f"{k}={fmt(best.candidate.params[k])}" for k in campaign.space.names)
        say(out, f"best {obj.name} {fmt(best.outcomes[obj.name])} at {params}")
    failed = sum(o.status != "ok" for o in state.observations)
    if failed:
        say(out, f"{failed} of {n} experiments failed")


@handle_errors
def run(
    config: ConfigArgument,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget",
            "-b",
            min=1,
            help="Total experiments the campaign should hold (earlier runs count) [default: the config's budget].",
        ),
    ] = None,
    ledger: ConfigLedgerOption = None,
    set_: SetOption = None,
    report: Annotated[
        str | None,
        typer.Option("--report", metavar="FILE.html", help="Write a self-contained HTML report at the end."),
    ] = None,
) -> None:
    """Run the closed loop until the campaign holds BUDGET experiments.

    Creates the campaign on first use and resumes it afterwards (same name, same ledger).
    """
    from scientia.config import load_config

    cfg = load_config(config, set_ or ())
    budget = budget or cfg.budget
    if budget is None:
        fail(f"{config} has no budget; give --budget N or set budget = N in the config")
    if cfg.evaluator.kind == "manual":
        fail(
            f"campaign {cfg.name!r} has a manual evaluator: a person runs its experiments, so "
            "use `scientia suggest` and `scientia observe` instead of run"
        )
    if cfg.review == "human":
        fail(
            f"campaign {cfg.name!r} waits for a person to review proposals (review = 'human'); run cannot decide them"
        )
    if report is not None and not Path(report).resolve().parent.is_dir():
        fail(f"cannot write the report to {report!r}: its folder does not exist")
    location = resolve_ledger(ledger, cfg.ledger)
    campaign, resumed = _create_or_resume(cfg, location, config)
    try:
        out = console()
        state = campaign.state()
        done = len(state.observations)
        best = state.best()
        obj = campaign.objectives[0].name
        if resumed:
            say(out, f"resuming {campaign.name}: {done} observations recorded")
        else:
            say(out, f"created campaign {campaign.name} in {location}")
        if done >= budget:
            say(out, f"{campaign.name} already holds {done} observations (budget {budget}); nothing to run")
        elif out.is_terminal:
            _run_with_bar(out, campaign, budget, done, best.outcomes[obj] if best else None, cfg.stop)
        else:
            campaign.run(budget, _progress_printer(out, campaign), stop=cfg.stop)
        if campaign.stop_reason not in (None, "budget"):
            say(out, f"stopped early: {campaign.stop_reason}")
        _summary(out, campaign, budget)
        if report is not None:
            from scientia.report.html import write_report

            say(out, f"report written to {write_report(campaign, report)}")
    finally:
        campaign.ledger.close()
