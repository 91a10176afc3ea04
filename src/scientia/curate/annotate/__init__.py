"""Annotation: label data when only a few items carry a label.

* :class:`LabelPropagator` — label propagation / spreading over a kNN graph (scikit-learn's
  ``LabelPropagation`` / ``LabelSpreading``, wrapped);
* :class:`SelfTrainer` — self-training with confident pseudo-labels around any classifier;
  :class:`SupervisedOnly` — the labelled-rows-only baseline;
* :class:`ActiveLearner` and :func:`query` — choose the items a person should label next
  (uncertainty, margin, entropy, k-center diversity, expected model change, random);
* :func:`learning_curve` — accuracy against the number of labels.

Partial labels are vectors with one entry per row; unlabelled rows hold -1, NaN, None or "".
"""

from scientia.curate.annotate._labels import UNLABELLED, encode_partial, is_unlabelled
from scientia.curate.annotate.active import STRATEGIES, ActiveLearner, LabelRound, query
from scientia.curate.annotate.curves import LearningCurve, labelled_subset, learning_curve
from scientia.curate.annotate.graph import LabelPropagator
from scientia.curate.annotate.self_training import SelfTrainer, SupervisedOnly, default_classifier

__all__ = [
    "STRATEGIES",
    "UNLABELLED",
    "ActiveLearner",
    "LabelPropagator",
    "LabelRound",
    "LearningCurve",
    "SelfTrainer",
    "SupervisedOnly",
    "default_classifier",
    "encode_partial",
    "is_unlabelled",
    "labelled_subset",
    "learning_curve",
    "query",
]
