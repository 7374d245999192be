"""A DTU's TCP link (CJ/T 188 DTUs and concentrators that dial in), as a state machine in
the spirit of h11. Pure: bytes in, events out; the adapter (ingest.dtu_gateway) does the
sockets and MQTT.

A DTU opens the connection with its **registration packet** (注册包), configured on the
DTU as the text ``<dtu id>:<token>`` and a line feed; gasguard checks the token against
the DTU's account and refuses the connection otherwise. After it, the DTU forwards its
meters' CJ/T 188 frames: the stream is split into frames, resynchronising on garbage
(heartbeat packets, line noise), and each frame must come from a meter of that DTU's
account (the **identity check**: a DTU cannot speak for another DTU's meters).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from devices import cjt188

MAX_REGISTRATION_BYTES = 128
MAX_PENDING_BYTES = 4096  # an unfinished frame longer than any frame: garbage


@dataclass(frozen=True, slots=True)
class DtuAccount:
    dtu_id: str
    token: str
    meters: frozenset[str]  # the addresses it serves (14 hex digits, upper case)


@dataclass(frozen=True, slots=True)
class Registered:
    dtu_id: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The connection must be closed: why."""

    reason: str


@dataclass(frozen=True, slots=True)
class MeterFrame:
    """A frame from one of the DTU's meters, as it came (to publish on its topic)."""

    address: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Foreign:
    """A frame of a meter the DTU does not serve: not forwarded."""

    address: str


@dataclass(frozen=True, slots=True)
class Garbage:
    skipped: int


LinkEvent = Registered | Refused | MeterFrame | Foreign | Garbage


class DtuLink:
    """One connection: ``receive`` the bytes as they come, act on the events."""

    def __init__(self, accounts: Mapping[str, DtuAccount]) -> None:
        self._accounts = accounts
        self._buffer = b""
        self.account: DtuAccount | None = None
        self.refused = False

    def receive(self, data: bytes) -> list[LinkEvent]:
        if self.refused:
            return []
        self._buffer += data
        events: list[LinkEvent] = []
        if self.account is None:
            registration = self._registration()
            if registration is None:
                return events
            events.append(registration)
            if isinstance(registration, Refused):
                self.refused = True
                return events
        return events + self._frames()

    def _registration(self) -> Registered | Refused | None:
        line, found, rest = self._buffer.partition(b"\n")
        if not found:
            if len(self._buffer) > MAX_REGISTRATION_BYTES:
                return Refused("no registration packet (<dtu id>:<token> and a line feed)")
            return None
        self._buffer = rest
        dtu_id, colon, token = line.strip().decode("ascii", errors="replace").partition(":")
        account = self._accounts.get(dtu_id)
        if not colon or account is None:
            return Refused(f"unknown DTU {dtu_id[:40]!r}")
        if not hmac.compare_digest(token.encode(), account.token.encode()):
            return Refused(f"DTU {dtu_id}: wrong token")
        self.account = account
        return Registered(dtu_id)

    def _frames(self) -> list[LinkEvent]:
        assert self.account is not None
        frames, rest, skipped = cjt188.split_frames(self._buffer)
        if len(rest) > MAX_PENDING_BYTES:
            skipped, rest = skipped + len(rest), b""
        self._buffer = rest
        events: list[LinkEvent] = []
        if skipped:
            events.append(Garbage(skipped))
        for frame in frames:
            raw = cjt188.encode_frame(frame, wake_up=0)
            if frame.address in self.account.meters:
                events.append(MeterFrame(frame.address, raw))
            else:
                events.append(Foreign(frame.address))
        return events

    def serves(self, address: str) -> bool:
        return self.account is not None and address in self.account.meters
