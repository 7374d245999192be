"""Exception tree of the ingest package."""

from contract.errors import GasguardError


class IngestError(GasguardError):
    """Base of every error raised by the ingest package."""


class Stopping(IngestError):
    """The ingester was asked to stop while work was still being retried."""


class UndeliverableCommand(IngestError):
    """A command that can never reach its meter as it is: it fails at once (an alarm names
    why) rather than being sent again until it expires."""


class UnsupportedCommand(UndeliverableCommand):
    """The meter's protocol cannot carry the command (CJ/T 188 has no "arm")."""


class PlatformRefused(UndeliverableCommand):
    """The meter's operator platform refused the command (an unknown device, a wrong key:
    its answer says which)."""
