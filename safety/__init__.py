"""The safety engine: a pure core with no I/O and no wall clock.

Inputs are frozen readings and events (``contract``); outputs are decisions.
Time is the readings' event time, passed in with every input. Importing the package, its
values or its configuration loads no compiler and touches no file: ``SafetyEngine`` (and
numba with it) is imported when first named.
"""

from typing import TYPE_CHECKING, Any

from contract.decisions import Action, Decision
from contract.events import EVENT_NAMES, MeterEvent
from contract.profiles import MeterProfile
from contract.readings import Reading, ValveState
from safety.config import RulesConfig, model_limits
from safety.errors import ConfigError, SafetyError

if TYPE_CHECKING:
    from safety.engine import SafetyEngine

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


def __getattr__(name: str) -> Any:
    if name == "SafetyEngine":
        from safety.engine import SafetyEngine

        return SafetyEngine
    raise AttributeError(f"module 'safety' has no attribute {name!r}")
