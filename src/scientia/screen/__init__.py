"""Virtual screening with calibrated uncertainty: featurize, fit, calibrate, rank a library.

* :mod:`~scientia.screen.features` — Morgan bit/count fingerprints and RDKit 2D descriptors,
  streamed in chunks; unreadable SMILES are reported with line and reason, never fatal;
* :mod:`~scientia.screen.graphs` — molecular graphs (PyTorch Geometric ``Data``) with one-hot
  atom and bond features, streamed and reported the same way;
* :mod:`~scientia.screen.models` — :class:`ScreeningModel`: a featurizer, an estimator that
  returns a :class:`~scientia.types.Prediction` (deep ensemble, Tanimoto GP, classifier
  ensemble, message-passing GNN ensemble of :mod:`~scientia.screen.gnn`) and a calibrator,
  saved to and loaded from a directory;
* :mod:`~scientia.screen.calibrate` — split conformal, CV+ and isotonic recalibration;
* :mod:`~scientia.screen.metrics` — accuracy and calibration metrics, bootstrap intervals;
* :mod:`~scientia.screen.splits` — random, scaffold and Butina-cluster splits;
* :mod:`~scientia.screen.train` and :mod:`~scientia.screen.card` — the train → calibrate →
  evaluate protocol and its model card;
* :mod:`~scientia.screen.library` — streaming a library file and keeping the best hits.

Importing this package is light: RDKit, torch, PyTorch Geometric and BoTorch load inside the
functions that use them.
"""

from scientia.screen.features import Features, Featurizer, Reject
from scientia.screen.graphs import GraphFeaturizer
from scientia.screen.models import ScreeningModel, screen_models

__all__ = ["Features", "Featurizer", "GraphFeaturizer", "Reject", "ScreeningModel", "screen_models"]
