"""The link model: calibrated probabilities and a threshold for a target precision.

Follows scikit-learn's estimator conventions: ``__init__`` stores settings,
``fit`` returns ``self``, learned state ends in ``_``, ``predict_proba`` checks
that the model is fitted. Persisted with its metadata by :mod:`ml.model_files`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.validation import check_is_fitted

__all__ = ["LinkModel", "precision_curve"]


def _wilson_lower(hits: NDArray[Any], n: NDArray[Any], z: float) -> NDArray[Any]:
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return np.asarray((centre - spread) / (1 + z * z / n))


def precision_curve(
    scores: NDArray[Any], labels: NDArray[Any], z: float = 1.96
) -> list[dict[str, float]]:
    """Precision (point and Wilson lower bound) of accepting every score at or above
    each distinct threshold, highest threshold first."""
    if len(scores) == 0:
        return []
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    hits = np.cumsum(labels[order])
    n = np.arange(1, len(order) + 1)
    lower = _wilson_lower(hits, n, z)
    curve = []
    for i in range(len(order)):
        if i + 1 < len(order) and sorted_scores[i + 1] == sorted_scores[i]:
            continue  # a threshold accepts every pair with an equal score
        curve.append(
            {
                "threshold": float(sorted_scores[i]),
                "accepted": int(n[i]),
                "hits": int(hits[i]),
                "precision": float(hits[i] / n[i]),
                "precision_lower_bound": float(lower[i]),
            }
        )
    return curve


class LinkModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees, isotonic-calibrated; thresholds per candidate family are
    chosen by the trainer (:func:`ml.training.train_model`) and set as ``thresholds_``."""

    def __init__(self, max_iter: int = 200, random_state: int = 0) -> None:
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: NDArray[Any], y: NDArray[Any]) -> LinkModel:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both positive and negative pairs")
        trees = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=0.1, random_state=self.random_state
        )
        self.calibrated_ = CalibratedClassifierCV(trees, method="isotonic", cv=3).fit(X, y)
        self.classes_ = self.calibrated_.classes_
        self.n_features_in_ = X.shape[1]
        self.thresholds_: dict[str, float] = {}
        return self

    @property
    def threshold_(self) -> float:
        """The threshold for identified-profile candidates (above 1: links nothing)."""
        check_is_fitted(self, "calibrated_")
        return self.thresholds_.get("profile", 1.01)

    def predict_proba(self, X: NDArray[Any]) -> NDArray[Any]:
        check_is_fitted(self, "calibrated_")
        return self.calibrated_.predict_proba(np.asarray(X, dtype=float))

    def predict(self, X: NDArray[Any]) -> NDArray[Any]:
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
