"""The decoder reads each meter's own device profile: frames on another profile's topic
are refused, and a codec's options come from the meter's profile."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from contract.profiles import MeterProfile
from devices.profiles import BUILT_IN, DeviceProfile, build_profiles
from ingest.config import DecodeLimits
from ingest.decode import decode
from ingest.meter_profiles import MeterProfiles
from tests.conftest import sqlite_registry
from tests.devices.test_wmbus import AERIUS
from tests.dlms_meter import CHINA, meter_push

NOW = 1_796_284_800_000  # 2026-12-03 16:00 UTC+8


def test_a_meter_provisioned_with_a_profile_gets_its_codec_and_options(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    litres = DeviceProfile(
        "dlms-m3",
        "dlms",
        "mqtt",
        900,
        options={"push_objects": "clock,volume,valve,status", "volume_scaler": "0"},
    )
    profiles = MeterProfiles(registry, build_profiles({"dlms-m3": litres}))
    registry.meters.provision(
        [
            MeterProfile("DL1", device_profile="dlms-m3"),
            MeterProfile("CJ1", device_profile="cjt188"),
            MeterProfile("JS1"),
        ],
        NOW,
    )
    profiles.refresh()
    assert profiles.of("DL1") == build_profiles({"dlms-m3": litres})["dlms-m3"]
    assert profiles.of("CJ1") == BUILT_IN["cjt188"] and profiles.of("JS1") is None
    at = dt.datetime.fromtimestamp(NOW / 1000 - 60, CHINA)
    push = meter_push(42, True, at)
    mine = decode("gas/v1/meters/DL1/dlms", push, NOW, DecodeLimits(), profiles.of)
    assert mine.readings[0].volume_m3 == 42.0  # the profile's scaler: m³ already
    unknown = decode("gas/v1/meters/DL9/dlms", push, NOW, DecodeLimits(), profiles.of)
    assert unknown.readings[0].volume_m3 == 0.042  # not provisioned: the codec's default
    wrong = decode("gas/v1/meters/CJ1/dlms", push, NOW, DecodeLimits(), profiles.of)
    assert wrong.readings == ()
    assert wrong.rejections[0].code == "wrong_profile"
    assert "CJ1 speaks profile cjt188" in wrong.rejections[0].reason


def test_a_wmbus_prefix_of_the_profile_names_the_meter() -> None:
    prefixed = DeviceProfile("wm", "wmbus", "gateway", 900, options={"meter_prefix": "WM"})
    telegram = json.loads(AERIUS)
    telegram["timestamp"] = "2026-12-03T07:59:00Z"
    body = json.dumps(telegram).encode()
    decoded = decode(
        "gas/v1/meters/WM99657098/wmbus", body, NOW, DecodeLimits(), lambda _m: prefixed
    )
    assert decoded.rejections == () and decoded.readings[0].volume_m3 == 6842.784
