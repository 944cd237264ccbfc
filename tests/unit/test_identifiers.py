from __future__ import annotations

import pytest

from graph.errors import ConfigError, IdentifierRejected
from graph.ingest.identifiers import (
    default_registry,
    is_placeholder,
    normalize_device_id,
    normalize_email,
    normalize_ip,
    normalize_phone,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (" Jane.Doe@Example.com", "jane.doe@example.com"),
        ("JANE@EXAMPLE.COM  ", "jane@example.com"),
        ("a@gmail.com", "a@gmail.com"),
    ],
)
def test_email_is_trimmed_and_lowercased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("raw", ["jane.doe@", "not-an-email", "@example.com", "a b@c.com", ""])
def test_invalid_emails_are_rejected(raw: str) -> None:
    with pytest.raises(IdentifierRejected):
        normalize_email(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("(415) 555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+1 415-555-0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        (2025550143, "+12025550143"),
    ],
)
def test_phone_numbers_become_e164(raw: object, expected: str) -> None:
    assert normalize_phone(raw) == expected


def test_phone_region_is_configurable() -> None:
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"
    with pytest.raises(IdentifierRejected):
        normalize_phone("020 7946 0958", region="US")


@pytest.mark.parametrize("raw", ["12345", "555", "000-000-0000", "phone", "+1 415"])
def test_impossible_phone_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(IdentifierRejected):
        normalize_phone(raw)


def test_uuid_device_ids_are_canonical() -> None:
    assert (
        normalize_device_id("{6F9619FF-8B86-D011-B42D-00C04FC964FF}")
        == "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    )
    assert normalize_device_id("6F9619FF8B86D011B42D00C04FC964FF") == (
        "6f9619ff-8b86-d011-b42d-00c04fc964ff"
    )
    assert normalize_device_id("  android-abc ") == "android-abc"
    with pytest.raises(IdentifierRejected, match="placeholder"):
        normalize_device_id("00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("99.2.177.235", "99.2.177.235"),
        ("2001:DB8::0:1", "2001:db8::1"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("8.8.8.8", "8.8.8.8"),
        ("1.1.1.1", "1.1.1.1"),
    ],
)
def test_ip_canonical_form(raw: str, expected: str) -> None:
    assert normalize_ip(raw) == expected


@pytest.mark.parametrize("raw", ["999.1.1.1", "localhost", "0.0.0.0", "127.0.0.1", "010.1.1.1"])
def test_bad_ips_are_rejected(raw: str) -> None:
    with pytest.raises(IdentifierRejected):
        normalize_ip(raw)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "null",
        "NULL",
        "None",
        "n/a",
        "N/A",
        "unknown",
        "anonymous",
        "undefined",
        "0",
        "0000",
        "xxxx",
        "1111-1111",
        "aa",
    ],
)
def test_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("text", ["a", "7", "u-1", "ab", "jane", "1010"])
def test_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


@pytest.mark.parametrize(
    "type_name", ["email", "phone", "user_id", "loyalty_id", "device_id", "cookie_id", "ip"]
)
@pytest.mark.parametrize(
    "value", ["null", "n/a", "undefined", "", "0", None, True, ["x"], {"a": 1}]
)
def test_every_type_rejects_placeholders_and_non_scalars(type_name: str, value: object) -> None:
    with pytest.raises(IdentifierRejected):
        default_registry().normalize(type_name, value)


def test_registry_strengths_and_unknown_types() -> None:
    registry = default_registry()
    assert registry.weak_types == ["ip"]
    assert "email" in registry.strong_types
    with pytest.raises(IdentifierRejected, match="unknown identifier type"):
        registry.normalize("fax", "123")


def test_registry_memoizes_results_and_rejections_alike() -> None:
    registry = default_registry()
    for _ in range(2):
        assert registry.normalize("email", " A@Example.com") == "a@example.com"
        with pytest.raises(IdentifierRejected, match="placeholder"):
            registry.normalize("email", "null")
    assert registry.normalize("user_id", 1) == "1"  # an int is not confused with a str


def test_custom_types_from_configuration() -> None:
    registry = default_registry(
        extra={"crm_id": {"strength": "strong"}, "wifi": {"strength": "weak", "normalizer": "ip"}}
    )
    assert registry.normalize("crm_id", " C-1 ") == "C-1"
    assert "wifi" in registry.weak_types
    with pytest.raises(ConfigError):
        default_registry(extra={"Bad Name": {}})
    with pytest.raises(ConfigError):
        default_registry(extra={"x": {"normalizer": "nope"}})
    with pytest.raises(ConfigError):
        default_registry(region="XX")
