"""The errors of the device codecs: one class, with a reason code for the dead letter."""

from __future__ import annotations

from contract.errors import GasguardError


class DevicesError(GasguardError):
    """Base of the errors of the devices package."""


class CodecError(DevicesError, ValueError):
    """Bytes a codec cannot accept: ``code`` names the kind (a dead letter's reason code
    and a metric label), the message says how."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ProfileError(DevicesError):
    """A device profile is not valid (its settings, or a name that does not exist)."""
