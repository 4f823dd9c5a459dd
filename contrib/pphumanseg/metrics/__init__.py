"""Evaluation metrics beyond mIoU, numpy-only so they also run outside training.

- ``pphumanseg.metrics.connectivity``: semantic connectivity (SC), the paper's measure of whether
  predicted connected components match the label's one-to-one (``SCMetric``,
  ``semantic_connectivity``); its component matching is shared with ``pphumanseg.losses.SCLoss``.
- ``pphumanseg.metrics.temporal``: temporal stability of video predictions.

Import the modules directly; this package imports nothing so that each stays independent.
"""
