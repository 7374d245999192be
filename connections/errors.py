"""Exception tree of the connections package."""

from contract.errors import GasguardError


class ConnectionsError(GasguardError):
    """Base of every error raised by the connections package."""


class HolidayFileError(ConnectionsError):
    """The holiday file cannot be read or does not follow its format."""


class PolicyError(ConnectionsError):
    """A configured city policy cannot be used (a category without a budget)."""


class CalendarMissing(ConnectionsError):
    """A working day of a year without a holiday schedule was asked for: load the State
    Council's schedule for that year (``GASGUARD_HOLIDAY_FILE``)."""

    def __init__(self, year: int) -> None:
        super().__init__(f"no holiday schedule for {year}: load it with GASGUARD_HOLIDAY_FILE")
        self.year = year
