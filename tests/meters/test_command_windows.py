"""When a command can reach its meter: always-connected, sleeping on MQTT (held for its
uplink, unless it listens now), sleeping behind a platform (handed over at once). Pure."""

from __future__ import annotations

from devices.profiles import BUILT_IN, next_wake_ms
from meters.command_windows import command_window, listening
from meters.views import CommandWindow

NOW = 1_790_000_000_000
DAY = 86_400_000


def test_next_wake_is_the_last_uplink_plus_whole_intervals_after_now() -> None:
    assert next_wake_ms(None, DAY, NOW) == NOW + DAY
    assert next_wake_ms(NOW - 1000, DAY, NOW) == NOW - 1000 + DAY
    assert next_wake_ms(NOW - DAY - 1000, DAY, NOW) == NOW - 1000 + DAY  # one missed
    assert next_wake_ms(NOW + 5, DAY, NOW) == NOW + DAY  # a clock ahead: from now


def test_each_profile_gives_its_window() -> None:
    json, wakes, onenet = (BUILT_IN[n] for n in ("gasguard-json", "gasguard-json-wakes", "onenet"))
    assert command_window(json, NOW - DAY, NOW, 3_600_000) == CommandWindow(3_600_000)
    asleep = command_window(wakes, NOW - 60_000, NOW, 3_600_000)
    assert asleep == CommandWindow(2 * DAY, NOW - 60_000 + DAY, hold=True)
    awake = command_window(wakes, NOW - 5_000, NOW, 3_600_000)  # it listens 10 s
    assert awake == CommandWindow(2 * DAY)
    assert command_window(onenet, None, NOW, 3_600_000) == CommandWindow(2 * DAY, NOW + DAY)
    assert listening(wakes, NOW - 10_000, NOW) and not listening(wakes, NOW - 10_001, NOW)
    assert not listening(wakes, None, NOW)
