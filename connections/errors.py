"""Exception tree of the connections package."""

from contract.errors import GasguardError


class ConnectionsError(GasguardError):
    """Base of every error raised by the connections package."""


class HolidayFileError(ConnectionsError):
    """The holiday file cannot be read or does not follow its format."""


class PolicyError(ConnectionsError):
    """A configured city policy cannot be used (a category without a budget)."""
