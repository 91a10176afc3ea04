"""Function, emulator and manual evaluators."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scientia.errors import ConfigError, EvaluationError
from scientia.evaluators import EmulatorEvaluator, FunctionEvaluator, ManualEvaluator
from scientia.evaluators.basic import load_callable
from scientia.spaces import PoolSpace
from scientia.types import Candidate


def test_function_float_result_goes_to_the_first_outcome():
    # a float return value is the first outcome, with evaluator metadata
    (obs,) = FunctionEvaluator(lambda p: p["x"] * 2, ["y", "z"]).evaluate([Candidate({"x": 1.5})])
    assert obs.status == "ok" and obs.outcomes == {"y": 3.0} and obs.metadata["evaluator"] == "function"


def test_function_dict_result_gives_several_outcomes():
    # a dict return value gives every outcome
    (obs,) = FunctionEvaluator(lambda p: {"y": 1, "cost": 2.5}, ["y", "cost"]).evaluate([Candidate({"x": 0})])
    assert obs.outcomes == {"y": 1.0, "cost": 2.5}


@pytest.mark.parametrize(
    ("fn", "error"),
    [
        (lambda p: 1 / 0, "ZeroDivisionError"),
        (lambda p: math.nan, "non-finite"),
        (lambda p: "high", "ValueError"),
    ],
    ids=["raises", "nan", "not-a-number"],
)
def test_function_failure_is_a_failed_observation(fn, error):
    # exceptions and non-finite or non-numeric results become failed observations with the error
    (obs,) = FunctionEvaluator(fn, ["y"]).evaluate([Candidate({"x": 0})])
    assert obs.status == "failed" and error in obs.metadata["error"] and obs.metadata["traceback"]


def test_load_callable_reads_modules_and_files(tmp_path):
    # "module:function" and "path/to/file.py:function" both load
    assert load_callable("math:sqrt")(9) == 3
    script = tmp_path / "obj.py"
    script.write_text("def f(p):\n    return p['x'] + 1\n")
    assert load_callable(f"{script}:f")({"x": 1}) == 2


@pytest.mark.parametrize(
    ("ref", "match"),
    [
        ("no_colon", "must look like"),
        ("no_such_module_xyz:f", "cannot import"),
        ("math:nope", "no function"),
        ("math:pi", "not callable"),
    ],
)
def test_load_callable_bad_references_are_config_errors(ref, match):
    # malformed, missing or non-callable references are config errors that say which
    with pytest.raises(ConfigError, match=match):
        load_callable(ref)


@pytest.fixture
def table():
    return pd.DataFrame({"cat": ["a", "b", "c"], "t": [1.0, 2.0, 3.0], "yield": [10.0, 20.0, 30.0]})


def test_emulator_answers_from_the_table(table):
    # the emulator returns the table's outcome for a listed combination
    space = PoolSpace.from_table(table, ["cat", "t"])
    (obs,) = EmulatorEvaluator(table, ["cat", "t"], ["yield"]).evaluate([space.pool[1]])
    assert obs.outcomes == {"yield": 20.0} and obs.candidate == space.pool[1]


def test_emulator_matches_integral_numbers_however_typed(table):
    # a candidate holding 2 (int) matches the table's 2.0 (float), also from numpy values
    emu = EmulatorEvaluator(table, ["cat", "t"], ["yield"])
    import numpy as np

    (a,) = emu.evaluate([Candidate({"cat": "b", "t": 2})])
    (b,) = EmulatorEvaluator(table, ["cat", "t"], ["yield"]).evaluate(
        [Candidate({"cat": "b", "t": np.float64(2.0)})]
    )
    assert a.status == b.status == "ok"


def test_emulator_answers_each_row_once(table):
    # measuring a row a second time raises instead of returning the same value again
    emu = EmulatorEvaluator(table, ["cat", "t"], ["yield"])
    c = Candidate({"cat": "a", "t": 1})
    emu.evaluate([c])
    with pytest.raises(EvaluationError, match="already measured"):
        emu.evaluate([c])


def test_emulator_knows_rows_measured_before_a_restart(table):
    # mark_used() makes a fresh emulator refuse rows measured in an earlier process
    emu = EmulatorEvaluator(table, ["cat", "t"], ["yield"])
    c = Candidate({"cat": "a", "t": 1})
    emu.mark_used([c.id])
    with pytest.raises(EvaluationError):
        emu.evaluate([c])


def test_emulator_missing_combination_is_a_failed_observation(table):
    # a combination absent from the table is a failed observation, not a crash
    (obs,) = EmulatorEvaluator(table, ["cat", "t"], ["yield"]).evaluate([Candidate({"cat": "a", "t": 3})])
    assert obs.status == "failed" and "no measurement" in obs.metadata["error"]


def test_emulator_missing_column_is_a_config_error(table):
    # naming a column the table lacks is a config error naming it
    with pytest.raises(ConfigError, match="'yeild'"):
        EmulatorEvaluator(table, ["cat"], ["yeild"])


def test_manual_evaluator_points_to_the_cli():
    # a manual campaign cannot evaluate by itself and says how to proceed
    with pytest.raises(EvaluationError, match="scientia observe"):
        ManualEvaluator().evaluate([Candidate({"x": 1})])
