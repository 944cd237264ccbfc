"""Hashing for ad platforms' customer lists (values recomputed here with hashlib)."""

from __future__ import annotations

import hashlib

from app.audiences import hash_email, hash_phone_e164, hash_phone_meta


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_email_is_trimmed_and_lowercased_before_hashing() -> None:
    assert hash_email("  Jane.Doe@Example.COM ") == sha("jane.doe@example.com")
    assert len(hash_email("a@b.co")) == 64


def test_google_hashes_e164_with_plus_and_meta_digits_only() -> None:
    assert hash_phone_e164("+14155550123") == sha("+14155550123")
    assert hash_phone_meta("+14155550123") == sha("14155550123")
    assert hash_phone_e164("+14155550123") != hash_phone_meta("+14155550123")
