"""Quality of profiles against ground truth: pure functions.

Evaluated items are the strong identifiers that belong to exactly one true
person. Values that belong to several people (a family tablet) or to nobody
(a placeholder typed at a till) have no single right answer; they are counted
and left out of the scores. What they glue together still shows: a profile
holding items of two people is an over-merge.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graph.ingest.events import Identifier
from graph.ingest.identifiers import Registry
from graph.resolve.clustering import connected_components
from graph.resolve.integrity import DEVICE_TYPES, IDENTITY_TYPES
from graph.store import GraphStore

__all__ = [
    "Quality",
    "anonymous_linked",
    "baselines",
    "evaluate",
    "household_quality",
    "merged_persons",
    "read_households",
    "read_truth",
]


@dataclass(frozen=True)
class Quality:
    items: int  #: evaluated identifiers (one true person each)
    excluded: int  #: identifiers of several or no true persons
    persons: int
    profiles: int  #: profiles holding at least one evaluated identifier
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    over_merged_profiles: int  #: profiles mixing more than one true person
    over_merge_rate: float
    fragmentation: float  #: profiles per true person (1.0 = none split)
    split_persons: int  #: persons spread over more than one profile
    largest_profile: int
    largest_person: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def read_truth(path: Path) -> dict[Identifier, set[str]]:
    """``type,value,person_id`` rows; a value may belong to several persons."""
    truth: dict[Identifier, set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            truth[Identifier(row["type"], row["value"])].add(row["person_id"])
    return dict(truth)


def evaluate(
    predicted: Mapping[Identifier, str], truth: Mapping[Identifier, Iterable[str]]
) -> Quality:
    """Compare identifier -> profile against identifier -> true persons.

    Identifiers in truth but missing from ``predicted`` count as singleton
    profiles. Cost: O(n) over the evaluated identifiers.
    """
    owners = {i: set(p) for i, p in truth.items()}
    items = {i: next(iter(p)) for i, p in owners.items() if len(p) == 1}
    excluded = sum(1 for p in owners.values() if len(p) != 1)
    profile_of = {i: predicted.get(i, f"singleton:{i.type}:{i.value}") for i in items}
    cell: Counter[tuple[str, str]] = Counter((profile_of[i], person) for i, person in items.items())
    profile_size: Counter[str] = Counter(profile_of.values())
    person_size: Counter[str] = Counter(items.values())

    precision = sum(n * n / profile_size[c] for (c, _), n in cell.items()) / max(len(items), 1)
    recall = sum(n * n / person_size[p] for (_, p), n in cell.items()) / max(len(items), 1)
    same = sum(n * (n - 1) // 2 for n in cell.values())
    predicted_pairs = sum(n * (n - 1) // 2 for n in profile_size.values())
    true_pairs = sum(n * (n - 1) // 2 for n in person_size.values())
    pair_p = same / predicted_pairs if predicted_pairs else 1.0
    pair_r = same / true_pairs if true_pairs else 1.0
    persons_in: dict[str, set[str]] = defaultdict(set)
    profiles_of: dict[str, set[str]] = defaultdict(set)
    for c, p in cell:
        persons_in[c].add(p)
        profiles_of[p].add(c)
    over = sum(1 for persons in persons_in.values() if len(persons) > 1)
    largest_profile = Counter(predicted.values()).most_common(1)
    return Quality(
        items=len(items),
        excluded=excluded,
        persons=len(person_size),
        profiles=len(profile_size),
        bcubed_precision=precision,
        bcubed_recall=recall,
        bcubed_f1=_f1(precision, recall),
        pairwise_precision=pair_p,
        pairwise_recall=pair_r,
        pairwise_f1=_f1(pair_p, pair_r),
        over_merged_profiles=over,
        over_merge_rate=over / max(len(profile_size), 1),
        fragmentation=sum(len(c) for c in profiles_of.values()) / max(len(profiles_of), 1),
        split_persons=sum(1 for c in profiles_of.values() if len(c) > 1),
        largest_profile=largest_profile[0][1] if largest_profile else 0,
        largest_person=max(Counter(p for ps in owners.values() for p in ps).values(), default=0),
    )


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def baselines(store: GraphStore, registry: Registry) -> dict[str, dict[Identifier, str]]:
    """Profiles two naive ways, from the same stored links: deterministic links only
    (no merge protection), and linking everything that shares an IP."""
    strong = registry.strong_types
    every = strong + registry.weak_types
    return {
        "deterministic only": _components(
            store.identifiers_of_types(strong), store.links_between_types(strong)
        ),
        "naive IP linking": _components(
            store.identifiers_of_types(every), store.links_between_types(every)
        ),
    }


def _components(
    nodes: list[Identifier], edges: list[tuple[Identifier, Identifier]]
) -> dict[Identifier, str]:
    groups = connected_components(nodes, edges)
    return {m: f"c{n}" for n, group in enumerate(groups) for m in group}


def merged_persons(
    predicted: Mapping[Identifier, str],
    truth: Mapping[Identifier, Iterable[str]],
    *,
    types: Iterable[str] | None = IDENTITY_TYPES,
) -> int:
    """Persons whose identifiers share a profile with another person's, over the
    identifiers of one true person each. By default only identity identifiers
    count (two customers merged); ``types=None`` counts every identifier (also a
    person whose cookie sits in someone else's profile). Cost: O(n)."""
    kinds = set(types) if types is not None else None
    persons_in: dict[str, set[str]] = defaultdict(set)
    for identifier, owners in truth.items():
        owners = set(owners)
        if len(owners) != 1 or identifier not in predicted:
            continue
        if kinds is None or identifier.type in kinds:
            persons_in[predicted[identifier]].add(next(iter(owners)))
    return sum(len(persons) for persons in persons_in.values() if len(persons) > 1)


def anonymous_linked(
    predicted: Mapping[Identifier, str],
    truth: Mapping[Identifier, Iterable[str]],
    links: Iterable[tuple[Identifier, Identifier]],
) -> tuple[float, int]:
    """Share of anonymous devices (cookies and device IDs never seen in an event with
    an e-mail, phone, user_id or loyalty card) whose profile holds an identity
    identifier of their own person, over those whose person has one; and how many
    such devices there are."""
    seen_with_identity = {
        x for a, b in links for x, y in ((a, b), (b, a)) if y.type in IDENTITY_TYPES
    }
    owner = {i: next(iter(p)) for i, p in ((i, set(p)) for i, p in truth.items()) if len(p) == 1}
    identities: dict[str, set[Identifier]] = defaultdict(set)
    for identifier, person in owner.items():
        if identifier.type in IDENTITY_TYPES:
            identities[person].add(identifier)
    members: dict[str, set[Identifier]] = defaultdict(set)
    for identifier, profile in predicted.items():
        members[profile].add(identifier)
    devices = [
        i
        for i, person in owner.items()
        if i.type in DEVICE_TYPES
        and i not in seen_with_identity
        and identities[person]
        and i in predicted
    ]
    linked = sum(1 for i in devices if members[predicted[i]] & identities[owner[i]])
    return (linked / len(devices) if devices else 0.0), len(devices)


def read_households(path: Path) -> dict[str, str]:
    """person_id -> true household ID (``households.csv`` of a generated world)."""
    with path.open(newline="", encoding="utf-8") as f:
        return {row["person_id"]: row["household_id"] for row in csv.DictReader(f)}


def household_quality(
    assignments: Mapping[Identifier, str],
    household_of: Mapping[str, str],
    truth: Mapping[Identifier, set[str]],
    true_households: Mapping[str, str],
) -> dict[str, Any]:
    """Pairwise precision and recall of household membership, over persons whose
    identity identifiers (e-mail, phone, user_id, loyalty card) are in a profile: a
    person's profile is the one holding most of them, their household that
    profile's (none when it is in none). A pair is predicted when both persons'
    profiles are in one household (two persons in one *profile* are not counted:
    that is profile quality), true when they live together."""
    votes: dict[str, Counter[str]] = {}
    for identifier, pid in assignments.items():
        owners = truth.get(identifier, set())
        if identifier.type in IDENTITY_TYPES and len(owners) == 1:
            votes.setdefault(next(iter(owners)), Counter())[pid] += 1
    profile_of = {person: counts.most_common(1)[0][0] for person, counts in votes.items()}
    persons = sorted(profile_of)
    by_home: dict[str, list[str]] = {}
    for person in persons:
        by_home.setdefault(true_households.get(person, person), []).append(person)
    true_pairs = {(a, b) for group in by_home.values() for i, a in enumerate(group)
                  for b in group[i + 1:]}  # fmt: skip
    by_household: dict[str, list[str]] = {}
    for person in persons:
        hid = household_of.get(profile_of[person])
        if hid is not None:
            by_household.setdefault(hid, []).append(person)
    predicted = {(a, b) for group in by_household.values() for i, a in enumerate(group)
                 for b in group[i + 1:] if profile_of[a] != profile_of[b]}  # fmt: skip
    true_pairs = {(a, b) for a, b in true_pairs if profile_of[a] != profile_of[b]}
    hits = len(predicted & true_pairs)
    return {
        "persons": len(persons),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(predicted),
        "precision": hits / len(predicted) if predicted else 1.0,
        "recall": hits / len(true_pairs) if true_pairs else 1.0,
        "households": len(by_household),
    }
