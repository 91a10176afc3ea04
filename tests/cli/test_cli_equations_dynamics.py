"""``scientia equations dynamics``: prints one equation per state, writes JSON, rejects bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pysindy")


@pytest.fixture
def runs_csv(tmp_path: Path) -> Path:
    """Two runs of the damped oscillator x' = y, y' = -x - 0.2 y, with a run column."""
    t = np.linspace(0, 10, 201)
    w = np.sqrt(0.99)
    parts = []
    for run, phase in enumerate((0.0, 1.3)):
        x = np.exp(-0.1 * t) * np.cos(w * t + phase)
        y = np.exp(-0.1 * t) * (-0.1 * np.cos(w * t + phase) - w * np.sin(w * t + phase))
        parts.append(pd.DataFrame({"run": run, "t": t, "x": x, "y": y, "dx": y, "dy": -x - 0.2 * y}))
    path = tmp_path / "runs.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_sindy_prints_equations_and_writes_json(cli, runs_csv):
    # SINDy on two runs: one line per state, and the JSON holds each equation and its front
    result = cli("equations", "dynamics", runs_csv, "--time-column", "t", "--trajectory-column", "run",
                 "--states", "x,y", "--method", "sindy", "--out", "res.json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "from 2 trajectory(ies)" in result.output
    assert "dx/dt = y " in result.output and "dy/dt = -x - 0.2*y " in result.output
    res = json.loads(Path("res.json").read_text(encoding="utf-8"))
    assert res["states"] == ["x", "y"] and res["method"] == "sindy" and res["trajectories"] == 2
    assert res["equations"]["x"]["equation"] == "y" and res["equations"]["x"]["r2"] > 0.9999
    assert {"lhs", "sympy", "latex", "complexity", "front"} <= set(res["equations"]["y"])


def test_search_with_measured_derivatives(cli, runs_csv):
    # the equation search on measured derivative columns prints each front and the equations
    result = cli("equations", "dynamics", runs_csv, "--derivatives", "dx,dy", "--states", "x,y",
                 "--trajectory-column", "run", "--engine", "gp", "--time", "2", "--seed", "0")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "measured derivatives" in result.output and "front of dx/dt" in result.output
    assert "dx/dt = " in result.output and "dy/dt = " in result.output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("missing.csv", "--time-column", "t"), ("missing.csv",)),
        (("runs.csv", "--time-column", "tt"), ("unknown column 'tt'", "did you mean 't'")),
        (("runs.csv", "--time-column", "t", "--states", "x,y"), ("does not increase", "--trajectory-column")),
        (("runs.csv", "--states", "x,y"), ("--time-column",)),
        (("runs.csv", "--time-column", "t", "--trajectory-column", "run", "--method", "lasso"), ("--method",)),
        (("runs.csv", "--time-column", "t", "--trajectory-column", "run", "--engine", "nope"), ("unknown equation_engines 'nope'",)),
        (("runs.csv", "--time-column", "t", "--trajectory-column", "run", "--derivative", "splin"), ("did you mean 'spline'",)),
        (("runs.csv", "--time-column", "t", "--trajectory-column", "run", "--window", "4", "--method", "sindy"), ("odd integer",)),
        (("runs.csv", "--derivatives", "dx", "--states", "x,y"), ("1 derivative column(s) for 2 state(s)",)),
        (("text.csv", "--time-column", "t"), ("column 'x' is not numeric",)),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(cli, runs_csv, user_error, args, fragments):
    # every input mistake is one line `error: …` on stderr and exit code 2
    Path("text.csv").write_text("t,x\n0,1\n1,abc\n2,3\n", encoding="utf-8")
    user_error(cli("equations", "dynamics", *args, "--time", "1"), *fragments)
