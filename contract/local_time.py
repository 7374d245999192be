"""The utility's local time: China Standard Time, UTC+8, no daylight saving. The one
definition every part uses (meters' clocks, the platforms' times, the connection law's
days, billing days, messages)."""

from __future__ import annotations

import datetime as dt

CHINA = dt.timezone(dt.timedelta(hours=8))
