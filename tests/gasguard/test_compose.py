"""docker-compose.yml cannot run here (no Docker engine), so check that it agrees with the
code: services, images, ports, environment variables and commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gasguard.cli import build_parser
from gasguard.secrets_check import EXAMPLE_MARKER, example_secrets
from gasguard.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GASGUARD_SERVICES = {"migrate", "mqtt-auth", "ingest", "api", "simulator"}
ONE_SHOT = {"migrate", "mqtt-auth"}
LONG_RUNNING_WITH_HEALTHCHECK = {"mosquitto", "influxdb", "postgres", "ingest", "api"}
OPERATOR_SUPPLIED = "./deploy/tls"  # TLS files, not in the repository (deploy/tls/README.md)


def _interpolate(text: str) -> str:
    """Compose's ``${VAR:?message}``: every variable must be required (no default secrets)."""
    variables = re.findall(r"\$\{([A-Z_]+)(:?[?-])?[^}]*\}", text)
    for name, operator in variables:
        assert operator in (":?", "?"), f"${{{name}}} must be required, not defaulted"
    return re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: f"test-{m.group(1).lower()}", text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_interpolate((ROOT / "docker-compose.yml").read_text()))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    return set(actions[0].choices)  # type: ignore[arg-type]


def env_to_setting_path(name: str) -> list[str]:
    return name.removeprefix("GASGUARD_").lower().split("__")


