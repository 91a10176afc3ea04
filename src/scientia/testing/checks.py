"""Conformance checks: the contract of each role, runnable on any implementation.

Each ``check_*`` function exercises one role's contract and raises :class:`AssertionError`
naming the implementation, the rule that was broken, what was expected and what came back. They
are plain functions (no pytest needed), so a plugin author calls them from their own tests::

    from scientia.testing import check_surrogate
    def test_my_model():
        check_surrogate(MyModel)

The library's own implementations pass them in ``tests/conformance``.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from scientia.protocols import Evaluator, Proposer, Space, Surrogate
from scientia.types import Candidate, Observation, Prediction

__all__ = ["check_evaluator", "check_proposer", "check_space", "check_surrogate"]

_STATUSES = ("ok", "failed", "censored")


# -- helpers -----------------------------------------------------------------------------------
def _name(obj: Any) -> str:
    return getattr(obj, "__name__", None) or type(obj).__name__


def _require(cond: Any, where: str, what: str) -> None:
    """Raise ``AssertionError("<where>: <what>")`` unless ``cond``; survives ``python -O``."""
    if not cond:
        raise AssertionError(f"{where}: {what}")


def _missing_methods(obj: Any, names: Sequence[str]) -> list[str]:
    return [n for n in names if not callable(getattr(obj, n, None))]


class _GlobalRNGGuard:
    """Notice whether numpy's global RNG was used (the house rule: no global RNG is touched)."""

    def __enter__(self) -> _GlobalRNGGuard:
        self.before = pickle.dumps(np.random.get_state())
        return self

    def __exit__(self, *exc: Any) -> None:
        self.touched = pickle.dumps(np.random.get_state()) != self.before


