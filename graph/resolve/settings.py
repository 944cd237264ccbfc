"""What a resolution is decided with: merge limits, quarantine, purchases."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.resolve.integrity import DEFAULT_HANDOVER_DAYS, DEFAULT_LIMITS, DEFAULT_QUARANTINE

__all__ = ["ResolveSettings"]


@dataclass(frozen=True)
class ResolveSettings:
    limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    quarantine_thresholds: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_QUARANTINE)
    )
    #: quarantine devices, cookies, e-mails and phones linked to two user_ids/loyalty_ids
    quarantine_shared: bool = True
    #: a phone or e-mail used with one person, then with another this many days later
    #: or more, was handed on (a recycled number): it links neither
    handover_days: float = DEFAULT_HANDOVER_DAYS
    #: event types whose amounts are purchases (profile facts)
    purchase_types: tuple[str, ...] = ("purchase",)
