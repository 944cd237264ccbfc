"""The application layer: what users and operators touch, above ``ml`` and ``graph``.

- :mod:`app.api`: the HTTP API (one blueprint per resource, marshmallow schemas, the
  request guard); :mod:`app.cli`: the ``idgraph`` command (one module per group);
  :mod:`app.access`: API keys and the audit trail.
- Services both use, one module per concept: ``config`` and ``resources`` (opened once,
  handed out), ``collection`` (events in), ``linking`` (train/resolve with the model),
  ``profiles``, ``explain``, ``erasure`` and ``erasure_files``, ``segments``, ``rfm``,
  ``audiences`` (files), ``export_jobs`` and ``jobs`` (rq), ``exports`` (profile files),
  ``metrics`` (Prometheus), ``logs`` and ``statuses`` (HTTP status of each error).
- :mod:`app.console`: the web console (server-rendered pages at ``/``).
"""
