"""Self-training with pseudo-labels, and the supervised-only baseline it must beat.

Self-training (Yarowsky 1995; Lee 2013, "Pseudo-label", ICML workshop): fit a classifier on the
labelled rows, give the unlabelled rows it is most sure about their predicted labels, refit, and
repeat until nothing passes the confidence threshold. Our own loop (scikit-learn's
``SelfTrainingClassifier`` does the same) so that any classifier with ``predict_proba`` works and
the rounds are recorded.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from scientia.curate.annotate._labels import UNLABELLED, encode_partial
from scientia.curate.select._base import NotFittedError, as_matrix
from scientia.errors import ValidationError

__all__ = ["SelfTrainer", "SupervisedOnly", "default_classifier"]


def default_classifier() -> Any:
    """Standardised features into a logistic regression (scikit-learn), the default classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _as_features(X: Any) -> Any:
    """Sparse matrices pass through (text features); anything else becomes a checked dense matrix."""
    if hasattr(X, "tocsr"):
        return X.tocsr()
    return as_matrix(X, "X")


class _PartialClassifier:
    """Shared pieces: label encoding, prediction through the fitted classifier."""

    estimator: Any
    classes_: np.ndarray

    def _new_estimator(self) -> Any:
        return copy.deepcopy(self.estimator) if self.estimator is not None else default_classifier()

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, k), columns in the order of ``classes_``."""
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit(X, y) first")
        p = np.asarray(self.model_.predict_proba(_as_features(X)), dtype=np.float64)
        out = np.zeros((p.shape[0], len(self.classes_)))
        out[:, self.model_classes_] = p  # classes the model never saw keep probability 0
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Class labels, shape (n,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _fit_on(self, X: Any, codes: np.ndarray, rows: np.ndarray) -> Any:
        model = self._new_estimator()
        model.fit(X[rows], codes[rows])
        self.model_classes_ = np.asarray(model.classes_, dtype=np.int64)
        return model


class SupervisedOnly(_PartialClassifier):
    """The baseline: a classifier fitted on the labelled rows alone (unlabelled rows ignored).

    Parameters
    ----------
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba``; default :func:`default_classifier`.

    Attributes
    ----------
    classes_ : ndarray, shape (k,)
    model_ : the fitted classifier
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> SupervisedOnly:
        """Fit on the labelled rows of ``X`` (n, d); ``y`` (n,) marks unlabelled rows with -1/NaN/None/""."""
        A = _as_features(X)
        codes, self.classes_ = encode_partial(y, n_rows=A.shape[0])
        self.model_ = self._fit_on(A, codes, np.flatnonzero(codes != UNLABELLED))
        return self


class SelfTrainer(_PartialClassifier):
    """Self-training: pseudo-label the confident unlabelled rows, refit, repeat.

    Parameters
    ----------
    estimator : classifier, optional
        Any scikit-learn classifier with ``predict_proba``; default :func:`default_classifier`.
    threshold : float
        Smallest predicted probability for a pseudo-label to be accepted.
    max_iter : int
        Most rounds of pseudo-labelling.
    max_per_round : int or float, optional
        Cap on pseudo-labels added per round: a count, or a fraction of the unlabelled rows;
        the most confident go first, spread over classes in proportion to the labelled rows so
        that one dominant class cannot swallow the rest.

    Attributes
    ----------
    classes_ : ndarray, shape (k,)
    model_ : the final fitted classifier
    transduction_ : ndarray, shape (n,)
        Given labels, pseudo-labels, and the final model's prediction for the remaining rows.
    pseudo_labelled_ : ndarray of bool, shape (n,)
        Rows that received a pseudo-label.
    history_ : list of int
        Pseudo-labels added in each round.
    """

    def __init__(
        self,
        estimator: Any = None,
        threshold: float = 0.9,
        max_iter: int = 10,
        max_per_round: int | float | None = 0.2,
    ) -> None:
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter
        self.max_per_round = max_per_round

    def fit(self, X: Any, y: Any) -> SelfTrainer:
        """Fit on ``X`` (n, d) with partial labels ``y`` (n,) (-1/NaN/None/"" = unlabelled)."""
        if not 0.0 < float(self.threshold) <= 1.0:
            raise ValidationError(f"threshold must lie in (0, 1]; got {self.threshold!r}")
        A = _as_features(X)
        codes, self.classes_ = encode_partial(y, n_rows=A.shape[0])
        given = codes != UNLABELLED
        work = codes.copy()
        prior = np.bincount(codes[given], minlength=len(self.classes_)) / given.sum()
        self.history_: list[int] = []
        model = self._fit_on(A, work, np.flatnonzero(given))
        for _ in range(int(self.max_iter)):
            pool = np.flatnonzero(work == UNLABELLED)
            if pool.size == 0:
                break
            p = np.asarray(model.predict_proba(A[pool]))
            conf, pred = p.max(axis=1), self.model_classes_[p.argmax(axis=1)]
            ok = conf >= self.threshold
            chosen = self._cap(pool[ok], conf[ok], pred[ok], prior, pool.size)
            if chosen[0].size == 0:
                break
            work[chosen[0]] = chosen[1]
            self.history_.append(int(chosen[0].size))
            model = self._fit_on(A, work, np.flatnonzero(work != UNLABELLED))
        self.model_ = model
        self.pseudo_labelled_ = (work != UNLABELLED) & ~given
        final = work.copy()
        rest = np.flatnonzero(final == UNLABELLED)
        if rest.size:
            final[rest] = self.model_classes_[np.asarray(model.predict_proba(A[rest])).argmax(axis=1)]
        self.transduction_ = self.classes_[final]
        return self

    def _cap(
        self, rows: np.ndarray, conf: np.ndarray, pred: np.ndarray, prior: np.ndarray, n_pool: int
    ) -> tuple[np.ndarray, np.ndarray]:
        cap = self.max_per_round
        if cap is None or rows.size == 0:
            return rows, pred
        total = int(cap) if isinstance(cap, (int, np.integer)) else max(1, int(float(cap) * n_pool))
        keep: list[np.ndarray] = []
        for c, share in enumerate(prior):
            mine = np.flatnonzero(pred == c)
            quota = max(1, round(share * total))
            keep.append(mine[np.argsort(-conf[mine], kind="stable")[:quota]])
        idx = np.concatenate(keep) if keep else np.array([], dtype=np.int64)
        return rows[idx], pred[idx]
