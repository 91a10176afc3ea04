"""Label propagation and label spreading over a k-nearest-neighbour graph of embeddings.

Thin wrappers of scikit-learn's :class:`~sklearn.semi_supervised.LabelPropagation` (Zhu &
Ghahramani 2002: labelled nodes are clamped, labels diffuse along graph edges) and
:class:`~sklearn.semi_supervised.LabelSpreading` (Zhou et al. 2004, "Learning with local and
global consistency": a normalised graph Laplacian, and labelled nodes may change with weight
``alpha``), both with ``kernel="knn"``. We do not reimplement them; the wrapper adds feature
scaling, labels of any type with several spellings of "unlabelled", and fitted attributes named
in this package's style.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from scientia.curate.annotate._labels import decode, encode_partial
from scientia.curate.select._base import as_matrix
from scientia.errors import ValidationError

__all__ = ["LabelPropagator"]


class LabelPropagator:
    """Spread a few labels to unlabelled neighbours on a kNN graph (scikit-learn underneath).

    Parameters
    ----------
    method : {"propagation", "spreading"}
        ``LabelPropagation`` (labelled rows are fixed) or ``LabelSpreading`` (soft clamping).
    n_neighbors : int
        Neighbours per node in the kNN graph.
    alpha : float
        Spreading only: how much a labelled node may move towards its neighbours' labels (0 keeps
        the given labels exactly; scikit-learn's default 0.2).
    max_iter : int
        Iterations of the diffusion.
    scale : bool
        Standardise features (mean/std over all rows) before building the graph.

    Attributes
    ----------
    classes_ : ndarray, shape (k,)
        The classes seen among the labelled rows.
    transduction_ : ndarray, shape (n,)
        A label for every row of the training data (given ones kept for propagation).
    label_distributions_ : ndarray, shape (n, k)
        Class probabilities of every training row.
    model_ : sklearn estimator
        The fitted ``LabelPropagation`` or ``LabelSpreading``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.r_[np.random.default_rng(0).normal(0, 0.3, (50, 2)), np.random.default_rng(1).normal(3, 0.3, (50, 2))]
    >>> y = np.full(100, -1); y[0] = 0; y[50] = 1
    >>> LabelPropagator().fit(X, y).transduction_[[10, 60]].tolist()
    [0, 1]
    """

    def __init__(
        self,
        method: Literal["propagation", "spreading"] = "propagation",
        n_neighbors: int = 10,
        alpha: float = 0.2,
        max_iter: int = 1000,
        scale: bool = True,
    ) -> None:
        self.method = method
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_iter = max_iter
        self.scale = scale

    def _transform(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) / self.scale_ if self.scale else X

    def fit(self, X: Any, y: Any) -> LabelPropagator:
        """Fit on every row of ``X`` (shape (n, d)) and the partial labels ``y`` (shape (n,)).

        Unlabelled rows hold -1, NaN, None or "" in ``y``.
        """
        from sklearn.semi_supervised import LabelPropagation, LabelSpreading

        A = as_matrix(X, "X")
        codes, self.classes_ = encode_partial(y, n_rows=A.shape[0])
        sd = A.std(axis=0)
        self.mean_, self.scale_ = A.mean(axis=0), np.where(sd > 0, sd, 1.0)
        k = int(min(self.n_neighbors, A.shape[0] - 1))
        if k < 1:
            raise ValidationError("label propagation needs at least 2 rows")
        if self.method == "propagation":
            model: Any = LabelPropagation(kernel="knn", n_neighbors=k, max_iter=int(self.max_iter))
        elif self.method == "spreading":
            model = LabelSpreading(
                kernel="knn", n_neighbors=k, alpha=float(self.alpha), max_iter=int(self.max_iter)
            )
        else:
            raise ValidationError(f"method must be 'propagation' or 'spreading'; got {self.method!r}")
        import warnings

        with warnings.catch_warnings():  # max_iter reached is reported by sklearn as a warning
            warnings.simplefilter("ignore", category=Warning)
            model.fit(self._transform(A), codes)
        self.model_ = model
        dist = np.nan_to_num(np.asarray(model.label_distributions_, dtype=np.float64))
        rows = dist.sum(axis=1, keepdims=True)
        self.label_distributions_ = np.where(rows > 0, dist / np.where(rows > 0, rows, 1), 1 / dist.shape[1])
        self.transduction_ = decode(np.asarray(model.transduction_), self.classes_)
        self.n_features_in_ = A.shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n, k) of new rows from their neighbours in the fitted graph."""
        self._check()
        A = as_matrix(X, "X", self.n_features_in_)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            p = np.nan_to_num(self.model_.predict_proba(self._transform(A)))
        rows = p.sum(axis=1, keepdims=True)
        return np.where(rows > 0, p / np.where(rows > 0, rows, 1), 1 / p.shape[1])

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (n,) of new rows."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def _check(self) -> None:
        if not hasattr(self, "model_"):
            from scientia.curate.select._base import NotFittedError

            raise NotFittedError("this LabelPropagator is not fitted yet; call fit(X, y) first")
