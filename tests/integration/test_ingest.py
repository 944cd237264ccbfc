"""Ingest against the real store: exact counts, idempotent replay, rejects kept."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from app.resources import Resources
from graph.errors import ConstraintViolation, StoreUnavailable
from graph.ingest import batches as batches_module
from graph.ingest import ingester as ingester_module
from graph.ingest.ingester import Ingester, IngestReport, RejectFile
from graph.ingest.readers import read_records
from graph.store import ObservationBatch
from graph.store.falkordb_store import FalkorDBStore
from ml.synthetic import GeneratedData, generate


def graph_dump(store: FalkorDBStore) -> dict[str, object]:
    """Everything ingest writes, for exact before/after comparison."""
    edges = store._graph.ro_query(
        "MATCH (a:Identifier)-[o:OBSERVED_WITH]->(b:Identifier) "
        "RETURN a.type, a.value, b.type, b.value, o.count, o.first_seen, o.last_seen, o.sources "
        "ORDER BY a.type, a.value, b.type, b.value"
    ).result_set
    return {"stats": store.stats(), "edges": edges}


def ingest_file(res: Resources, path: Path, rejects: Path | None = None) -> IngestReport:
    sink = RejectFile(rejects, source=str(path)) if rejects else None
    return res.ingester().ingest_records(read_records(path, "jsonl"), rejects=sink)


def test_counts_match_what_the_generator_wrote(
    resources: Resources, small_data: GeneratedData, tmp_path: Path
) -> None:
    expected = small_data.manifest["expected"]
    report = ingest_file(resources, small_data.events_path, tmp_path / "rejects.jsonl")
    assert (
        report.records,
        report.accepted,
        report.duplicates,
        report.rejected,
        report.rejected_parts,
    ) == (
        expected["lines"],
        expected["accepted"],
        expected["duplicates"],
        expected["rejected"],
        expected["rejected_parts"],
    )
    assert resources.store.stats()["Event"] == expected["accepted"]
    rows = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert sum(r["whole_event"] for r in rows) == expected["rejected"]
    assert all(r["reason"] and r["line"] for r in rows)
    assert {"line", "event_id", "field", "type", "value", "reason"} <= rows[0].keys()


def test_replay_changes_nothing(
    resources: Resources, small_data: GeneratedData, store: FalkorDBStore
) -> None:
    first = ingest_file(resources, small_data.events_path)
    before = graph_dump(store)
    again = ingest_file(resources, small_data.events_path)
    assert again.accepted == 0
    assert again.duplicates == first.accepted + first.duplicates
    assert again.rejected == first.rejected
    assert again.rejected_parts == 0  # the bad identifiers of duplicates are not reported twice
    assert graph_dump(store) == before


@pytest.mark.parametrize(
    ("recent", "older"),
    [(ingester_module.RECENT_EVENT_IDS, ingester_module.OLDER_EVENT_IDS), (25, 1_000_000), (25, 0)],
)
def test_replays_in_later_batches_are_dropped_before_the_store(
    resources: Resources,
    small_data: GeneratedData,
    store: FalkorDBStore,
    monkeypatch: pytest.MonkeyPatch,
    recent: int,
    older: int,
) -> None:
    """A replay of an event from an earlier batch is dropped while parsing when its
    ID is remembered (the newest exactly, older ones by their digests); one not
    remembered makes the store refuse a batch written without looking (its event-ID
    constraint), which is then looked up and written without it. Counts and graph are
    the same every way."""
    monkeypatch.setattr(ingester_module, "RECENT_EVENT_IDS", recent)
    monkeypatch.setattr(ingester_module, "OLDER_EVENT_IDS", older)
    found_by_store: list[int] = []
    existing = store.existing_event_ids

    def counted(event_ids: Iterable[str]) -> set[str]:
        stored = existing(event_ids)
        found_by_store.append(len(stored))
        return stored

    monkeypatch.setattr(store, "existing_event_ids", counted)
    refused = _refusals(store, monkeypatch)
    ingester = Ingester(store, resources.registry, batch_size=100)
    report = ingester.ingest_records(read_records(small_data.events_path, "jsonl"))
    expected = small_data.manifest["expected"]
    assert (report.accepted, report.duplicates) == (expected["accepted"], expected["duplicates"])
    assert expected["duplicates"] > 0 and report.records > 1000  # more than 10 batches
    if older == 0:  # replays further back than 25 events: the store finds them
        assert sum(found_by_store) > 0 and len(refused) > 0
        assert len(found_by_store) > len(refused)  # a batch after one with replays: looked up
    else:  # the first batch is looked up and finds none (the second too when it is built
        # before the first is written): every later one is written at once
        assert found_by_store in ([0], [0, 0]) and refused == []
    dumped = graph_dump(store)
    store.delete_all()  # the same ingest remembering nothing: every replay is the store's
    monkeypatch.setattr(ingester_module, "RECENT_EVENT_IDS", 0)
    monkeypatch.setattr(ingester_module, "OLDER_EVENT_IDS", 0)
    ingester.ingest_records(read_records(small_data.events_path, "jsonl"))
    assert graph_dump(store) == dumped


def test_events_stored_by_an_earlier_ingest_are_found_by_the_store(
    resources: Resources,
    small_data: GeneratedData,
    store: FalkorDBStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events this ingest never saw but the store holds (another run stored them) make
    the store refuse the batch written without looking; it is looked up and written
    without them: the graph is the one of a single ingest."""
    records = list(read_records(small_data.events_path, "jsonl"))
    ingester = Ingester(store, resources.registry, batch_size=100)
    ingester.ingest_records(records)
    single = graph_dump(store)
    store.delete_all()
    ingester.ingest_records(records[650:720])  # inside the 7th and 8th batches
    refused = _refusals(store, monkeypatch)
    report = ingester.ingest_records(records)
    assert len(refused) >= 1
    assert report.duplicates >= 70 - sum(1 for r in records[650:720] if r.error)
    # the same graph; an edge lists its sources in the order they were first stored
    assert _sources_sorted(graph_dump(store)) == _sources_sorted(single)


