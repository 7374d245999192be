"""Why an application's clock stops, and for how long it may: the fixed list of reasons a
pause may give, each with a maximum length in the policy's unit. Pure.

A pause is time the utility does not control (design, drawings review, construction,
administrative approval, waiting for the customer, documents still due under 容缺受理). A
pause past its reason's maximum raises a warning, and the time beyond the maximum is not
left out: a pause can no longer stop the clock for ever.

Lingbao's own clocks inside the excluded time are the maxima of its two reasons the plan
times: administrative approvals within 3 working days once the documents are complete,
external works of at most 200 m finished within 7 days after the permits (counted here in
the policy's unit, working days; a city that counts them otherwise configures its own).
Those two defaults are Lingbao's; the other maxima are gasguard's (``DEFAULT_MAX_DAYS``),
not the policies': configure a city's own (``pause_max_days``).
"""

from __future__ import annotations

from typing import Literal, get_args

PauseReason = Literal[
    "design",
    "drawings_review",
    "construction",
    "administrative_approval",
    "waiting_for_customer",
    "missing_documents",
]
PAUSE_REASONS: tuple[str, ...] = get_args(PauseReason)
DEFAULT_MAX_DAYS: dict[str, int] = {
    "design": 5,
    "drawings_review": 5,
    "construction": 7,  # Lingbao: external works (≤ 200 m) within 7 days after the permits
    "administrative_approval": 3,  # Lingbao: within 3 working days of complete documents
    "waiting_for_customer": 10,
    "missing_documents": 5,
}


def max_days(limits: dict[str, int], reason: str) -> int | None:
    """The maximum of ``reason`` under a policy's ``limits``; None for a reason recorded
    before the list existed (free text): no maximum is known for it."""
    if reason not in PAUSE_REASONS:
        return None
    return limits.get(reason, DEFAULT_MAX_DAYS[reason])
