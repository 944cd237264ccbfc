"""The store contract, run against every backend available here, same assertions for each.

FalkorDB (embedded) always runs. Neo4j runs when ``IDGRAPH_TEST_NEO4J_URI`` is set
(with ``IDGRAPH_TEST_NEO4J_USER``, ``_PASSWORD``, ``_DATABASE``); its cases are
skipped with that reason otherwise. The Neo4j database is emptied before and
after each test: point these variables at a database you can throw away.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from graph.errors import ConstraintViolation, InputError, QueryError, UnknownQuery
from graph.ingest.batches import build_batch
from graph.ingest.events import Event, Identifier
from graph.store import GraphStore
from graph.store.address import ServerAddress
from graph.store.falkordb_store import FalkorDBStore
from graph.store.neo4j_store import Neo4jStore
from graph.store.queries import QueryLibrary
from graph.store.runner import Read, Write

BACKENDS = ["falkordb", "neo4j"]


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, server: ServerAddress) -> Iterator[GraphStore]:
    if request.param == "neo4j":
        uri = os.environ.get("IDGRAPH_TEST_NEO4J_URI")
        if not uri:
            pytest.skip("Neo4j store tests need IDGRAPH_TEST_NEO4J_URI (no Neo4j on this machine)")
        neo4j_store = Neo4jStore(
            uri,
            user=os.environ.get("IDGRAPH_TEST_NEO4J_USER", "neo4j"),
            password=os.environ.get("IDGRAPH_TEST_NEO4J_PASSWORD", ""),
            database=os.environ.get("IDGRAPH_TEST_NEO4J_DATABASE", "neo4j"),
        )
        neo4j_store.ping()
        neo4j_store.ensure_schema()
        neo4j_store.delete_all()
        yield neo4j_store
        neo4j_store.delete_all()
        neo4j_store.close()
        return
    store = FalkorDBStore(server, "contract_" + uuid.uuid4().hex[:10])
    store.ensure_schema()
    yield store
    store.drop()
    store.close()


def ev(event_id: str, ts: int, *ids: tuple[str, str], source: str = "web", **kw: object) -> Event:
    return Event(event_id, ts, source, "view", tuple(sorted(Identifier(*i) for i in ids)), **kw)  # type: ignore[arg-type]


def test_schema_is_idempotent(any_store: GraphStore) -> None:
    any_store.ensure_schema()
    any_store.ensure_schema()
    any_store.write_observations(build_batch([ev("e1", 1, ("email", "a@x.com"))]))
    with pytest.raises(ConstraintViolation, match="constraint"):
        any_store.write_observations(build_batch([ev("e1", 1, ("email", "a@x.com"))]))


def test_observations_accumulate_on_edges(any_store: GraphStore) -> None:
    any_store.write_observations(
        build_batch([ev("e1", 1000, ("email", "a@x.com"), ("cookie_id", "c1"))])
    )
    any_store.write_observations(
        build_batch([ev("e2", 500, ("email", "a@x.com"), ("cookie_id", "c1"), source="app")])
    )
    links = any_store.links_between_types(["email", "cookie_id"])
    assert links == [(Identifier("cookie_id", "c1"), Identifier("email", "a@x.com"))]
    record = any_store.identifier(Identifier("email", "a@x.com"))
    assert record is not None
    assert (record.first_seen, record.last_seen, record.event_count, record.profile_id) == (
        500,
        1000,
        2,
        None,
    )
    stats = any_store.stats()
    assert (stats["Identifier"], stats["Event"], stats["OBSERVED_WITH"], stats["SEEN_IN"]) == (
        2,
        2,
        1,
        4,
    )


def test_weak_observations_whole_and_by_ranges(
    any_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every (strong identifier, IP, user agent, time) of the events they shared, the
    same whether FalkorDB reads them in one range or in ranges of one identifier; each
    identifier, IP and user agent is one object however many events repeat it. Values
    with quotes, backslashes, control characters and non-ASCII text come back as they
    were (FalkorDB sends an identifier's evidence as one JSON text, or as typed cells
    when one of its strings holds a double quote or a backslash)."""
    from graph.store import observations

    ua = "Mozilla/5.0 (X11; Linux x86_64)"
    odd_ua = 'Odd "UA" \\ \\" \\n\n\ttab \x01 ü€😀 \\'
    odd_cookie = 'c"3\\\\x\nü'
    plain_odd = "tab\there, new\nline, \x01 ü€😀 [1, null]"  # no quote, no backslash
    events = [
        ev("e1", 1000, ("email", "a@x.com"), ("cookie_id", "c1"), ("ip", "10.0.0.1"),
           user_agent=ua),
        ev("e2", 2000, ("cookie_id", "c1"), ("ip", "10.0.0.1"), user_agent=ua),
        ev("e3", 3000, ("cookie_id", "c2"), ("ip", "10.0.0.2")),
        ev("e4", 4000, ("email", "b@x.com")),  # no IP: no weak evidence
        ev("e5", 5000, ("cookie_id", odd_cookie), ("ip", "10.0.0.3"), user_agent=odd_ua),
        ev("e6", 6000, ("cookie_id", "c4\nü"), ("ip", "10.0.0.3"), user_agent=plain_odd),
    ]  # fmt: skip
    any_store.write_observations(build_batch(events))
    strong, weak = ["email", "cookie_id"], ["ip"]
    expected = sorted([
        (Identifier("email", "a@x.com"), "10.0.0.1", ua, 1000),
        (Identifier("cookie_id", "c1"), "10.0.0.1", ua, 1000),
        (Identifier("cookie_id", "c1"), "10.0.0.1", ua, 2000),
        (Identifier("cookie_id", "c2"), "10.0.0.2", None, 3000),
        (Identifier("cookie_id", odd_cookie), "10.0.0.3", odd_ua, 5000),
        (Identifier("cookie_id", "c4\nü"), "10.0.0.3", plain_odd, 6000),
    ])  # fmt: skip
    whole = any_store.weak_observations(strong, weak)
    assert sorted(whole) == expected
    monkeypatch.setattr(observations, "OBSERVATION_PAGE", 1)
    ranged = any_store.weak_observations(strong, weak)
    assert sorted(ranged) == expected
    c1 = [o for o in ranged if o[0] == Identifier("cookie_id", "c1")]
    assert c1[0][0] is c1[1][0] and c1[0][2] is c1[1][2] and c1[0][1] is c1[1][1]


