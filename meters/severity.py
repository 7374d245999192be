"""How urgent an alarm is, for the control room's ordering and counts. Pure.

critical: gas was (or should have been) shut off: every shutoff, and every valve command
  that failed, expired, timed out or was refused; the broker dropping messages (readings
  lost before gasguard could store them); a notification that could not be delivered.
warning: something needs a person (flow while closed, tamper, no zero-flow window, a
  connection record overdue...).
info: housekeeping (battery, silence, a connection record nearing its limit).
"""

from __future__ import annotations

from typing import Literal

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
COMMAND_RULE_PREFIX = "command_"
INFO_RULES: frozenset[str] = frozenset({"low_battery", "offline", "connection_warning"})
# the broker dropped messages; a notification could not reach its channel (the notifier)
CRITICAL_RULES: frozenset[str] = frozenset({"broker_dropped", "notification_failed"})


def severity_of(rule: str, action: str) -> Severity:
    if action == "shutoff" or rule.startswith(COMMAND_RULE_PREFIX) or rule in CRITICAL_RULES:
        return "critical"
    if rule in INFO_RULES:
        return "info"
    return "warning"
