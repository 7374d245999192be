"""Refusing to run in production on the example secrets of ``.env.example``.

Every secret in ``.env.example`` contains ``EXAMPLE_MARKER``; a process other than the
demo that finds the marker in one of its secrets stops with the names of the settings to
change, instead of running with a secret everyone who read the repository knows. Pure.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import SecretStr

from gasguard.settings import Settings, SettingsError

EXAMPLE_MARKER = "change-me"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _url_password(url: str | None) -> str:
    return (urlsplit(url).password or "") if url else ""


def example_secrets(settings: Settings) -> list[str]:
    """The settings whose secret is still an example value."""
    secrets = {
        "GASGUARD_API_SECRET_KEY": _secret(settings.api_secret_key),
        "GASGUARD_MQTT_AUTH_KEY": _secret(settings.mqtt_auth_key),
        "GASGUARD_MQTT_PASSWORD": _secret(settings.mqtt_password),
        "GASGUARD_INFLUX_TOKEN": settings.influx_token or "",
        "GASGUARD_DB_URL (password)": _url_password(settings.db_url),
        "GASGUARD_MQTT_URL (password)": _url_password(settings.mqtt_url),
    }
    return [name for name, value in secrets.items() if EXAMPLE_MARKER in value.lower()]


def refuse_example_secrets(settings: Settings) -> None:
    found = example_secrets(settings)
    if found:
        raise SettingsError(
            "refusing to start with the example secrets of .env.example in "
            + ", ".join(found)
            + ": set real ones (only `gasguard demo` runs on examples)"
        )
