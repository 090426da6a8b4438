"""Latency (``Emulator.latency_ms``, ``emulator --latency-ms``) and several emulators at once
(``emulator --count``)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import lmstudio as lms
import pytest

from lmsprofiles._cli import main
from lmsprofiles.emulator import Emulator, EmulatorError
from tests.emulator.conftest import GEMMA

COMMAND = [sys.executable, "-m", "lmsprofiles", "emulator"]


def test_a_held_back_answer_outlasts_a_short_timeout(
    client: lms.Client, lmstudio_emulator: Emulator, short_sync_timeout: float
) -> None:
    client.llm.list_loaded()  # connected without latency
    lmstudio_emulator.latency_ms = 60_000
    with pytest.raises(lms.LMStudioTimeoutError):
        client.llm.list_loaded()


def test_messages_keep_their_order_and_answers_their_calls(lmstudio_emulator: Emulator) -> None:
    with lms.Client(lmstudio_emulator.host) as client:
        client.llm.load_new_instance(GEMMA, "plain", config={"contextLength": 4096})
        expected = client.llm.model("plain").respond("count to five", config={"maxTokens": 12})
    lmstudio_emulator.latency_ms = 5
    assert lmstudio_emulator.latency_ms == 5
    with lms.Client(lmstudio_emulator.host) as client:
        handle = client.llm.load_new_instance(GEMMA, "slow", config={"contextLength": 2048})
        streamed = handle.respond_stream("count to five", config={"maxTokens": 12})
        fragments = [fragment.content for fragment in streamed]
        assert "".join(fragments) == expected.content
        configs = {
            h.identifier: h.get_load_config().context_length for h in client.llm.list_loaded()
        }
    assert configs == {"plain": 4096, "slow": 2048}


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_latency_must_be_a_number_of_milliseconds(
    lmstudio_emulator: Emulator, value: float
) -> None:
    with pytest.raises(EmulatorError, match="latency_ms must be a number >= 0"):
        lmstudio_emulator.latency_ms = value


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--latency-ms", "-5", "expected milliseconds from 0 to 60000"),
        ("--latency-ms", "soon", "expected milliseconds from 0 to 60000"),
        ("--count", "0", "expected a number from 1 to 64"),
        ("--count", "two", "expected a number from 1 to 64"),
    ],
)
def test_bad_values_are_usage_errors(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["emulator", option, value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@contextmanager
def emulators(*args: str, count: int) -> Iterator[list[str]]:
    """``lmsprofiles emulator ARGS`` as a process; yields the ``count`` addresses it prints."""
    process = subprocess.Popen(
        [*COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(count)]
        assert all(line.startswith("listening on ") for line in lines), lines
        yield [line.removeprefix("listening on ").strip() for line in lines]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "Traceback" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_count_runs_independent_emulators_one_line_each() -> None:
    with emulators("--count", "3", "--port", "0", "--latency-ms", "1", count=3) as hosts:
        assert len(set(hosts)) == 3
        with lms.Client(hosts[0]) as client:
            client.llm.load_new_instance(GEMMA, "only-here")
        for host in hosts:
            with lms.Client(host) as client:
                loaded = [h.identifier for h in client.llm.list_loaded()]
            assert loaded == (["only-here"] if host == hosts[0] else [])


def test_count_that_runs_past_the_last_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--count", "3", "--port", "65534"]) == 2  # a usage error
    assert capsys.readouterr().err == (
        "lmsprofiles emulator: error: --count 3 from port 65534 needs ports 65534 to 65536; "
        "the last port is 65535\n"
    )
