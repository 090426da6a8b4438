"""The in-process Python API: start/stop, introspection, preload, fixture catalog override."""

from __future__ import annotations

import lmstudio as lms
import pytest

from lmsprofiles.emulator import Catalog, Emulator, EmulatorError, default_catalog
from lmsprofiles.emulator.pytest_plugin import ProtocolWarnings
from tests.emulator.conftest import GEMMA, QWEN


def test_running_binds_loopback_and_stops() -> None:
    emulator = Emulator(catalog=None)
    with pytest.raises(EmulatorError, match="not running"):
        _ = emulator.host
    with emulator.running() as emu:
        assert emu is emulator
        assert emu.host == f"127.0.0.1:{emu.port}"
        with lms.Client(emu.host) as client:
            assert client.llm.list_loaded() == []
    with pytest.raises(EmulatorError):
        _ = emulator.port
    emulator.stop()  # idempotent


def test_restart_and_context_manager() -> None:
    emulator = Emulator()
    with emulator:
        first = emulator.port
        with pytest.raises(EmulatorError, match="already running"):
            emulator.start()
    with emulator:
        assert emulator.port > 0
    assert first > 0


def test_port_in_use() -> None:
    with Emulator().running() as emu, pytest.raises(EmulatorError, match="address already in use"):
        Emulator(port=emu.port).start()


def test_stop_disconnects_clients(lmstudio_protocol_warnings: ProtocolWarnings) -> None:
    lmstudio_protocol_warnings.expect("Websocket failed, terminating session")
    emu = Emulator().start()
    client = lms.Client(emu.host)
    try:
        client.llm.list_loaded()
        emu.stop()
        with pytest.raises(lms.LMStudioWebsocketError):
            client.llm.list_loaded()
    finally:
        client.close()
        emu.stop()


def test_preload_and_introspection(client: lms.Client, lmstudio_emulator: Emulator) -> None:
    snapshot = lmstudio_emulator.preload(
        QWEN,
        "someone-else",
        context_length=8192,
        ttl=30,
        config={"llm.load.llama.flashAttention": True},
    )
    assert snapshot.identifier == "someone-else"
    assert snapshot.ttl_ms == 30000
    info = client.llm.get_model_info("someone-else")
    assert (info.model_key, info.context_length) == (QWEN, 8192)
    config = client.llm.model("someone-else").get_load_config()
    assert isinstance(config, lms.LlmLoadModelConfig)
    assert config.flash_attention is True
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["someone-else"]
    assert lmstudio_emulator.memory_used == snapshot.memory_bytes > 0
    with pytest.raises(EmulatorError, match="already loaded"):
        lmstudio_emulator.preload(QWEN, "someone-else")
    with pytest.raises(EmulatorError, match="not found"):
        lmstudio_emulator.preload("nope")
    lmstudio_emulator.unload("someone-else")
    with pytest.raises(KeyError):
        lmstudio_emulator.instance("someone-else")
    with pytest.raises(KeyError):
        lmstudio_emulator.unload("someone-else")
    lmstudio_emulator.preload(GEMMA)
    lmstudio_emulator.unload_all()
    assert client.llm.list_loaded() == []


def test_control_setters_validate(lmstudio_emulator: Emulator) -> None:
    with pytest.raises(EmulatorError):
        lmstudio_emulator.context_policy = "squash"  # type: ignore[assignment]
    with pytest.raises(EmulatorError):
        lmstudio_emulator.memory_budget = -1


_ONLY_GEMMA = default_catalog().model_copy(
    update={"models": tuple(m for m in default_catalog().models if m.model_key == GEMMA)}
)


class TestFixtureCatalogOverride:
    """A class-level override of ``lmstudio_emulator_catalog`` applies to its tests only."""

    @pytest.fixture
    def lmstudio_emulator_catalog(self) -> Catalog:
        return _ONLY_GEMMA

    def test_fixture_uses_the_overridden_catalog(self, lmstudio_emulator: Emulator) -> None:
        with lms.Client(lmstudio_emulator.host) as client:
            assert [m.model_key for m in client.list_downloaded_models()] == [GEMMA]