def _same_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Parameter mappings equal, numbers compared to 1e-9 relative (float round-off)."""
    if set(a) != set(b):
        return False
    for k, va in a.items():
        vb = b[k]
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)) and not isinstance(va, bool):
            if not math.isclose(float(va), float(vb), rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif va != vb:
            return False
    return True


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON-serialisable")


# -- Space -------------------------------------------------------------------------------------
def check_space(space: Any, *, n: int = 8, seed: int = 0) -> None:
    """Check that ``space`` honours the :class:`~scientia.protocols.Space` contract.

    The space must hold at least ``n`` candidates. Checked: ``sample(n, seed)`` returns ``n``
    candidates that ``contains`` accepts, is reproducible for the same seed (int or Generator),
    varies with the seed and leaves numpy's global RNG alone; ``encode`` gives a finite float
    matrix of shape (n, dim) within [0, 1], row by row the same as one at a time;
    ``decode(encode(c)) == c`` (numbers to 1e-9); ``decode`` maps any point of the unit cube to
    a candidate with every parameter; ``contains`` says False (without raising) to unknown
    parameters; ``to_dict`` is JSON and ``from_dict(to_dict())`` rebuilds an equal space.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    where = f"check_space({_name(space)})"
    missing = _missing_methods(space, ["sample", "contains", "encode", "decode", "to_dict"])
    _require(not missing, where, f"missing method(s) {', '.join(missing)} of the Space protocol")
    _require(isinstance(space, Space), where, "is not a scientia.protocols.Space")

    with _GlobalRNGGuard() as guard:
        cands = space.sample(n, seed)
    _require(not guard.touched, where, "sample() used numpy's global RNG; draw from rng(seed) instead")
    _require(isinstance(cands, list), where, f"sample() must return a list; got {type(cands).__name__}")
    _require(len(cands) == n, where, f"sample({n}, seed={seed}) returned {len(cands)} candidates")
    bad = [c for c in cands if not isinstance(c, Candidate)]
    _require(
        not bad, where, f"sample() must return Candidate objects; got {type(bad[0]).__name__ if bad else ''}"
    )
    outside = [c for c in cands if not space.contains(c)]
    _require(not outside, where, f"contains() rejects its own sample {outside[0].params if outside else ''}")

    ids = [c.id for c in cands]
    _require(
        ids == [c.id for c in space.sample(n, seed)], where, f"sample(n, seed={seed}) differs between calls"
    )
    g1 = [c.id for c in space.sample(n, np.random.default_rng(seed))]
    g2 = [c.id for c in space.sample(n, np.random.default_rng(seed))]
    _require(g1 == g2, where, "sample() with equal numpy Generators gave different candidates")
    if n >= 2:
        _require(len(set(ids)) > 1, where, f"sample({n}) gave {n} copies of one candidate")
        others = [[c.id for c in space.sample(n, seed + k)] for k in (1, 2, 3)]
        _require(any(o != ids for o in others), where, "sample() ignores its seed")

    X = space.encode(cands)
    _require(isinstance(X, np.ndarray), where, f"encode() must return an ndarray; got {type(X).__name__}")
    _require(X.ndim == 2, where, f"encode() must return a 2-D matrix; got shape {X.shape}")
    dim = int(getattr(space, "dim", X.shape[1]))
    _require(
        X.shape == (n, dim), where, f"encode() of {n} candidates has shape {X.shape}; expected ({n}, {dim})"
    )
    _require(np.issubdtype(X.dtype, np.floating), where, f"encode() must give floats; got dtype {X.dtype}")
    _require(np.all(np.isfinite(X)), where, "encode() gave non-finite values")
    lo, hi = float(X.min()), float(X.max())
    _require(
        lo >= -1e-9 and hi <= 1 + 1e-9, where, f"encode() values must lie in [0, 1]; got [{lo:g}, {hi:g}]"
    )
    for i, c in enumerate(cands):
        row = space.encode([c])
        _require(
            np.allclose(row, X[i : i + 1], rtol=0, atol=1e-12),
            where,
            f"encode([c]) differs from row {i} of encode(candidates): encoding must be row by row",
        )

    back = space.decode(X)
    _require(len(back) == n, where, f"decode() of {n} rows returned {len(back)} candidates")
    for c, b in zip(cands, back, strict=True):
        _require(
            isinstance(b, Candidate) and _same_params(c.params, b.params),
            where,
            f"decode(encode(c)) != c: {c.params} came back as {getattr(b, 'params', b)}",
        )

    grid = np.vstack([np.zeros(dim), np.ones(dim), np.random.default_rng(seed).random((6, dim))])
    decoded = space.decode(grid)
    names = set(cands[0].params)
    _require(len(decoded) == len(grid), where, f"decode() of {len(grid)} rows returned {len(decoded)}")
    for b in decoded:
        _require(
            isinstance(b, Candidate) and set(b.params) == names,
            where,
            f"decode() of a point in the unit cube gave {getattr(b, 'params', b)}; expected parameters {sorted(names)}",
        )

    strange = [Candidate({}), Candidate({**cands[0].params, "__not_a_parameter__": 1.0})]
    for c in strange:
        try:
            inside = space.contains(c)
        except Exception as exc:  # noqa: BLE001 - the contract is "return False"
            raise AssertionError(
                f"{where}: contains() must return False for a foreign candidate; it raised {exc!r}"
            ) from None
        _require(
            inside is False or inside is np.False_,
            where,
            f"contains() accepts the foreign candidate {c.params}",
        )

    data = space.to_dict()
    _require(isinstance(data, dict), where, f"to_dict() must return a dict; got {type(data).__name__}")
    try:
        text = json.dumps(data, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"{where}: to_dict() is not JSON-serialisable: {exc}") from None
    from_dict = getattr(type(space), "from_dict", None)
    if from_dict is not None:
        rebuilt = from_dict(json.loads(text))
        _require(
            rebuilt.to_dict() == json.loads(text),
            where,
            "from_dict(to_dict()).to_dict() differs from to_dict()",
        )
        _require(all(rebuilt.contains(c) for c in cands), where, "the rebuilt space rejects the sample")
        _require(
            np.allclose(rebuilt.encode(cands), X, rtol=0, atol=1e-9),
            where,
            "the rebuilt space encodes the sample differently",
        )


