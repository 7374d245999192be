"""Exception tree of the transport package; paho's return codes and socket errors are
translated here."""

from contract.errors import GasguardError


class TransportError(GasguardError):
    """Base of every error raised by the transport package."""


class MqttConfigError(TransportError):
    """The MQTT URL is not usable."""


class PublishRefused(TransportError):
    """The client would not take a message to publish (its queue is full, the payload is
    too large, or the session is stopped)."""


class ProbeError(TransportError):
    """The broker could not be probed (not reachable, or it refused the probe)."""
