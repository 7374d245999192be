"""Exception tree of the meters package. Library errors are translated at the boundary."""

from contract.errors import GasguardError


class MetersError(GasguardError):
    """Base of every error raised by the meters package."""


class RegistryError(MetersError):
    """The registry database failed."""


class NotFound(MetersError):
    """A registry record does not exist."""


class Conflict(MetersError):
    """The change contradicts the record's current state (a duplicate, a closed alarm)."""
