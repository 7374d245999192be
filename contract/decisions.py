"""What the safety engine decides: a rule fired for a meter, raise an alarm or shut the
valve. The replay format's decision lines are ``Decision.as_dict()``. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["shutoff", "alarm"]


@dataclass(frozen=True, slots=True)
class Decision:
    """A rule fired for a meter at event time ``ts_ms``: raise an alarm, or shut the valve."""

    ts_ms: int
    meter_id: str
    rule: str
    action: Action
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The replay-contract form: ``{"ts", "meter", "rule", "action", "detail"}``."""
        return {
            "ts": self.ts_ms,
            "meter": self.meter_id,
            "rule": self.rule,
            "action": self.action,
            "detail": dict(self.detail),
        }
