"""Valve commands to a DLMS meter, against the Gurux library's own meter side (its server
with a disconnect control): association, remote_disconnect or remote_reconnect, release;
a wrong password, a meter that cannot act and answers out of turn. Pure: no broker."""

from __future__ import annotations

import datetime as dt

import pytest
from gurux_dlms.objects.enums import ControlState

from contract.thresholds import Thresholds
from devices import dlms_commands
from devices.dlms_commands import Association, Exchange
from devices.errors import CodecError
from tests.dlms_meter import CHINA, DISCONNECT, RECONNECT, DlmsMeter


def run(
    meter: DlmsMeter,
    action: str,
    association: Association,
    writes: tuple[dlms_commands.Write, ...] = (),
) -> list[object]:
    """The whole exchange (``writes``: SETs instead of the action); the outcomes it gave."""
    exchange: Exchange | None
    if writes:
        exchange, request = dlms_commands.start_writes(writes, association)
    else:
        exchange, request = dlms_commands.start(action, association)
    outcomes: list[object] = []
    while exchange is not None:
        exchange, next_request, outcome = dlms_commands.advance(exchange, meter.answer(request))
        if outcome is not None:
            outcomes.append(outcome)
        if next_request is None:
            break
        request = next_request
    return outcomes


def test_a_close_disconnects_and_an_arm_leaves_the_meter_ready_for_reconnection() -> None:
    meter = DlmsMeter()
    assert run(meter, "close", Association()) == [("done", None)]
    assert (meter.actions, meter.valve.outputState) == ([DISCONNECT], False)
    assert meter.valve.controlState == ControlState.DISCONNECTED
    assert run(meter, "arm", Association()) == [("done", None)]
    assert meter.actions == [DISCONNECT, RECONNECT]
    assert meter.valve.controlState == ControlState.READY_FOR_RECONNECTION
    assert meter.valve.outputState is False  # the customer opens it at the meter


def test_the_management_client_associates_with_the_meters_password() -> None:
    meter = DlmsMeter(password="12345678")
    options = {"client_address": "1", "password": "12345678"}
    assert run(meter, "close", dlms_commands.association_of(options)) == [("done", None)]
    wrong = DlmsMeter(password="12345678")
    (outcome,) = run(wrong, "close", Association(1, 1, "00000000"))
    assert outcome[0] == "rejected" and "association refused" in str(outcome[1])  # type: ignore[index]
    assert wrong.actions == [] and wrong.valve.outputState is True


def test_an_open_is_not_sent_and_answers_out_of_turn_are_refused() -> None:
    with pytest.raises(CodecError) as refused:
        dlms_commands.start("open", Association())
    assert refused.value.code == "no_such_command"
    meter = DlmsMeter()
    exchange, aarq = dlms_commands.start("close", Association())
    aare = meter.answer(aarq)
    acting, _action, _ = dlms_commands.advance(exchange, aare)
    assert acting is not None and acting.step == "acting"
    with pytest.raises(CodecError) as late:
        dlms_commands.advance(acting, aare)  # an association's answer while acting
    assert late.value.code == "unexpected_answer"
    with pytest.raises(CodecError):
        dlms_commands.association_of({"client_address": "sixteen"})
    assert dlms_commands.apdu_tag(b"\x00\x01") is None
    assert dlms_commands.apdu_tag(aare) == dlms_commands.AARE


def test_a_parameter_download_sets_each_threshold_in_the_meters_units() -> None:
    meter = DlmsMeter()
    params = Thresholds(micro_flow_m3h=0.02, prolonged_use_min=240, pressure_low_kpa=1.2)
    options = {"obis_prolonged_use_min": "7.0.128.0.3.255"}
    writes = dlms_commands.threshold_writes(params.canonical(), options)
    assert run(meter, "params", Association(), writes) == [("done", None)]
    assert meter.writes == [  # in the canonical form's (sorted) order
        ("7.0.128.0.1.255", 20),  # litres an hour
        ("7.0.128.0.5.255", 1200),  # pascals
        ("7.0.128.0.3.255", 240),  # minutes
    ]
    vendor = dlms_commands.threshold_writes(params.canonical(), {"obis_micro_flow_m3h": "x"})
    assert vendor[0].obis == "x"  # the profile names its vendor's object


def test_a_set_the_meter_refuses_stops_the_download_and_says_which() -> None:
    meter = DlmsMeter()
    writes = (
        dlms_commands.Write("7.0.128.0.1.255", 20),
        dlms_commands.Write("7.0.199.0.9.255", 5),  # an object this meter does not have
        dlms_commands.Write("7.0.128.0.3.255", 240),
    )
    (outcome,) = run(meter, "params", Association(), writes)
    assert outcome[0] == "rejected" and "7.0.199.0.9.255" in str(outcome[1])  # type: ignore[index]
    assert [obis for obis, _ in meter.writes] == ["7.0.128.0.1.255"]  # the rest never went


def test_a_time_set_sets_the_meters_clock() -> None:
    meter = DlmsMeter()
    at = dt.datetime(2026, 12, 4, 18, 30, 5, tzinfo=CHINA)
    writes = dlms_commands.clock_write(int(at.timestamp() * 1000))
    assert run(meter, "clock", Association(), writes) == [("done", None)]
    ((obis, value),) = meter.writes
    assert obis == dlms_commands.CLOCK and value == at
