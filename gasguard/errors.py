"""Exception tree of the gasguard wiring package."""


class GasguardError(Exception):
    """Base of every error raised by the gasguard package."""


class ServerStartError(GasguardError):
    """A local server process (Mosquitto, influxd, the embedded broker) did not come up."""
