from __future__ import annotations

from pathlib import Path

import pytest

from safety import ConfigError, RulesConfig, model_limits


def test_defaults_are_the_design_table() -> None:
    config = RulesConfig()
    table = {name: (m.over_flow_m3h, m.sudden_step_m3h) for name, m in config.models.items()}
    assert table == {
        "G1.6": (2.9, 2.3),
        "G2.5": (4.5, 3.6),
        "G4": (7.3, 5.6),
        "G6": (10.9, 8.4),
        "G10": (18.0, 14.0),
        "G16": (29.0, 23.0),
        "G25": (45.0, 36.0),
    }
    assert config.over_flow.hold_s == 60
    assert (config.micro_flow.floor_m3h, config.micro_flow.ceiling_m3h) == (0.005, 0.03)
    assert config.micro_flow.hold_s == 4 * 3600
    assert config.micro_flow.action["commercial"] == "alarm"


def test_toml_overrides_merge_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        "[over_flow]\nhold_s = 90\n"
        "[models.G4]\nover_flow_m3h = 8\n"
        "[models.G40]\nover_flow_m3h = 70.0\n"
    )
    config = RulesConfig.from_toml(path)
    assert config.over_flow.hold_s == 90
    assert model_limits(config, "G4").over_flow_m3h == 8.0
    assert model_limits(config, "G4").sudden_step_m3h == 5.6
    assert model_limits(config, "G40").over_flow_m3h == 70.0
    assert model_limits(config, "nonsense") == config.models["G2.5"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[over_flow]\nhold = 1\n", "unknown key 'hold'"),
        ("[over_flow]\nhold_s = 'x'\n", "over_flow.hold_s: expected int"),
        ("[nonsense]\na = 1\n", "unknown rules config section"),
        ("[over_flow\n", "cannot read rules config"),
        ("[prolonged_use]\nresidential = [[0.4]]\n", r"prolonged_use.residential: each band"),
        (
            "[prolonged_use]\ncommercial = [[1.0, 60], [0.4, 60]]\n",
            "prolonged_use.commercial: band edges must be strictly ascending",
        ),
        ("[prolonged_use]\nindustrial = []\n", "band edges must be strictly ascending"),
        ("[prolonged_use]\nresidential = [[0.4, -5]]\n", "each band is"),
        (
            "[prolonged_use]\nresidential = [[0.1, 9], [0.2, 9], [0.3, 9], [0.4, 9], [0.5, 9]]\n",
            "prolonged_use.residential: at most 4 bands",
        ),
        ("[sudden_increase]\nwindow_s = 0\n", "sudden_increase.window_s: 1 to 86400"),
        ("[sudden_increase]\nwindow_s = 100000\n", "sudden_increase.window_s: 1 to 86400"),
        ("[data_quality]\nclock_shift_readings = 300\n", "clock_shift_readings: 1 to 255"),
    ],
)
def test_bad_config_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        RulesConfig.from_toml(path)
