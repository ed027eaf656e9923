"""Out-of-domain statistics of an ensemble (numpy only, no torch): which feature map is pooled,
the per-fold training-domain distribution of the pooled features, and Mahalanobis distances.

The statistics file (domain-statistics.json beside the manifest) holds, per fold, the mean of the
training images' pooled features and the lower Cholesky factor L of the inverse of their
Ledoit-Wolf-shrunk covariance, so that the distance of a feature vector x is |L^T (x - mean)|.
The runtime (server/src/model/domain.ts) computes the same and combines folds by their mean.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

# Candidate layers: module paths of models/training/model.py whose last activation is pooled.
FEATURE_LAYERS: Dict[str, str] = {
    "backbone-p3": "c3_3/cv3",
    "backbone-p4": "c3_4/cv3",
    "sppf": "sppf/cv2",
    "neck-p3": "td3/cv3",
    "neck-p4": "bu4/cv3",
    "neck-p5": "bu5/cv3",
}
# The layer the shipped model uses, chosen by measurement (see the model card).
DEFAULT_DOMAIN_LAYER = "backbone-p4"


def ledoit_wolf(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit and Wolf's (2004) shrinkage of the sample covariance towards a scaled identity.

    Returns the shrunk covariance and the shrinkage weight; the same estimator as scikit-learn's
    LedoitWolf (which is not installed here)."""
    n, p = x.shape
    centred = x - x.mean(axis=0)
    sample = centred.T @ centred / n
    mu = np.trace(sample) / p
    delta = np.sum((sample - mu * np.eye(p)) ** 2) / p
    squares = centred**2
    beta = np.sum(squares.T @ squares / n - sample**2) / (p * n)
    shrinkage = float(min(beta, delta) / delta) if delta > 0 else 1.0
    return (1 - shrinkage) * sample + shrinkage * mu * np.eye(p), shrinkage


def fold_statistics(features: np.ndarray) -> dict:
    """Mean and the lower Cholesky factor of the shrunk precision of one fold's training features."""
    mean = features.mean(axis=0)
    covariance, shrinkage = ledoit_wolf(features)
    precision = np.linalg.inv(covariance)
    precision = (precision + precision.T) / 2
    factor = np.linalg.cholesky(precision)
    return {"mean": mean, "factor": factor, "shrinkage": shrinkage}


def distances(features: np.ndarray, stats: dict) -> np.ndarray:
    """Mahalanobis distance of each row of features [n, p] to one fold's distribution."""
    return np.linalg.norm((features - stats["mean"]) @ stats["factor"], axis=1)


def packed_lower(factor: np.ndarray) -> List[float]:
    """Row-major lower triangle (row i holds i + 1 values), as the runtime reads it."""
    return [float(v) for i in range(factor.shape[0]) for v in factor[i, : i + 1]]
