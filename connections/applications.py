"""A connection application as the law looks at it: what an applicant submits, the record
with its stages and pauses as the registry returns it, and the check of its external-works
category. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from connections.fees import FeeCharge


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
    pipe_length_m: float | None = None  # external pipe; 0 without external works
    affects_others: bool | None = None  # the works affect other users' supply
    missing_documents: tuple[str, ...] = ()  # 容缺受理: accepted with these missing
    documents_due_ms: int | None = None  # when they are due


DocumentsState = Literal["complete", "due", "overdue"]
DOCUMENTS_REMINDER_MS = 86_400_000  # the reminder: a day before the documents are due
CLASS_A_MAX_PIPE_M = 200.0  # class A: at most 200 m of external pipe, no effect on others


def category_problems(
    category: str, pipe_length_m: float | None, affects_others: bool | None
) -> list[tuple[str, str]]:
    """(field, why) for every way the external works contradict the category: class A is
    at most 200 m of external pipe and affects no other user; A and B record the length;
    "none" has no external pipe."""
    problems: list[tuple[str, str]] = []
    if category in ("A", "B") and pipe_length_m is None:
        problems.append(("pipe_length_m", f"class {category}: the external pipe length is needed"))
    if category == "A":
        if pipe_length_m is not None and pipe_length_m > CLASS_A_MAX_PIPE_M:
            problems.append(
                (
                    "pipe_length_m",
                    f"class A is at most {CLASS_A_MAX_PIPE_M:g} m of external pipe, "
                    f"got {pipe_length_m:g} m: that is class B",
                )
            )
        if affects_others is None:
            problems.append(("affects_others", "class A: say whether other users are affected"))
        elif affects_others:
            problems.append(("affects_others", "class A affects no other user: that is class B"))
    if category == "none" and pipe_length_m:
        problems.append(("pipe_length_m", "no external works: no external pipe"))
    return problems


@dataclass(frozen=True, slots=True)
class PauseView:
    id: int
    start_ms: int
    end_ms: int | None
    reason: str
    evidence: str = ""


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
    pipe_length_m: float | None = None
    affects_others: bool | None = None
    commissioned_ms: int | None = None  # the meter linked
    first_flow_ms: int | None = None  # its first flow after commissioning: the confirmation
    gas_on_recorded_ms: int | None = None  # the utility's acceptance and gas-on (验收通气)
    flow_before_commission_ms: int | None = None  # flagged: flow before the meter was linked
    fees: tuple[FeeCharge, ...] = ()  # charged besides the application and gas-on fees
    missing_documents: tuple[str, ...] = ()  # 容缺受理: still missing
    documents_due_ms: int | None = None
    documents_complete_ms: int | None = None  # None while documents are missing

    def documents_state(self, now_ms: int) -> DocumentsState:
        """complete; due (accepted with documents missing, 容缺受理); overdue."""
        if not self.missing_documents:
            return "complete"
        if self.documents_due_ms is not None and now_ms > self.documents_due_ms:
            return "overdue"
        return "due"

    def charges(self) -> list[FeeCharge]:
        """Every fee charged, the application and gas-on fees among them."""
        return [
            FeeCharge("application", self.fee_application),
            FeeCharge("gas_on", self.fee_gas_on),
            *self.fees,
        ]

    # the public lookup's code in clear: only in the answer that issued it (the receipt)
    query_code: str | None = None
