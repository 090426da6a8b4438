"""A careless application: arguments of the wrong type, a session used outside its block,
opened twice, or (async) from another event loop. Each is a clear TypeError, ValueError or
RuntimeError at once, and the session stays usable."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import lmsprofiles
from lmsprofiles.emulator import Emulator
from tests.conftest import EXAMPLE_PROFILES


@pytest.mark.parametrize("connect", [lmsprofiles.connect, lmsprofiles.connect_async])
def test_a_host_that_is_not_a_string_is_a_type_error(connect: object, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"host= must be a string .*, not int 1234"):
        connect(EXAMPLE_PROFILES, 1234, state_dir=tmp_path)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("policy", "error", "message"),
    [
        ("bogus", ValueError, "context_policy= must be 'warn' or 'reload' (got 'bogus')"),
        (3, TypeError, "context_policy= must be 'warn' or 'reload', not int 3"),
    ],
)
@pytest.mark.parametrize("connect", [lmsprofiles.connect, lmsprofiles.connect_async])
def test_an_unknown_context_policy_is_refused(
    connect: type[lmsprofiles.Session],
    policy: object,
    error: type[Exception],
    message: str,
    tmp_path: Path,
) -> None:
    with pytest.raises(error) as raised:
        connect(EXAMPLE_PROFILES, "localhost:1234", state_dir=tmp_path, context_policy=policy)  # type: ignore[arg-type]
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None,), "identifier must be a string, not NoneType None"),
        ((5,), "identifier must be a string, not int 5"),
        ((b"qwen-chat",), "identifier must be a string, not bytes b'qwen-chat'"),
        (("qwen-chat", 5), "request must be a string or None, not int 5"),
        (("qwen-chat", ["creative"]), "request must be a string or None, not list"),
    ],
)
def test_a_name_that_is_not_a_string_is_a_type_error(
    args: tuple[object, ...], message: str
) -> None:
    profiles = lmsprofiles.load(EXAMPLE_PROFILES)
    with pytest.raises(TypeError) as raised:
        profiles.resolve(*args)  # type: ignore[arg-type]
    assert message in str(raised.value)
    with pytest.raises(TypeError, match="host must be a string or None, not int 1"):
        profiles.resolve("qwen-chat", host=1)  # type: ignore[arg-type]


def test_a_sync_session_outside_its_block(lmstudio_emulator: Emulator, tmp_path: Path) -> None:
    session = lmsprofiles.connect(EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path)
    with pytest.raises(RuntimeError, match="use the session in a 'with' block"):
        session.llm("qwen-chat")
    with session:
        with pytest.raises(RuntimeError, match="the session is already open"):
            session.__enter__()
        session.llm("qwen-chat")
        with pytest.raises(TypeError, match="identifier must be a string"):
            session.llm(None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="the session is closed"):
        session.respond("qwen-chat", "Hello")
    with pytest.raises(RuntimeError, match="the session is closed"):
        session.embed("embed", "text")
    session.close()  # closing again does nothing
    with session:  # a closed session can be opened again
        assert session.respond("qwen-chat", "Hello").content
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["qwen-chat"]  # no embed


async def test_an_async_session_outside_its_block(
    lmstudio_emulator: Emulator, tmp_path: Path
) -> None:
    session = lmsprofiles.connect_async(
        EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path
    )
    with pytest.raises(RuntimeError, match="use the session in an 'async with' block"):
        await session.llm("qwen-chat")
    async with session:
        with pytest.raises(RuntimeError, match="the session is already open"):
            await session.__aenter__()
        await session.llm("qwen-chat")
    with pytest.raises(RuntimeError, match="the session is closed"):
        await session.respond("qwen-chat", "Hello")
    await session.aclose()
    async with session:
        assert (await session.respond("qwen-chat", "Hello")).content


def test_an_async_session_used_from_another_event_loop(
    lmstudio_emulator: Emulator, tmp_path: Path
) -> None:
    async def open_session() -> lmsprofiles.AsyncSession:
        session = lmsprofiles.connect_async(
            EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path
        )
        await session.__aenter__()
        await session.llm("qwen-chat")
        return session

    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(open_session())

        async def elsewhere() -> None:
            with pytest.raises(RuntimeError, match="opened in another event loop"):
                await session.respond("qwen-chat", "Hello")
            with pytest.raises(RuntimeError, match="opened in another event loop"):
                await session.llm("qwen-chat")
            with pytest.raises(RuntimeError, match="close it in the event loop"):
                await session.aclose()

        asyncio.run(elsewhere())
        assert loop.run_until_complete(session.respond("qwen-chat", "Hello")).content
        loop.run_until_complete(session.aclose())
    finally:
        loop.close()
    assert lmstudio_emulator.instance("qwen-chat") is not None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "text must be a string or a list of strings, not NoneType None"),
        (5, "text must be a string or a list of strings, not int 5"),
        (["a", 5], "text must be a string or a list of strings, not list"),
    ],
)
def test_embedding_something_that_is_not_text_is_a_type_error(
    lmstudio_emulator: Emulator, tmp_path: Path, text: object, message: str
) -> None:
    with lmsprofiles.connect(EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path) as s:
        with pytest.raises(TypeError) as raised:
            s.embed("embed", text)  # type: ignore[arg-type]
        assert str(raised.value) == message
        assert s.embed("embed", ["a", "b"])
        assert s.embed("embed", ("a", "b"))  # any iterable of strings, as the SDK takes


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "text must be a string or a list of strings, not NoneType None")],
)
async def test_async_embedding_something_that_is_not_text_is_a_type_error(
    lmstudio_emulator: Emulator, tmp_path: Path, text: object, message: str
) -> None:
    async with lmsprofiles.connect_async(
        EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path
    ) as s:
        with pytest.raises(TypeError) as raised:
            await s.embed("embed", text)  # type: ignore[arg-type]
        assert str(raised.value) == message


def test_a_misspelt_inventory_host_is_named_when_nothing_answers(
    tmp_path: Path, lmstudio_emulator: Emulator
) -> None:
    import shutil

    profiles = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, profiles)
    (profiles / "hosts.yaml").write_text(
        f"hosts:\n  gpu-a:\n    address: {lmstudio_emulator.host}\n"
    )
    state = tmp_path / "state"
    with pytest.raises(lmsprofiles.LMStudioUnreachableError) as raised:
        with lmsprofiles.connect(profiles, "gpu-b", state_dir=state, timeout=5):
            pass
    assert str(raised.value) == (
        "LM Studio is not reachable at gpu-b:1234 (gpu-b is no host of hosts.yaml; "
        "did you mean 'gpu-a'?)"
    )

    async def connect_async() -> None:
        async with lmsprofiles.connect_async(profiles, "gpu-b", state_dir=state, timeout=5):
            pass

    with pytest.raises(lmsprofiles.LMStudioUnreachableError, match="did you mean 'gpu-a'"):
        asyncio.run(connect_async())
    with pytest.raises(lmsprofiles.LMStudioUnreachableError) as raised:
        with lmsprofiles.connect(profiles, "no-such-host.invalid", state_dir=state, timeout=5):
            pass
    assert str(raised.value) == "LM Studio is not reachable at no-such-host.invalid:1234"


def test_an_async_session_closed_and_opened_again_in_a_new_event_loop(
    lmstudio_emulator: Emulator, tmp_path: Path
) -> None:
    session = lmsprofiles.connect_async(
        EXAMPLE_PROFILES, lmstudio_emulator.host, state_dir=tmp_path
    )

    async def first_use_by_many_tasks() -> None:
        async with session:
            await asyncio.gather(*(session.llm("qwen-chat") for _ in range(5)))

    asyncio.run(first_use_by_many_tasks())
    lmstudio_emulator.unload_all()
    asyncio.run(first_use_by_many_tasks())  # each asyncio.run is a new event loop
    assert [i.identifier for i in lmstudio_emulator.instances()] == ["qwen-chat"]
