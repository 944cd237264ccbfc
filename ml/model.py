"""The link model: calibrated probabilities and a threshold for a target precision.

Follows scikit-learn's estimator conventions: ``__init__`` stores settings,
``fit`` returns ``self``, learned state ends in ``_``, ``predict_proba`` checks
that the model is fitted. Persisted with its metadata by :mod:`ml.model_files`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.utils.validation import check_is_fitted

from ml.openmp import idle_core_threads

__all__ = ["LinkModel", "model_pair_metrics", "precision_curve"]


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


def model_pair_metrics(scores: NDArray[Any], y: NDArray[Any]) -> dict[str, Any]:
    """ROC AUC and average precision of ``scores`` against pair labels ``y``."""
    from sklearn.metrics import average_precision_score, roc_auc_score  # only to train

    two = len(np.unique(y)) == 2
    return {
        "pairs": len(y),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, scores)) if two else float("nan"),
        "average_precision": float(average_precision_score(y, scores)) if two else float("nan"),
    }


def _isotonic(raw: NDArray[Any], y: NDArray[Any]) -> IsotonicRegression:
    return IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)


class LinkModel(ClassifierMixin, BaseEstimator):
    """Gradient-boosted trees, one ensemble per fold of the training rows, their
    held-out scores isotonic-calibrated together; predicts the calibrated mean of the
    fold ensembles' scores. Thresholds per candidate family are chosen by the trainer
    (:func:`ml.training.train_model`) on the held-out scores (``oof_``) and set as
    ``thresholds_``.

    One fit per fold gives both the held-out scores the thresholds are chosen on and
    the model: the trainer no longer fits a calibrated model per fold (three ensembles
    each, calibrated on their own thirds) and another on every row — 15 ensembles
    where there are now ``folds`` (docs/benchmarks.md, "the link model fitted once a
    fold")."""

    def __init__(self, max_iter: int = 200, random_state: int = 0, folds: int = 3) -> None:
        self.max_iter = max_iter
        self.random_state = random_state
        self.folds = folds

    def fit(self, X: NDArray[Any], y: NDArray[Any], fold: NDArray[Any] | None = None) -> LinkModel:
        """``fold``: each row's fold (rows of fold k are held out of its ensemble; the
        trainer splits by customer); by default ``folds`` seeded folds of rows."""
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("training needs both positive and negative pairs")
        if fold is None:
            rng = np.random.default_rng(self.random_state)
            fold = rng.permutation(len(y)) % self.folds
        fold = np.asarray(fold, dtype=int)
        raw = np.full(len(y), np.nan)
        self.members_: dict[int, HistGradientBoostingClassifier] = {}
        for k in np.unique(fold).tolist():
            test = fold == k
            if len(np.unique(y[~test])) < 2:
                continue  # nothing to learn from: its rows stay unscored
            with idle_core_threads():  # counted again for each fold (ml.openmp)
                trees = HistGradientBoostingClassifier(
                    max_iter=self.max_iter, learning_rate=0.1, random_state=self.random_state
                ).fit(X[~test], y[~test])
                raw[test] = trees.predict_proba(X[test])[:, 1]
            self.members_[k] = trees
        scored = ~np.isnan(raw)
        if not self.members_:
            raise ValueError("no fold has both positive and negative pairs to learn from")
        self.calibrator_ = _isotonic(raw[scored], y[scored])
        # each row's held-out score is calibrated on the other folds' held-out scores,
        # so that neither its ensemble nor its calibration saw it (the model card's
        # calibration curve is drawn from these)
        self.fold_calibrators_: dict[int, IsotonicRegression] = {}
        #: each row's calibrated score from the ensemble that did not see it (0: unscored)
        self.oof_ = np.zeros(len(y))
        for k in self.members_:
            test = fold == k
            others = scored & ~test
            calibrator = _isotonic(raw[others], y[others]) if others.any() else self.calibrator_
            self.fold_calibrators_[k] = calibrator
            self.oof_[test] = calibrator.predict(raw[test])
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        self.thresholds_: dict[str, float] = {}
        return self

    @property
    def threshold_(self) -> float:
        """The threshold for identified-profile candidates (above 1: links nothing)."""
        check_is_fitted(self, "calibrator_")
        return self.thresholds_.get("profile", 1.01)

    def predict_proba(self, X: NDArray[Any]) -> NDArray[Any]:
        check_is_fitted(self, "calibrator_")
        X = np.asarray(X, dtype=float)
        with idle_core_threads(len(X)):
            raw = np.mean([m.predict_proba(X)[:, 1] for m in self.members_.values()], axis=0)
        p = self.calibrator_.predict(raw)
        return np.column_stack([1 - p, p])

    def fold_model(self, k: int) -> LinkModel:
        """The model of fold ``k``'s ensemble alone (for the rows it did not see), on
        the scale of ``oof_``."""
        check_is_fitted(self, "calibrator_")
        view = copy.copy(self)
        view.members_ = {k: self.members_[k]}
        view.calibrator_ = self.fold_calibrators_[k]
        return view

    def predict(self, X: NDArray[Any]) -> NDArray[Any]:
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(int)
