"""The root of gasguard's exception tree. Each package has its own subclass (``SafetyError``,
``MetersError``, ``IngestError``, ``ApiError``, the wiring's ``ServerStartError`` and
``SettingsError``), and each translates the errors of the libraries it uses at its edge
(``raise … from``), so that a caller catches ``GasguardError`` and nothing else of ours."""


class GasguardError(Exception):
    """Base of every error gasguard raises on purpose."""


class ContractError(GasguardError):
    """Base of the errors of the contract package."""


class ProtocolError(ContractError):
    """A topic or payload does not follow the MQTT contract."""
