"""The model card written beside a trained link model.

What a data engineer needs to trust (or refuse) a model: the data it learned
from, its features, the precision-recall and calibration curves of its
out-of-fold scores (PNG images), permutation feature importances on customers
it was not fitted on, and each threshold with the reason it was chosen.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CARD_FILE", "browser_why", "family_why", "read_card", "write_card"]

CARD_FILE = "model-card.json"
PR_CURVE_FILE = "precision-recall.png"
CALIBRATION_FILE = "calibration.png"


def write_card(
    folder: Path,
    metadata: dict[str, Any],
    *,
    scores: np.ndarray[Any, Any],
    labels: np.ndarray[Any, Any],
    importances: dict[str, dict[str, float]],
) -> dict[str, Any]:
    """Write the card (JSON) and its two images into ``folder``; returns the card."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve

    folder.mkdir(parents=True, exist_ok=True)
    precision, recall, _ = precision_recall_curve(labels, scores)
    observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy="quantile")
    _plot_pr(folder / PR_CURVE_FILE, recall, precision)
    _plot_calibration(folder / CALIBRATION_FILE, predicted, observed)
    card = {
        "version": metadata.get("version"),
        "data": {
            "observations": metadata.get("observations"),
            "customers": metadata.get("customers"),
            "queries": metadata.get("queries"),
            "pairs": metadata.get("pairs"),
            "excluded_ips": metadata.get("excluded_ips"),
            # trained on a sample of the graph (ml/sampling.py), or None: the whole graph
            "sample": metadata.get("sample"),
        },
        "features": metadata.get("features"),
        "pair_metrics_out_of_fold": metadata.get("held_out"),
        "thresholds": {
            family: {
                "threshold": metadata["thresholds"][family],
                "why": family_why(family, estimate),
                "estimated": estimate,
            }
            for family, estimate in metadata.get("estimated", {}).items()
        },
        "calibration": [
            {"predicted": round(float(p), 4), "observed": round(float(o), 4)}
            for p, o in zip(predicted, observed, strict=True)
        ],
        "permutation_importance": importances,
        "images": {"precision_recall": PR_CURVE_FILE, "calibration": CALIBRATION_FILE},
        "settings": metadata.get("settings"),
        "seconds": metadata.get("seconds"),
    }
    (folder / CARD_FILE).write_text(json.dumps(card, indent=2, default=float) + "\n")
    return card


def read_card(folder: Path) -> dict[str, Any] | None:
    path = folder / CARD_FILE
    if not path.exists():
        return None
    card: dict[str, Any] = json.loads(path.read_text())
    return card


def family_why(family: str, estimate: dict[str, Any]) -> str:
    """Why a family's threshold is what it is, in a sentence (the card's "why")."""
    target = estimate["target"]
    if family == "browser":
        return browser_why(estimate)
    budget = estimate.get("budget")
    if estimate.get("refused"):
        return f"{estimate['refused']}: this family links nothing"
    if not estimate["reached"]:
        best = estimate["best_reachable"]
        room = (
            f"no threshold's expected wrong links fit its part of the error budget "
            f"({budget['allowed']:.1f} of {budget['total']:.1f} identifier-shares that profile "
            f"precision {budget['profile_precision']} leaves over {budget['items']} identifiers)"
            + (
                f" with its decisions right at least {budget['floor']} of the time (95% lower "
                "bound, the family's floor)"
                if "floor" in budget
                else ""
            )
            if budget
            else f"no threshold reaches {target}"
        )
        return (
            f"{room}; the best reachable precision of simulated decisions is "
            f"{best['precision_lower_bound']:.4f} (95% lower bound) at recall "
            f"{best['recall']:.4f}: this family links nothing"
        )
    kind = "pairs" if family == "device" else "decisions (owner present and taken away)"
    unjudged = estimate.get("unjudged")
    rule = (
        f"the score with most expected right links whose expected wrong ones (at most "
        f"{budget['expected_wrong_at_most']:.1f} of {budget['expected_links']:.0f}"
        + (
            " links the model makes on this graph's anonymous clusters, counted"
            if "decisions_counted" in budget
            else ""
        )
        + ", 95% bound, "
        f"each costing up to {budget['cost_of_a_wrong_link']:.1f} identifier-shares) fit its "
        f"{budget['allowed']:.1f} of the {budget['total']:.1f} identifier-shares that profile "
        f"precision {budget['profile_precision']} leaves over {budget['items']} identifiers; "
        f"its out-of-fold {kind} are right at least {budget['bar']:.4f} of the time (95% "
        "lower bound)"
        if budget
        else f"the lowest score at which the 95% lower bound of precision over out-of-fold "
        f"{kind} reaches {target}"
    )
    return (
        f"{rule}: estimated precision {estimate['precision']:.4f}, recall "
        f"{estimate['recall']:.4f} ({estimate['accepted']} accepted"
        + (
            f"; {unjudged} more chose an anonymous cookie that may be the browser's own "
            "and were not judged"
            if unjudged
            else ""
        )
        + ")"
    )


