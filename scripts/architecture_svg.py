"""Draw docs/architecture.svg from the code: the rooms (packages), their modules, and
which room imports which (read with grimp, as import-linter does). Line counts are
left out on purpose: the picture changes when a module or an import between rooms
does, not with every edit.

    .venv/bin/python scripts/architecture_svg.py        # rewrites docs/architecture.svg

Rooms are drawn in their layers, top to bottom (pyproject.toml's import-linter
contracts); an arrow from one room to another means "imports". The test suite
checks the committed picture is the one the code draws (tests/unit/test_house.py).
"""

from __future__ import annotations

import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "architecture.svg"

#: rooms by layer, top first: (package, what it holds)
LAYERS: list[list[tuple[str, str]]] = [
    [("app.cli", "CLI: one module per command group"),
     ("app.api", "HTTP API: blueprints, schemas, guard"),
     ("app", "services shared by API and CLI"),
     ("app.access", "API keys, audit trail")],
    [("ml", "link model: evidence, browser chains, training, worlds")],
    [("graph.resolve", "clustering, integrity, resolution, erasure")],
    [("graph.profiles", "facts, RFM, segments")],
    [("graph.ingest", "identifiers, events, readers, ingester")],
    [("graph.store", "contract: runner + repositories, FalkorDB, Neo4j")],
]  # fmt: skip
FLOW = "events → ingest → store → resolve (+ ml) → profiles → API / CLI / console"


def modules_of(package: str) -> list[tuple[str, int]]:
    """(module, lines) of a room: its own modules, not its sub-packages' (app: the
    top-level modules only)."""
    folder = ROOT / package.replace(".", "/")
    rows = []
    for path in sorted(folder.glob("*.py")):
        name = path.stem
        if name == "__init__" and len(list(folder.glob("*.py"))) > 1:
            continue
        rows.append((name, sum(1 for _ in path.open(encoding="utf-8"))))
    return rows


def room_of(module: str, rooms: list[str]) -> str | None:
    best = None
    for room in rooms:
        if (module == room or module.startswith(room + ".")) and (
            best is None or len(room) > len(best)
        ):
            best = room
    return best


def room_imports(rooms: list[str]) -> set[tuple[str, str]]:
    import grimp

    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph("app", "graph", "ml", cache_dir=None)
    edges = set()
    for module in graph.modules:
        source = room_of(module, rooms)
        for imported in graph.find_modules_directly_imported_by(module):
            target = room_of(imported, rooms)
            if source and target and source != target:
                edges.add((source, target))
    return edges


def draw() -> str:
    rooms = [room for layer in LAYERS for room, _ in layer]
    edges = room_imports(rooms)
    width, gap = 1180, 56
    boxes: dict[str, tuple[float, float, float, float]] = {}
    parts: list[str] = []
    y = 70.0
    for layer in LAYERS:
        box_w = (width - 40 - 20 * (len(layer) - 1)) / len(layer)
        per_line = max(1, int(box_w // 140))
        listed = {room: [name for name, _lines in modules_of(room)] for room, _ in layer}
        lines = {room: [" · ".join(m[k : k + per_line]) for k in range(0, len(m), per_line)]
                 for room, m in listed.items()}  # fmt: skip
        box_h = 50 + 15 * max(len(text) for text in lines.values())
        for n, (room, what) in enumerate(layer):
            x = 20 + n * (box_w + 20)
            boxes[room] = (x, y, box_w, box_h)
            parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w:.0f}" '
                         f'height="{box_h:.0f}" rx="8" fill="#f4f7fb" '
                         'stroke="#4a6fa5"/>')  # fmt: skip
            parts.append(f'<text x="{x + 10:.0f}" y="{y + 20:.0f}" font-weight="bold">'
                         f"{escape(room)}</text>")  # fmt: skip
            parts.append(f'<text x="{x + 10:.0f}" y="{y + 36:.0f}" font-size="11" fill="#555">'
                         f"{escape(what)}</text>")  # fmt: skip
            for k, text in enumerate(lines[room]):
                parts.append(f'<text x="{x + 10:.0f}" y="{y + 52 + 15 * k:.0f}" '
                             f'font-size="11" fill="#333">{escape(text)}</text>')  # fmt: skip
        y += box_h + gap
    arrows = []
    for source, target in sorted(edges):
        sx, sy, sw, sh = boxes[source]
        tx, ty, tw, th = boxes[target]
        if ty == sy:  # same layer (app's rooms): side to side
            x1, y1 = (sx + sw, sy + sh / 2) if tx > sx else (sx, sy + sh / 2)
            x2, y2 = (tx, ty + th / 2) if tx > sx else (tx + tw, ty + th / 2)
        else:
            x1, y1, x2, y2 = sx + sw / 2, sy + sh, tx + tw / 2, ty
        arrows.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" '
                      'stroke="#4a6fa5" stroke-opacity="0.5" '
                      'marker-end="url(#arrow)"/>')  # fmt: skip
    header = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y:.0f}" '
        'font-family="sans-serif" font-size="13">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#4a6fa5"/></marker></defs>'
        '<rect width="100%" height="100%" fill="white"/>'
        '<text x="20" y="28" font-size="16" font-weight="bold">idgraph: rooms (packages and '
        "their modules) and the imports between them</text>"
        f'<text x="20" y="50" fill="#555">data flow: {escape(FLOW)}; an arrow is an '
        "import; generated by scripts/architecture_svg.py</text>"
    )
    return header + "".join(arrows) + "".join(parts) + "</svg>\n"


def main() -> None:
    OUT.write_text(draw(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
