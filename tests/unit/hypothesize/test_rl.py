"""The reinforcement-learning engine ("rl") and the policy-seeded GP engine ("hybrid")."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

from scientia.errors import ConfigError
from scientia.hypothesize.symbolic import EquationSearch, SearchProgress, engines, is_symbolic_solution
from scientia.hypothesize.symbolic import _trees as T
from scientia.hypothesize.symbolic._policy import Library, Policy, sample
from scientia.hypothesize.symbolic.engines import SearchProblem
from scientia.hypothesize.symbolic.expressions import DEFAULT_OPERATORS, compile_expr
from scientia.hypothesize.symbolic.gp import GPEngine
from scientia.hypothesize.symbolic.hybrid import HybridEngine
from scientia.hypothesize.symbolic.rl import RLEngine
from scientia.hypothesize.symbolic.units import parse_units

DOC = Path(__file__).resolve().parents[3] / "docs" / "equations.md"
OPS = (*DEFAULT_OPERATORS, "tan", "asin", "abs")


@pytest.fixture(scope="module")
def square_law() -> SearchProblem:
    """y = x0^2 + x1 on 200 points in [1, 3]^2."""
    X = np.random.default_rng(0).uniform(1, 3, size=(200, 2))
    return SearchProblem(X, X[:, 0] ** 2 + X[:, 1], DEFAULT_OPERATORS)


def _r2(expr: sp.Expr, problem: SearchProblem) -> float:
    pred = compile_expr(expr, problem.n_features)(problem.X, ())
    return 1.0 - float(np.mean((problem.y - pred) ** 2)) / float(np.var(problem.y))


def _children(tokens: tuple[int, ...], lib: Library) -> list[list[int]]:
    """Indices of each token's children (prefix order); fails unless the tokens form one tree."""
    kids: list[list[int]] = [[] for _ in tokens]
    stack: list[tuple[int, int]] = [(-1, 1)]  # (parent index, children still to come)
    for i, tok in enumerate(tokens):
        assert stack, "tokens after a complete tree"
        parent, left = stack.pop()
        if parent >= 0:
            kids[parent].append(i)
        if left > 1:
            stack.append((parent, left - 1))
        if lib.arity[tok]:
            stack.append((i, int(lib.arity[tok])))
    assert not stack, "incomplete tree"
    return kids


def test_samples_are_valid_trees_under_the_constraints():
    # every sample is one complete tree within [min, max] length that obeys the in-situ constraints
    lib = Library(OPS, 3)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        policy = Policy(lib.size)
    batch = sample(
        policy, lib, 400, max_len=12, min_len=4, max_const=2, generator=torch.Generator().manual_seed(1)
    )
    name = lib.names
    for i in range(400):
        tokens = batch.tokens(i)
        assert 4 <= len(tokens) <= 12
        assert np.all(batch.actions[i, len(tokens) :] == -1)
        kids = _children(tokens, lib)
        assert sum(t == lib.const for t in tokens) <= 2
        assert any(lib.n_ops <= t < lib.const for t in tokens)  # at least one variable
        for j, tok in enumerate(tokens):
            child_names = [name[tokens[k]] for k in kids[j]]
            if lib.arity[tok] == 1:
                assert child_names[0] != "const"
                inverse = {"exp": "log", "log": "exp", "sqrt": "square", "square": "sqrt", "abs": "abs"}
                inverse |= {"tan": None, "asin": "sin", "sin": "asin"}
                assert child_names[0] != inverse.get(name[tok]), tokens
            if lib.arity[tok] == 2:
                assert child_names != ["const", "const"]
            if name[tok] in ("sin", "cos", "tan"):  # no trigonometry below trigonometry
                end = T.subtree_end(lib.to_tree(tokens), j, lib.ops)
                below = tokens[j + 1 : end]
                assert not any(name[t] in ("sin", "cos", "tan") for t in below), tokens


def test_sampled_log_probs_match_teacher_forcing():
    # the recomputed log-probabilities are those of a valid distribution: exp sums to <= 1, finite
    lib = Library(DEFAULT_OPERATORS, 2)
    policy = Policy(lib.size)
    batch = sample(
        policy, lib, 50, max_len=10, min_len=1, max_const=3, generator=torch.Generator().manual_seed(0)
    )
    logp, entropy = policy.log_probs(
        torch.from_numpy(batch.obs),
        torch.from_numpy(batch.actions),
        torch.from_numpy(batch.prior),
        torch.from_numpy(batch.lengths),
        0.7,
    )
    assert torch.isfinite(logp).all() and (logp <= 0).all() and (entropy >= 0).all()
    (logp.mean() + entropy.mean()).backward()
    assert all(torch.isfinite(p.grad).all() for p in policy.parameters() if p.grad is not None)


def test_constants_are_fitted():
    # LM on the constants recovers y = exp(0.7 x0) from the start value 1
    X = np.random.default_rng(0).uniform(0, 2, size=(100, 1))
    engine = RLEngine()
    engine._setup(SearchProblem(X, np.exp(0.7 * X[:, 0]), DEFAULT_OPERATORS), np.random.default_rng(0))
    exp, mul = DEFAULT_OPERATORS.index("exp"), DEFAULT_OPERATORS.index("mul")
    tree = ((exp, 0.0), (mul, 0.0), (T.CONST, 1.0), (T.VAR, 0.0))
    assert T.constants(engine._fit_constants(tree)) == pytest.approx([0.7], rel=1e-5)


