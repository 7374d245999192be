"""What a notification says about an alarm: one short text, Chinese first, the same on
every channel (a robot's markdown, a mail, an SMS). Pure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from contract.local_time import CHINA

SEVERITY_TEXT = {"critical": "紧急 CRITICAL", "warning": "警告 WARNING", "info": "提示 INFO"}
ACTION_TEXT = {"shutoff": "已关阀 valve shut off", "alarm": "报警 alarm"}


@dataclass(frozen=True, slots=True)
class Notice:
    alarm_id: int
    meter_id: str
    rule: str
    action: str  # shutoff, alarm
    severity: str  # critical, warning, info
    opened_ts_ms: int  # when the condition happened (event time)
    created_ms: int  # when gasguard learned of it
    detail: tuple[tuple[str, Any], ...] = ()  # a few of the alarm's facts, in order
    dashboard_url: str = ""  # the alarm in the dashboard, when the settings name it
    ack_url: str = ""  # a signed, single-use link that acknowledges it (notify.links)
    district: str | None = None  # where the meter is (routes by district)

    @property
    def title(self) -> str:
        severity = SEVERITY_TEXT.get(self.severity, self.severity)
        return f"[gasguard {severity}] {self.rule} · 表 meter {self.meter_id}"

    def text(self) -> str:
        """The message's body: what, where, when, and the link."""
        when = dt.datetime.fromtimestamp(self.opened_ts_ms / 1000, CHINA)
        lines = [
            self.title,
            f"{ACTION_TEXT.get(self.action, self.action)} · 报警 alarm #{self.alarm_id}"
            + (f" · {self.district}" if self.district else ""),
            f"发生 at {when:%Y-%m-%d %H:%M:%S} (UTC+8)",
        ]
        if self.detail:
            lines.append(" · ".join(f"{key} {value}" for key, value in self.detail))
        if self.dashboard_url:
            lines.append(self.dashboard_url)
        if self.ack_url:
            lines.append(f"确认 Acknowledge: {self.ack_url}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """The generic webhook's body."""
        return {
            "alarm": self.alarm_id,
            "meter": self.meter_id,
            "rule": self.rule,
            "action": self.action,
            "severity": self.severity,
            "opened_ts_ms": self.opened_ts_ms,
            "created_ms": self.created_ms,
            "detail": dict(self.detail),
            "district": self.district,
            "text": self.text(),
            "url": self.dashboard_url or None,
            "ack_url": self.ack_url or None,
        }
