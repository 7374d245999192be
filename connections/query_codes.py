"""The public query code of a connection application (查询码), printed on the applicant's
receipt: with the application number it opens the public progress lookup. Pure.

Twelve characters of Crockford's base32 (60 random bits), shown in groups of four
(``7K3M-Q9TX-2HVA``); what the applicant types is read leniently (case, spaces and
hyphens ignored, O read as 0, I and L as 1). Only a hash is kept: a copy of the registry
does not open the lookup, and staff issue a new code (audited) when a receipt is lost.
"""

from __future__ import annotations

import hashlib
import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 12
RANDOM_BYTES = 8  # 64 bits drawn, the top 60 used
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")
# what the lookup's query parameter accepts before normalisation
LOOSE_PATTERN = r"^[0-9A-Za-z\- ]{12,20}$"


def format_code(random_bytes: bytes) -> str:
    """A printable code from ``RANDOM_BYTES`` random bytes (``secrets.token_bytes``)."""
    if len(random_bytes) != RANDOM_BYTES:
        raise ValueError(f"a query code needs {RANDOM_BYTES} random bytes")
    value = int.from_bytes(random_bytes, "big") >> (RANDOM_BYTES * 8 - LENGTH * 5)
    chars = [ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH))]
    text = "".join(chars)
    return "-".join(text[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(typed: str) -> str | None:
    """The code as stored, or None when ``typed`` cannot be a code."""
    text = typed.upper().replace("-", "").replace(" ", "").translate(_READ_AS)
    return text if _SHAPE.fullmatch(text) else None


def code_hash(code: str) -> str:
    """What the registry keeps (hex SHA-256 of the normalised code); 60 random bits need
    no slow hash."""
    normal = normalise(code)
    if normal is None:
        raise ValueError("not a query code")
    return hashlib.sha256(f"gasguard-query-code\0{normal}".encode()).hexdigest()
