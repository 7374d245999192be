"""The one builder of the policies in force. Pure: no fixtures."""

from __future__ import annotations

import pytest

from connections.errors import PolicyError
from connections.policies import build_policies
from connections.timelimits import BUILT_IN, Policy
from connections.workdays import WorkCalendar


def test_built_in_and_configured_cities_share_the_configured_warning_share() -> None:
    xian = Policy("ignored", "natural", {"none": 2, "A": 4, "B": 6})
    policies = build_policies(WorkCalendar(), {"xian": xian}, 0.6)
    assert sorted(policies.by_name) == ["guangzhou", "lingbao", "xian"]
    assert {p.warn_share for p in policies.by_name.values()} == {0.6}
    assert policies.by_name["xian"].name == "xian"  # named by its key in the settings
    assert policies.by_name["xian"].days == {"none": 2, "A": 4, "B": 6}
    assert policies.by_name["guangzhou"].days == BUILT_IN["guangzhou"].days


def test_a_configured_city_of_a_built_in_name_replaces_it() -> None:
    slower = Policy("guangzhou", "natural", {"none": 4, "A": 6, "B": 9})
    policies = build_policies(WorkCalendar(), {"guangzhou": slower}, 0.8)
    assert policies.by_name["guangzhou"].days == {"none": 4, "A": 6, "B": 9}


def test_a_configured_city_without_a_category_is_refused_by_name() -> None:
    partial = Policy("x", "working", {"none": 1, "A": 2})
    with pytest.raises(PolicyError, match=r"'x'.*\['B'\]"):
        build_policies(WorkCalendar(), {"x": partial}, 0.8)
