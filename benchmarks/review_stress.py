"""Review stress test: how much a reviewer rejecting proposals at random slows a campaign down.

Tables and objective as in ``reaction_bo.py``: the bundled full-factorial reaction tables
``suzuki_miyaura`` (3,696 rows) and ``buchwald_hartwig`` (3,955 rows), ``entry`` column dropped,
parameters = the ``*_SMILES`` columns, objective ``yield`` (maximise).

Protocol
--------
* Seeds ``0..S-1`` (default ``S = 20``). For each (table, seed) the 5 start rows are those of
  ``reaction_bo.py`` (its :func:`starting_rows`, imported: ``np.random.default_rng(
  np.random.SeedSequence([seed, zlib.crc32(table_name)]))`` draws 5 distinct row indices), the
  same for every rejection rate. They are recorded as historical observations before the first
  proposal.
* The campaign is scientia's default, written out as ``run_pool_campaign`` does
  (:func:`campaign_config`): pool space over the table's rows with ``descriptors = "rdkit"`` and
  the default encoding (``"auto"``, i.e. compressed descriptors and one-hot side by side,
  ``max_components = 8``), GP surrogate, ``bo`` proposer with qLogNEI and ``n_initial = 5``,
  batch 5, seed = the benchmark seed, and ``review = "human"``: every proposal awaits a decision.
  There is no evaluator loop; :func:`run_review` drives the campaign itself.
* Each round: ``camp.suggest(min(5, budget - measured))``; then a simulated reviewer decides the
  proposals in the order proposed. Its draws come from an RNG independent of the campaign's,
  ``np.random.default_rng([seed, zlib.crc32(table_name), percent, round])`` (``percent`` = 0, 10
  or 30; ``round`` = 0, 1, ... the campaign's proposal round): one uniform per proposal, and the
  proposal is rejected when it is below the rate ``r`` (``camp.review(pid, "reject",
  reason="stress test: rejected at random", actor="simulated-reviewer")``), approved otherwise.
  Approved proposals are measured from the table (exact yields, no noise) and recorded with
  ``camp.observe([Observation(candidate, {"yield": y}, proposal_id=pid)])`` before the next round.
  Rejected rows are not measured, do not count as experiments, and the campaign never proposes
  them again.
* The loop ends at the budget of 100 *measured* experiments, the 5 start rows included (or when
  the campaign has nothing left to propose; the trace is then flagged ``exhausted``).
* Rejection rates (stages, ``--methods``): ``reject-0`` (r = 0, the reference), ``reject-10``
  (r = 0.1) and ``reject-30`` (r = 0.3). ``reject-0`` is ``reaction_bo.py``'s
  ``scientia-descriptors+onehot`` protocol driven by hand: in the same environment it measures
  the same rows (checked on the first 25 experiments of seeds 0 and 1 on both tables).
* Each (method, table, seed) trace is written as soon as it finishes to
  ``<out>/review_stress/traces/<method>/<table>/seed_<k>.json``: the measured row indices in
  experiment order (start rows first; within a round, in proposal order) and their yields, the
  rejected row indices in order and their yields, per round the number proposed and rejected, the
  proposer's seconds per round (as ``reaction_bo.py`` reports them) and the wall time of each
  ``suggest`` call, and the versions of the producing environment (the virtualenv's folder name
  and ``--out`` masked: no machine paths). Reruns skip traces that exist with the same budget,
  batch and start rows unless ``--force``. Stages loop over seeds outside and tables inside.
* Metrics per table x rate, with ``reaction_bo.py``'s definitions and statistics (imported): top-x%
  (x = 1, 5) are the ``ceil(x/100 * n)`` highest-yield rows (ties at the threshold count);
  "experiments to top-x%" is the 1-based position of the first measured row at or above the
  threshold, censored at the budget (value = budget, flagged not hit). Reported: the median with a
  95% percentile bootstrap interval (10,000 resamples), the fraction of seeds hitting, the median
  over seeds of proposals made per measured experiment (proposals / (measured - 5); 1 at r = 0,
  1/(1 - r) expected), the median number of rejections and of rounds, the fraction of seeds in
  which a top-1% row was rejected, and the median proposer seconds per round (pooled) and in the
  last round.
* Slow-down (per table, rate r > 0, top-1% and top-5%): on the seeds present for both r and
  r = 0, the ratio of the median experiments-to-top-x% (rate r / r = 0) and a two-sided Wilcoxon
  signed-rank p-value on the paired values (p = 1 when every difference is zero; censored values
  enter as the budget).
* Outputs ``<out>/review_stress.{json,md,png}``: the JSON's ``summary`` object holds, per table,
  the thresholds, one row per rate and the slow-downs; the figure shows the distribution of
  experiments to top-1% per rate, a panel per table (censored runs drawn as crosses at the
  budget).

Usage::

    python benchmarks/review_stress.py                          # every stage (20 seeds), then summary
    python benchmarks/review_stress.py --methods reject-30      # one stage
    python benchmarks/review_stress.py --summarise-only         # summary from existing traces
    python benchmarks/review_stress.py --smoke                  # CI: 2 seeds, budget 25, temp dir

The exit status is 1 when any run failed (the other runs still run).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from _common import public_argv

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "benchmarks" / "results"
TABLES = ("suzuki_miyaura", "buchwald_hartwig")
METHODS = ("reject-0", "reject-10", "reject-30")
BASELINE = "reject-0"
REASON = "stress test: rejected at random"
REVIEWER = "simulated-reviewer"
COLORS = dict(zip(METHODS, ("tab:blue", "tab:orange", "tab:red"), strict=True))


def _sibling(name: str):
    """Import ``benchmarks/<name>.py`` (not a package) by path."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# one protocol: start rows, thresholds, hit positions and statistics are reaction_bo.py's
