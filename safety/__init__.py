"""The safety engine: a pure core with no I/O and no wall clock.

Inputs are frozen readings and events (``safety.domain``); outputs are decisions.
Time is the readings' event time, passed in with every input.
"""

from safety.config import RulesConfig, model_limits
from safety.domain import (
    EVENT_NAMES,
    Action,
    Decision,
    MeterEvent,
    MeterProfile,
    Reading,
    ValveState,
)
from safety.engine import SafetyEngine
from safety.errors import ConfigError, SafetyError

__all__ = [
    "EVENT_NAMES",
    "Action",
    "ConfigError",
    "Decision",
    "MeterEvent",
    "MeterProfile",
    "Reading",
    "RulesConfig",
    "SafetyEngine",
    "SafetyError",
    "ValveState",
    "model_limits",
]
