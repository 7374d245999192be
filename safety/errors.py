"""Exception tree of the safety package."""

from contract.errors import GasguardError


class SafetyError(GasguardError):
    """Base of every error raised by the safety package."""


class ConfigError(SafetyError):
    """A rules configuration file or value is invalid."""