def test_the_reads_of_a_sample(any_store: GraphStore) -> None:
    """What a sampled ``train`` reads (graph/store/samples.py): per IP, how many strong
    identifiers and the most of one account type; everyone at chosen IPs; the weak
    evidence of chosen identifiers, as the whole read gives it (odd values too)."""
    odd = 'c"5\\\n\u00fc'
    events = [
        ev("e1", 1000, ("user_id", "u1"), ("email", "a@x.com"), ("cookie_id", "c1"),
           ("ip", "10.0.0.1"), user_agent="UA 1"),
        ev("e2", 2000, ("user_id", "u2"), ("cookie_id", "c2"), ("ip", "10.0.0.1")),
        ev("e3", 3000, ("cookie_id", "c3"), ("ip", "10.0.0.2"), user_agent="UA 3"),
        ev("e4", 4000, ("cookie_id", odd), ("ip", "10.0.0.2"), user_agent='UA "4"'),
        ev("e5", 5000, ("cookie_id", "c1"), ("ip", "10.0.0.2"), user_agent="UA 1"),
    ]  # fmt: skip
    any_store.write_observations(build_batch(events))
    strong = ["user_id", "email", "cookie_id"]
    assert any_store.count_identifiers_of_types(strong) == 7
    assert any_store.count_identifiers_of_types(["email"]) == 1
    ip1, ip2 = Identifier("ip", "10.0.0.1"), Identifier("ip", "10.0.0.2")
    counts = any_store.weak_identifier_counts(strong, ["ip"], ["user_id", "loyalty_id"])
    assert counts == {ip1: (5, 2), ip2: (3, 0)}
    seen = any_store.identifiers_seen_with([ip2, Identifier("ip", "10.9.9.9")], strong)
    assert {ip: sorted(ids) for ip, ids in seen.items()} == {
        ip2: sorted(Identifier("cookie_id", c) for c in ("c1", "c3", odd))
    }
    agents = any_store.weak_agents_at([ip1, ip2], strong)
    assert sorted((w, i, sorted(uas)) for w, i, uas in agents) == sorted([
        ("10.0.0.1", Identifier("user_id", "u1"), ["UA 1"]),
        ("10.0.0.1", Identifier("email", "a@x.com"), ["UA 1"]),
        ("10.0.0.1", Identifier("cookie_id", "c1"), ["UA 1"]),
        ("10.0.0.1", Identifier("user_id", "u2"), []),  # seen without a user agent
        ("10.0.0.1", Identifier("cookie_id", "c2"), []),
        ("10.0.0.2", Identifier("cookie_id", "c3"), ["UA 3"]),
        ("10.0.0.2", Identifier("cookie_id", odd), ['UA "4"']),
        ("10.0.0.2", Identifier("cookie_id", "c1"), ["UA 1"]),
    ])  # fmt: skip
    chosen = [Identifier("cookie_id", "c1"), Identifier("cookie_id", odd)]
    expected = sorted(o for o in any_store.weak_observations(strong, ["ip"]) if o[0] in chosen)
    assert len(expected) == 3
    assert sorted(any_store.weak_observations_of(chosen, ["ip"])) == expected
    assert list(any_store.weak_observations_of([], ["ip"])) == []


