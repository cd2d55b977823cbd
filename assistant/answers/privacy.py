"""Personal data, masked one way wherever it would leave the working moment: the audit trail and the
prompt sent to a language model (an endpoint that may sit outside the bank).

One list of fields and one pair of patterns serve both, so what an auditor reads and what a model
is sent can never drift apart. Amounts, needs and goals stay: they drive the result.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

MASK = "[masked]"
PERSONAL_FIELDS = ("name", "id_number", "anchor_firm", "notes")
"""Profile fields that identify a client or may hold anything about one (free-text notes)."""

# A mainland resident identity number: 6-digit area, birth date 18xx-20xx, 3-digit sequence, check digit.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                       r"(?![0-9A-Za-z])")
# A mainland mobile number, optionally +86 / 0086, with or without spaces or hyphens (138 0013 8000).
MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
ID_MASK = "[masked id number]"
PHONE_MASK = "[masked phone number]"


def mask_identifiers(text: str) -> str:
    """Replace identity numbers and mobile numbers inside free text (a question, a note)."""
    return MOBILE.sub(PHONE_MASK, ID_NUMBER.sub(ID_MASK, text))


def _mask_field(key: str, value: str) -> str:
    if value.startswith(MASK):  # idempotent: a replay masks masked data
        return value
    if key == "name":  # a stable pseudonym, so records of one client can still be linked
        return f"{MASK}:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:8]}"
    return MASK


def mask_profile(profile: dict[str, Any], keep: bool = False) -> dict[str, Any]:
    """The profile with identifying fields replaced and identity or phone numbers masked anywhere else."""
    if keep:
        return dict(profile)
    masked: dict[str, Any] = {}
    for key, value in profile.items():
        if key in PERSONAL_FIELDS and value not in (None, "", []):
            masked[key] = _mask_field(key, str(value))
        elif isinstance(value, str):
            masked[key] = mask_identifiers(value)
        elif isinstance(value, list):
            masked[key] = [mask_identifiers(v) if isinstance(v, str) else v for v in value]
        else:
            masked[key] = value
    return masked
