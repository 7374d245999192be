"""Exception tree of the gasguard wiring package, under the product's one root."""

from contract.errors import GasguardError

__all__ = ["GasguardError", "ServerStartError"]


class ServerStartError(GasguardError):
    """A local server process (Mosquitto, influxd, the embedded broker) did not come up."""
