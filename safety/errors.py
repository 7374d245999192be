"""Exception tree of the safety package."""


class SafetyError(Exception):
    """Base of every error raised by the safety package."""


class ConfigError(SafetyError):
    """A rules configuration file or value is invalid."""
