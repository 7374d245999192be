"""Exception tree of the telemetry stores. Library errors (httpx, sqlite3, odd InfluxDB
answers) are translated at each store's boundary."""

from contract.errors import GasguardError


class TelemetryError(GasguardError):
    """Base of every error raised by a telemetry store."""


class StoreUnavailable(TelemetryError):
    """The telemetry store cannot be reached right now; the write may be retried."""


class StoreRejected(TelemetryError):
    """The telemetry store refused the data; retrying the same write will not help."""