rb = _sibling("reaction_bo")
N_START = rb.N_START
load_table, starting_rows, thresholds, hit_position = (
    rb.load_table, rb.starting_rows, rb.thresholds, rb.hit_position
)  # fmt: skip


def rate_of(method: str) -> float:
    """Rejection probability of a stage: ``"reject-30"`` -> 0.3."""
    return int(method.removeprefix("reject-")) / 100


def reviewer_draws(seed: int, table: str, method: str, rnd: int, n: int) -> np.ndarray:
    """Return which of a round's ``n`` proposals the simulated reviewer rejects, shape ``(n,)``.

    The RNG is independent of the campaign's: ``[seed, crc32(table), percent, round]``.
    """
    percent = int(method.removeprefix("reject-"))
    rng = np.random.default_rng([seed, zlib.crc32(table.encode()), percent, rnd])
    return rng.random(n) < rate_of(method)


def campaign_config(table_csv: Path, params, seed: int, batch: int) -> dict:
    """scientia's default campaign over a pool, with every proposal awaiting review."""
    return {
        "name": "review-stress",
        "seed": seed,
        "batch_size": batch,
        "review": "human",
        "space": {
            "kind": "pool",
            "table": str(table_csv),
            "columns": list(params),
            "descriptors": "rdkit",
            "encoding": "auto",  # the defaults, spelled out
            "max_components": 8,
        },
        "objectives": [{"name": "yield", "direction": "max"}],
        "surrogate": {"kind": "gp", "options": {}},
        "proposer": {"kind": "bo", "n_initial": N_START, "acquisition": "qlognei", "options": {}},
        "evaluator": {"kind": "manual"},  # measured by run_review from the table
    }