def _refusals(store: FalkorDBStore, monkeypatch: pytest.MonkeyPatch) -> list[ConstraintViolation]:
    """The writes the store refuses from now on (its event-ID constraint), recorded."""
    refused: list[ConstraintViolation] = []
    write = store.write_observations

    def recorded(batch: ObservationBatch) -> None:
        try:
            write(batch)
        except ConstraintViolation as e:
            refused.append(e)
            raise

    monkeypatch.setattr(store, "write_observations", recorded)
    return refused


def _sources_sorted(dump: dict[str, Any]) -> dict[str, Any]:
    edges = [[*edge[:-1], sorted(edge[-1])] for edge in dump["edges"]]
    return {**dump, "edges": edges}


def test_an_ingest_stops_at_the_batch_it_cannot_write(
    resources: Resources,
    small_data: GeneratedData,
    store: FalkorDBStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch queued behind one that failed is not written (nor any later one):
    the ingest raises the failed batch's error, and what it wrote before stays."""
    monkeypatch.setattr(batches_module, "RETRY_DELAY", 0)
    attempts: list[int] = []
    write = store.write_observations

    def down_after_one(batch: ObservationBatch) -> None:
        attempts.append(len(batch.events))
        if len(attempts) > 1:
            raise StoreUnavailable("the store went away")
        write(batch)

    monkeypatch.setattr(store, "write_observations", down_after_one)
    ingester = Ingester(store, resources.registry, batch_size=100)
    with pytest.raises(StoreUnavailable, match="went away"):
        ingester.ingest_records(read_records(small_data.events_path, "jsonl"))
    assert len(attempts) == 1 + batches_module.WRITE_ATTEMPTS  # the second batch, retried
    assert store.stats()["Event"] == attempts[0]


def test_concurrent_ingest_of_the_same_events_counts_each_once(
    resources: Resources, small_data: GeneratedData, store: FalkorDBStore
) -> None:
    reports: list[IngestReport] = []

    def run() -> None:
        reports.append(ingest_file(resources, small_data.events_path))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = small_data.manifest["expected"]
    assert sum(r.accepted for r in reports) == expected["accepted"]
    assert store.stats()["Event"] == expected["accepted"]
    single = graph_dump(store)
    store.delete_all()
    ingest_file(resources, small_data.events_path)
    assert graph_dump(store) == single


def test_csv_and_jsonl_give_the_same_graph(
    resources: Resources, tmp_path: Path, store: FalkorDBStore
) -> None:
    (tmp_path / "e.jsonl").write_text(
        json.dumps(
            {
                "event_id": "e1",
                "timestamp": "2026-01-01T00:00:00Z",
                "source": "pos",
                "type": "purchase",
                "identifiers": {"email": "A@x.com", "phone": "(415) 555-0123"},
                "properties": {"amount": 12.5, "currency": "USD"},
            }
        )
        + "\n"
    )
    (tmp_path / "e.csv").write_text(
        "event_id,timestamp,source,type,email,phone,prop_amount,prop_currency\n"
        "e1,2026-01-01T00:00:00Z,pos,purchase,A@x.com,(415) 555-0123,12.5,USD\n"
    )
    ingest_file(resources, tmp_path / "e.jsonl")
    jsonl = graph_dump(store)
    props = store._graph.ro_query("MATCH (e:Event) RETURN e.amount, e.currency, e.ts").result_set
    store.delete_all()
    resources.ingester().ingest_records(read_records(tmp_path / "e.csv", "csv"))
    assert graph_dump(store) == jsonl
    assert (
        store._graph.ro_query("MATCH (e:Event) RETURN e.amount, e.currency, e.ts").result_set
        == props
    )
    assert props == [[12.5, "USD", 1767225600000]]


def test_a_batch_of_nothing_but_garbage(resources: Resources, tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text(
        "nope\n[]\n{}\n"
        + json.dumps(
            {
                "event_id": "x",
                "timestamp": "2026-01-01T00:00:00Z",
                "source": "s",
                "type": "t",
                "identifiers": [],
            }
        )
        + "\n"
    )
    report = ingest_file(resources, path, tmp_path / "r.jsonl")
    assert (report.records, report.accepted, report.rejected) == (4, 0, 4)
    assert resources.store.stats()["Event"] == 0


@pytest.mark.slow
def test_100k_events_exact_counts_and_idempotent_replay(
    resources: Resources, store: FalkorDBStore, tmp_path: Path
) -> None:
    data = generate(tmp_path / "big", persons=3600, seed=5)
    expected = data.manifest["expected"]
    assert expected["lines"] >= 100_000
    resources_big = Resources(resources.config.replace(batch_size=2000), store, resources.redis)
    report = ingest_file(resources_big, data.events_path, tmp_path / "rejects.jsonl")
    assert (report.accepted, report.duplicates, report.rejected, report.rejected_parts) == (
        expected["accepted"],
        expected["duplicates"],
        expected["rejected"],
        expected["rejected_parts"],
    )
    before = graph_dump(store)
    again = ingest_file(resources_big, data.events_path)
    assert (again.accepted, again.duplicates) == (0, expected["accepted"] + expected["duplicates"])
    assert graph_dump(store) == before
