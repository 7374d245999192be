from __future__ import annotations

import pytest

from meters.mqtt import MqttConfigError, MqttEndpoint, backoff_delay


def test_urls_parse_with_credentials_tls_and_defaults() -> None:
    plain = MqttEndpoint.from_url("mqtt://broker.example")
    assert (plain.host, plain.port, plain.tls, plain.username) == (
        "broker.example",
        1883,
        False,
        None,
    )
    secure = MqttEndpoint.from_url(
        "mqtts://meter%40x:p%3Ass@10.0.0.5", ca_file="/ca.pem", protocol="3.1.1"
    )
    assert (secure.port, secure.tls, secure.username, secure.password) == (
        8883,
        True,
        "meter@x",
        "p:ss",
    )
    assert (secure.ca_file, secure.protocol, secure.url) == (
        "/ca.pem",
        "3.1.1",
        "mqtts://10.0.0.5:8883",
    )


@pytest.mark.parametrize("url", ["http://x:1883", "mqtt://", "mqtt://host:notaport"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(MqttConfigError):
        MqttEndpoint.from_url(url)


def test_backoff_grows_to_the_cap_with_jitter_in_the_upper_half() -> None:
    assert backoff_delay(0, 0.5, 30, lambda: 0.0) == 0.25
    assert backoff_delay(0, 0.5, 30, lambda: 0.999999) == pytest.approx(0.5, abs=1e-5)
    assert backoff_delay(3, 0.5, 30, lambda: 0.5) == pytest.approx(4.0 * 0.75)
    assert backoff_delay(50, 0.5, 30, lambda: 0.0) == 15.0
    assert backoff_delay(50, 0.5, 30, lambda: 0.999999) == pytest.approx(30.0, abs=1e-4)
