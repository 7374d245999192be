"""Exception tree of the ingest package."""

from contract.errors import GasguardError


class IngestError(GasguardError):
    """Base of every error raised by the ingest package."""


class Stopping(IngestError):
    """The ingester was asked to stop while work was still being retried."""


class UnsupportedCommand(IngestError):
    """The meter's protocol cannot carry the command (CJ/T 188 has no "arm")."""
