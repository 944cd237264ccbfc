"""Who may do what, and who did: API keys with scopes, the audit trail, request limits.

- :mod:`app.access.keys` — creating, listing, revoking and verifying keys (stored as hashes);
- :mod:`app.access.audit` — the append-only audit trail (identifier values masked);
- :mod:`app.access.guard` — the HTTP side: every route's scope, 401/403, body cap, rate limits;
- :mod:`app.access.commands` — ``idgraph keys …`` and ``idgraph audit``.
"""
