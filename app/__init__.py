"""idgraph application layer: HTTP API, CLI, jobs."""