def run_review(df, params, start, seed, budget, batch, table, method) -> dict:
    """Run one campaign with a simulated reviewer; return the trace's protocol fields.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (``params`` columns and ``yield``), index ``0..n-1``.
    params : list of str
        Parameter columns.
    start : list of int
        Start rows, observed first.
    seed, budget, batch : int
        Seed, measured experiments in total (start rows included) and batch size.
    table, method : str
        Table name and stage (``"reject-<percent>"``); both enter the reviewer's RNG.

    Returns
    -------
    dict
        ``indices``/``yields`` (measured, in order), ``rejected``/``rejected_yields``,
        ``rounds`` (``[proposed, rejected]`` per round), ``proposal_seconds`` (the proposer's time
        per round), ``suggest_seconds`` (wall time of each ``suggest``) and ``exhausted``.
    """
    import torch

    from scientia.campaign import Campaign
    from scientia.types import Candidate, Observation

    torch.set_num_threads(1)
    cols = list(params)
    records = df[cols].to_dict("records")
    row_of = {Candidate(r).id: i for i, r in enumerate(records)}
    ys = df["yield"].to_numpy(float)
    measured, rejected, rounds, wall, exhausted = list(start), [], [], [], False
    with tempfile.TemporaryDirectory(prefix="review_stress_") as tmp:
        csv = Path(tmp) / "table.csv"
        df[[*cols, "yield"]].to_csv(csv, index=False)
        camp = Campaign.create(campaign_config(csv, cols, seed, batch), str(Path(tmp) / "ledger.sqlite"))
        try:
            first = [Observation(Candidate(records[i]), {"yield": float(ys[i])}) for i in start]
            camp.observe(first, actor="benchmark", source="start")
            while len(measured) < budget:
                t0 = time.perf_counter()
                proposals = camp.suggest(min(batch, budget - len(measured)), actor="benchmark")
                wall.append(time.perf_counter() - t0)
                if not proposals:
                    exhausted = True
                    break
                reject = reviewer_draws(seed, table, method, len(rounds), len(proposals))
                approved = []
                for p, no in zip(proposals, reject, strict=True):
                    row = row_of[p.candidate.id]
                    if no:
                        camp.review(p.id, "reject", reason=REASON, actor=REVIEWER)
                        rejected.append(row)
                    else:
                        camp.review(p.id, "approve", actor=REVIEWER)
                        approved.append(Observation(p.candidate, {"yield": float(ys[row])}, proposal_id=p.id))
                        measured.append(row)
                if approved:
                    camp.observe(approved, actor="benchmark")
                rounds.append([len(proposals), int(reject.sum())])
            events = camp.ledger.events(camp.id, kinds=["proposal"])
            secs = [e.payload["seconds"] for e in events if e.payload["id"].endswith(".0")]
            in_ledger = [row_of[o.candidate_id] for o in camp.observations()]
            queue = {s: len(camp.queue(s)) for s in ("awaiting", "approved", "rejected")}
        finally:
            camp.ledger.close()
    if in_ledger != measured or queue != {"awaiting": 0, "approved": 0, "rejected": len(rejected)}:
        raise ValueError(f"the ledger disagrees with the driver: {len(in_ledger)} observations, {queue}")
    return {
        "indices": [int(i) for i in measured],
        "yields": ys[measured].tolist(),
        "rejected": [int(i) for i in rejected],
        "rejected_yields": ys[rejected].tolist(),
        "rounds": rounds,
        "proposal_seconds": [float(s) for s in secs],
        "suggest_seconds": wall,
        "exhausted": exhausted,
    }


def check_trace(tr: dict, start: list[int], budget: int, n_rows: int) -> None:
    """Raise ``ValueError`` unless a trace obeys the protocol."""
    idx, rej = tr["indices"], tr["rejected"]
    problems = []
    if idx[: len(start)] != start:
        problems.append(f"starts {idx[: len(start)]}, expected {start}")
    if len(set(idx)) != len(idx) or len(set(rej)) != len(rej):
        problems.append("a row measured or rejected twice")
    if set(idx) & set(rej):
        problems.append(f"rows both measured and rejected: {sorted(set(idx) & set(rej))[:5]}")
    if not tr["exhausted"] and len(idx) != min(budget, n_rows):
        problems.append(f"{len(idx)} measured, {min(budget, n_rows)} expected")
    if sum(p for p, _ in tr["rounds"]) != len(idx) - len(start) + len(rej):
        problems.append("round sizes do not add up to the measured and rejected rows")
    if problems:
        raise ValueError("invalid trace: " + "; ".join(problems))