def test_training_improves_and_recovers_a_simple_law(square_law):
    # the top-quantile reward rises over training and the front holds y = x0^2 + x1 (R^2 > 0.99)
    engine = RLEngine()
    front = engine.search(square_law, time_limit=10, generations=40, seed=0, report=None)
    top = [h["top"] for h in engine.history_]
    assert np.mean(top[-3:]) > top[0] + 0.02, top
    assert max(_r2(e, square_law) for e in front) > 0.99
    assert any(is_symbolic_solution(e, sp.sympify("x0**2 + x1")) for e in front), front


def test_same_seed_same_result(square_law):
    # a fixed seed and iteration count give the same front and history; torch's global state is kept
    state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    runs = []
    for _ in range(2):
        engine = RLEngine(batch_size=100)
        front = engine.search(square_law, time_limit=60, generations=3, seed=5, report=None)
        runs.append(([str(e) for e in front], engine.history_))
    assert runs[0] == runs[1]
    assert torch.equal(torch.random.get_rng_state(), state) and torch.get_num_threads() == threads


def test_report_can_stop(square_law):
    # a True return value from report stops the search at once
    calls: list[int] = []

    def report(front) -> bool:
        calls.append(len(front))
        return True

    engine = RLEngine(batch_size=100, report_every=0.0)
    engine.search(square_law, time_limit=60, seed=0, report=report)
    assert calls and len(calls) == 1 and engine.iterations_ == 1


def test_units_keep_inconsistent_expressions_out():
    # with units, every expression in the hall of fame is dimensionally consistent
    gen = np.random.default_rng(1)
    X = gen.uniform(1, 5, size=(200, 3))
    dims = np.stack([parse_units(u) for u in ("m", "s", "kg")])
    problem = SearchProblem(
        X, X[:, 2] * X[:, 0] / X[:, 1] ** 2, DEFAULT_OPERATORS, dims=dims, target_dims=None
    )
    engine = RLEngine(batch_size=200)
    engine.search(problem, time_limit=30, generations=3, seed=0, report=None)
    assert engine.archive and all(T.consistent(f.tree, engine.ops, dims) for f in engine.archive.values())


def test_gp_starts_from_seeds(square_law):
    # GPEngine(initial=...) puts the seeds in the first population: an exact seed is on the front
    mul, add = DEFAULT_OPERATORS.index("mul"), DEFAULT_OPERATORS.index("add")
    exact = ((add, 0.0), (mul, 0.0), (T.VAR, 0.0), (T.VAR, 0.0), (T.VAR, 1.0))
    front = GPEngine(population_size=20).search(
        square_law, time_limit=30, generations=1, seed=0, initial=[exact]
    )
    assert any(_r2(e, square_law) > 1 - 1e-12 for e in front)


def test_hybrid_splits_the_generations(square_law):
    # with generations, the policy trains share * generations iterations and GP runs the rest
    problem = SearchProblem(square_law.X, square_law.y + np.sin(3 * square_law.X[:, 1]), DEFAULT_OPERATORS)
    engine = HybridEngine(share=0.5, rl_options={"batch_size": 100}, gp_options={"population_size": 50})
    front = engine.search(problem, time_limit=60, generations=4, seed=0, report=None)
    assert engine.rl_.iterations_ == 2 and engine.gp_ is not None and engine.gp_.generations_ == 2
    assert front
    with pytest.raises(ConfigError, match="share"):
        HybridEngine(share=1.0)


def test_bad_options_are_config_errors(square_law):
    # options out of range fail before any search, saying what was expected
    for bad in ({"epsilon": 0.0}, {"batch_size": 1}, {"soft_length": (10, 0)}):
        with pytest.raises(ConfigError):
            RLEngine(**bad).search(square_law, time_limit=1, seed=0, report=None)


def test_engines_registered():
    # both new engines are in the registry
    assert {"rl", "hybrid"} <= set(engines.names())


@pytest.mark.parametrize("engine", ["rl", "hybrid"])
def test_estimator_end_to_end(engine, power_law):
    # EquationSearch(engine=...) recovers y = 2.5 x0 x1^2 and stays within 2x its CPU budget
    X, y = power_law
    model = EquationSearch(engine=engine, time_limit=3, seed=1).fit(X, y)
    x0, x1 = sp.symbols("x0 x1")
    assert is_symbolic_solution(model.best_.sympy, x0 * x1**2), model.equations_
    assert model.search_seconds_ < 6


@pytest.mark.parametrize("engine", ["rl", "hybrid"])
def test_time_limit_respected(engine):
    # on noisy data (no exact fit to stop early) the search uses roughly its budget (within 2x)
    gen = np.random.default_rng(3)
    X = gen.uniform(1, 3, size=(300, 2))
    y = np.sin(X[:, 0]) * X[:, 1] ** 2 + gen.normal(0, 0.1, 300)
    model = EquationSearch(engine=engine, time_limit=2, seed=0).fit(X, y)
    assert 1.0 <= model.search_seconds_ <= 4


def test_callback_stops_the_estimator(power_law):
    # the estimator's callback reaches the rl engine: returning True ends the search early
    X, y = power_law
    seen: list[SearchProgress] = []

    def stop(progress: SearchProgress) -> bool:
        seen.append(progress)
        return True

    model = EquationSearch(engine="rl", time_limit=30, seed=0).fit(X, y, callback=stop)
    assert len(seen) == 1 and model.search_seconds_ < 15


def test_docs_rl_example_runs(capsys):
    # the example of the "rl and hybrid engines" section of docs/equations.md runs as written
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Engines `rl` and `hybrid`") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    code = re.sub(r"time_limit=\d+", "time_limit=2", code)  # keep the test short
    exec(compile(code, str(DOC), "exec"), {})
    assert capsys.readouterr().out.count("True") == 2
