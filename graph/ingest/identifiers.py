"""Identifier types and their normalization: pure functions, no store.

Every normalizer takes the raw value (any JSON scalar, as sent) and returns the
canonical text stored in the graph, or raises :class:`IdentifierRejected` with
the reason. The registry maps type names to a normalizer and a strength:
strong identifiers link deterministically, weak ones are evidence only.

Cost: every normalizer is O(len(value)); phone and e-mail parsing dominate
(about 20 µs each on the reference machine).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from graph.errors import ConfigError, IdentifierRejected

__all__ = [
    "PLACEHOLDERS",
    "IdentifierType",
    "Registry",
    "default_registry",
    "is_placeholder",
    "normalize_device_id",
    "normalize_email",
    "normalize_ip",
    "normalize_phone",
    "normalize_trim",
]

STRONG = "strong"
WEAK = "weak"
MAX_VALUE_LENGTH = 256
#: compared after trimming and case-folding
PLACEHOLDERS = frozenset(
    {"", "null", "none", "nil", "n/a", "na", "unknown", "anonymous", "undefined", "0", "-"}
)
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_UUID_SHAPE = re.compile(
    r"^(urn:uuid:)?\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
    r"[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$"
)

Normalizer = Callable[[object], str]


def is_placeholder(text: str, *, repeated: bool = True) -> bool:
    """True for the values people and systems type when they have no real one.

    Empty or a known filler word (``null``, ``n/a``, ``unknown``…), or a string
    of two or more letters or digits, all one repeated character (``0000``,
    ``xxxxx``, ``00000000-0000-0000-0000-000000000000``); ``repeated=False``
    skips that last rule (IP addresses such as ``8.8.8.8`` are real).
    """
    folded = text.strip().casefold()
    if folded in PLACEHOLDERS:
        return True
    if not repeated:
        return False
    alnum = [c for c in folded if c.isalnum()]
    separators_only = len(alnum) == len(folded.replace("-", "").replace(".", "").replace(" ", ""))
    return len(alnum) >= 2 and len(set(alnum)) == 1 and separators_only


def _text(value: object, *, repeated: bool = True) -> str:
    """The trimmed text of a raw value; rejects non-scalars, placeholders, huge values."""
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float):
        raise IdentifierRejected(f"expected a string, got {type(value).__name__}", value=value)
    text = str(value).strip()
    if "\x00" in text:
        raise IdentifierRejected("contains a NUL character (\\u0000)", value=value)
    if is_placeholder(text, repeated=repeated):
        raise IdentifierRejected("placeholder value", value=value)
    if len(text) > MAX_VALUE_LENGTH:
        raise IdentifierRejected(f"longer than {MAX_VALUE_LENGTH} characters", value=value)
    return text


def normalize_trim(value: object) -> str:
    """Trimmed text (user_id, loyalty_id, cookie_id and custom types)."""
    return _text(value)


def normalize_email(value: object) -> str:
    """Trimmed, whole address lowercased; must parse as an address (no DNS look-up)."""
    text = _text(value)
    try:
        parsed = validate_email(text, check_deliverability=False)
    except EmailNotValidError as e:
        raise IdentifierRejected(f"not an e-mail address: {e}", value=value) from e
    normalized = parsed.normalized.lower()
    if is_placeholder(parsed.local_part):
        raise IdentifierRejected("placeholder value", value=value)
    return normalized


def normalize_phone(value: object, *, region: str = "US") -> str:
    """E.164 (``+14155550123``); numbers without a country code use ``region``."""
    text = _text(value)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        raise IdentifierRejected(f"not a phone number: {e}", value=value) from e
    if not phonenumbers.is_possible_number(number):
        raise IdentifierRejected("impossible phone number", value=value)
    if not phonenumbers.is_valid_number(number):
        raise IdentifierRejected(f"not a valid phone number (region {region})", value=value)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if is_placeholder(str(number.national_number)):
        raise IdentifierRejected("placeholder value", value=value)
    return e164


def normalize_device_id(value: object) -> str:
    """Trimmed; UUID-shaped values (IDFA, GAID…) as lowercase hyphenated UUIDs."""
    text = _text(value)
    if _UUID_SHAPE.match(text):
        text = str(uuid.UUID(text))
        if is_placeholder(text):
            raise IdentifierRejected("placeholder value", value=value)
    return text


def normalize_ip(value: object) -> str:
    """Canonical text form of an IPv4 or IPv6 address; unspecified/loopback rejected."""
    text = _text(value, repeated=False)
    try:
        address = ipaddress.ip_address(text)
    except ValueError as e:
        raise IdentifierRejected("not an IP address", value=value) from e
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_unspecified or address.is_loopback:
        raise IdentifierRejected("unspecified or loopback address", value=value)
    return address.compressed


@dataclass(frozen=True)
class IdentifierType:
    """One kind of identifier: its name, strength and normalizer."""

    name: str
    strength: str
    normalize: Normalizer

    @property
    def strong(self) -> bool:
        return self.strength == STRONG


class Registry:
    """The identifier types idgraph accepts, by name.

    Normalization results (and rejections) are memoized per (type, value):
    real streams repeat the same IPs, cookies and e-mails in most events.
    """

    def __init__(self, types: Iterable[IdentifierType], *, cache_size: int = 200_000) -> None:
        self._types = {t.name: t for t in types}
        self._cache_size = cache_size
        #: (type, kind, value) -> (normalized, None) or ("", reason); cleared when full
        self._memo: dict[tuple[object, str, object], tuple[str, str | None]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __getitem__(self, name: str) -> IdentifierType:
        return self._types[name]

    @property
    def names(self) -> list[str]:
        return sorted(self._types)

    @property
    def strong_types(self) -> list[str]:
        return sorted(n for n, t in self._types.items() if t.strong)

    @property
    def weak_types(self) -> list[str]:
        return sorted(n for n, t in self._types.items() if not t.strong)

    def normalize(self, type_name: object, value: object) -> str:
        """The canonical value, or :class:`IdentifierRejected` with the reason."""
        # the kind keeps 1 (int) and "1" (str) apart
        key = (type_name, type(value).__name__, value)
        try:
            hit = self._memo.get(key)
        except TypeError:  # unhashable (a list, a dict): always rejected, never cached
            hit = None
            key = None  # type: ignore[assignment]
        if hit is None:
            hit = self._normalize_uncached(type_name, value)
            if key is not None:
                if len(self._memo) >= self._cache_size:
                    self._memo.clear()
                self._memo[key] = hit
        normalized, reason = hit
        if reason is not None:
            field = "type" if type_name not in self._types else None
            raise IdentifierRejected(reason, field=field, value=type_name if field else value)
        return normalized

    def _normalize_uncached(self, type_name: object, value: object) -> tuple[str, str | None]:
        if not isinstance(type_name, str) or type_name not in self._types:
            return "", f"unknown identifier type {type_name!r}; known: {', '.join(self.names)}"
        try:
            return self._types[type_name].normalize(value), None
        except IdentifierRejected as e:
            return "", e.reason


def default_registry(
    *, region: str = "US", extra: Mapping[str, Mapping[str, str]] | None = None
) -> Registry:
    """The built-in types of DESIGN.md, plus ``extra`` from the configuration."""
    if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"default_region {region!r} is not a phone region")
    normalizers: dict[str, Normalizer] = {
        "trim": normalize_trim,
        "email": normalize_email,
        "phone": partial(normalize_phone, region=region.upper()),
        "device_id": normalize_device_id,
        "ip": normalize_ip,
    }
    types = {
        "email": IdentifierType("email", STRONG, normalizers["email"]),
        "phone": IdentifierType("phone", STRONG, normalizers["phone"]),
        "user_id": IdentifierType("user_id", STRONG, normalize_trim),
        "loyalty_id": IdentifierType("loyalty_id", STRONG, normalize_trim),
        "device_id": IdentifierType("device_id", STRONG, normalize_device_id),
        "cookie_id": IdentifierType("cookie_id", STRONG, normalize_trim),
        # Segment's and RudderStack's anonymousId: one browser or app install
        "anonymous_id": IdentifierType("anonymous_id", STRONG, normalize_trim),
        "ip": IdentifierType("ip", WEAK, normalize_ip),
    }
    for name, spec in (extra or {}).items():
        if not _TYPE_NAME.match(name):
            raise ConfigError(f"identifier type name {name!r}: use [a-z][a-z0-9_]*, ≤ 32")
        strength = spec.get("strength", STRONG)
        normalizer = spec.get("normalizer", "trim")
        if strength not in (STRONG, WEAK) or normalizer not in normalizers:
            raise ConfigError(
                f"identifier type {name!r}: strength is strong|weak, "
                f"normalizer one of {', '.join(sorted(normalizers))}"
            )
        types[name] = IdentifierType(name, strength, normalizers[normalizer])
    return Registry(types.values())
