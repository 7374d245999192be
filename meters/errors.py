"""Exception tree of the meters package. Library errors are translated at the boundary."""

from contract.errors import GasguardError


class MetersError(GasguardError):
    """Base of every error raised by the meters package."""


class StoreError(MetersError):
    """A telemetry store failed."""


class StoreUnavailable(StoreError):
    """The telemetry store cannot be reached right now; the write may be retried."""


class StoreRejected(StoreError):
    """The telemetry store refused the data; retrying the same write will not help."""


class RegistryError(MetersError):
    """The registry database failed."""


class NotFound(MetersError):
    """A registry record does not exist."""


class Conflict(MetersError):
    """The change contradicts the record's current state (a duplicate, a closed alarm)."""
