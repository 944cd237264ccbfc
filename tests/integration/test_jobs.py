"""Background jobs through a real rq worker and the real embedded Redis."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from app.config import Config
from app.jobs import QUEUE_NAME, enqueue_resolve
from app.resources import Resources


def test_resolve_runs_as_a_job(
    resources: Resources, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the job builds its own resources from the environment, as in a worker process
    for name in ("graph_url", "redis_url", "graph_name", "data_dir"):
        monkeypatch.setenv(f"IDGRAPH_{name.upper()}", str(getattr(config, name)))
    resources.ingester().ingest_objects(
        [
            {
                "event_id": "1",
                "timestamp": "2026-01-01T00:00:00Z",
                "source": "web",
                "type": "login",
                "identifiers": {"email": "a@x.com", "user_id": "u1"},
            }
        ]
    )
    queue = Queue(QUEUE_NAME, connection=resources.redis)
    queue.empty()
    job_id = enqueue_resolve(resources.redis)
    SimpleWorker([queue], connection=resources.redis).work(burst=True)
    job = queue.fetch_job(job_id)
    assert job is not None and job.is_finished, job and job.exc_info
    assert job.return_value()["profiles"] == 1
    assert resources.store.stats()["Profile"] == 1
