"""Profile look-ups shared by the API and the CLI (plain dicts out)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from app.confidence import confident_part
from app.segments import segments_of_profile
from graph.errors import IdentifierRejected, IdgraphError, InputError, NotFound
from graph.ingest.events import Identifier, format_ts, now_ms
from graph.ingest.identifiers import Registry
from graph.privacy import mask_value
from graph.profiles.facts import FactInput, fact_input, json_object, profile_facts
from graph.resolve.resolution import ResolveSettings
from graph.store import GraphStore, ProfileRecord

__all__ = ["get_profile", "lookup_identifier", "lookup_identifier_json", "normalize_query"]

logger = logging.getLogger(__name__)


def normalize_query(registry: Registry, type_name: str, value: str) -> Identifier:
    """The identifier a caller means, normalized like ingested values."""
    try:
        return Identifier(type_name, registry.normalize(type_name, value))
    except IdentifierRejected as e:
        raise InputError(
            e.reason, field="type" if e.field == "type" else "value", value=value
        ) from e


def lookup_identifier(
    store: GraphStore,
    registry: Registry,
    type_name: str,
    value: str,
    *,
    min_confidence: float = 0.0,
    settings: ResolveSettings | None = None,
    purchase_types: Sequence[str] = ("purchase",),
) -> dict[str, Any]:
    """``{"identifier": …, "profile": …}`` for one identifier, or :class:`NotFound`;
    with ``min_confidence``, the profile as it stands without links below it
    (:mod:`app.confidence`)."""
    answer: dict[str, Any] = json.loads(lookup_identifier_json(
        store, registry, type_name, value, min_confidence=min_confidence, settings=settings,
        purchase_types=purchase_types))  # fmt: skip
    return answer


def lookup_identifier_json(
    store: GraphStore,
    registry: Registry,
    type_name: str,
    value: str,
    *,
    min_confidence: float = 0.0,
    settings: ResolveSettings | None = None,
    purchase_types: Sequence[str] = ("purchase",),
    later: Callable[[Callable[[], None]], None] | None = None,
) -> str:
    """:func:`lookup_identifier` as JSON text, built around the ready document as it
    is stored (no decoding and re-encoding of the profile: the look-up's hot path).
    The API's response schema dumps a profile to exactly what the document holds
    (tests/integration/test_serving.py checks that the two answers are equal).

    A profile rendered because its ready document was stale is kept ready for the
    next look-up: saved before this returns, or handed to ``later`` to run once the
    answer is sent (the API: a write less before the answer, one that can queue
    behind the store's other writes; the look-up right after a merge renders)."""
    identifier, profile_id, document = _profile_document(
        store, registry, type_name, value, min_confidence=min_confidence, settings=settings,
        purchase_types=purchase_types, later=later)  # fmt: skip
    # segments are never kept ready: rules such as "seen in the last 30 days" change
    # with the clock, not with writes
    segments = segments_of_profile(store, registry, profile_id)
    if _SEGMENTS in document:  # a "segments" key in its traits: decoded first
        profile = json.loads(document)
        profile["segments"] = segments
        document = json.dumps(profile, sort_keys=True)
    else:  # a JSON object (json.dumps of a dict): the key goes before its last brace
        document = f"{document[:-1]}, {_SEGMENTS} {json.dumps(segments)}}}"
    key = json.dumps({"type": identifier.type, "value": identifier.value}, sort_keys=True)
    return f'{{"identifier": {key}, "profile": {document}}}'


#: the key spliced into a ready document (never one of its own: documents are
#: rendered without segments)
_SEGMENTS = '"segments":'


def _profile_document(
    store: GraphStore,
    registry: Registry,
    type_name: str,
    value: str,
    *,
    min_confidence: float,
    settings: ResolveSettings | None,
    purchase_types: Sequence[str],
    later: Callable[[Callable[[], None]], None] | None = None,
) -> tuple[Identifier, str, str]:
    """The identifier asked for, its profile's ID, and the profile as JSON text
    without segments: the ready document when it is current (graph/store/serving.py),
    else rendered — and kept ready when it is the whole profile."""
    identifier = normalize_query(registry, type_name, value)
    ready = store.ready_profile(identifier)
    if not ready.seen:
        raise NotFound(f"no {identifier.type} {_mask(identifier)} has been seen")
    if not registry[identifier.type].strong:
        raise NotFound(
            f"{identifier.type} is a weak identifier: evidence for links, never a profile member"
        )
    if ready.profile_id is None and ready.quarantined:
        raise NotFound(f"{identifier.type} {_mask(identifier)} is quarantined and in no profile")
    if ready.profile_id is None:
        raise NotFound(
            f"{identifier.type} {_mask(identifier)} was ingested after the last resolve; "
            "run `idgraph resolve`"
        )
    if min_confidence == 0 and ready.document is not None:
        return identifier, ready.profile_id, ready.document
    profile = get_profile(store, registry, ready.profile_id, min_confidence=min_confidence,
                          settings=settings, holding=identifier, purchase_types=purchase_types,
                          with_segments=False)  # fmt: skip
    document = json.dumps(profile, sort_keys=True)
    if min_confidence == 0 and profile["profile_id"] == ready.profile_id:
        save = functools.partial(store.save_ready_profile, ready.profile_id, document,
                                 revision=ready.revision, generation=ready.generation)  # fmt: skip
        if later is None:
            save()
        else:
            later(functools.partial(_keep_ready, save, ready.profile_id))
    return identifier, str(profile["profile_id"]), document


def _keep_ready(save: Callable[[], None], profile_id: str) -> None:
    """A ready document's save after the answer: nobody is left to tell when it fails
    (the next look-up renders the profile again)."""
    try:
        save()
    except IdgraphError as e:
        logger.warning("ready document of profile %s not saved: %s", profile_id, e)


#: the longest chain of merges followed from a retired profile ID
MAX_MERGE_HOPS = 100


def get_profile(
    store: GraphStore,
    registry: Registry,
    profile_id: str,
    *,
    min_confidence: float = 0.0,
    settings: ResolveSettings | None = None,
    holding: Identifier | None = None,
    purchase_types: Sequence[str] = ("purchase",),
    with_segments: bool = True,
) -> dict[str, Any]:
    """A profile by ID. A retired ID (merged into another profile) answers with the
    surviving profile, saying so: ``merged_into`` is the survivor's ID and
    ``requested_profile_id`` the ID asked for. With ``min_confidence``, only the part
    that stands without links below it (``confidence`` says what was left out), with
    the facts and activity of its events alone (``purchase_types`` are purchases);
    RFM and segments stay those of the whole profile (they rank stored profiles)."""
    # one read for an active profile; a retired (or unknown) ID follows its merges
    survivor = profile_id
    record = store.profile(profile_id, weak_types=registry.weak_types)
    if record is None or record.properties.get("status") == "retired":
        survivor = resolve_profile_id(store, profile_id)
        if survivor != profile_id:
            record = store.profile(survivor, weak_types=registry.weak_types)
    if record is None:
        raise NotFound(f"no profile {profile_id!r}")
    body = profile_to_dict(record)
    body["confidence"] = {"min_confidence": min_confidence, "identifiers_left_out": 0,
                          "model_links_left_out": 0}  # fmt: skip
    part = None
    if min_confidence > 0:
        resolve_settings = settings or ResolveSettings()
        part = confident_part(store, resolve_settings, survivor, min_confidence, holding=holding)
    if part is not None:
        body["identifiers"] = [
            i for i in body["identifiers"] if Identifier(i["type"], i["value"]) in part.members
        ]
        body["confidence"] = part.describe(min_confidence)
    props = record.properties  # facts, RFM and lineage
    body.update(stored_facts(props))
    if part is not None:  # the facts of what is shown; RFM and segments rank whole profiles
        body.update(part_activity(store, survivor, part.members, purchase_types))
        body["confidence"]["facts_of"] = "the identifiers shown"
    if with_segments:
        body["segments"] = segments_of_profile(store, registry, survivor)
    body["split_from"] = props.get("split_from")
    body["household_id"] = props.get("household_id")
    if survivor != profile_id:
        body["requested_profile_id"] = profile_id
        body["merged_into"] = survivor
    return body


def part_activity(
    store: GraphStore, profile_id: str, members: Iterable[Identifier],
    purchase_types: Sequence[str],
) -> dict[str, Any]:  # fmt: skip
    """``facts``, ``event_count``, ``first_seen``, ``last_seen`` and ``sources`` of
    the events some of a profile's identifiers were seen in."""
    rows = store.identifier_fact_inputs(profile_id, members, purchase_types)
    row = fact_input(rows[0]) if rows else FactInput(profile_id, 0, None, None, [], {}, [], [],
                                                      read_at=now_ms())  # fmt: skip
    facts = profile_facts(row)
    props = facts.properties(now=row.read_at)
    return {
        "facts": stored_facts(props)["facts"],
        "event_count": facts.event_count,
        "first_seen": format_ts(facts.first_seen),
        "last_seen": format_ts(facts.last_seen),
        "sources": facts.sources,
    }


def resolve_profile_id(store: GraphStore, profile_id: str) -> str:
    """The active profile an ID stands for now: itself, or the end of its merges."""
    return follow_merges(store.profile_status, profile_id, "profile",
                         missing="never existed, or erased")  # fmt: skip


def follow_merges(
    status_of: Callable[[str], Mapping[str, Any] | None], start: str, what: str, *,
    missing: str = "",
) -> str:  # fmt: skip
    """The active ID ``start`` stands for now (profiles, households): itself, or the
    end of its chain of ``merged_into`` pointers. ``status_of`` reads one ID's
    ``status`` and ``merged_into``."""
    current = start
    for _ in range(MAX_MERGE_HOPS):
        status = status_of(current)
        if status is None:
            raise NotFound(f"no {what} {start!r}" + (f" ({missing})" if missing else ""))
        if status.get("status") != "retired" or not status.get("merged_into"):
            return current
        current = status["merged_into"]
    raise NotFound(f"{what} {start!r}: merge chain longer than {MAX_MERGE_HOPS}")


def profile_lineage(store: GraphStore, profile_id: str) -> dict[str, Any]:
    """Where a profile ID came from and went: merges and splits around it."""
    status = store.profile_status(profile_id)
    if status is None:
        raise NotFound(f"no profile {profile_id!r} (never existed, or erased)")
    links = store.profile_lineage(profile_id)
    return {
        "profile_id": profile_id,
        "status": status["status"],
        "current_profile_id": resolve_profile_id(store, profile_id),
        "merged_into": status["merged_into"],
        "split_from": status["split_from"],
        "created_at": format_ts(status["created_at"]),
        "retired_at": format_ts(status["retired_at"]),
        "merged_from": sorted(
            lk["from"] for lk in links if lk["relation"] == "MERGED_INTO" and lk["to"] == profile_id
        ),
        "split_into": sorted(
            lk["from"] for lk in links if lk["relation"] == "SPLIT_FROM" and lk["to"] == profile_id
        ),
    }


def profile_to_dict(record: ProfileRecord) -> dict[str, Any]:
    return {
        "profile_id": record.profile_id,
        "identifiers": [_times(i) for i in record.identifiers],
        "evidence": [_times(e) for e in record.evidence],
        "event_count": record.event_count,
        "first_seen": format_ts(record.first_seen),
        "last_seen": format_ts(record.last_seen),
        "sources": record.sources,
        "traits": record.traits,
        "created_at": format_ts(record.created_at),
        "updated_at": format_ts(record.updated_at),
    }


def stored_facts(props: dict[str, Any]) -> dict[str, Any]:
    """``facts`` and ``rfm`` of a profile from its stored properties.

    Facts are as of the last resolution that touched the profile (``facts_at``);
    RFM as of its last run (``rfm.as_of``; null: no purchase by then, or never run).
    """
    traits = json_object(props.get("traits"))
    facts = {
        "purchase_count": int(props.get("purchase_count") or 0),
        "purchase_total": float(props.get("purchase_total") or 0.0),
        "purchase_avg": props.get("purchase_avg"),
        "last_purchase": format_ts(props.get("last_purchase")),
        "currencies": list(props.get("currencies") or []),
        "events_by_type": json_object(props.get("events_by_type")),
        "traits": {
            name: {"value": t.get("value"), "observed_at": format_ts(t.get("observed_at"))}
            for name, t in sorted(traits.items())
            if isinstance(t, dict)
        },
        "facts_at": format_ts(props.get("facts_at")),
    }
    rfm = None
    if props.get("rfm_group"):
        rfm = {
            "recency": props.get("rfm_r"),
            "frequency": props.get("rfm_f"),
            "monetary": props.get("rfm_m"),
            "score": props.get("rfm_score"),
            "group": props.get("rfm_group"),
            "recency_days": props.get("rfm_recency_days"),
            "purchases": props.get("rfm_frequency"),
            "amount": props.get("rfm_monetary"),
            "as_of": format_ts(props.get("rfm_as_of")),
        }
    return {"facts": facts, "rfm": rfm}


def _times(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "first_seen": format_ts(row.get("first_seen")),
        "last_seen": format_ts(row.get("last_seen")),
    }


def _mask(identifier: Identifier) -> str:
    """Enough of a value to recognise it, not enough to leak it in logs."""
    return mask_value(identifier.type, identifier.value)