# -- Surrogate ---------------------------------------------------------------------------------
def _smooth(X: np.ndarray) -> np.ndarray:
    """A smooth test function on [0, 1]^2, two outcomes, shape (n, 2)."""
    y1 = np.sin(3 * X[:, 0]) + np.cos(2 * X[:, 1]) + X[:, 0] * X[:, 1]
    y2 = (X[:, 0] - 0.4) ** 2 - 0.5 * X[:, 1]
    return np.stack([y1, y2], 1)


def check_surrogate(surrogate_factory: Callable[[], Any], *, n_train: int = 40, seed: int = 0) -> None:
    """Check that the surrogates made by ``surrogate_factory()`` honour the Surrogate contract.

    Checked on a smooth function of two inputs: ``fit`` returns the model itself and leaves its
    inputs unchanged; ``predict`` returns a :class:`~scientia.types.Prediction` whose ``mean``
    and ``std`` have shape (n, m) (also for one point and for two outcomes), are finite, with
    ``std >= 0`` and not all zero; predictions do not depend on the other rows of the batch;
    the same seed gives the same predictions (and a numpy Generator is accepted as seed); numpy's
    global RNG is left alone; and the model predicts held-out points clearly better (RMSE below
    0.8 times) than the training mean does.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    where = f"check_surrogate({_name(surrogate_factory)})"
    data = np.random.default_rng(12345)
    X = data.random((n_train, 2))
    Xt = data.random((60, 2))
    Y, Yt = _smooth(X)[:, :1], _smooth(Xt)[:, :1]
    X0, Y0 = X.copy(), Y.copy()

    model = surrogate_factory()
    missing = _missing_methods(model, ["fit", "predict"])
    _require(not missing, where, f"missing method(s) {', '.join(missing)} of the Surrogate protocol")
    _require(isinstance(model, Surrogate), where, "is not a scientia.protocols.Surrogate")
    with _GlobalRNGGuard() as guard:
        fitted = model.fit(X, Y, seed=seed)
        pred = fitted.predict(Xt) if fitted is model else None
    _require(
        fitted is model, where, f"fit() must return the model itself (self); got {type(fitted).__name__}"
    )
    assert pred is not None
    _require(not guard.touched, where, "fit() or predict() used numpy's global RNG")
    _require(np.array_equal(X, X0) and np.array_equal(Y, Y0), where, "fit() modified its X or Y in place")

    def _check_pred(p: Any, shape: tuple[int, int], what: str) -> None:
        _require(isinstance(p, Prediction), where, f"{what} must return a Prediction; got {type(p).__name__}")
        _require(p.mean.shape == shape, where, f"{what}: mean has shape {p.mean.shape}; expected {shape}")
        _require(p.std.shape == shape, where, f"{what}: std has shape {p.std.shape}; expected {shape}")
        _require(np.all(np.isfinite(p.mean)), where, f"{what}: mean has non-finite values")
        _require(np.all(np.isfinite(p.std)), where, f"{what}: std has non-finite values")
        _require(np.all(p.std >= 0), where, f"{what}: std has negative values")

    _check_pred(pred, (len(Xt), 1), "predict(X)")
    Xt0 = Xt.copy()
    _check_pred(model.predict(Xt[:1]), (1, 1), "predict() of one point")
    _require(np.array_equal(Xt, Xt0), where, "predict() modified its X in place")
    _require(float(pred.std.max()) > 0, where, "std is zero everywhere: a surrogate must report uncertainty")

    scale = float(np.std(Yt)) or 1.0
    for i in (0, 7, 31):
        one = model.predict(Xt[i : i + 1])
        _require(
            np.allclose(one.mean, pred.mean[i : i + 1], rtol=1e-5, atol=1e-6 * scale)
            and np.allclose(one.std, pred.std[i : i + 1], rtol=1e-5, atol=1e-6 * scale),
            where,
            f"predict() of row {i} alone differs from the same row in a batch",
        )

    rmse = float(np.sqrt(np.mean((pred.mean - Yt) ** 2)))
    baseline = float(np.sqrt(np.mean((Y.mean() - Yt) ** 2)))
    _require(
        rmse < 0.8 * baseline,
        where,
        f"held-out RMSE {rmse:.3g} on a smooth function is not clearly below that of the training "
        f"mean ({baseline:.3g}): the model does not learn",
    )

    again = surrogate_factory().fit(X, Y, seed=seed).predict(Xt)
    _require(
        np.allclose(again.mean, pred.mean, rtol=1e-6, atol=1e-9 * scale)
        and np.allclose(again.std, pred.std, rtol=1e-6, atol=1e-9 * scale),
        where,
        f"two fits with seed={seed} give different predictions",
    )
    gen = surrogate_factory().fit(X, Y, seed=np.random.default_rng(seed)).predict(Xt)
    _check_pred(gen, (len(Xt), 1), "predict() after fit(seed=Generator)")

    Y2 = _smooth(X)
    multi = surrogate_factory().fit(X, Y2, seed=seed)
    _check_pred(multi.predict(Xt), (len(Xt), 2), "predict() after fitting two outcomes")


# -- Proposer ----------------------------------------------------------------------------------
def check_proposer(
    proposer_factory: Callable[[], Any], space: Any, *, n: int = 3, seed: int = 0, state: Any = None
) -> None:
    """Check that proposers made by ``proposer_factory()`` honour the Proposer contract on ``space``.

    ``state`` defaults to :func:`scientia.testing.fakes.make_state` (observed, failed, pending
    and excluded candidates). Checked: ``propose(state, n, seed)`` returns ``n`` distinct
    :class:`~scientia.proposers.base.Proposal` objects whose candidates the space contains and
    that are neither observed (ok or failed), pending nor excluded; each names its strategy;
    predicted mean / std, when given, are finite per objective with ``std >= 0``; the same seed
    gives the same proposals (from a fresh proposer and from the same one); numpy's global RNG is
    left alone; and a campaign with no data (cold start) also gets ``n`` valid proposals.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    from scientia.proposers.base import Proposal
    from scientia.testing.fakes import make_state

    where = f"check_proposer({_name(proposer_factory)})"
    proposer = proposer_factory()
    _require(
        callable(getattr(proposer, "propose", None)), where, "missing method propose of the Proposer protocol"
    )
    _require(
        isinstance(getattr(proposer, "name", None), str) and proposer.name,
        where,
        "needs a non-empty str `name`",
    )
    _require(isinstance(proposer, Proposer), where, "is not a scientia.protocols.Proposer")
    state = state if state is not None else make_state(space, seed=seed)
    empty = make_state(space, n_observed=0, n_failed=0, n_pending=0, n_excluded=0)
    objectives = {o.name for o in state.objectives}

    def _check(props: Any, st: Any, what: str) -> list[str]:
        _require(
            isinstance(props, list),
            where,
            f"{what}: propose() must return a list; got {type(props).__name__}",
        )
        _require(len(props) == n, where, f"{what}: propose(state, {n}) returned {len(props)} proposals")
        taken = st.taken_ids()
        ids = []
        for p in props:
            _require(
                isinstance(p, Proposal), where, f"{what}: expected Proposal objects; got {type(p).__name__}"
            )
            c = p.candidate
            _require(isinstance(c, Candidate), where, f"{what}: a proposal's candidate must be a Candidate")
            _require(
                isinstance(p.strategy, str) and p.strategy, where, f"{what}: a proposal needs a strategy name"
            )
            _require(space.contains(c), where, f"{what}: proposed {c.params}, which is not in the space")
            _require(
                c.id not in taken,
                where,
                f"{what}: proposed {c.params}, already observed, pending or excluded",
            )
            for label, values in (("mean", p.mean), ("std", p.std)):
                if values is None:
                    continue
                _require(
                    set(values) <= objectives,
                    where,
                    f"{what}: predicted {label} names {sorted(values)}; objectives are {sorted(objectives)}",
                )
                _require(
                    all(math.isfinite(v) for v in values.values()),
                    where,
                    f"{what}: predicted {label} is not finite",
                )
            if p.std is not None:
                _require(all(v >= 0 for v in p.std.values()), where, f"{what}: predicted std is negative")
            ids.append(c.id)
        _require(
            len(set(ids)) == len(ids), where, f"{what}: the same candidate is proposed twice in one batch"
        )
        return ids

    with _GlobalRNGGuard() as guard:
        first = _check(proposer.propose(state, n, seed=seed), state, "with data")
    _require(not guard.touched, where, "propose() used numpy's global RNG; draw from rng(seed) instead")
    fresh = _check(proposer_factory().propose(state, n, seed=seed), state, "with data, again")
    _require(fresh == first, where, f"two proposers with seed={seed} proposed different candidates")
    same = _check(proposer.propose(state, n, seed=seed), state, "with data, same proposer again")
    _require(
        same == first, where, "the same proposer gave different candidates for the same seed (hidden state?)"
    )
    _check(proposer_factory().propose(empty, n, seed=seed), empty, "cold start (no observations)")


