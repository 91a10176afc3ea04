"""Active labelling: choose which items a person should label next, and the loop around it.

Query strategies (Settles 2009, "Active Learning Literature Survey", Univ. Wisconsin TR 1648):

* ``uncertainty`` — least confident: largest ``1 - max_c p(c | x)``;
* ``margin`` — smallest gap between the two most probable classes;
* ``entropy`` — largest predictive entropy;
* ``diversity`` — k-center greedy (Sener & Savarese 2018, "Active learning for convolutional
  neural networks: a core-set approach", ICLR): each pick is the item farthest from everything
  labelled or already picked;
* ``expected_model_change`` — expected gradient length (Settles, Craven, Ray 2008): for a
  (multinomial) logistic regression the log-loss gradient for label ``c`` is
  ``(p - e_c) ⊗ x̃`` with ``x̃ = [x, 1]``, so its expected norm is
  ``||x̃|| Σ_c p_c ||p - e_c||``;
* ``random`` — the baseline every strategy must beat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scientia.curate.annotate._labels import UNLABELLED, encode_partial, is_unlabelled
from scientia.curate.annotate.self_training import SupervisedOnly, _as_features
from scientia.errors import UnknownNameError, ValidationError
from scientia.seeding import Seed, rng

__all__ = ["STRATEGIES", "ActiveLearner", "LabelRound", "query"]

STRATEGIES = ("uncertainty", "margin", "entropy", "diversity", "expected_model_change", "random")


def _top(scores: np.ndarray, candidates: np.ndarray, n: int, gen: np.random.Generator) -> np.ndarray:
    """The ``n`` candidates with the largest scores; ties broken at random."""
    jitter = gen.random(candidates.size)
    order = np.lexsort((jitter, -scores))
    return candidates[order[:n]]


def _dense(X: Any) -> np.ndarray:
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)


def _k_center(
    X: Any, labelled: np.ndarray, candidates: np.ndarray, n: int, gen: np.random.Generator
) -> np.ndarray:
    """Greedy k-center picks among ``candidates`` given the ``labelled`` rows, shape (n,)."""
    C = _dense(X[candidates])
    if labelled.size:
        from sklearn.metrics import pairwise_distances

        L = _dense(X[labelled])
        dmin = pairwise_distances(C, L).min(axis=1)
    else:
        dmin = np.full(candidates.size, np.inf)
    picks: list[int] = []
    for _ in range(n):
        j = int(gen.integers(candidates.size)) if not np.isfinite(dmin).any() else int(np.argmax(dmin))
        picks.append(j)
        dmin = np.minimum(dmin, np.sqrt(((C - C[j]) ** 2).sum(axis=1)))
        dmin[picks] = -np.inf
    return candidates[np.asarray(picks, dtype=np.int64)]


def _gradient_length(model: Any, X: Any, proba: np.ndarray) -> np.ndarray:
    """Expected gradient length of the log-loss of a logistic regression at each row of ``X``."""
    inner = model.model if isinstance(model, _CodeModel) else model
    steps = getattr(inner, "steps", None)
    final = steps[-1][1] if steps else inner
    if not hasattr(final, "coef_"):
        raise ValidationError(
            f"expected_model_change needs a logistic-regression model (with coef_); got "
            f"{type(final).__name__}; use strategy 'margin' or a LogisticRegression estimator"
        )
    Z = inner[:-1].transform(X) if steps and len(steps) > 1 else X
    Z = _dense(Z)
    x_norm = np.sqrt((Z**2).sum(axis=1) + 1.0)
    k = proba.shape[1]
    # ||p - e_c||² = ||p||² - 2 p_c + 1
    sq = (proba**2).sum(axis=1, keepdims=True) - 2 * proba + 1.0
    expected = (proba * np.sqrt(np.maximum(sq, 0.0))).sum(axis=1) if k > 1 else np.zeros(len(Z))
    return x_norm * expected


def query(
    strategy: str,
    X: Any,
    labelled: np.ndarray,
    n: int,
    model: Any = None,
    seed: Seed = None,
) -> np.ndarray:
    """Return ``n`` distinct indices of unlabelled rows of ``X`` to label next.

    Parameters
    ----------
    strategy : str
        One of :data:`STRATEGIES`.
    X : array-like, shape (N, d)
        Every item (labelled or not); dense or sparse.
    labelled : ndarray of bool, shape (N,)
        Which rows already carry a label.
    n : int
        How many items to ask for (fewer if fewer are unlabelled).
    model : fitted classifier, optional
        Needed by the model-based strategies (``predict_proba``; a logistic regression, possibly
        at the end of a pipeline, for ``expected_model_change``).
    seed : int, Generator or None
        Breaks ties; drives ``random``.

    Returns
    -------
    ndarray of int, shape (min(n, #unlabelled),)
    """
    if strategy not in STRATEGIES:
        raise UnknownNameError.for_name("query strategy", strategy, STRATEGIES)
    gen = rng(seed)
    labelled = np.asarray(labelled, dtype=bool)
    candidates = np.flatnonzero(~labelled)
    n = int(min(n, candidates.size))
    if n <= 0:
        return np.array([], dtype=np.int64)
    if strategy == "random":
        return gen.choice(candidates, size=n, replace=False)
    if strategy == "diversity":
        return _k_center(X, np.flatnonzero(labelled), candidates, n, gen)
    if model is None:
        raise ValidationError(f"strategy {strategy!r} needs a fitted model; fit on the labelled rows first")
    Xc = X[candidates]
    p = np.asarray(model.predict_proba(Xc), dtype=np.float64)
    if strategy == "uncertainty":
        score = 1.0 - p.max(axis=1)
    elif strategy == "margin":
        top2 = np.sort(p, axis=1)[:, -2:] if p.shape[1] > 1 else np.c_[np.zeros(len(p)), p]
        score = -(top2[:, 1] - top2[:, 0])
    elif strategy == "entropy":
        score = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(axis=1)
    else:
        score = _gradient_length(model, Xc, p)
    return _top(score, candidates, n, gen)


@dataclass(frozen=True)
class LabelRound:
    """One round of active labelling: how many labels, which were asked, and the score then."""

    n_labels: int
    queried: tuple[int, ...]
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ActiveLearner:
    """Active labelling with a person (or any oracle) in the loop.

    ``fit(X, y)`` with partial labels; ``query(n)`` returns the rows to ask about; ``teach(rows,
    labels)`` records answers and refits. :meth:`run` automates the loop given an ``oracle``
    (a function from row indices to labels) and records a learning curve.

    Parameters
    ----------
    strategy : str
        Query strategy, one of :data:`STRATEGIES`.
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba``; default standardised logistic
        regression.
    seed : int, Generator or None
        Tie-breaking and the ``random`` strategy.

    Attributes
    ----------
    classes_ : ndarray
        Classes seen so far.
    labels_ : ndarray of int, shape (n,)
        Class codes (index into ``classes_``), -1 = unlabelled.
    history_ : list of LabelRound
    """

    def __init__(self, strategy: str = "margin", estimator: Any = None, seed: Seed = None) -> None:
        self.strategy = strategy
        self.estimator = estimator
        self.seed = seed

    def fit(self, X: Any, y: Any) -> ActiveLearner:
        """Store ``X`` (n, d) and the partial labels ``y`` (n,), and fit the classifier."""
        if self.strategy not in STRATEGIES:
            raise UnknownNameError.for_name("query strategy", self.strategy, STRATEGIES)
        self.X_ = _as_features(X)
        codes, self.classes_ = encode_partial(y, n_rows=self.X_.shape[0], min_classes=0)
        self.labels_ = codes
        self._gen = rng(self.seed)
        self.history_: list[LabelRound] = []
        self._refit()
        return self

    @property
    def labelled_(self) -> np.ndarray:
        """Mask (n,) of labelled rows."""
        return self.labels_ != UNLABELLED

    def _refit(self) -> None:
        y = self.labels_
        seen = np.unique(y[y != UNLABELLED])
        if seen.size >= 2:
            self.model_: Any = (
                SupervisedOnly(self.estimator).fit(self.X_, np.where(y == UNLABELLED, -1, y)).model_
            )
        else:
            self.model_ = None

    def query(self, n: int) -> np.ndarray:
        """Return ``n`` distinct unlabelled row indices to label next (diversity until 2 classes)."""
        strategy = self.strategy
        if self.model_ is None and strategy not in ("random", "diversity"):
            strategy = "diversity"
        model = _CodeModel(self.model_, len(self.classes_)) if self.model_ is not None else None
        return query(strategy, self.X_, self.labelled_, n, model=model, seed=self._gen)

    def teach(self, rows: Sequence[int] | np.ndarray, labels: Sequence[Any] | np.ndarray) -> ActiveLearner:
        """Record the ``labels`` given for ``rows`` (a blank/None label skips a row) and refit."""
        row_arr = np.asarray(rows, dtype=np.int64)
        labels_arr = np.asarray(labels, dtype=object)
        if row_arr.shape != labels_arr.shape:
            raise ValidationError(f"{row_arr.size} rows but {labels_arr.size} labels; give one label per row")
        skip = is_unlabelled(labels_arr)
        for r, lab in zip(row_arr[~skip], labels_arr[~skip], strict=True):
            if not 0 <= r < self.labels_.size:
                raise ValidationError(f"row {r} does not exist; rows run from 0 to {self.labels_.size - 1}")
            self.labels_[r] = self._code(lab)
        self._refit()
        return self

    def _code(self, label: Any) -> int:
        classes = list(self.classes_)
        for i, c in enumerate(classes):
            if c == label or str(c) == str(label):
                return i
        # a class nobody had labelled yet: extend the classes, keeping codes stable
        self.classes_ = np.asarray([*classes, label], dtype=object if isinstance(label, str) else None)
        return len(classes)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, k) from the current classifier, columns as ``classes_``."""
        if self.model_ is None:
            raise ValidationError("fewer than two classes are labelled; label more items first")
        return _CodeModel(self.model_, len(self.classes_)).predict_proba(_as_features(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (n,) from the current classifier."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def run(
        self,
        oracle: Callable[[np.ndarray], Sequence[Any]],
        budget: int,
        batch_size: int = 10,
        evaluate: Callable[[ActiveLearner], float] | None = None,
        callback: Callable[[LabelRound], None] | None = None,
    ) -> list[LabelRound]:
        """Query, ask the ``oracle`` and teach, ``batch_size`` items at a time, ``budget`` in all.

        ``evaluate`` (e.g. accuracy on a test set) is recorded after each round, giving a
        learning curve of score vs number of labels; ``callback`` sees each round.
        """
        asked = 0
        while asked < budget:
            rows = self.query(min(batch_size, budget - asked))
            if rows.size == 0:
                break
            self.teach(rows, list(oracle(rows)))
            asked += rows.size
            score = evaluate(self) if evaluate is not None and self.model_ is not None else None
            record = LabelRound(int(self.labelled_.sum()), tuple(int(r) for r in rows), score)
            self.history_.append(record)
            if callback is not None:
                callback(record)
        return self.history_


class _CodeModel:
    """A classifier fitted on class codes, with probability columns for every known class."""

    def __init__(self, model: Any, n_classes: int) -> None:
        self.model = model
        self.n_classes = n_classes

    def predict_proba(self, X: Any) -> np.ndarray:
        p = np.asarray(self.model.predict_proba(X), dtype=np.float64)
        out = np.zeros((p.shape[0], self.n_classes))
        out[:, np.asarray(self.model.classes_, dtype=np.int64)] = p
        return out
