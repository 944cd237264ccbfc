"""Who may do what, and who did: API keys with scopes, the audit trail, request limits.

- :mod:`app.access.keys` — creating, listing, revoking and verifying keys (stored as hashes);
- :mod:`app.access.audit` — the append-only audit trail (identifier values masked);
- :mod:`app.api.guard` — the HTTP side: every route's scope, 401/403, body cap, rate limits;
- the ``idgraph keys …`` and ``idgraph audit`` commands are in :mod:`app.cli.access`.
"""
