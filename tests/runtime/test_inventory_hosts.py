"""Sessions on a host of the inventory: ``connect(host="gpu-a")`` resolves with its layers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles import UnknownModelError
from lmsprofiles._cli import main
from lmsprofiles.emulator import Emulator

HOSTS = """\
hosts:
  gpu-a:
    address: {gpu_a}
    load: {{gpu: {{ratio: 0.5}}}}
    inference: {{maxTokens: 7}}
    models:
      qwen-chat: {{load: {{contextLength: 8k}}}}
    runs: {{models: [qwen-chat, embed]}}
  gpu-b:
    address: {gpu_b}
"""


@pytest.fixture
def two_hosts(profiles_dir: Path) -> Iterator[dict[str, Emulator]]:
    with contextlib.ExitStack() as stack:
        emulators = {name: stack.enter_context(Emulator().running()) for name in ("a", "b")}
        text = HOSTS.format(gpu_a=emulators["a"].host, gpu_b=emulators["b"].host)
        (profiles_dir / "hosts.yaml").write_text(text)
        yield emulators


def test_a_session_on_an_inventory_host_uses_its_layers(
    profiles_dir: Path, state_dir: Path, two_hosts: dict[str, Emulator]
) -> None:
    with lmsprofiles.connect(profiles_dir, host="gpu-a", state_dir=state_dir) as session:
        assert session.host_name == "gpu-a"
        assert session.host == two_hosts["a"].host
        assert session.config("qwen-chat").host == "gpu-a"
        reply = session.respond("qwen-chat", "count to twenty")
        assert reply.stats.predicted_tokens_count == 7  # the host's maxTokens
        with pytest.raises(UnknownModelError, match="host 'gpu-a' does not run 'coder'"):
            session.llm("coder")
    [instance] = two_hosts["a"].instances()
    assert (instance.identifier, instance.context_length) == ("qwen-chat", 8192)
    assert instance.load_config["llm.load.llama.acceleration.offloadRatio"] == 0.5
    assert not two_hosts["b"].instances()
    # reconcile agrees that the session's instance satisfies gpu-a's profile
    argv = ["plan", "--profiles", str(profiles_dir), "--state-dir", str(state_dir)]
    assert main([*argv, "--hosts", "gpu-a", "--detailed-exitcode"]) == 2  # embed is missing
    assert main([*argv, "--host", two_hosts["a"].host, "--json"]) == 0


def test_an_address_of_an_inventory_host_is_that_host(
    profiles_dir: Path, state_dir: Path, two_hosts: dict[str, Emulator]
) -> None:
    address = two_hosts["a"].host.replace("127.0.0.1", "localhost")  # another spelling
    assert lmsprofiles.connect(profiles_dir, host=address).host_name == "gpu-a"  # not open yet
    with lmsprofiles.connect(profiles_dir, host=address, state_dir=state_dir) as session:
        assert session.host_name == "gpu-a"
        assert session.config("qwen-chat").load["contextLength"] == 8192
    with lmsprofiles.connect(profiles_dir, host=two_hosts["b"].host, state_dir=state_dir) as b:
        assert b.host_name == "gpu-b"
        assert b.config("qwen-chat").load["contextLength"] == 16384  # no layers of its own


async def test_an_async_session_on_an_inventory_host(
    profiles_dir: Path, state_dir: Path, two_hosts: dict[str, Emulator]
) -> None:
    async with lmsprofiles.connect_async(profiles_dir, host="gpu-a", state_dir=state_dir) as s:
        assert s.host_name == "gpu-a"
        await s.llm("qwen-chat")
        with pytest.raises(UnknownModelError):
            await s.llm("coder")
    assert two_hosts["a"].instance("qwen-chat").context_length == 8192