def browser_why(estimate: dict[str, Any]) -> str:
    """The browser family's decision in words (card, CLI)."""
    seen = (
        f"{estimate['overlapping_groups']} of {estimate['groups'] + estimate['overlapping_groups']}"
        f" (IP, user agent) groups at homes show two look-alike browsers; two different "
        f"browsers look like one {estimate['consistent_by_chance']:.1%} of the time"
        f"{_in_turn(estimate)}{_homes(estimate)}"
    )
    bound = (
        f"estimated precision {estimate['precision']:.4f}, 95% lower bound "
        f"{estimate['precision_lower_bound']:.4f}"
    )
    cost = _cost(estimate)
    if not estimate["reached"]:
        return (
            f"{bound} < {estimate['target']} ({seen}){cost}: "
            "no browser chains; the model's families decide instead"
        )
    if estimate.get("by") == "resolve":
        return (
            f"{bound} < {estimate['target']} ({seen}){cost}, on a sample of the graph's "
            "homes: `resolve` decides on the whole graph whether chain links join clusters "
            "(they supersede the model's families)"
        )
    compared = ">=" if estimate.get("by", "precision") == "precision" else "<"
    return (
        f"{bound} {compared} {estimate['target']} ({seen}){cost}: "
        f"{estimate['accepted']} chain links join clusters; they supersede the model's families"
    )


def _cost(estimate: dict[str, Any]) -> str:
    """The cost of the chains' wrong groups against the room under the profiles'
    precision target (:func:`ml.chain_decision.browser_decision`), when it decided."""
    if "wrong_groups_cost" not in estimate or estimate.get("by") == "precision":
        return ""  # a model trained before it was counted, or the bar decided alone
    if estimate["precision_lower_bound"] < estimate["floor"]:
        return f"; under the floor {estimate['floor']} whatever the cost"
    if estimate["wrong_groups_cost"] is None:
        return ""  # no chain links to cost
    fits = "fits" if estimate["wrong_groups_cost"] <= estimate["room"] else "exceeds"
    said = (
        f"; its wrong groups could cost at most {estimate['wrong_groups_cost']:.1f} "
        f"identifier-shares, which {fits} the {estimate['room']:.1f} that the profiles' "
        "precision target leaves"
    )
    if kept := estimate.get("kept"):
        said += (
            f"; applied: the {kept['groups']} of {kept['of']} groups whose wrong one would "
            f"cost least (at most {kept['cost_cap']:.1f} each; {kept['wrong_groups_cost']:.1f} "
            "identifier-shares in all)"
        )
    return said


def _in_turn(estimate: dict[str, Any]) -> str:
    """The look-alike groups of people who used an address one after the other."""
    if "in_turn" not in estimate:
        return ""  # a model trained before they were counted
    return (
        f"; about {estimate['in_turn']:.0f} groups hide two people who used an address in "
        f"turn with browsers that look alike"
    )


def _homes(estimate: dict[str, Any]) -> str:
    """Which IPs counted as homes, and why no wider (:func:`ml.browsers.home_chains`)."""
    if "home_max_agents" not in estimate:
        return ""
    text = f"; homes: IPs with at most {estimate['home_max_agents']} user agents"
    refused = [band for band in estimate.get("bands", ()) if not band["added"]]
    if refused:
        band = refused[0]
        text += (
            f" (up to {band['max_agents']}: those IPs' own groups estimated "
            f"{band['precision']:.4f}, or the whole's bound falls below the target)"
        )
    return text


def _plot_pr(path: Path, recall: Any, precision: Any) -> None:
    figure, axes = _figure()
    axes.plot(recall, precision, color="#1f77b4")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_title("Link model: precision-recall (out-of-fold pairs)")
    axes.set_ylim(0, 1.02)
    _save(figure, path)


def _plot_calibration(path: Path, predicted: Any, observed: Any) -> None:
    figure, axes = _figure()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.plot(predicted, observed, marker="o", color="#d62728", label="link model")
    axes.set_xlabel("predicted probability")
    axes.set_ylabel("observed share of true links")
    axes.set_title("Link model: calibration (out-of-fold pairs)")
    axes.legend(loc="upper left")
    _save(figure, path)


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot.subplots(figsize=(6, 4.5), dpi=100)


def _save(figure: Any, path: Path) -> None:
    from matplotlib import pyplot

    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)