def trace_path(out: Path, method: str, table: str, seed: int) -> Path:
    """Return the path of one trace file."""
    return out / "review_stress" / "traces" / method / table / f"seed_{seed}.json"


def _load_trace(path: Path, budget: int, batch: int, start: list[int] | None = None):
    """Return the trace at ``path`` if it exists and matches the protocol settings, else None."""
    if not path.exists():
        return None
    tr = json.loads(path.read_text())
    ok = tr.get("budget") == budget and tr.get("batch") == batch
    return tr if ok and (start is None or tr.get("start_rows") == start) else None


def run_stage(method, tables, seeds, budget, batch, out, force) -> int:
    """Run one rejection rate over seeds (outer loop) and tables (inner); return the failures."""
    failures = 0
    for seed in range(seeds):
        for table, (df, params) in tables.items():
            start = starting_rows(len(df), seed, table)
            path = trace_path(out, method, table, seed)
            if not force and _load_trace(path, budget, batch, start) is not None:
                continue
            t0 = time.perf_counter()
            try:
                run = run_review(df, params, start, seed, budget, batch, table, method)
                check_trace(run, start, budget, len(df))
            except Exception as exc:  # noqa: BLE001 - one failed run must not stop the stage
                print(f"[{method}] {table} seed {seed}: FAILED {type(exc).__name__}: {exc}", flush=True)
                failures += 1
                continue
            tr = {"method": method, "rate": rate_of(method), "table": table, "seed": seed}
            tr |= {"budget": budget, "batch": batch, "n_rows": len(df), "start_rows": start, **run}
            tr |= {"total_seconds": time.perf_counter() - t0, "environment": rb.environment("scientia")}
            tr |= {"argv": public_argv(sys.argv[1:]), "finished": datetime.now(UTC).isoformat()}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.with_suffix(".tmp").write_text(json.dumps(tr, indent=1))
            path.with_suffix(".tmp").replace(path)  # atomic: a killed run leaves no partial trace
            hits = [
                f"{k} " + (f"@{p}" if hit else "miss")
                for k, thr in thresholds(df["yield"]).items()
                for p, hit in [hit_position(run["yields"], thr, budget)]
            ]
            secs = run["proposal_seconds"]
            print(
                f"[{method}] {table} seed {seed}: {' '.join(hits)} | {len(run['rejected'])} rejected in "
                f"{len(run['rounds'])} rounds | {np.median(secs) if secs else 0:.2f} s/round, "
                f"{tr['total_seconds']:.1f} s",
                flush=True,
            )
    return failures


def _method_row(trs, thr, budget, pos, key) -> dict:
    """Summary row of one table x rate; fills ``pos[key + (k,)]`` with {seed: position}."""
    row = {"rate": trs[0]["rate"], "n_seeds": len(trs), "seeds": [t["seed"] for t in trs]}
    for k in ("top1", "top5"):
        ph = [hit_position(t["yields"], thr[k], budget) for t in trs]
        vals = [p for p, _ in ph]
        pos[(*key, k)] = {t["seed"]: p for t, p in zip(trs, vals, strict=True)}
        row |= {f"median_to_{k}": float(np.median(vals)), f"median_to_{k}_ci95": rb._median_ci(vals)}
        row |= {f"hit_{k}_fraction": float(np.mean([h for _, h in ph])), f"{k}_positions": vals}
        row[f"{k}_hit"] = [bool(h) for _, h in ph]
    per_exp = [sum(p for p, _ in t["rounds"]) / max(1, len(t["indices"]) - N_START) for t in trs]
    row["median_proposals_per_experiment"] = float(np.median(per_exp))
    row["expected_proposals_per_experiment"] = 1 / (1 - row["rate"])
    row["median_rejected"] = float(np.median([len(t["rejected"]) for t in trs]))
    row["median_rounds"] = float(np.median([len(t["rounds"]) for t in trs]))
    row["top1_rejected_fraction"] = float(
        np.mean([any(y >= thr["top1"] for y in t["rejected_yields"]) for t in trs])
    )
    row["exhausted"] = sum(t["exhausted"] for t in trs)
    secs = [s for t in trs for s in t["proposal_seconds"]]
    row["median_seconds_per_round"] = float(np.median(secs)) if secs else None
    last = [t["proposal_seconds"][-1] for t in trs if t["proposal_seconds"]]
    row["median_seconds_last_round"] = float(np.median(last)) if last else None
    row["environment"] = trs[-1]["environment"]
    return row


