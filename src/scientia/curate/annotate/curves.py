"""Learning curves: accuracy against the number of labels, over random labelled subsets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scientia.errors import ValidationError
from scientia.seeding import Seed, child_seeds

__all__ = ["LearningCurve", "labelled_subset", "learning_curve"]


@dataclass(frozen=True)
class LearningCurve:
    """Accuracy of one method against the number of labels.

    Attributes
    ----------
    n_labels : ndarray of int, shape (p,)
        Labels given at each point of the curve.
    accuracy : ndarray, shape (s, p)
        Accuracy of each seed (row) at each point (column).
    """

    n_labels: np.ndarray
    accuracy: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """Mean accuracy over seeds, shape (p,)."""
        return self.accuracy.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation over seeds, shape (p,)."""
        return self.accuracy.std(axis=0)


def labelled_subset(y: np.ndarray, n_labels: int, seed: Seed = None) -> np.ndarray:
    """Return ``n_labels`` row indices drawn at random with at least one row of every class.

    Parameters
    ----------
    y : ndarray, shape (n,)
        The true labels (all known; this simulates labelling a random subset).
    n_labels : int
        Number of rows to label (at least the number of classes).
    seed : int, Generator or None

    Returns
    -------
    ndarray of int, shape (n_labels,)
    """
    from scientia.seeding import rng

    gen = rng(seed)
    y = np.asarray(y)
    classes = np.unique(y)
    if not classes.size <= n_labels <= y.size:
        raise ValidationError(
            f"n_labels must lie between the number of classes ({classes.size}) and the number of "
            f"rows ({y.size}); got {n_labels}"
        )
    first = np.array([gen.choice(np.flatnonzero(y == c)) for c in classes])
    rest = np.setdiff1d(np.arange(y.size), first)
    more = gen.choice(rest, size=n_labels - first.size, replace=False)
    return np.concatenate([first, more])


def learning_curve(
    make_model: Callable[[], Any],
    X: Any,
    y: Sequence[Any] | np.ndarray,
    n_labels: Sequence[int],
    seeds: int | Sequence[int] = 3,
    X_test: Any = None,
    y_test: Any = None,
    seed: Seed = None,
    callback: Callable[[int, int, float], None] | None = None,
) -> LearningCurve:
    """Accuracy of a partially-labelled method as a function of how many rows are labelled.

    For every seed and every size ``k`` in ``n_labels``, ``k`` rows of ``X`` keep their label
    (at least one per class) and the others are hidden; ``make_model()`` is fitted on all rows
    with the partial labels and scored on ``(X_test, y_test)`` when given, else on the rows
    whose label was hidden (transductive accuracy).

    Parameters
    ----------
    make_model : callable
        Returns an unfitted model with ``fit(X, y_partial)`` and ``predict(X)`` (e.g.
        ``LabelPropagator``, ``SelfTrainer``, ``SupervisedOnly``).
    X : array-like, shape (n, d)
        All rows (dense or sparse).
    y : array-like, shape (n,)
        Their true labels.
    n_labels : sequence of int
        Numbers of labelled rows to try.
    seeds : int or sequence of int
        Number of random labelled subsets per size (or the explicit subset seeds).
    X_test, y_test : optional
        A separate test set; default: the rows whose label was hidden.
    seed : int, Generator or None
        Base seed when ``seeds`` is a count.
    callback : callable, optional
        Called as ``callback(seed_index, n_labels, accuracy)`` after each fit.

    Returns
    -------
    LearningCurve
    """
    y = np.asarray(y)
    seed_list = child_seeds(seed, seeds) if isinstance(seeds, int) else list(seeds)
    sizes = np.asarray(sorted(int(k) for k in n_labels))
    acc = np.empty((len(seed_list), sizes.size))
    for i, s in enumerate(seed_list):
        for j, k in enumerate(sizes):
            rows = labelled_subset(y, int(k), seed=s)
            partial = np.full(y.shape[0], None, dtype=object)
            partial[rows] = y[rows]
            model = make_model().fit(X, partial)
            if X_test is not None:
                acc[i, j] = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
            else:
                hidden = np.setdiff1d(np.arange(y.size), rows)
                acc[i, j] = float(np.mean(model.predict(X[hidden]) == y[hidden]))
            if callback is not None:
                callback(i, int(k), float(acc[i, j]))
    return LearningCurve(n_labels=sizes, accuracy=acc)
