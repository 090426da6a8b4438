"""The pytest plugin's ``lmstudio_protocol_warnings`` fixture, run on real inner test files."""

from __future__ import annotations

import pytest

from lmsprofiles.emulator.pytest_plugin import ProtocolWarnings

pytest_plugins = ["pytester"]

INNER = """
import json

import lmstudio as lms
import pytest
from websockets.sync.client import connect

from lmsprofiles.emulator import Emulator

AUTH = {"authVersion": 1, "clientIdentifier": "a", "clientPasskey": "b"}


def _send_bogus(emulator):
    with connect(f"ws://{emulator.host}/llm") as ws:
        ws.send(json.dumps(AUTH))
        ws.recv()
        ws.send(json.dumps({"type": "bogus"}))
        ws.recv()


def test_emulator_side(lmstudio_emulator, lmstudio_protocol_warnings):
    _send_bogus(lmstudio_emulator)


def test_emulator_side_expected(lmstudio_emulator, lmstudio_protocol_warnings):
    lmstudio_protocol_warnings.expect("unsupported message type 'bogus'")
    _send_bogus(lmstudio_emulator)


def test_sdk_side(lmstudio_protocol_warnings):
    emulator = Emulator().start()
    client = lms.Client(emulator.host)
    try:
        client.llm.list_loaded()
        emulator.stop()
        with pytest.raises(lms.LMStudioWebsocketError):
            client.llm.list_loaded()
    finally:
        client.close()


def test_clean(lmstudio_emulator, lmstudio_protocol_warnings):
    with lms.Client(lmstudio_emulator.host) as client:
        assert client.llm.list_loaded() == []
"""


def test_protocol_warnings_fail_the_test_that_logged_them(
    pytester: pytest.Pytester, lmstudio_protocol_warnings: ProtocolWarnings
) -> None:
    # The inner run logs through this process's loggers too.
    lmstudio_protocol_warnings.expect("unsupported message type 'bogus'|Websocket failed")
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_emulator_side *",
            "protocol warnings were logged:",
            "WARNING lmsprofiles.emulator: protocol warning to a client on /llm: "
            "unsupported message type 'bogus'",
            "*ERROR at teardown of test_sdk_side *",
            "protocol warnings were logged:",
            "ERROR AsyncWebsocketHandler: *Websocket failed, terminating session.*",
        ]
    )
