"""Assets the web pages load are shipped inside the package, copied from the npm
packages package.json pins: nothing comes from a CDN at run time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "app" / "api" / "static" / "swagger-ui"
FILES = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "LICENSE")


@pytest.mark.parametrize("name", FILES)
def test_swagger_ui_files_are_those_of_the_pinned_npm_package(name: str) -> None:
    package = ROOT / "node_modules" / "swagger-ui-dist"
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    assert (SHIPPED / name).read_bytes() == (package / name).read_bytes(), (
        f"copy node_modules/swagger-ui-dist/{name} to {SHIPPED.relative_to(ROOT)}"
    )


@pytest.mark.parametrize(("shipped", "packaged"), [
    ("cytoscape.min.js", "dist/cytoscape.min.js"), ("cytoscape.LICENSE", "LICENSE")])  # fmt: skip
def test_cytoscape_is_that_of_the_pinned_npm_package(shipped: str, packaged: str) -> None:
    package = ROOT / "node_modules" / "cytoscape"
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["cytoscape"]
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    console = ROOT / "app" / "console" / "static"
    assert (console / shipped).read_bytes() == (package / packaged).read_bytes(), (
        f"copy node_modules/cytoscape/{packaged} to app/console/static/{shipped}"
    )
