"""What ``gasguard doctor`` reports: one finding per check, with the change to make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "note", "warn", "fail"]  # note: cannot be checked from here


@dataclass(frozen=True, slots=True)
class Finding:
    area: str
    level: Level
    what: str
    change: str = ""