def summarise(out: Path, table_names, seeds: int, budget: int, batch: int) -> dict:
    """Summarise every rate's traces; write ``review_stress.{json,md,png}`` under ``out``."""
    summary, pos, commands = {}, {}, set()
    for table in table_names:
        df, _ = load_table(table)
        thr = thresholds(df["yield"])
        summary[table] = {"n_rows": len(df), "thresholds": thr, "methods": {}, "slowdown": {}}
        for method in METHODS:
            paths = [trace_path(out, method, table, s) for s in range(seeds)]
            trs = [t for p in paths if (t := _load_trace(p, budget, batch)) is not None]
            if trs:
                commands.update(" ".join(t.get("argv", [])) for t in trs)
                summary[table]["methods"][method] = _method_row(trs, thr, budget, pos, (table, method))
        for method in METHODS:
            for k in ("top1", "top5"):
                if method != BASELINE and (table, method, k) in pos and (table, BASELINE, k) in pos:
                    cmp = rb._paired(pos[(table, method, k)], pos[(table, BASELINE, k)])
                    summary[table]["slowdown"][f"{method}_vs_{BASELINE}_{k}"] = cmp
    result = {
        "protocol": {"seeds": seeds, "budget": budget, "batch": batch, "n_start": N_START,
                     "rates": {m: rate_of(m) for m in METHODS}, "reason": REASON},
        "summary": summary,
        "generated": datetime.now(UTC).isoformat(),
    }  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "review_stress.json").write_text(json.dumps(result, indent=1))
    _write_markdown(out / "review_stress.md", result, sorted(commands))
    _plot(out / "review_stress.png", summary, table_names, budget)
    return result