def test_a_scope_round_reads_what_its_three_reads_read(any_store: GraphStore) -> None:
    """The re-plan scope's reads sent together (FalkorDB: one pipeline) give what each
    gives alone, in order; an identifier that does not exist has nothing."""
    any_store.write_observations(build_batch([
        ev("e1", 1000, ("email", "a@x.com"), ("cookie_id", "c1")),
        ev("e2", 2000, ("email", "a@x.com"), ("phone", "+14155550123")),
        ev("e3", 3000, ("email", "b@x.com")),
    ]))  # fmt: skip
    a, b = Identifier("email", "a@x.com"), Identifier("email", "b@x.com")
    c1, phone = Identifier("cookie_id", "c1"), Identifier("phone", "+14155550123")
    any_store.apply_assignments({a: "p1", c1: "p1", phone: "p1", b: "p2"}, [], now=5)
    batch = [c1, a, Identifier("email", "nobody@x.com")]
    types = ["email", "phone", "cookie_id"]
    read = any_store.scope_round(batch, types, existing=True)
    assert sorted(map(repr, read.links)) == sorted(map(repr, any_store.neighbourhood(batch, types)))
    assert sorted(read.members) == sorted(any_store.members_of_profiles_of(batch))
    assert read.existing is not None and sorted(read.existing) == [c1, a]
    assert {m for m, _, _ in read.members} == {a, c1, phone} and len(read.links) == 3
    assert any_store.scope_round([b], types).existing is None
    # whether identifiers are in a profile, without their fellow members
    assert any_store.profiles_of(batch) == {a: "p1", c1: "p1"}


