"""``scientia equations fit`` and ``dynamics``: discover equations in a CSV table (parses, then
calls the library).

``fit``: the front is printed each time it improves while the engine runs, then the polished front;
the results go to a JSON file and a complexity-versus-loss plot on request. ``dynamics``: one
equation per state derivative of an ODE system, from trajectories (SINDy or the search).
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
    engine: Annotated[
        str, typer.Option("--engine", "-e", help="Search engine: operon, gp, rl or hybrid.")
    ] = "operon",
    operators: Annotated[
        str | None, typer.Option("--operators", help="Comma list, e.g. add,sub,mul,div,sqrt,exp.")
    ] = None,
    max_complexity: Annotated[int, typer.Option("--max-complexity", help="Largest expression size.")] = 30,
    dimensionless: Annotated[
        bool, typer.Option("--dimensionless", help="Search in Buckingham-π groups (needs --units).")
    ] = False,
    decompose: Annotated[
        bool, typer.Option("--decompose", help="Look for separable parts with a neural surrogate first.")
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
        decompose=decompose,
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


def _csv_list(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


@app.command("dynamics")
@handle_errors
def dynamics(
    data: Annotated[
        Path, typer.Argument(metavar="DATA.csv", help="CSV table: one row per sample, one column per state.")
    ],
    time_column: Annotated[
        str | None,
        typer.Option("--time-column", help="Column of sampling times (derivatives are estimated)."),
    ] = None,
    states: Annotated[
        str | None, typer.Option("--states", help="Comma list of state columns (default: all other columns).")
    ] = None,
    trajectory_column: Annotated[
        str | None, typer.Option("--trajectory-column", help="Column that tells trajectories apart.")
    ] = None,
    derivatives: Annotated[
        str | None,
        typer.Option("--derivatives", help="Comma list of measured derivative columns, one per state."),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", "-m", help="search (equation search) or sindy.")
    ] = "search",
    time_limit: Annotated[
        float, typer.Option("--time", help="CPU seconds for the search, split across the states.")
    ] = 60.0,
    engine: Annotated[str, typer.Option("--engine", "-e", help="Search engine: operon or gp.")] = "operon",
    derivative: Annotated[
        str, typer.Option("--derivative", help="savgol, finite_difference or spline.")
    ] = "savgol",
    window: Annotated[
        int | None, typer.Option("--window", help="Savitzky-Golay window (odd number of samples).")
    ] = None,
    degree: Annotated[int, typer.Option("--degree", help="SINDy: largest polynomial degree.")] = 3,
    threshold: Annotated[float, typer.Option("--threshold", help="SINDy: sparsity threshold.")] = 0.05,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="PATH", help="Write the results as JSON.")
    ] = None,
) -> None:
    """Discover the equations dx/dt = f(x) of an ODE system from trajectories in DATA."""
    from scientia.errors import ConfigError, ValidationError
    from scientia.hypothesize.symbolic.dynamics import ODESearch, SINDy
    from scientia.hypothesize.symbolic.engines import engines
    from scientia.hypothesize.symbolic.trajectories import load_trajectories

    if method not in ("search", "sindy"):
        raise ConfigError(f"--method must be 'search' or 'sindy', got {method!r}")
    if time_column is None and derivatives is None:
        raise ValidationError("give --time-column (derivatives are estimated) or --derivatives")
    if window is not None and derivative != "savgol":
        raise ConfigError("--window applies to --derivative savgol only")
    if method == "search":
        engines.get(engine)  # an unknown engine fails before anything runs
    table = load_trajectories(
        data,
        time_column=time_column,
        states=_csv_list(states),
        trajectory_column=trajectory_column,
        derivative_columns=_csv_list(derivatives),
    )
    options = {"window": window} if window is not None else None
    model: Any
    if method == "sindy":
        model = SINDy(
            degree=degree, threshold=threshold, derivative=derivative, derivative_options=options, seed=seed
        )
    else:
        model = ODESearch(engine=engine, time_limit=time_limit, derivative=derivative,
                          derivative_options=options, seed=seed)  # fmt: skip
    out_console = console()
    names = table.states
    lhs = ", ".join(f"d{n}/dt" for n in names)
    source = "measured derivatives" if derivatives else f"derivatives estimated by {derivative}"
    how = f"{engine} for {fmt(time_limit)} CPU s" if method == "search" else "SINDy"
    say(
        out_console,
        f"{lhs} = f({', '.join(names)}) from {len(table.X)} trajectory(ies), {source}, with {how}",
    )
    kwargs: dict[str, Any] = {"state_names": names}
    if method == "search":

        def progress(state: str, p: Any) -> None:
            last = p.front.iloc[-1]
            say(out_console, f"[{p.elapsed:5.1f} s] d{state}/dt: {len(p.front)} on the front, "
                             f"lowest loss {fmt(float(last.loss), 4)}: {last.equation}")  # fmt: skip

        kwargs["callback"] = progress
    if derivatives:
        model.fit(table.X, table.dXdt, **kwargs)
    else:
        model.fit(table.X, t=table.t, **kwargs)
    if method == "search":
        for name, est in zip(names, model.estimators_, strict=True):
            say(out_console, f"front of d{name}/dt (* = chosen):")
            for line in _front_lines(est.equations_, est.best_index_):
                say(out_console, line)
    say(out_console, f"equations ({fmt(model.fit_seconds_, 3)} CPU s):")
    for name in names:
        best = model.best_[name]
        say(
            out_console,
            f"  d{name}/dt = {best.equation}    (R² {fmt(best.r2, 6)}, complexity {best.complexity})",
        )
    if out is not None:
        settings = {"method": method, "engine": engine if method == "search" else None,
                    "time_limit": time_limit if method == "search" else None, "derivative": derivative,
                    "window": window, "degree": degree if method == "sindy" else None,
                    "threshold": threshold if method == "sindy" else None, "seed": seed}  # fmt: skip
        result = {
            "data": str(data),
            "states": names,
            "time_column": time_column,
            "trajectory_column": trajectory_column,
            "derivative_columns": _csv_list(derivatives),
            "trajectories": len(table.X),
            **settings,
            "fit_seconds": model.fit_seconds_,
            "equations": {name: _dynamics_entry(model, name) for name in names},
        }
        out.write_text(json.dumps(result, indent=1) + "\n")
        say(out_console, f"wrote {out}")


def _dynamics_entry(model: Any, name: str) -> dict:
    front = [
        {"complexity": int(r.complexity), "loss": float(r.loss), "r2": float(r.r2), "equation": r.equation,
         "sympy": str(r.sympy)}
        for r in model.equations_[name].itertuples()
    ]  # fmt: skip
    best = model.best_[name]
    return {
        "lhs": f"d{name}/dt",
        "equation": best.equation,
        "sympy": str(best.sympy),
        "latex": model.latex(name),
        "complexity": best.complexity,
        "loss": best.loss,
        "r2": best.r2,
        "front": front,
    }
