"""``scientia equations fit``: prints the front, writes JSON and a plot, and rejects bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def law_csv(tmp_path: Path) -> Path:
    """v = 2.5 x t^2 on 200 rows, with a units file beside it."""
    gen = np.random.default_rng(0)
    df = pd.DataFrame({"x": gen.uniform(1, 3, 200), "t": gen.uniform(1, 3, 200)})
    df["v"] = 2.5 * df.x * df.t**2
    path = tmp_path / "law.csv"
    df.to_csv(path, index=False)
    (tmp_path / "units.toml").write_text('[units]\nx = "m"\nt = "s"\nv = "m*s^2"\n', encoding="utf-8")
    return path


def test_fit_prints_front_and_writes_json_and_plot(cli, law_csv):
    # the front is printed while the search runs and at the end; JSON and PNG are written
    result = cli("equations", "fit", law_csv, "--target", "v", "--engine", "gp", "--time", "3",
                 "--units", "units.toml", "--seed", "0", "--out", "res.json", "--plot", "front.png")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "front:" in result.output and "final front" in result.output
    assert "complexity" in result.output and "best: v = " in result.output
    res = json.loads(Path("res.json").read_text(encoding="utf-8"))
    assert res["target"] == "v" and res["variables"] == ["x", "t"]
    assert res["equations"] and res["best"] == res["equations"][res["best_index"]]
    assert {"complexity", "loss", "r2", "equation", "sympy", "latex"} <= set(res["best"])
    assert Path("front.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("missing.csv", "--target", "v"), ("missing.csv",)),
        (("law.csv", "--target", "vv"), ("unknown target column 'vv'", "did you mean 'v'")),
        (("law.csv", "--target", "v", "--units", "bad_units.toml"), ("unknown variable 'speed'",)),
        (("text.csv", "--target", "v"), ("column 'x' is not numeric",)),
        (("law.csv", "--target", "v", "--engine", "nope"), ("unknown equation_engines 'nope'",)),
        (("law.csv", "--target", "v", "--operators", "add,foo"), ("unknown operator 'foo'",)),
        (("law.csv", "--target", "v", "--dimensionless"), ("--dimensionless needs --units",)),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, law_csv, user_error, args, fragments):
    # every input mistake is one line `error: …` on stderr and exit code 2
    Path("bad_units.toml").write_text('x = "m"\nt = "s"\nspeed = "m/s"\n', encoding="utf-8")
    Path("text.csv").write_text("x,v\n1,2\nabc,3\n4,5\n", encoding="utf-8")
    user_error(cli("equations", "fit", *args, "--time", "1"), *fragments)
