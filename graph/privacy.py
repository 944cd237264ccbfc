"""Masking personal data for logs and the audit trail. Pure functions.

A masked value is enough for a person who already knows the customer to recognise
it, not enough to learn it: ``j***@e***.com``, ``+1*******67``, ``a01***``.
"""

from __future__ import annotations

import re

__all__ = ["mask_text", "mask_value"]

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
#: E.164 (what idgraph stores) and North-American formats as typed ((415) 555-0123)
_PHONE = re.compile(r"\+\d{7,15}\b|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")


def mask_value(type_name: str, value: str) -> str:
    """``value`` of identifier type ``type_name`` with most of it hidden."""
    if type_name == "email" and "@" in value:
        local, domain = value.rsplit("@", 1)
        name, dot, tld = domain.rpartition(".")
        masked_domain = f"{name[:1]}***{dot}{tld}" if dot else "***"
        return f"{local[:1]}***@{masked_domain}"
    if type_name == "phone":
        digits = value.lstrip("+")
        return ("+" if value.startswith("+") else "") + "*" * max(0, len(digits) - 2) + digits[-2:]
    if type_name == "ip":
        return value.rsplit(".", 1)[0] + ".*" if "." in value else value.split(":", 1)[0] + ":*"
    return value[:3] + "***" if len(value) > 4 else "***"


def mask_text(text: str) -> str:
    """``text`` with every e-mail address and phone number in it masked: a last
    guard for log lines, whatever message or exception put a value there."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: mask_value("email", m.group(0)), text)
    return _PHONE.sub(lambda m: mask_value("phone", re.sub(r"[^\d+]", "", m.group(0))), text)
