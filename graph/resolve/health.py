"""Graph health after each resolve: the profile-size distribution, the largest
profiles, quarantine and the share of model links, compared with the resolve
before, so that a "giant cluster" silently merging customers raises an alarm.

Pure: :func:`snapshot` summarizes figures the store gives; :func:`alarms` compares
two snapshots against :class:`HealthLimits`. The app records both after every full
resolve (``app.linking``), logs the alarms, serves them in the API and metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.resolve.preview import size_distribution

__all__ = ["HealthLimits", "alarms", "distribution_shift", "snapshot"]


@dataclass(frozen=True)
class HealthLimits:
    #: a profile with more members than this is an alarm (no customer has that many)
    max_profile_size: int = 200
    #: total-variation distance between two resolves' size distributions (shares of
    #: profiles per size bucket) above this is an alarm
    max_distribution_shift: float = 0.05
    #: quarantine growing by more than this share (and by at least 10) is an alarm
    max_quarantine_growth: float = 0.5


def snapshot(
    sizes: Mapping[int, int],
    largest: Sequence[tuple[str, int]],
    *,
    quarantined: int,
    identifiers: int,
    model_links: int,
    at: int,
) -> dict[str, Any]:
    """The figures one resolve leaves (JSON-ready)."""
    profiles = sum(sizes.values())
    return {
        "at": at,
        "profiles": profiles,
        "sizes": size_distribution(sizes),
        "largest": [{"profile_id": pid, "size": size} for pid, size in largest],
        "quarantined": quarantined,
        "identifiers": identifiers,
        "model_links": model_links,
        "model_link_share": round(model_links / identifiers, 6) if identifiers else 0.0,
    }


def distribution_shift(before: Mapping[str, int], after: Mapping[str, int]) -> float:
    """Total-variation distance between two size distributions (0: the same shares of
    profiles in every bucket; 1: nothing in common)."""
    total_b, total_a = sum(before.values()), sum(after.values())
    if not total_b or not total_a:
        return 0.0
    buckets = set(before) | set(after)
    return 0.5 * sum(abs(before.get(k, 0) / total_b - after.get(k, 0) / total_a) for k in buckets)


def alarms(
    previous: Mapping[str, Any] | None, current: Mapping[str, Any], limits: HealthLimits
) -> list[dict[str, Any]]:
    """What is wrong with ``current``, alone and next to ``previous``."""
    found: list[dict[str, Any]] = []
    giants = [p for p in current["largest"] if p["size"] > limits.max_profile_size]
    for giant in giants:
        found.append({
            "kind": "giant_profile",
            "profile_id": giant["profile_id"],
            "message": f"profile {giant['profile_id']} has {giant['size']} members, over the "
            f"limit of {limits.max_profile_size} (health_max_profile_size)",
        })  # fmt: skip
    if previous:
        shift = distribution_shift(previous["sizes"], current["sizes"])
        if shift > limits.max_distribution_shift:
            found.append({
                "kind": "distribution_shift",
                "shift": round(shift, 4),
                "message": f"the profile-size distribution moved by {shift:.3f} (total "
                f"variation) since the last resolve, over {limits.max_distribution_shift} "
                "(health_max_distribution_shift)",
            })  # fmt: skip
        grew = current["quarantined"] - previous["quarantined"]
        if grew >= 10 and grew > limits.max_quarantine_growth * max(1, previous["quarantined"]):
            found.append({
                "kind": "quarantine_growth",
                "grew": grew,
                "message": f"quarantine grew from {previous['quarantined']} to "
                f"{current['quarantined']} identifiers since the last resolve",
            })  # fmt: skip
    return found