def test_the_services_of_the_production_shape(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {"mosquitto", "influxdb", "postgres", *GASGUARD_SERVICES}
    assert services["influxdb"]["image"] == "influxdb:1.8"
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert services["postgres"]["image"].startswith("postgres:")
    for name in GASGUARD_SERVICES:
        assert services[name]["build"] == "."
    assert (ROOT / "Dockerfile").is_file()


def test_gasguard_commands_exist_in_the_cli(services: dict[str, dict[str, Any]]) -> None:
    known = subcommands()
    for name in GASGUARD_SERVICES:
        command = services[name]["command"]
        assert command[0] == "gasguard" and command[1] in known, f"{name}: {command}"
        build_parser().parse_args(command[1:])  # the arguments parse


def test_every_gasguard_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    for name in GASGUARD_SERVICES:
        environment = services[name]["environment"]
        values = {}
        for key, value in environment.items():
            assert key.startswith("GASGUARD_"), f"{name}: {key}"
            path = env_to_setting_path(key)
            section = Settings.model_fields
            for part in path[:-1]:
                annotation = section[part].annotation
                section = annotation.model_fields  # type: ignore[union-attr]
            assert path[-1] in section, f"{name}: {key} is not a gasguard setting"
            values[key] = str(value)
        Settings(**_as_settings(values))  # the values validate


def _as_settings(environment: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in environment.items():
        *sections, field = env_to_setting_path(key)
        target = result
        for section in sections:
            target = target.setdefault(section, {})
        target[field] = value
    return result


def test_urls_point_at_the_services_and_their_ports(services: dict[str, dict[str, Any]]) -> None:
    postgres_env = services["postgres"]["environment"]
    for name in GASGUARD_SERVICES:
        environment = services[name]["environment"]
        mqtt = urlsplit(environment["GASGUARD_MQTT_URL"])
        assert (mqtt.scheme, mqtt.hostname, mqtt.port) == ("mqtts", "mosquitto", 8883)
        assert mqtt.password is None  # not in a URL: GASGUARD_MQTT_PASSWORD, a secret
        account = "gasguard-simulator" if name == "simulator" else "gasguard-ingest"
        assert mqtt.username == account
        if name in ("ingest", "simulator"):  # they log in, with their own password
            assert environment["GASGUARD_MQTT_PASSWORD"].startswith("test-gasguard_mqtt_")
        influx = urlsplit(environment["GASGUARD_INFLUX_URL"])
        assert (influx.hostname, influx.port) == ("influxdb", 8086)
        assert (
            environment["GASGUARD_INFLUX_DB"] == services["influxdb"]["environment"]["INFLUXDB_DB"]
        )
        db = urlsplit(environment["GASGUARD_DB_URL"])
        assert (db.scheme, db.hostname, db.port) == ("postgresql", "postgres", 5432)
        assert (
            db.username == postgres_env["POSTGRES_USER"]
            and db.password == postgres_env["POSTGRES_PASSWORD"]
        )
        assert db.path == "/" + postgres_env["POSTGRES_DB"]
    mosquitto_conf = (ROOT / "deploy" / "mosquitto.conf").read_text()
    assert re.search(r"^listener 8883$", mosquitto_conf, re.M)
    assert "8883:8883" in services["mosquitto"]["ports"]
    api_port = services["api"]["environment"]["GASGUARD_API_PORT"]
    assert f"{api_port}:{api_port}" in services["api"]["ports"]
    assert services["api"]["environment"]["GASGUARD_API_HOST"] == "0.0.0.0"
    assert any(
        f":{api_port}/api/v1/health" in part for part in services["api"]["healthcheck"]["test"]
    )
    metrics_port = services["ingest"]["environment"]["GASGUARD_INGEST__METRICS_PORT"]
    assert any(
        f":{metrics_port}/metrics" in part for part in services["ingest"]["healthcheck"]["test"]
    )


def test_healthchecks_dependencies_restarts_and_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    for name in LONG_RUNNING_WITH_HEALTHCHECK:
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert condition["condition"] == expected
            if expected == "service_healthy":
                assert "healthcheck" in services[dependency]
        if name not in ONE_SHOT:
            assert service["restart"] == "unless-stopped", name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            bind_mount_exists = source.startswith("./") and (ROOT / source).exists()
            supplied = source.startswith(OPERATOR_SUPPLIED)
            assert bind_mount_exists or supplied or source in compose["volumes"], volume
    for name in ("ingest", "api"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_mosquitto_is_locked_down_with_the_generated_accounts(
    services: dict[str, dict[str, Any]],
) -> None:
    conf = (ROOT / "deploy" / "mosquitto.conf").read_text().splitlines()
    assert "allow_anonymous false" in conf and "allow_anonymous true" not in conf
    assert {"cafile", "certfile", "keyfile", "password_file", "acl_file"} <= {
        line.split()[0] for line in conf if line and not line.startswith("#")
    }
    export = services["mqtt-auth"]["command"]
    assert export[:3] == ["gasguard", "mqtt-auth", "export"] and "--simulator" not in export
    out = export[export.index("--out") + 1]
    auth_volume = next(v for v in services["mqtt-auth"]["volumes"] if v.endswith(out))
    mounted = next(
        v for v in services["mosquitto"]["volumes"] if v.startswith(auth_volume.split(":")[0])
    )
    target = mounted.split(":")[1]
    assert f"password_file {target}/passwd" in conf and f"acl_file {target}/acl" in conf
    assert services["simulator"]["profiles"] == ["trial"]
    influx = services["influxdb"]["environment"]
    assert influx["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    for name in ("ingest", "api"):
        token = services[name]["environment"]["GASGUARD_INFLUX_TOKEN"]
        assert token == f"{influx['INFLUXDB_USER']}:{influx['INFLUXDB_USER_PASSWORD']}"
    for name in GASGUARD_SERVICES - {"mqtt-auth"}:  # the one-shot export job only (issue 18)
        assert "GASGUARD_MQTT_AUTH_KEY" not in services[name]["environment"], name


def test_the_api_serves_tls_with_secure_cookies(services: dict[str, dict[str, Any]]) -> None:
    api = services["api"]
    environment = api["environment"]
    settings = Settings(**_as_settings({k: str(v) for k, v in environment.items()}))
    assert settings.api_secure_cookies and settings.api_tls_cert_file is not None
    mounted = {v.split(":")[1]: v.split(":")[0] for v in api["volumes"]}
    for path in (settings.api_tls_cert_file, settings.api_tls_key_file):
        assert mounted[str(path)].startswith(OPERATOR_SUPPLIED + "/"), path
    assert api["ports"] == [f"{settings.api_port}:{settings.api_port}"]  # no plain-HTTP port
    assert any("https://127.0.0.1" in part for part in api["healthcheck"]["test"])
    readme = (ROOT / "deploy" / "tls" / "README.md").read_text()
    assert "api.crt" in readme and "api.key" in readme


def test_the_example_secrets_are_refused(services: dict[str, dict[str, Any]]) -> None:
    """Every variable of .env.example is used by the compose file, holds the example
    marker, and makes gasguard refuse to start."""
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    compose_text = (ROOT / "docker-compose.yml").read_text()
    for name, value in example.items():
        assert f"${{{name}:?" in compose_text, name
        assert EXAMPLE_MARKER in value, name
    text = re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda m: example[m.group(1)], compose_text)
    with_examples = yaml.safe_load(text)["services"]
    for name in ("ingest", "api", "mqtt-auth"):
        environment = {k: str(v) for k, v in with_examples[name]["environment"].items()}
        settings = Settings(**_as_settings(environment))
        assert example_secrets(settings), name