def test_a_large_scope_round_is_read_in_pages_as_one(
    any_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round larger than a page reads page by page (FalkorDB: the next page while
    this one is taken) and gives what one read gives; odd values (a quote, a
    backslash: FalkorDB's JSON text falls back to typed cells) come back intact."""
    odd = 'c"7\\\n\u00fc'
    events = [ev(f"e{n}", 1000 + n, ("email", f"p{n}@x.com"), ("cookie_id", f"c{n}"),
                 ("phone", f"+1415555{n:04d}"))
              for n in range(12)]  # fmt: skip
    events.append(ev("e99", 9000, ("email", "p0@x.com"), ("cookie_id", odd)))
    any_store.write_observations(build_batch(events))
    batch = [Identifier("email", f"p{n}@x.com") for n in range(12)]
    batch += [Identifier("cookie_id", odd), Identifier("email", "nobody@x.com")]
    types = ["email", "phone", "cookie_id"]
    whole = any_store.scope_round(batch, types, existing=True)
    assert len(whole.links) == 12 * 2 + 2 and whole.existing is not None
    assert (Identifier("cookie_id", odd), Identifier("email", "p0@x.com")) in {
        (lk.a, lk.b) for lk in whole.links
    }
    monkeypatch.setattr("graph.store.scope.SCOPE_PAGE", 5)
    paged = any_store.scope_round(batch, types, existing=True)
    assert sorted(map(repr, paged.links)) == sorted(map(repr, whole.links))
    assert sorted(paged.existing or []) == sorted(whole.existing) == sorted(batch[:-1])
    alone = any_store.scope_round(batch, types, existing=True, members=False)
    assert sorted(alone.existing or []) == sorted(whole.existing) and alone.members == []
    assert sorted(map(repr, alone.links)) == sorted(map(repr, whole.links))
    assert sorted(map(repr, any_store.neighbourhood(batch, types))) == sorted(
        map(repr, whole.links)
    )


def test_reads_sent_together_raise_a_rejected_one(any_store: GraphStore) -> None:
    fine = Read("existing_identifiers", {"keys": []})
    with pytest.raises(QueryError, match="existing_identifiers"):
        any_store._read_all([fine, Read("existing_identifiers", {"keys": 5})])
    assert any_store._read_all([fine, fine]) == [[], []]


def test_writes_sent_together_run_in_order_and_raise_a_rejected_one(
    any_store: GraphStore,
) -> None:
    """An update's writes sent together (FalkorDB: one pipeline) run one after the
    other in the order given: a profile's size is counted after its members moved in."""
    any_store.write_observations(build_batch([
        ev("e1", 1000, ("email", "a@x.com"), ("cookie_id", "c1")),
    ]))  # fmt: skip
    rows = [{"type": "email", "value": "a@x.com", "profile_id": "p1"},
            {"type": "cookie_id", "value": "c1", "profile_id": "p1"}]  # fmt: skip
    replies = any_store._write_all([
        Write("assign_profiles", {"rows": rows, "now": 5}),
        Write("update_profile_sizes", {"ids": ["p1"]}),
        Write("delete_empty_profiles_of", {"ids": ["p1"]}),
    ])  # fmt: skip
    assert [r[0][0] for r in replies[1:]] == [1, 0]  # p1 existed when counted, not emptied
    assert any_store.profile_status("p1") is not None
    assert any_store.assignments() == {Identifier("email", "a@x.com"): "p1",
                                       Identifier("cookie_id", "c1"): "p1"}  # fmt: skip
    fine = Write("update_profile_sizes", {"ids": []})
    with pytest.raises(QueryError, match="delete_refused"):
        any_store._write_all([fine, Write("delete_refused", {"rows": 5})])


def test_failed_batch_writes_nothing(any_store: GraphStore) -> None:
    any_store.write_observations(
        build_batch([ev("e1", 1, ("email", "a@x.com"), ("cookie_id", "c1"))])
    )
    before = any_store.stats()
    with pytest.raises(ConstraintViolation):  # encoded ahead, as the ingest writes
        any_store.write_observations(
            any_store.prepare_observations(
                build_batch(
                    [
                        ev("e2", 2, ("email", "a@x.com"), ("cookie_id", "c2")),
                        ev("e1", 1, ("email", "a@x.com")),
                    ]
                )
            )
        )
    assert any_store.stats() == before


def test_a_prepared_batch_writes_what_the_batch_writes(any_store: GraphStore) -> None:
    events = [
        ev("e1", 1000, ("email", 'a"b\\@x.com'), ("cookie_id", "c1"), user_agent="UA 1"),
        ev("e2", 2000, ("email", 'a"b\\@x.com'), ("phone", "+14155550123"), amount=2.5),
        ev("e3", 3000, ("cookie_id", "c1"), ("phone", "+14155550123"), traits_json='{"n": 1}'),
    ]

    def written() -> tuple[object, ...]:
        links = any_store.weighted_links(["email", "phone", "cookie_id"])
        stored = any_store.existing_event_ids(e.event_id for e in events)
        return any_store.stats(), sorted(map(repr, links)), sorted(stored)

    any_store.write_observations(build_batch(events))
    plain = written()
    any_store.delete_all()
    prepared = any_store.prepare_observations(build_batch(events))
    assert prepared.encoded is not None
    any_store.write_observations(prepared)
    assert written() == plain and plain[2] == ["e1", "e2", "e3"]


def test_assignments_profiles_and_paging(any_store: GraphStore) -> None:
    any_store.write_observations(
        build_batch(
            [
                ev(
                    "e1",
                    1000,
                    ("email", "a@x.com"),
                    ("cookie_id", "c1"),
                    ("ip", "1.1.1.1"),
                    traits={"city": "Boston"},
                    traits_json='{"city": "Boston"}',
                ),
                ev(
                    "e2",
                    2000,
                    ("email", "b@x.com"),
                    ("ip", "1.1.1.1"),
                    traits={"city": "Austin"},
                    traits_json='{"city": "Austin"}',
                ),
            ]
        )
    )
    a, c, b = (
        Identifier("email", "a@x.com"),
        Identifier("cookie_id", "c1"),
        Identifier("email", "b@x.com"),
    )
    deleted = any_store.apply_assignments({a: "p1", c: "p1", b: "p2"}, [], now=5)
    assert deleted == 0
    assert any_store.assignments() == {a: "p1", c: "p1", b: "p2"}
    profile = any_store.profile("p1", weak_types=["ip"])
    assert profile is not None
    assert [(i["type"], i["value"]) for i in profile.identifiers] == [
        ("cookie_id", "c1"),
        ("email", "a@x.com"),
    ]
    assert profile.evidence == [
        {"type": "ip", "value": "1.1.1.1", "count": 2, "first_seen": 1000, "last_seen": 1000}
    ]
    assert (profile.event_count, profile.sources, profile.traits) == (
        1,
        ["web"],
        {"city": "Boston"},
    )
    assert any_store.profile("nope") is None
    # move b into p1: p2 loses its only member and is deleted
    assert any_store.apply_assignments({b: "p1"}, [], now=6) == 1
    pages = list(any_store.iter_profiles(page_size=1))
    assert pages == [("p1", sorted([a, b, c]))]
    assert any_store.count_unresolved(["email", "cookie_id"]) == 0
    assert any_store.apply_assignments({}, [c], now=7) == 0
    assert any_store.count_unresolved(["email", "cookie_id"]) == 1


def test_identifier_type_labels(any_store: GraphStore) -> None:
    any_store.write_observations(
        build_batch([ev("e1", 1, ("email", "a@x.com"), ("ip", "1.2.3.4"))])
    )
    any_store.label_identifier_types()
    any_store.label_identifier_types()  # idempotent
    assert any_store.identifier_labels(Identifier("email", "a@x.com")) == ["Email", "Identifier"]
    assert any_store.identifier_labels(Identifier("ip", "1.2.3.4")) == ["Identifier", "Ip"]
    assert any_store.stats()["Identifier"] == 2


def test_unreachable_neo4j_is_a_clear_error() -> None:
    from graph.errors import StoreUnavailable

    store = Neo4jStore("bolt://127.0.0.1:9", user="neo4j", password="x", database="neo4j")
    try:
        with pytest.raises(StoreUnavailable, match="unreachable"):
            store.ping()
    finally:
        store.close()


def test_unknown_query_names_raise() -> None:
    library = QueryLibrary("falkordb")
    with pytest.raises(UnknownQuery):
        library["no_such_query"]
    assert "write_observations" in library.names()
    assert "schema" in library.names()


def test_values_are_never_formatted_into_queries(any_store: GraphStore) -> None:
    hostile = "x'}) DETACH DELETE n //"
    any_store.write_observations(
        build_batch([ev("e1", 1, ("user_id", hostile), ("email", "a@x.com"))])
    )
    assert any_store.identifier(Identifier("user_id", hostile)) is not None
    assert any_store.stats()["Identifier"] == 2


def test_values_round_trip_exactly(any_store: GraphStore) -> None:
    """Quotes, backslashes, line breaks and any Unicode come back as they went in
    (FalkorDB takes parameters as text in a header the adapter builds)."""
    values = ['a"b', "a'b", "a\\b", "a\\", "\\'", "a\nb\tc", "ünï €", "😀 x", "`tick`", "{k: 1}"]
    any_store.write_observations(build_batch(
        [ev(f"e{n}", n, ("user_id", value)) for n, value in enumerate(values)]))  # fmt: skip
    assert sorted(i.value for i in any_store.identifiers_of_types(["user_id"])) == sorted(values)
    for value in values:  # found by the exact value
        found = any_store.identifier(Identifier("user_id", value))
        assert found is not None and found.event_count == 1, value


@pytest.mark.parametrize(
    "batch",
    [
        [ev("e1", 1, ("user_id", "a\x00b"))],  # a value
        [ev("e\x001", 1, ("user_id", "a"))],  # another parameter's value
        [ev("e1", 1, ("user_id", "a"), traits_json='{"k\x00": 1}')],  # inside JSON text
    ],
)
def test_a_nul_character_is_refused_before_the_store(
    batch: list[Event], server: ServerAddress
) -> None:
    """FalkorDB parses parameters from the query text, which a NUL would cut: the
    adapter refuses such a value whole, however deep it sits, and writes nothing."""
    store = FalkorDBStore(server, "nul_" + uuid.uuid4().hex[:10])
    store.ensure_schema()
    try:
        with pytest.raises(InputError, match="NUL"):
            store.write_observations(build_batch(batch))
        with pytest.raises(InputError, match="NUL"):
            store.identifier(Identifier("user_id", "a\x00b"))
        assert store.stats()["Event"] == 0
    finally:
        store.drop()
        store.close()


def test_new_events_are_added_to_facts_counted_for_the_current_members(
    any_store: GraphStore,
) -> None:
    """The real-time path's refresh: a profile's later events, found through its
    members, added to its stored facts while the members are those they counted."""
    from graph.profiles.facts import fact_input, profile_facts
    from graph.profiles.refresh import refresh_facts

    a, c, b = (Identifier("email", "a@x.com"), Identifier("cookie_id", "c1"),
               Identifier("phone", "+14155550123"))  # fmt: skip

    def write(event_id: str, ts: int, *ids: Identifier, **kw: object) -> None:
        event = Event(event_id, ts, "pos", "purchase", tuple(sorted(ids)), **kw)  # type: ignore[arg-type]
        any_store.write_observations(build_batch([event]))

    def facts() -> dict[str, object]:
        return {k: v for k, v in any_store.profile_properties("p1").items()
                if k not in ("facts_at", "facts_sequence")}  # fmt: skip

    def refresh(**kw: bool) -> tuple[int, int]:
        done = refresh_facts(any_store, ["p1"], purchase_types=["purchase"], **kw)
        return done.added, done.recomputed

    write("e1", 1_000, a, c, amount=10.0, currency="USD")
    write("e2", 2_000, b, amount=99.0, currency="EUR")
    any_store.apply_assignments({a: "p1", c: "p1", b: "p2"}, [], now=5)
    assert refresh() == (0, 1)  # no facts yet: computed
    write("e3", 3_000, c, amount=2.5, currency="USD", traits={"tier": "gold"},
          traits_json='{"tier": "gold"}')  # fmt: skip
    assert refresh() == (1, 0)  # added to
    added = facts()
    assert (added["event_count"], added["purchase_total"], added["trait_tier"]) == (2, 12.5, "gold")
    read_at = any_store.profile_properties("p1")["facts_at"]
    assert refresh() == (1, 0)  # nothing new: current, not written again
    assert any_store.profile_properties("p1")["facts_at"] == read_at
    assert refresh(recount=True) == (0, 1) and facts() == added

    # facts read for the old members, written after a member joined: not added to
    write("e4", 4_000, a, amount=1.0, currency="USD")
    rows = any_store.fact_inputs(["p1"], ["purchase"], add=True)
    any_store.apply_assignments({b: "p1"}, [], now=6)
    (row,) = rows
    new = fact_input(row[:11])
    assert new.event_count == 1  # only e4: the rest is in the stored facts
    assert any_store.write_fact_deltas([{
        "profile_id": "p1", "facts": {"event_count": 99}, "sequence": new.sequence,
        "members": row[11], "base_sequence": row[12], "base_at": row[13]}]) == set()  # fmt: skip
    # nor are facts recomputed from the old members' events, though written
    rows = any_store.fact_inputs(["p1"], ["purchase"])
    any_store.apply_assignments({b: "p2"}, [], now=7)
    (row,) = rows
    old = fact_input(row[:11])
    assert any_store.write_profile_facts([{
        "profile_id": "p1", "sequence": old.sequence, "members": row[11],
        "facts": profile_facts(old).properties(now=old.read_at)}]) == 1  # fmt: skip
    assert refresh() == (0, 1)  # recomputed: counted for other members
    assert facts()["event_count"] == 3 and facts()["currencies"] == ["USD"]
    any_store.apply_assignments({b: "p1"}, [], now=8)
    assert refresh() == (0, 1)
    assert facts()["event_count"] == 4 and facts()["currencies"] == ["EUR", "USD"]
    # an erased event: recomputed
    any_store.delete_events(["e2"])
    assert refresh() == (0, 1) and facts()["event_count"] == 3


def test_facts_refreshed_page_by_page_are_each_profiles_own(any_store: GraphStore) -> None:
    """``refresh_facts`` reads the next pages of profiles while it writes one page's
    facts (FalkorDB): every page size gives each profile its own events' facts."""
    from graph.profiles.refresh import refresh_facts

    people = {f"p{n}": Identifier("email", f"u{n}@x.com") for n in range(7)}
    events = [Event(f"e{n}-{k}", 1_000 * n + k, "pos", "purchase", (people[f"p{n}"],),
                    amount=float(n + 1), currency="USD")
              for n in range(7) for k in range(n + 1)]  # fmt: skip
    any_store.write_observations(build_batch(events))
    any_store.apply_assignments({i: pid for pid, i in people.items()}, [], now=5)
    expected = {f"p{n}": (n + 1, float((n + 1) ** 2)) for n in range(7)}
    for size in (1, 2, 3, 100):
        done = refresh_facts(any_store, sorted(people), purchase_types=["purchase"],
                             batch_size=size, recount=True)  # fmt: skip
        assert done.recomputed == 7, size
        found = {pid: any_store.profile_properties(pid) for pid in people}
        got = {pid: (p["event_count"], p["purchase_total"]) for pid, p in found.items()}
        assert got == expected, size


def test_facts_rfm_and_segments(any_store: GraphStore) -> None:
    from graph.profiles.refresh import FactsRefreshed, refresh_facts
    from graph.profiles.rfm import compute_rfm
    from graph.profiles.segments import compile_rule

    a, c, b = (
        Identifier("email", "a@x.com"),
        Identifier("cookie_id", "c1"),
        Identifier("phone", "+14155550123"),
    )

    def purchase(event_id: str, ts: int, *ids: Identifier, amount: float) -> Event:
        return Event(
            event_id, ts, "pos", "purchase", tuple(sorted(ids)), amount=amount, currency="USD"
        )

    any_store.write_observations(
        build_batch(
            [
                # seen by two members of p1: counted once
                purchase("e1", 1_000, a, c, amount=10.0),
                purchase("e2", 3_000, c, amount=5.5),
                ev(
                    "e3",
                    4_000,
                    ("email", "a@x.com"),
                    traits={"city": "Lyon"},
                    traits_json='{"city": "Lyon"}',
                ),
                purchase("e4", 2_000, b, amount=99.0),
            ]
        )
    )
    any_store.apply_assignments({a: "p1", c: "p1", b: "p2"}, [], now=5)
    assert refresh_facts(any_store, ["p1", "p2", "nope"], purchase_types=["purchase"]).total == 2
    p1 = any_store.profile_properties("p1")
    assert (p1["purchase_count"], p1["purchase_total"], p1["last_purchase"]) == (2, 15.5, 3_000)
    assert (p1["event_count"], p1["first_seen"], p1["last_seen"]) == (3, 1_000, 4_000)
    assert p1["trait_city"] == "Lyon" and p1["sources"] == ["pos", "web"]
    # facts are versioned by the store time they were read: older ones never win
    stale = {"profile_id": "p1", "facts": {"facts_at": p1["facts_at"] - 1, "purchase_count": 0}}
    assert any_store.write_profile_facts([stale]) == 0
    assert any_store.profile_properties("p1")["purchase_count"] == 2

    # the events of later batches are added to facts that count every event of members
    # that stayed (p2 has none of them: its facts are current)
    def add_purchase(event_id: str, ts: int, amount: float) -> FactsRefreshed:
        seq = any_store.ingest_sequence()
        any_store.write_observations(build_batch([purchase(event_id, ts, a, amount=amount)]))
        return refresh_facts(any_store, ["p1", "p2"], purchase_types=["purchase"],
                             added=(seq, seq + 1))  # fmt: skip

    refreshed = add_purchase("e5", 6_000, 4.5)
    assert (refreshed.added, refreshed.recomputed) == (2, 0)
    p1 = any_store.profile_properties("p1")
    assert (p1["purchase_count"], p1["purchase_total"], p1["event_count"]) == (3, 20.0, 4)
    assert (p1["last_seen"], p1["purchase_avg"]) == (6_000, 6.67)
    # once a member moved, the facts count other events: recomputed, not added to
    any_store.apply_assignments({b: "p1"}, [], now=6)
    refreshed = add_purchase("e6", 7_000, 1.0)
    assert (refreshed.added, refreshed.recomputed) == (0, 1)  # p2, emptied, is gone
    p1 = any_store.profile_properties("p1")
    assert (p1["purchase_count"], p1["purchase_total"], p1["event_count"]) == (5, 120.0, 6)
    any_store.apply_assignments({b: "p2"}, [], now=7)
    refresh_facts(any_store, ["p1", "p2"], purchase_types=["purchase"])

    summary = compute_rfm(any_store, as_of=5_000, purchase_types=["purchase"], now=9)
    assert summary["purchasers"] == 2
    assert any_store.profile_properties("p2")["rfm_m"] == 5  # spent most
    assert any_store.rfm_summary() == summary

    any_store.save_segment({"segment_id": "s1", "name": "Lyon", "rule": {"x": 1}}, now=1)
    any_store.save_segment({"segment_id": "s1", "name": "Lyon!", "rule": {"x": 2}}, now=2)
    assert any_store.segment("s1") == {
        "segment_id": "s1",
        "name": "Lyon!",
        "description": "",
        "rule": {"x": 2},
        "created_at": 1,
        "updated_at": 2,
    }
    assert [s["segment_id"] for s in any_store.segments()] == ["s1"]
    assert any_store.delete_segment("s1") and not any_store.delete_segment("s1")

    strong = ["email", "phone", "cookie_id"]
    lyon = compile_rule({"trait": "city", "op": "=", "value": "Lyon"}, strong_types=strong, now=0)
    twice = compile_rule(
        {
            "and": [
                {"events": {"type": "purchase", "since": "1970-01-01"}, "op": ">=", "value": 2},
                {"has": "cookie_id"},
                {"source": "pos"},
            ]
        },
        strong_types=strong,
        now=0,
        prefix="t_",
    )
    assert any_store.segment_window(lyon, after="", scan=10) == [("p1", True), ("p2", False)]
    assert any_store.segment_window(lyon, after="p1", scan=10) == [("p2", False)]
    assert any_store.segment_count(twice) == 1
    assert any_store.segments_matching("p2", [lyon, twice]) == [False, False]
    assert any_store.segments_matching("p1", [lyon, twice]) == [True, True]
    rows = any_store.member_rows(["p2", "p1"])
    assert [r["profile_id"] for r in rows] == ["p2", "p1"]
    assert rows[1]["identifiers"] == [
        {"type": "cookie_id", "value": "c1", "quarantined": False},
        {"type": "email", "value": "a@x.com", "quarantined": False},
    ]


def test_api_keys(any_store: GraphStore) -> None:
    from graph.store import ApiKeyRecord

    record = ApiKeyRecord("desk", "0123456789abcdef", "h" * 64, ("read", "segments"), 1_000, None)
    any_store.save_api_key(record)
    assert any_store.api_key("0123456789abcdef") == record
    assert any_store.api_key("ffffffffffffffff") is None
    with pytest.raises(QueryError):  # unique key_id, and unique name
        any_store.save_api_key(ApiKeyRecord("other", "0123456789abcdef", "x", ("read",), 1))
    with pytest.raises(QueryError):
        any_store.save_api_key(ApiKeyRecord("desk", "fedcba9876543210", "x", ("read",), 1))
    any_store.touch_api_key("0123456789abcdef", now=2_000)
    assert any_store.revoke_api_key("desk", now=3_000) is True
    assert any_store.revoke_api_key("desk", now=4_000) is False  # once
    (stored,) = any_store.api_keys()
    assert (stored.last_used_at, stored.revoked_at) == (2_000, 3_000)
    assert stored.scopes == ("read", "segments")


def test_an_override_set_by_one_process_is_read_by_every_other(server: ServerAddress) -> None:
    """Overrides are kept per process (every real-time update reads them) until one is
    set anywhere: two store objects on one graph stand for two server processes."""
    name = "overrides_" + uuid.uuid4().hex[:10]
    one, other = FalkorDBStore(server, name), FalkorDBStore(server, name)
    one.ensure_schema()
    try:
        one.write_observations(build_batch([ev("e1", 1, ("cookie_id", "c1"))]))
        assert one.quarantine_overrides() == other.quarantine_overrides() == {}
        assert other.set_quarantine_override(Identifier("cookie_id", "c1"), "release")
        assert one.quarantine_overrides() == {Identifier("cookie_id", "c1"): "release"}
        reads: list[str] = []
        real = one._read

        def counted(query: str, *args: object, **kwargs: object) -> object:
            reads.append(query)
            return real(query, *args, **kwargs)  # type: ignore[arg-type]

        one._read = counted  # type: ignore[method-assign]
        one.quarantine_overrides()
        assert reads == []  # unchanged: kept
    finally:
        one.drop()
