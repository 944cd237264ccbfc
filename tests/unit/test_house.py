"""The house rules that the code itself can check: module sizes, the picture of the
rooms in docs/ is the one the code draws, every package says what belongs in it."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(
    str(p.parent.relative_to(ROOT)).replace("/", ".")
    for top in ("app", "graph", "ml")
    for p in (ROOT / top).rglob("__init__.py")
)


def test_no_module_over_about_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): sum(1 for _ in path.open(encoding="utf-8"))
        for top in ("app", "graph", "ml")
        for path in (ROOT / top).rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > 420} == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_says_what_belongs_in_it(package: str) -> None:
    doc = importlib.import_module(package).__doc__ or ""
    assert len(doc.split()) >= 8, package


def test_the_architecture_picture_is_the_one_the_code_draws() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from architecture_svg import OUT, draw

    assert OUT.read_text(encoding="utf-8") == draw(), (
        "run `.venv/bin/python scripts/architecture_svg.py` and commit docs/architecture.svg"
    )
