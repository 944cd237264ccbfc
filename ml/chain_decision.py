"""Whether the browser chains link: their estimated precision against the bar per
link, or what their wrong groups could cost against the room under the profiles'
precision target (:mod:`ml.error_budget`) — all of them, or as many as the room
holds. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from graph.ingest.events import Identifier
from graph.resolve.clustering import connected_components
from graph.resolve.integrity import Link
from ml.browsers import BrowserChains, chain_links
from ml.error_budget import budget_for

__all__ = [
    "applied_links",
    "browser_decision",
    "group_costs",
    "kept_chains",
    "look_alike_browsers",
    "wrong_group_cost",
]


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

    When the cost of all the groups exceeds the room, the groups are taken in order
    of what a wrong one would cost, least first, as many as the room holds (``kept``:
    how many, :func:`kept_chains`); a refusal of them all made recall fall a cliff where the
    cost only just exceeded the room (cookie-churn at seed 7003: 77.2 against 72.2,
    recall 0.36 where the chains gave 0.56 at seed 1003; docs/architecture.md, issue
    #10 Round 11). Which groups hide two people is not known, so the choice by cost
    does not favour right ones; it leaves out the groups ending in the largest
    profiles, where a wrong group that joined two people is more likely.

    ``room``: the room of the graph ``clusters`` stand for, when they are a sample
    of it (:mod:`ml.sampling`; default: theirs).
    """
    # the whole room is theirs: when they link, the model's families do not
    if room is None:
        room = budget_for(clusters, (), target=profile_precision, share=1.0).total
    lower = float(estimate["precision_lower_bound"])
    by, cost, kept = None, None, None
    if lower >= target:
        by = "precision"
    elif lower >= floor and links:  # costed only when the room decides (~1 s at 1M)
        costs = group_costs(chains, clusters, links)
        cost = (1 - lower) * sum(costs)
        if cost <= room:
            by = "budget"
        elif within := _affordable(costs, room / (1 - lower)):
            by = "budget"
            kept = {"groups": len(within), "of": len(costs), "cost_cap": max(within),
                    "wrong_groups_cost": round((1 - lower) * sum(within), 2)}  # fmt: skip
    return {
        "reached": by is not None,
        "by": by,
        "wrong_groups_cost": None if cost is None else round(cost, 2),
        "room": round(room, 2),
        "floor": floor,
        "kept": kept,
    }


def _cheapest_first(costs: Sequence[float]) -> list[int]:
    """The groups in order of what a wrong one would cost, least first (ties: in
    their own order)."""
    return sorted(range(len(costs)), key=lambda n: (costs[n], n))


def _affordable(costs: Sequence[float], allowed: float) -> list[float]:
    """The costs of the most groups, cheapest first, that cost at most ``allowed``
    together."""
    taken: list[float] = []
    total = 0.0
    for n in _cheapest_first(costs):
        if total + costs[n] > allowed:
            break
        total += costs[n]
        taken.append(costs[n])
    return taken


def kept_chains(
    chains: BrowserChains,
    clusters: Sequence[Sequence[Identifier]],
    links: Sequence[Link],
    decision: Mapping[str, Any],
) -> BrowserChains:
    """The chains a decision applies (:func:`browser_decision`): all of them, or its
    ``kept`` number of groups, those whose wrong one would cost least, costed as the
    decision costed them (with every chain link ``links`` applied)."""
    kept = decision.get("kept")
    if not kept:
        return chains
    chosen = sorted(_cheapest_first(group_costs(chains, clusters, links))[: kept["groups"]])
    return replace(chains, chains=[chains.chains[n] for n in chosen])


def applied_links(
    chains: BrowserChains,
    clusters: Sequence[Sequence[Identifier]],
    links: Sequence[Link],
    decision: Mapping[str, Any],
    *,
    blocked: Iterable[Identifier],
    score: float,
) -> list[Link]:
    """The chain links a decision applies: ``links`` (every group's, made by
    :func:`ml.browsers.chain_links` with ``blocked`` and ``score``), or only those of
    the groups it kept (:func:`kept_chains`)."""
    if not decision.get("kept"):
        return list(links)
    return chain_links(kept_chains(chains, clusters, links, decision), clusters,
                       blocked=blocked, score=score)  # fmt: skip


def wrong_group_cost(
    chains: BrowserChains, clusters: Sequence[Sequence[Identifier]], links: Iterable[Link]
) -> float:
    """:func:`group_costs`, added up."""
    return sum(group_costs(chains, clusters, links))


def group_costs(
    chains: BrowserChains, clusters: Sequence[Sequence[Identifier]], links: Iterable[Link]
) -> list[float]:
    """What one wrong group of each of ``chains``' groups would cost the profiles at
    most, in their order (identifier-shares of B-cubed precision, :mod:`ml.error_budget`).

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
    return [
        max((size_of[position[m]] if m in position else 1) for m in group) / 2
        for group in chains.chains
    ]


def look_alike_browsers(estimate: Mapping[str, Any], floor: float) -> str:
    """Why the model's families may not link here ("" when they may): where the
    browser chains' estimate (``estimate``: :func:`ml.browsers.home_chains`) says the
    browsers at homes cannot be told apart (its 95% lower bound under ``floor``, the
    chains' own: one phone model and browser version for a whole household), the
    families' simulated decisions were far above the truth — the device family,
    which decides what the chains decide (is this cookie the same browser as that
    one?): estimated 1.0000 against a true 0.9726 (seed 2002) and 0.9223 (seed 5002;
    docs/architecture.md, Round 10); the profile family, whose candidates are the
    housemates whose browsers look alike: 1.0000 against 0.8630 (seed 9002, Round 12).
    Checked at ``train`` and again at ``resolve`` on the day's data."""
    bound = estimate["precision_lower_bound"]
    if not estimate.get("groups") or bound >= floor:
        return ""  # no browser seen at a home says nothing either way
    return (
        f"refused: browser chains find look-alike browsers (precision {bound:.4f} at the 95% "
        f"lower bound, under their floor {floor}); where housemates' browsers look alike, "
        "the model's simulated decisions were far above the truth"
    )
