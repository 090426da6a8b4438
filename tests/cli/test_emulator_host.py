"""`emulator --host` takes the address forms people type, with or without a port."""

from __future__ import annotations

import argparse
import signal

import lmstudio as lms
import pytest

from lmsprofiles._cli import main
from lmsprofiles._commands.emulator import bind_address
from tests.emulator.test_cli import _emulator_process


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.0.0.0:1234", ("0.0.0.0", 1234)),
        ("0.0.0.0", ("0.0.0.0", None)),
        ("localhost", ("localhost", None)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:1234", ("::1", 1234)),
        ("[::1]", ("::1", None)),
        ("::1", ("::1", None)),
        (":1234", ("127.0.0.1", 1234)),
        ("http://0.0.0.0:1234", ("0.0.0.0", 1234)),
        ("ws://localhost:1234/", ("localhost", 1234)),
        (" 127.0.0.1 ", ("127.0.0.1", None)),
    ],
)
def test_bind_address_forms(text: str, expected: tuple[str, int | None]) -> None:
    assert bind_address(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "expected ADDRESS or ADDRESS:PORT"),
        ("http://host/path", "expected ADDRESS or ADDRESS:PORT"),
        ("0.0.0.0:99999", "the port in '0.0.0.0:99999' must be 0 to 65535"),
        ("localhost:http", "the port in 'localhost:http' must be 0 to 65535"),
        ("[::1", "expected [IPV6] or [IPV6]:PORT"),
    ],
)
def test_malformed_host_is_a_usage_error(
    text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("[", r"\[")):
        bind_address(text)
    with pytest.raises(SystemExit) as exited:
        main(["emulator", "--host", text])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_port_in_host_and_a_different_port_option_conflict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["emulator", "--host", "127.0.0.1:1234", "--port", "4321"]) == 2
    assert "--host names port 1234 and --port 4321; give one" in capsys.readouterr().err


@pytest.mark.parametrize("form", ["127.0.0.1:0", "http://127.0.0.1:0"])
def test_the_emulator_serves_on_the_port_given_with_host(form: str) -> None:
    with _emulator_process("--host", form) as (process, host):
        assert host.startswith("127.0.0.1:")
        with lms.Client(host) as client:
            assert client.llm.list_loaded() == []
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
