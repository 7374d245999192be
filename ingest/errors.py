"""Exception tree of the ingest package."""


class IngestError(Exception):
    """Base of every error raised by the ingest package."""


class Stopping(IngestError):
    """The ingester was asked to stop while work was still being retried."""
