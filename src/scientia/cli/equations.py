"""``scientia equations fit``: discover equations in a CSV table (parses, then calls the library).

The front is printed each time it improves while the engine runs, then the polished front; the
results go to a JSON file and a complexity-versus-loss plot on request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from scientia.cli._common import console, fmt, handle_errors, say

app = typer.Typer(
    name="equations",
    help="Discover equations (symbolic regression) in a table.",
    no_args_is_help=True,
    add_completion=False,
)


def _front_lines(front: Any, best: int | None = None) -> list[str]:
    lines = [f"  {'complexity':>10}  {'loss':>12}  equation"]
    for i, row in enumerate(front.itertuples()):
        mark = " *" if i == best else "  "
        lines.append(f"{mark}{row.complexity:>10}  {fmt(float(row.loss), 6):>12}  {row.equation}")
    return lines


def _plot(model: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eq = model.equations_
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.step(eq["complexity"], eq["loss"].clip(lower=1e-300), where="post", color="0.6")
    ax.scatter(eq["complexity"], eq["loss"].clip(lower=1e-300), zorder=3)
    best = eq.iloc[model.best_index_]
    ax.scatter([best["complexity"]], [max(best["loss"], 1e-300)], s=120, facecolors="none", edgecolors="r",
               zorder=4, label=f"best: {best['equation'][:40]}")  # fmt: skip
    if (eq["loss"] > 0).all():
        ax.set_yscale("log")
    ax.set_xlabel("complexity")
    ax.set_ylabel("loss (training MSE)")
    ax.set_title(f"Pareto front for {model.target_name_}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@app.command("fit")
@handle_errors
def fit(
    data: Annotated[Path, typer.Argument(metavar="DATA.csv", help="CSV table: one column per variable.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Column to explain.")],
    units: Annotated[
        Path | None,
        typer.Option("--units", "-u", metavar="UNITS.toml", help='Units file: name = "m/s^2" per variable.'),
    ] = None,
    time_limit: Annotated[float, typer.Option("--time", help="CPU seconds for the search.")] = 60.0,
    engine: Annotated[str, typer.Option("--engine", "-e", help="Search engine: operon or gp.")] = "operon",
    operators: Annotated[
        str | None, typer.Option("--operators", help="Comma list, e.g. add,sub,mul,div,sqrt,exp.")
    ] = None,
    max_complexity: Annotated[int, typer.Option("--max-complexity", help="Largest expression size.")] = 30,
    dimensionless: Annotated[
        bool, typer.Option("--dimensionless", help="Search in Buckingham-π groups (needs --units).")
    ] = False,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="PATH", help="Write the results as JSON.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", metavar="PATH", help="Write the front as a PNG plot.")
    ] = None,
) -> None:
    """Fit equations for TARGET from the other columns of DATA and print the Pareto front."""
    from scientia.hypothesize.symbolic import EquationSearch
    from scientia.hypothesize.symbolic.data import load_table, read_units
    from scientia.hypothesize.symbolic.engines import engines
    from scientia.hypothesize.symbolic.expressions import DEFAULT_OPERATORS, check_operators

    X, y = load_table(data, target)
    unit_map = read_units(units) if units is not None else None
    engines.get(engine)  # an unknown engine fails before the search starts
    ops = check_operators(operators) if operators else DEFAULT_OPERATORS
    if dimensionless and unit_map is None:
        from scientia.errors import ValidationError

        raise ValidationError("--dimensionless needs --units")
    out_console = console()
    say(
        out_console,
        f"searching {target} = f({', '.join(map(str, X.columns))}) with {engine} for {fmt(time_limit)} CPU s",
    )

    def progress(p: Any) -> None:
        say(out_console, f"[{p.elapsed:5.1f} s] front:")
        for line in _front_lines(p.front):
            say(out_console, line)

    model = EquationSearch(
        engine=engine,
        time_limit=time_limit,
        operators=ops,
        max_complexity=max_complexity,
        dimensionless=dimensionless,
        seed=seed,
    ).fit(X, y, units=unit_map, callback=progress)
    say(out_console, f"final front ({fmt(model.fit_seconds_, 3)} CPU s; * = best):")
    for line in _front_lines(model.equations_, model.best_index_):
        say(out_console, line)
    say(out_console, f"best: {target} = {model.best_.equation}")
    if out is not None:
        out.write_text(json.dumps(_results(model, data, engine, time_limit, seed, unit_map), indent=1) + "\n")
        say(out_console, f"wrote {out}")
    if plot is not None:
        _plot(model, plot)
        say(out_console, f"wrote {plot}")


def _results(model: Any, data: Path, engine: str, time_limit: float, seed: int | None, units: Any) -> dict:
    eqs = [
        {
            "complexity": int(r.complexity),
            "loss": float(r.loss),
            "r2": float(r.r2),
            "equation": r.equation,
            "sympy": str(r.sympy),
            "latex": model.latex(i),
        }
        for i, r in enumerate(model.equations_.itertuples())
    ]
    return {
        "data": str(data),
        "target": model.target_name_,
        "variables": [str(v) for v in model.feature_names_in_],
        "engine": engine,
        "time_limit": time_limit,
        "seed": seed,
        "units": units,
        "pi_groups": model.pi_groups_.describe() if model.pi_groups_ is not None else None,
        "search_seconds": model.search_seconds_,
        "fit_seconds": model.fit_seconds_,
        "best": eqs[model.best_index_],
        "best_index": int(model.best_index_),
        "equations": eqs,
    }
