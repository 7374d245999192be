"""JSON from the network or a file: parsed fast, and every failure a ``ValueError``.

orjson parses first (several times faster than the standard library). What it refuses is
parsed again by the standard library, whose answer decides: it reads ``NaN`` and
``Infinity`` (the decoder then refuses them as not finite, with that reason) and integers
beyond 64 bits, and its error text names the problem. A document nested deeper than the
standard library can recurse is refused with ``NotJson`` instead of a ``RecursionError``
escaping into the receive loop (a 200 KB payload of brackets did that).

One difference from the standard library: where orjson reads a document, an integer
beyond 64 bits in it becomes a float. No field of the protocol takes such a number (times
and counters are refused as out of range either way; measurements become floats anyway).
"""

from __future__ import annotations

import json
from typing import Any

import orjson


class NotJson(ValueError):
    """The text is not a JSON document this program can read."""


def parse_json(data: bytes | str) -> Any:
    """The document in ``data`` (UTF-8). Raises ``UnicodeDecodeError`` for bytes that are
    not UTF-8 and another ``ValueError`` for text that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise NotJson("nested too deeply") from exc


def compact_json(value: Any) -> str:
    """JSON as gasguard writes it to the platforms and the notification channels: compact,
    UTF-8 characters as they are."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
