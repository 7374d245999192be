"""Fees of a connection application against the city's published list (明码标价;
清单之外无收费: nothing off the list is charged). Pure.

Application and gas-on are free in both policies: any fee for them is wrong whatever the
list says. Any other item must be on the city's list (``Policy.fee_list``: item -> the
published price, yuan) and at most its price. Each problem raises an alarm at once and
is listed in the indicator report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from contract.decisions import Decision

FREE_ITEMS = ("application", "gas_on")  # 报装受理 and 通气: zero-fee by policy


@dataclass(frozen=True, slots=True)
class FeeCharge:
    item: str
    amount: float  # yuan


@dataclass(frozen=True, slots=True)
class FeeProblem:
    item: str
    amount: float
    why: str


def fee_problems(fee_list: Mapping[str, float], charges: list[FeeCharge]) -> list[FeeProblem]:
    """Every charge the published list does not allow."""
    problems = []
    for charge in charges:
        if charge.amount <= 0:
            continue
        if charge.item in FREE_ITEMS:
            why = f"{charge.item} is free: no fee may be charged for it"
        elif charge.item not in fee_list:
            why = f"{charge.item!r} is not on the published fee list: nothing off it is charged"
        elif charge.amount > fee_list[charge.item]:
            why = f"above the published price of {fee_list[charge.item]:g} yuan"
        else:
            continue
        problems.append(FeeProblem(charge.item, charge.amount, why))
    return problems


def fee_alarm(number: str, problems: list[FeeProblem], now_ms: int) -> Decision:
    """The alarm raised at once for an application's wrong fees (``connection_fee``)."""
    detail = {
        "application": number,
        "fees": [{"item": p.item, "amount": p.amount, "why": p.why} for p in problems],
    }
    return Decision(now_ms, number, "connection_fee", "alarm", detail)
