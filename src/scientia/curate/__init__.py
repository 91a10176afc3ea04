"""AI-aided data collection and curation.

* :mod:`scientia.curate.select` — rare-event triggers (autoencoder, isolation forest, ECOD, kNN,
  ensembles) with thresholds calibrated to a target accept rate, and a streaming trigger;
* :mod:`scientia.curate.annotate` — labelling with few labels: label propagation and spreading,
  self-training with pseudo-labels, active labelling with a person in the loop;
* :mod:`scientia.curate.augment` — symmetry-aware augmentation of images and fields, SMILES
  enumeration;
* :mod:`scientia.curate.generate` — generative models of tabular data (a VAE, a normalizing flow);
* :mod:`scientia.curate.refine` — self-supervised denoising and super-resolution of measurements.

Importing this package imports neither torch nor scikit-learn; they load when a model is fitted.
"""

__all__ = ["annotate", "augment", "generate", "refine", "select"]
