"""A decision row of the compiled core -> the ``detail`` its rule reports (DESIGN.md's
replay output). Configured values come from the configuration itself, so they print as
written (``"limit_s": 43200``, not ``43200.0``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from safety.codes import EVENTS
from safety.config import RulesConfig

Detail = Callable[[list[float], RulesConfig, str], dict[str, Any]]
# arguments: the row's numbers (``layout.DECISION.x``), the configuration, the meter's
# category


def _over_flow(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "register_flow_m3h": round(x[1], 4),
        "limit_m3h": x[2],
        "held_s": x[3],
    }


def _micro_flow(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"flow_m3h": x[0], "register_flow_m3h": round(x[1], 5), "held_s": x[2]}


def _sudden_increase(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "from_m3h": x[1],
        "step_m3h": x[2],
        "register_flow_m3h": round(x[3], 4),
    }


def _prolonged_use(x: list[float], config: RulesConfig, category: str) -> dict[str, Any]:
    edge, limit_s = getattr(config.prolonged_use, category)[int(x[0])]
    return {"band_m3h": edge, "limit_s": limit_s, "held_s": x[1], "flow_m3h": x[2]}


def _reopen_flow(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {
        "flow_m3h": x[0],
        "register_flow_m3h": round(x[1], 4),
        "max_flow_m3h": config.reopen_watch.max_flow_m3h,
        "seconds_after_reopening": x[3],
    }


def _no_flow_gap(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"days_without_gap": round(x[0], 1), "gap_s": config.no_flow_gap.gap_s}


def _flow_while_closed(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {
        "advance_m3": round(x[0], 6),
        "min_advance_m3": config.flow_while_closed.min_advance_m3,
    }


def _low_battery(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"battery_pct": x[0]}


def _pressure_low(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"pressure_kpa": x[0], "below_kpa": config.pressure.low_kpa}


def _pressure_high(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"pressure_kpa": x[0], "above_kpa": config.pressure.high_kpa}


def _event(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"event": EVENTS[int(x[0])]}


def _offline(x: list[float], config: RulesConfig, _: str) -> dict[str, Any]:
    return {"last_seen_ms": int(x[0]), "silent_s": x[1], "watermark_ms": int(x[2])}


DETAILS: dict[str, Detail] = {
    "over_flow": _over_flow,
    "micro_flow": _micro_flow,
    "leak_detector": _event,
    "sudden_increase": _sudden_increase,
    "prolonged_use": _prolonged_use,
    "no_flow_gap": _no_flow_gap,
    "pressure_low": _pressure_low,
    "pressure_high": _pressure_high,
    "flow_while_closed": _flow_while_closed,
    "seismic": _event,
    "tamper": _event,
    "low_battery": _low_battery,
    "offline": _offline,
    "reopen_flow": _reopen_flow,
}
