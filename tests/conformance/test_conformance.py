"""Every registered implementation passes its role's conformance check from scientia.testing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scientia import datasets
from scientia.evaluators import EmulatorEvaluator, FunctionEvaluator
from scientia.models import surrogates
from scientia.proposers import proposers
from scientia.spaces import (
    Categorical,
    ExcludedCombination,
    Integer,
    LinearInequality,
    Ordinal,
    ParameterSpace,
    PoolSpace,
    Real,
)
from scientia.testing import (
    QuadraticEvaluator,
    check_evaluator,
    check_proposer,
    check_space,
    check_surrogate,
)
from scientia.testing.fakes import distinct_sample
from scientia.types import Candidate

SMILES = ["Electrophile_SMILES", "Nucleophile_SMILES", "Ligand_SMILES", "Base_SMILES", "Solvent_SMILES"]
SOLVENTS = ("CCO", "CC#N", "ClCCl", "O", "CC(C)=O", "C1CCOC1")


def _suzuki(rows: int) -> object:
    return datasets.load("suzuki_miyaura").sample(rows, random_state=0)


def _rdkit() -> None:
    pytest.importorskip("rdkit")


SPACES = {
    "real": lambda: ParameterSpace([Real("a", -2.0, 7.0), Real("b", 0.0, 1.0)]),
    "real-log": lambda: ParameterSpace([Real("rate", 1e-4, 10.0, log=True)]),
    "integer": lambda: ParameterSpace([Integer("n", -3, 12)]),
    "ordinal-numbers": lambda: ParameterSpace([Ordinal("dose", (0.5, 1.0, 2.0, 4.0))]),
    "ordinal-labels": lambda: ParameterSpace([Ordinal("speed", ("low", "mid", "high"))]),
    "categorical-onehot": lambda: ParameterSpace([Categorical("base", ("NaOH", "KOH", "Et3N", "DBU"))]),
    "categorical-descriptor-table": lambda: ParameterSpace(
        [
            Categorical(
                "ligand",
                ("L1", "L2", "L3", "L4", "L5"),
                descriptors={
                    "L1": [1, 2, 0],
                    "L2": [2, 0, 1],
                    "L3": [0, 5, 1],
                    "L4": [3, 3, 3],
                    "L5": [1, 1, 4],
                },
            )
        ]
    ),
    "categorical-rdkit": lambda: (
        _rdkit(),
        ParameterSpace([Categorical("solvent", SOLVENTS, descriptors="rdkit")]),
    )[1],
    "linear-constraints": lambda: ParameterSpace(
        [Real("a", 0.0, 1.0), Real("b", -1.0, 2.0), Integer("i", 0, 10)],
        [LinearInequality({"a": 1, "b": 2, "i": 0.1}, 1.5), LinearInequality({"a": 1, "b": -1}, -0.5, ">=")],
    ),
    "excluded-combinations": lambda: ParameterSpace(
        [
            Categorical("base", ("NaOH", "KOH", "Et3N")),
            Categorical("solvent", ("THF", "DMF")),
            Real("t", 0, 100),
        ],
        [
            ExcludedCombination({"base": ["NaOH"], "solvent": ["THF"]}),
            ExcludedCombination({"solvent": ["DMF"], "t": {"low": 80, "high": 100}}),
        ],
    ),
    "real-linear-constraint": lambda: ParameterSpace(
        [Real("a", 0.0, 1.0), Real("b", -1.0, 2.0)], [LinearInequality({"a": 1, "b": 2}, 1.5)]
    ),
    "discrete-product": lambda: ParameterSpace(
        [
            Ordinal("dose", (0.5, 1.0, 2.0, 4.0)),
            Integer("n", 0, 5),
            Categorical("base", ("NaOH", "KOH", "DBU")),
        ]
    ),
    "mixed-all-kinds": lambda: ParameterSpace(
        [
            Real("temperature", 20.0, 100.0),
            Real("loading", 0.01, 1.0, log=True),
            Integer("equiv", 1, 4),
            Ordinal("stir", ("slow", "fast")),
            Categorical("solvent", ("THF", "DMF", "MeCN")),
        ],
        [LinearInequality({"temperature": 1, "equiv": 10}, 110)],
    ),
    "pool-onehot": lambda: PoolSpace.from_table(_suzuki(150), SMILES, encoding="onehot"),
    "pool-rdkit": lambda: (_rdkit(), PoolSpace.from_table(_suzuki(300), SMILES, descriptors="rdkit"))[1],
    "pool-numeric-columns": lambda: PoolSpace.from_table(_suzuki(100)[["Ligand_SMILES", "entry", "yield"]]),
}


@pytest.mark.parametrize("space_name", sorted(SPACES))
def test_space_passes_check_space(space_name):
    # each kind of space (all parameter kinds, constraints, pools) honours the Space contract
    check_space(SPACES[space_name]())


@pytest.mark.parametrize("name", surrogates.names())
def test_registered_surrogate_passes_check_surrogate(name):
    # every registered surrogate honours the Surrogate contract
    check_surrogate(lambda: surrogates.create(name))


# BO settings that keep the check quick; the contract does not depend on them
FAST = {"bo": {"num_restarts": 2, "raw_samples": 64, "mc_samples": 32, "n_candidates": 512}}
PROPOSERS = [
    # active-screen proposes from a pool of SMILES only; tests/unit/screen/test_active.py checks it
    *[(name, name, FAST.get(name, {})) for name in proposers.names() if name != "active-screen"],
    ("bo[forest]", "bo", {**FAST["bo"], "surrogate": "forest", "surrogate_options": {"n_estimators": 50}}),
]
# mixed spaces with linear constraints take BO minutes per batch (see tests/unit/proposers/test_bo.py)
PROPOSER_SPACES = [
    "real-linear-constraint",
    "excluded-combinations",
    "discrete-product",
    "pool-onehot",
    "pool-rdkit",
]


@pytest.mark.parametrize("space_name", PROPOSER_SPACES)
@pytest.mark.parametrize(("label", "name", "options"), PROPOSERS, ids=[p[0] for p in PROPOSERS])
def test_registered_proposer_passes_check_proposer(label, name, options, space_name):
    # every registered proposer honours the Proposer contract on continuous, constrained,
    # discrete and pool spaces
    space = SPACES[space_name]()

    def factory():
        return proposers.create(name, **options)

    factory.__name__ = label
    check_proposer(factory, space)


def test_registries_hold_the_builtins():
    # the conformance tests above cover at least the built-in implementations
    assert {"gp", "forest"} <= set(surrogates.names())
    assert {"random", "space-filling", "bo"} <= set(proposers.names())


def _flaky(params):
    if params["b"] > 0.8:
        raise RuntimeError("instrument error")
    return params["a"] ** 2 - params["b"]


def _two_outcomes(params):
    return {"y": params["a"] + params["b"], "cost": math.exp(params["b"])}


def test_function_evaluator_passes_check_evaluator():
    # a function evaluator, including calls that raise, honours the Evaluator contract
    space = SPACES["real"]()
    cands = distinct_sample(space, 12, seed=1)
    assert any(c["b"] > 0.8 for c in cands) and any(c["b"] <= 0.8 for c in cands)
    check_evaluator(FunctionEvaluator(_flaky, ["y"]), cands, outcomes=["y"])


def test_function_evaluator_with_several_outcomes_passes_check_evaluator():
    # a function returning a dict of outcomes honours the Evaluator contract
    space = SPACES["real"]()
    check_evaluator(
        FunctionEvaluator(_two_outcomes, ["y", "cost"]), space.sample(5, 0), outcomes=["y", "cost"]
    )


def test_emulator_evaluator_passes_check_evaluator():
    # the emulator honours the contract, also for a combination missing from its table
    table = _suzuki(150)
    space = PoolSpace.from_table(table, SMILES, encoding="onehot")
    cands = space.sample(6, 0)
    missing = Candidate({**cands[0].params, "Solvent_SMILES": "not-in-the-table"})
    check_evaluator(EmulatorEvaluator(table, SMILES, ["yield"]), [*cands, missing])


def test_quadratic_fake_passes_check_evaluator():
    # the shipped fake, with its told-to-fail candidates, honours the Evaluator contract
    space = SPACES["mixed-all-kinds"]()
    cands = distinct_sample(space, 6, seed=2)
    fake = QuadraticEvaluator(space, noise=0.1, fail_ids=[cands[0].id], seed=0)
    check_evaluator(fake, cands, outcomes=["y"])
    assert fake.calls == len(cands)


def test_quadratic_fake_peaks_at_its_optimum():
    # QuadraticEvaluator is largest (zero) at the optimum and negative elsewhere
    space = ParameterSpace([Real("x", 0.0, 1.0), Real("y", 0.0, 1.0)])
    fake = QuadraticEvaluator(space, optimum=np.array([0.25, 0.75]))
    best, other = fake.evaluate([Candidate({"x": 0.25, "y": 0.75}), Candidate({"x": 0.9, "y": 0.1})])
    assert best.outcomes["y"] == pytest.approx(0.0)
    assert other.outcomes["y"] < 0
