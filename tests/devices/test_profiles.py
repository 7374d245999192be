"""Device profiles: the built-in ones and configured ones. Pure: no fixtures."""

from __future__ import annotations

import pytest

from devices.errors import ProfileError
from devices.profiles import BUILT_IN, CODECS, DeviceProfile, build_profiles, profile_of


def test_every_built_in_codec_has_a_profile_of_its_name() -> None:
    assert set(CODECS) <= set(BUILT_IN)  # and gasguard's JSON from meters that sleep
    assert sorted(set(BUILT_IN) - set(CODECS)) == ["gasguard-json-wakes"]
    assert {p.codec for p in BUILT_IN.values()} == set(CODECS)
    assert not BUILT_IN["gasguard-json"].sleeps
    wakes = BUILT_IN["gasguard-json-wakes"]
    assert (wakes.codec, wakes.transport, wakes.wakes_by_uplink) == ("gasguard-json", "mqtt", True)
    onenet = BUILT_IN["onenet"]
    assert (onenet.sleeps, onenet.wake_every_s, onenet.command_ttl_s) == (True, 86_400, 172_800)
    assert BUILT_IN["wmbus"].command_ttl_s == 0  # one-way radio


def test_a_configured_profile_adds_or_replaces_one_and_is_checked() -> None:
    daily = DeviceProfile("ignored", "cjt188", "mqtt", 86_400, options={"edition": "2018"})
    profiles = build_profiles({"cjt188-2018": daily})
    assert profiles["cjt188-2018"].name == "cjt188-2018"  # named by its key
    assert profiles["cjt188"] == BUILT_IN["cjt188"]
    with pytest.raises(ProfileError, match="edition is 2004 or 2018"):
        build_profiles({"x": DeviceProfile("x", "cjt188", "mqtt", 60, options={"edition": "2010"})})
    with pytest.raises(ProfileError, match="wake_every_s"):
        build_profiles({"x": DeviceProfile("x", "onenet", "platform", 60, window="wakes")})
    with pytest.raises(ProfileError, match="no device profile 'nope'"):
        profile_of(profiles, "nope")
