"""Whether the browser chains link: their estimated precision against the bar per
link, or what their wrong groups could cost against the room under the profiles'
precision target (:mod:`ml.error_budget`). Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from graph.ingest.events import Identifier
from graph.resolve.clustering import connected_components
from graph.resolve.integrity import Link
from ml.browsers import BrowserChains
from ml.error_budget import budget_for

__all__ = ["browser_decision", "look_alike_browsers", "wrong_group_cost"]


def browser_decision(
    estimate: Mapping[str, Any],
    chains: BrowserChains,
    clusters: Sequence[Sequence[Identifier]],
    links: Sequence[Link],
    *,
    target: float,
    floor: float,
    profile_precision: float,
    room: float | None = None,
) -> dict[str, Any]:
    """Whether the browser family links ``links`` (the chain links of ``chains`` on
    ``clusters``), and by which bar (``by``):

    - ``precision``: the 95% lower bound of its estimated precision (``estimate``,
      :func:`ml.browsers.lookalike_estimate`) reaches ``target``;
    - ``budget``: it does not, but reaches ``floor``, and what its wrong groups
      could cost fits the room the profiles' precision target leaves
      (:mod:`ml.error_budget`): the 95% upper bound of the share of groups hiding two
      people times what each would cost at most (:func:`wrong_group_cost`:
      half the profile it ends in). A flat bar per link refused chains whose wrong
      links would have cost the profiles little: on big-households and short-period
      worlds, links right 0.95-0.99 of the time gave B-cubed precision 0.998-0.999.
      The whole room is theirs (when they link, the model's families do not), and the
      bound per wrong group was twice what wrong groups cost on every world measured
      (docs/architecture.md, issue #10 Round 9).

    ``room``: the room of the graph ``clusters`` stand for, when they are a sample
    of it (:mod:`ml.sampling`; default: theirs).
    """
    # the whole room is theirs: when they link, the model's families do not
    if room is None:
        room = budget_for(clusters, (), target=profile_precision, share=1.0).total
    lower = float(estimate["precision_lower_bound"])
    by, cost = None, None
    if lower >= target:
        by = "precision"
    elif lower >= floor and links:  # costed only when the room decides (~1 s at 1M)
        cost = (1 - lower) * wrong_group_cost(chains, clusters, links)
        by = "budget" if cost <= room else None
    return {
        "reached": by is not None,
        "by": by,
        "wrong_groups_cost": None if cost is None else round(cost, 2),
        "room": round(room, 2),
        "floor": floor,
    }


def wrong_group_cost(
    chains: BrowserChains, clusters: Sequence[Sequence[Identifier]], links: Iterable[Link]
) -> float:
    """What one wrong group of each of ``chains``' groups would cost the profiles at
    most, added up (identifier-shares of B-cubed precision, :mod:`ml.error_budget`).

    A group that hides two people joins their identifiers: with ``a`` of one person's
    and ``b`` of the other's in the profile it ends in, B-cubed precision loses
    ``2ab / (a + b)`` identifier-shares, at most half the profile's size (``a = b``).
    The profile is the one ``clusters`` make once every link of ``links`` (the chains'
    own) is applied: a chain that reaches a logged-in cookie costs the size of that
    customer's profile, not its own. Times the share of wrong groups, this bounds what
    the chains' wrong links cost, however their cookies are spread."""
    position = {m: n for n, members in enumerate(clusters) for m in members}
    joined = connected_components(
        list(range(len(clusters))),
        ((position[lk.a], position[lk.b]) for lk in links
         if lk.a in position and lk.b in position),
    )  # fmt: skip
    size_of: dict[int, int] = {}
    for component in joined:
        size = sum(len(clusters[n]) for n in component)
        size_of.update(dict.fromkeys(component, size))
    return sum(
        max((size_of[position[m]] if m in position else 1) for m in group) / 2
        for group in chains.chains
    )


def look_alike_browsers(estimate: Mapping[str, Any], floor: float) -> str:
    """Why the device family may not link here ("" when it may): it decides what the
    browser chains decide — is this cookie the same browser as that one? — and where
    the chains' estimate (``estimate``: :func:`ml.browsers.home_chains`) says the
    browsers at homes cannot be told apart (its 95% lower bound under ``floor``, the
    chains' own: one phone model and browser version for a whole household), the
    device family's simulated decisions were far above the truth: estimated 1.0000
    against a true 0.9726 (seed 2002) and 0.9223 (seed 5002) on same-user-agents
    worlds (docs/architecture.md, Round 10). Checked at ``train`` and again at
    ``resolve`` on the day's data."""
    bound = estimate["precision_lower_bound"]
    if not estimate.get("groups") or bound >= floor:
        return ""  # no browser seen at a home says nothing either way
    return (
        f"refused: browser chains find look-alike browsers (precision {bound:.4f} at the 95% "
        f"lower bound, under their floor {floor}), and the device family decides the same "
        "question on the same browsers"
    )
