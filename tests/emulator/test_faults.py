"""Fault injection, per model in the catalog and per call through the control API."""

from __future__ import annotations

import time
from pathlib import Path

import lmstudio as lms
import pytest

from lmsprofiles.emulator import Emulator, ModelFaults, default_catalog
from lmsprofiles.emulator.pytest_plugin import ProtocolWarnings
from tests.emulator.conftest import GEMMA, QWEN


def test_failing_load_per_call(client: lms.Client, lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.set_faults(GEMMA, load_error="insufficient memory")
    with pytest.raises(lms.LMStudioServerError, match="insufficient memory"):
        client.llm.load_new_instance(GEMMA)
    with pytest.raises(lms.LMStudioServerError, match="Model get/load error"):
        client.llm.model(GEMMA)
    assert client.llm.load_new_instance(QWEN).identifier == QWEN  # other models are fine
    lmstudio_emulator.clear_faults()
    assert client.llm.load_new_instance(GEMMA).identifier == GEMMA


def test_failing_load_from_the_catalog(tmp_path: Path) -> None:
    catalog = default_catalog()
    models = tuple(
        m.model_copy(update={"faults": ModelFaults(load_error="GPU on fire")})
        if m.model_key == GEMMA
        else m
        for m in catalog.models
    )
    with (
        Emulator(catalog.model_copy(update={"models": models})).running() as emu,
        lms.Client(emu.host) as client,
    ):
        with pytest.raises(lms.LMStudioServerError, match="GPU on fire"):
            client.llm.load_new_instance(GEMMA)
        client.llm.load_new_instance(QWEN)


def test_slow_load_streams_progress(client: lms.Client, lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.set_faults(load_seconds=1.0)  # every model
    progress: list[float] = []
    started = time.monotonic()
    handle = client.llm.load_new_instance(GEMMA, on_load_progress=progress.append)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0
    assert len(progress) >= 15  # a packet every progressInterval (0.05 s)
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    assert handle.identifier == GEMMA


def test_slow_load_is_not_listed_until_done(lmstudio_emulator: Emulator) -> None:
    import threading

    lmstudio_emulator.set_faults(GEMMA, load_seconds=0.6)
    with lms.Client(lmstudio_emulator.host) as loader, lms.Client(lmstudio_emulator.host) as other:
        thread = threading.Thread(target=loader.llm.load_new_instance, args=(GEMMA,))
        thread.start()
        time.sleep(0.2)
        assert other.llm.list_loaded() == []
        thread.join()
        assert [m.identifier for m in other.llm.list_loaded()] == [GEMMA]


def test_dropped_connection_mid_load(
    lmstudio_emulator: Emulator, lmstudio_protocol_warnings: ProtocolWarnings
) -> None:
    lmstudio_protocol_warnings.expect("Websocket failed, terminating session")
    lmstudio_emulator.set_faults(GEMMA, drop_connection_at=0.5)
    progress: list[float] = []
    with lms.Client(lmstudio_emulator.host) as client:
        with pytest.raises(lms.LMStudioWebsocketError, match="unexpectedly disconnected"):
            client.llm.load_new_instance(GEMMA, on_load_progress=progress.append)
        assert progress == [0.25, 0.5]
        with pytest.raises(lms.LMStudioWebsocketError):
            client.llm.list_loaded()  # the SDK never reconnects
    assert lmstudio_emulator.instances() == []  # the load was abandoned
    lmstudio_emulator.clear_faults()
    with lms.Client(lmstudio_emulator.host) as fresh:
        assert fresh.llm.load_new_instance(GEMMA).identifier == GEMMA


@pytest.mark.usefixtures("short_sync_timeout")
def test_unresponsive_server_times_out(lmstudio_emulator: Emulator) -> None:
    lmstudio_emulator.unresponsive = True
    with lms.Client(lmstudio_emulator.host) as client:  # probe and auth still answer
        started = time.monotonic()
        with pytest.raises(lms.LMStudioTimeoutError):
            client.llm.list_loaded()
        assert time.monotonic() - started < 3
    lmstudio_emulator.unresponsive = False
    with lms.Client(lmstudio_emulator.host) as client:
        assert client.llm.list_loaded() == []


def test_set_faults_rejects_unknown_models(lmstudio_emulator: Emulator) -> None:
    from lmsprofiles.emulator import EmulatorError

    with pytest.raises(EmulatorError, match="no model 'nope'"):
        lmstudio_emulator.set_faults("nope", load_error="x")
