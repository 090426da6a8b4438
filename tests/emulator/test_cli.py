"""``lmsprofiles emulator`` as a real subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lmstudio as lms
import pytest
from websockets.sync.client import connect

from tests.emulator.conftest import GEMMA

COMMAND = [sys.executable, "-m", "lmsprofiles", "emulator"]


@contextmanager
def _emulator_process(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), (line, process.stderr and process.stderr.read())
        yield process, line.removeprefix("listening on ").strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serves_the_sdk_and_stops_cleanly_on_signal(signum: signal.Signals) -> None:
    with _emulator_process("--port", "0") as (process, host):
        assert host.startswith("127.0.0.1:")
        assert int(host.rsplit(":", 1)[1]) > 0
        with lms.Client(host) as client:
            assert client.llm.load_new_instance(GEMMA).identifier == GEMMA
            assert client.llm.model(GEMMA).respond("hi", config={"maxTokens": 2}).content == (
                "Echo: hi. "
            )
        process.send_signal(signum)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0
        assert "Traceback" not in err


def test_host_option_is_the_bind_address() -> None:
    with _emulator_process("--host", "localhost", "--port", "0") as (process, host):
        assert host.startswith("localhost:")
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
        assert process.returncode == 0


def test_bad_catalog_file_is_a_clear_message(tmp_path: Path) -> None:
    catalog = tmp_path / "bad.yaml"
    catalog.write_text("settings:\n  memoryBudget: 1 GiB\n  contextPolicy: squash\n")
    result = subprocess.run(
        [*COMMAND, "--port", "0", "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3
    assert f"{catalog}:3:3: settings.contextPolicy:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_port_in_use_is_a_clear_message() -> None:
    with _emulator_process("--port", "0") as (process, host):
        port = host.rsplit(":", 1)[1]
        result = subprocess.run(
            [*COMMAND, "--port", port], capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"error: cannot listen on 127.0.0.1:{port}: address already in use"
        )
        process.send_signal(signal.SIGTERM)


def test_protocol_warnings_are_printed_on_stderr() -> None:
    with _emulator_process("--port", "0") as (process, host):
        with connect(f"ws://{host}/llm") as ws:
            ws.send(json.dumps({"authVersion": 1, "clientIdentifier": "a", "clientPasskey": "b"}))
            assert json.loads(ws.recv()) == {"success": True}
            ws.send(json.dumps({"type": "bogus"}))
            assert json.loads(ws.recv())["type"] == "communicationWarning"
            ws.send(json.dumps({"type": "communicationWarning", "warning": "bad fragment"}))
            ws.send(json.dumps({"type": "rpcCall", "endpoint": "listLoaded", "callId": 0}))
            assert json.loads(ws.recv())["type"] == "rpcResult"  # the warning was handled
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert err.splitlines() == [
        "protocol warning to a client on /llm: unsupported message type 'bogus'",
        "protocol warning from a client on /llm: bad fragment",
    ]