def _write_markdown(path: Path, result: dict, commands: list[str]) -> None:
    """Write the Markdown report: results per rate, slow-downs, how to reproduce."""
    p = result["protocol"]

    def ci(r, k):
        lo, hi = r[f"median_to_{k}_ci95"]
        return f"{r[f'median_to_{k}']:g} [{lo:g}, {hi:g}]"

    lines = [
        (
            f"# Review stress test (budget {p['budget']} measured, batch {p['batch']}, "
            f"seeds 0..{p['seeds'] - 1}, {p['n_start']} shared start rows)\n"
        ),
        "Proposals rejected at random by a simulated reviewer; rejected rows are not measured.\n",
        (
            "| table | rejected | n | exp. to top-1% (median [95% CI]) | hit top-1% | exp. to top-5% "
            "| hit top-5% | proposals / exp. | rounds | top-1% row rejected | s / round |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for table, s in result["summary"].items():
        for r in s["methods"].values():
            sec = r["median_seconds_per_round"]
            lines.append(
                f"| {table} | {r['rate']:.0%} | {r['n_seeds']} | {ci(r, 'top1')} "
                f"| {r['hit_top1_fraction']:.0%} | {ci(r, 'top5')} | {r['hit_top5_fraction']:.0%} "
                f"| {r['median_proposals_per_experiment']:.2f} | {r['median_rounds']:g} "
                f"| {r['top1_rejected_fraction']:.0%} | {'n/a' if sec is None else f'{sec:.3g}'} |"
            )
    lines += [
        "\nRuns that never hit count as the budget. Slow-down = median experiments to top-x% at "
        "rate r / at 0%, on the seeds measured at both (two-sided Wilcoxon signed-rank p):\n",
        "| table | rejected | target | n | median at r | median at 0% | slow-down | Wilcoxon p |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for table, s in result["summary"].items():
        for name, c in s["slowdown"].items():
            method, k = name.split("_vs_")[0], name.rsplit("_", 1)[1]
            lines.append(
                f"| {table} | {rate_of(method):.0%} | {k.replace('top', 'top-')}% | {c['n']} "
                f"| {c['median_a']:g} | {c['median_b']:g} | {c['ratio_of_medians']:.2f} "
                f"| {c['wilcoxon_p']:.3g} |"
            )
    script = "python benchmarks/review_stress.py"
    traces = "\n".join(f"{script} {c}".rstrip() for c in commands)
    lines.append(
        f"\n## Reproduce\n\nSummary written by:\n\n```\n{script} "
        f"{' '.join(public_argv(sys.argv[1:]))}\n```\n\n"
        "Traces produced by (one line per distinct invocation; each trace records its "
        f"environment):\n\n```\n{traces}\n```\n"
    )
    path.write_text("\n".join(lines))


def _plot(path: Path, summary, table_names, budget) -> None:
    """Experiments to top-1% per rejection rate: box and seeds (crosses: censored), per table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(table_names)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 4.2), squeeze=False)
    jitter = np.random.default_rng(0)
    for ax, table in zip(axes[0], table_names, strict=True):
        rows = summary[table]["methods"]
        labels = []
        for x, (method, r) in enumerate(rows.items()):
            vals = np.asarray(r["top1_positions"], float)
            hit = np.asarray(r["top1_hit"])
            ax.boxplot(vals, positions=[x], widths=0.5, showfliers=False, medianprops={"color": "k"})
            xs = x + jitter.uniform(-0.15, 0.15, vals.size)
            ax.scatter(xs[hit], vals[hit], s=14, color=COLORS[method], alpha=0.7)
            ax.scatter(xs[~hit], vals[~hit], s=22, marker="x", color=COLORS[method])
            labels.append(f"{r['rate']:.0%}\nn={r['n_seeds']}")
        ax.axhline(budget, color="k", ls="--", lw=0.8, label="budget (censored)")
        ax.set_xticks(range(len(labels)), labels)
        ax.set(title=table, xlabel="proposals rejected at random", ylabel="experiments to top-1%")
        ax.set_ylim(0, budget * 1.05)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the command line; return the exit status (1 if any run failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma list of stages (rates)")
    ap.add_argument("--tables", default=",".join(TABLES), help="comma list of tables")
    ap.add_argument("--seeds", type=int, default=20, help="run seeds 0..N-1 (default 20)")
    ap.add_argument("--budget", type=int, default=100, help="measured experiments incl. the 5 start rows")
    ap.add_argument("--batch", type=int, default=5, help="proposals per round")
    ap.add_argument("--out", type=Path, help=f"results directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="rerun traces that already exist")
    ap.add_argument("--summarise-only", action="store_true", help="only summarise traces")
    ap.add_argument("--smoke", action="store_true", help="CI mode: 2 seeds, budget 25, temporary --out")
    a = ap.parse_args(argv)
    if a.smoke:
        a.seeds, a.budget = 2, 25
        a.out = a.out or Path(tempfile.mkdtemp(prefix="review_stress_smoke_"))
    out = a.out or DEFAULT_OUT
    methods, table_names = a.methods.split(","), a.tables.split(",")
    unknown = sorted(set(methods) - set(METHODS)) + sorted(set(table_names) - set(TABLES))
    if unknown:
        ap.error(f"unknown method/table: {unknown}")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before a stage imports torch
    failures = 0
    if not a.summarise_only:
        tables = {t: load_table(t) for t in table_names}
        rb.environment("scientia")  # the commit and versions of the code loaded now, not later
        for method in methods:
            failures += run_stage(method, tables, a.seeds, a.budget, a.batch, out, a.force)
    res = summarise(out, table_names, a.seeds, a.budget, a.batch)
    for table, s in res["summary"].items():
        for name, c in s["slowdown"].items():
            print(
                f"{table} {name}: slow-down {c['ratio_of_medians']:.2f} (n={c['n']}, p={c['wilcoxon_p']:.3g})"
            )
    print(f"wrote {out / 'review_stress.json'}, .md, .png")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
