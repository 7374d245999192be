"""The alarms meters report in their own codes, in gasguard's vocabulary. Pure.

Most IoT meters run their own safety checks (a micro-leak or an over-flow closes the
valve in the meter) and report what they saw as a status bit, a flag or an alarm code.
Each profile maps its codes (``options.alarm_codes = "ST1.0:micro_flow, ST1.1:over_flow"``)
on top of its codec's standard ones (``DEFAULTS``) to a target:

* a gasguard **rule** id (``micro_flow``, ``low_battery``, ...): an alarm of that rule,
  raised as the meter reported it (its action is an alarm: the meter acted, or not, on
  its own; gasguard's rules still run on its readings);
* a contract **event** (``detector_alarm``, ``tamper``, ``seismic``, ...): fed to the engine
  like the event itself, whose rule acts as it would (a leak detector's shutoff).

A code without a target is logged and left out. Which targets exist is checked at start
(``gasguard.wiring``: the rule ids are the engine's)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from contract.events import EVENT_NAMES
from devices.errors import CodecError, ProfileError

# the codes each codec's meters report in a standard way
DEFAULTS: dict[str, dict[str, str]] = {
    "cjt188": {"ST0.2": "low_battery"},  # ST0 D2: battery under voltage
    "wmbus": {"POWER_LOW": "low_battery"},  # EN 13757-3 status byte, bit 2
    "dlms": {},
    "onenet": {},
    "ctwing": {},
    "gasguard-json": {},
}
CJT188_VALVE_BITS = 0b11  # ST0 D0-D1: the valve, not an alarm


@dataclass(frozen=True, slots=True)
class MeterAlarm:
    """A meter's own alarm, in gasguard's vocabulary: ``rule`` is the target."""

    meter_id: str
    ts_ms: int
    rule: str
    code: str

    def to_payload(self) -> bytes:
        """Its form on ``meter-alarms`` (the platform receiver's, for the ingester)."""
        body = {"ts": self.ts_ms, "rule": self.rule, "code": self.code}
        return json.dumps(body, separators=(",", ":")).encode()


def parse_alarm(meter_id: str, payload: bytes) -> MeterAlarm:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError("not_json", f"meter alarm is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise CodecError("bad_alarm", "a meter alarm is a JSON object")
    ts, rule, code = body.get("ts"), body.get("rule"), body.get("code")
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0:
        raise CodecError("bad_alarm", "a meter alarm needs ts, epoch milliseconds")
    if not isinstance(rule, str) or not isinstance(code, str) or not rule or len(code) > 64:
        raise CodecError("bad_alarm", "a meter alarm needs rule and code (at most 64 characters)")
    return MeterAlarm(meter_id, ts, rule, code)


def parse(text: str) -> dict[str, str]:
    """``"CODE:target, CODE:target"`` -> {code: target}; ``ProfileError`` naming the bad
    part."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        code, colon, target = part.rpartition(":")
        if not colon or not code.strip() or not target.strip():
            raise ProfileError(f"alarm_codes: {part!r} is not CODE:target")
        mapping[code.strip()] = target.strip()
    return mapping


def alarm_map(codec: str, options: Mapping[str, str]) -> dict[str, str]:
    """The codec's standard codes, then the profile's (which may replace them; a target
    ``none`` drops a standard code)."""
    return dict(_alarm_map(codec, options.get("alarm_codes", "")))


@lru_cache(maxsize=256)
def _alarm_map(codec: str, text: str) -> tuple[tuple[str, str], ...]:
    merged = {**DEFAULTS.get(codec, {}), **parse(text)}
    return tuple((code, target) for code, target in merged.items() if target != "none")


def split(
    meter_id: str, ts_ms: int, codes: Iterable[str], mapping: Mapping[str, str]
) -> tuple[tuple[str, ...], tuple[MeterAlarm, ...]]:
    """The codes with a target: the contract events to feed the engine, and the alarms
    of gasguard's rules."""
    found, _unmapped = resolve(codes, mapping)
    events = tuple(target for _code, target in found if target in EVENT_NAMES)
    alarms = tuple(
        MeterAlarm(meter_id, ts_ms, target, code)
        for code, target in found
        if target not in EVENT_NAMES
    )
    return events, alarms


def check_targets(mapping: Mapping[str, str], targets: Iterable[str]) -> None:
    known = set(targets)
    unknown = sorted({t for t in mapping.values() if t not in known})
    if unknown:
        raise ProfileError(f"alarm_codes: {', '.join(unknown)} is no rule or event of gasguard")


def cjt188_codes(status: int, battery_low: bool) -> tuple[str, ...]:
    """CJ/T 188's status bytes (ST0 low, ST1 high) as codes ``ST0.2``, ``ST1.0``: every set
    bit but the valve's."""
    bits = (status & ~CJT188_VALVE_BITS) | (0b100 if battery_low else 0)
    if not bits:  # the usual answer: nothing to report
        return ()
    return tuple(f"ST{bit // 8}.{bit % 8}" for bit in range(16) if bits >> bit & 1)


def word_codes(word: int, width: int = 32) -> tuple[str, ...]:
    """A status word's set bits as codes ``bit0`` ... (a DLMS meter's status register)."""
    if word < 0:
        raise CodecError("bad_status", f"status word {word} is negative")
    if not word:
        return ()
    return tuple(f"bit{bit}" for bit in range(width) if word >> bit & 1)


def resolve(
    codes: Iterable[str], mapping: Mapping[str, str]
) -> tuple[list[tuple[str, str]], list[str]]:
    """The codes' targets, as (code, target), and the codes that have none."""
    found: list[tuple[str, str]] = []
    unmapped: list[str] = []
    for code in codes:
        target = mapping.get(code)
        if target is None:
            unmapped.append(code)
        else:
            found.append((code, target))
    return found, unmapped