# -- Evaluator ---------------------------------------------------------------------------------
def check_evaluator(
    evaluator: Any, candidates: Sequence[Candidate], *, outcomes: Sequence[str] | None = None
) -> None:
    """Check that ``evaluator`` honours the Evaluator contract on ``candidates``.

    ``evaluate`` is called once on ``candidates`` (an emulator answers each row only once) and
    once on an empty list. Checked: one :class:`~scientia.types.Observation` per candidate, in
    order, for the same candidate; a valid status; ``ok`` observations carry at least one outcome
    (each of ``outcomes`` when given); metadata is a mapping; every observation survives a JSON
    round trip (as the ledger stores it); an empty list gives an empty list.

    Raises
    ------
    AssertionError
        Naming the first rule broken.
    """
    where = f"check_evaluator({_name(evaluator)})"
    _require(
        callable(getattr(evaluator, "evaluate", None)),
        where,
        "missing method evaluate of the Evaluator protocol",
    )
    _require(isinstance(evaluator, Evaluator), where, "is not a scientia.protocols.Evaluator")
    none = evaluator.evaluate([])
    _require(isinstance(none, list) and not none, where, f"evaluate([]) must return []; got {none!r}")
    obs = evaluator.evaluate(list(candidates))
    _require(isinstance(obs, list), where, f"evaluate() must return a list; got {type(obs).__name__}")
    _require(
        len(obs) == len(candidates),
        where,
        f"evaluate() of {len(candidates)} candidates returned {len(obs)} observations",
    )
    for i, (c, o) in enumerate(zip(candidates, obs, strict=True)):
        _require(isinstance(o, Observation), where, f"item {i} is a {type(o).__name__}, not an Observation")
        _require(
            o.candidate.id == c.id,
            where,
            f"observation {i} is for {o.candidate.params}, not {c.params}: keep the order",
        )
        _require(o.status in _STATUSES, where, f"observation {i} has status {o.status!r}")
        _require(isinstance(o.metadata, Mapping), where, f"observation {i}: metadata must be a mapping")
        if o.status == "ok":
            _require(o.outcomes, where, f"observation {i} is ok but has no outcome")
            for name in outcomes or ():
                _require(name in o.outcomes, where, f"observation {i} is ok but has no outcome {name!r}")
        try:
            text = json.dumps(o.to_dict(), default=_json_default)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{where}: observation {i} cannot be stored as JSON: {exc}") from None
        back = Observation.from_dict(json.loads(text))
        _require(
            back.candidate.id == o.candidate.id
            and back.status == o.status
            and back.outcomes.keys() == o.outcomes.keys(),
            where,
            f"observation {i} does not survive a JSON round trip",
        )
