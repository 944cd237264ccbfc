"""The search box: any identifier in any format, its type guessed.

:func:`readings` is pure: every strong type the text normalizes as, most likely
first (an ``@`` reads as an e-mail, digits and phone punctuation as a phone…).
:func:`find` asks the store which of those readings exist: one is the answer,
several let the user choose, none says what was tried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graph.errors import IdentifierRejected
from graph.ingest.events import Identifier
from graph.ingest.identifiers import Registry
from graph.privacy import mask_value
from graph.store import GraphStore, IdentifierRecord

__all__ = ["Found", "find", "readings"]

#: how a value of each type usually looks, to order the readings (not to reject)
_PHONE_LIKE = re.compile(r"^[\s()+\-./0-9]{7,}$")
_UUID_LIKE = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
#: the order types are tried in when the text's shape says nothing
_DEFAULT_ORDER = ("user_id", "email", "phone", "loyalty_id", "device_id", "cookie_id")


@dataclass(frozen=True)
class Found:
    identifier: Identifier
    record: IdentifierRecord

    @property
    def masked(self) -> str:
        return mask_value(self.identifier.type, self.identifier.value)


def readings(registry: Registry, text: str, only: str | None = None) -> list[Identifier]:
    """Every strong identifier ``text`` can stand for, most likely first; ``only``
    keeps one type. Types whose normalizer rejects the text are left out."""
    text = text.strip()
    if not text:
        return []
    types = [only] if only else _ordered(registry.strong_types, text)
    found: list[Identifier] = []
    for type_name in types:
        if type_name not in registry or not registry[type_name].strong:
            continue
        try:
            value = registry.normalize(type_name, text)
        except IdentifierRejected:
            continue
        found.append(Identifier(type_name, value))
    return found


def _ordered(types: list[str], text: str) -> list[str]:
    first: list[str] = []
    if "@" in text:
        first.append("email")
    if _PHONE_LIKE.match(text):
        first.append("phone")
    if _UUID_LIKE.match(text):
        first.append("device_id")
    rest = [t for t in _DEFAULT_ORDER if t not in first] + sorted(
        t for t in types if t not in _DEFAULT_ORDER
    )
    return [t for t in first + rest if t in types]


def find(store: GraphStore, registry: Registry, text: str, only: str | None = None) -> tuple[
    list[Found], list[Identifier]
]:  # fmt: skip
    """(readings that exist in the store, every reading tried)."""
    tried = readings(registry, text, only)
    found = []
    for identifier in tried:
        record = store.identifier(identifier)
        if record is not None:
            found.append(Found(identifier, record))
    return found, tried
