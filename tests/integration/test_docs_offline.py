"""/docs (Swagger UI) works on a machine without internet: its page loads only files
the app serves itself."""

from __future__ import annotations

import re
from typing import Any


def test_docs_page_loads_only_local_assets(anonymous_client: Any) -> None:
    page = anonymous_client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {"/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css",
            "/static/swagger-ui/swagger-ui-standalone-preset.js"} <= set(sources)  # fmt: skip
    assert not [s for s in sources if "://" in s or s.startswith("//")], sources
    assert '"validatorUrl": null' in html  # no badge fetched from validator.swagger.io
    for source in sources:
        asset = anonymous_client.get(source)  # no key needed, like the page itself
        assert asset.status_code == 200 and len(asset.get_data()) > 10_000, source
