"""A connection application as the law looks at it: what an applicant submits, and the
record with its stages and pauses as the registry returns it. Values only."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NewApplication:
    policy: str
    category: str
    channel: str
    applicant: str
    phone: str
    address: str
    district: str = ""
    submitted_ms: int | None = None  # default: now
    fee_application: float = 0.0
    fee_gas_on: float = 0.0


@dataclass(frozen=True, slots=True)
class PauseView:
    id: int
    start_ms: int
    end_ms: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ApplicationView:
    id: int
    number: str
    policy: str
    category: str
    channel: str
    applicant: str
    phone: str
    address: str
    district: str
    submitted_ms: int
    surveyed_ms: int | None
    gas_on_ms: int | None
    meter_id: str | None
    fee_application: float
    fee_gas_on: float
    state: str
    pauses: tuple[PauseView, ...]
    # the public lookup's code in clear: only in the answer that issued it (the receipt)
    query_code: str | None = None
