"""The command line's connection to a host that is not what it should be, or that fails it
half-way: a web server that is no LM Studio, a namespace that fails to open, a run
interrupted while it connects."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from lmsprofiles._cli import main
from lmsprofiles._errors import LMStudioTimeoutError
from lmsprofiles._reconcile._loop import HostClient
from lmsprofiles.emulator import Emulator
from tests.reconcile.conftest import EXAMPLE_PROFILES

REPO = Path(__file__).resolve().parents[2]


class _WebPage(http.server.BaseHTTPRequestHandler):
    """A web server answering every path with its page, as a single-page app's does."""

    def do_GET(self) -> None:
        page = b"<!doctype html><title>app</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def web_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--profiles", str(EXAMPLE_PROFILES)],
        ["reconcile", "--profiles", str(EXAMPLE_PROFILES)],
        ["import", "--from-host", "--dry-run"],
    ],
)
def test_a_web_server_that_is_no_lm_studio_is_one_line_and_exit_1(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with web_server() as address:
        extra = ["--to", str(tmp_path / "to")] if argv[0] == "import" else []
        state = [] if argv[0] == "import" else ["--state-dir", str(tmp_path / "state")]
        code = main([*argv, "--host", address, *state, *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert err == (
        f"error: LM Studio is not reachable at {address} (the server there answered "
        "its greeting with something other than JSON; is it an LM Studio API server?)\n"
    )


_INTERRUPTED_CONNECT = """
import asyncio, os, signal, sys, threading, time
from lmsprofiles._cli import main
from lmsprofiles._reconcile._loop import _event_loop
from lmsprofiles.emulator import Emulator

profiles, state = sys.argv[1:]
emulator = Emulator().start()
emulator.latency_ms = 3_600_000  # the answers to the handshakes never come


def interrupt() -> None:  # Ctrl-C once both websockets are waiting for their answer
    while len(emulator.websockets) < 2:
        time.sleep(0.01)
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


threading.Thread(target=interrupt, daemon=True).start()
argv = ["plan", "--profiles", profiles, "--host", emulator.host, "--state-dir", state]
code = main([*argv, "--timeout", "3600"])


async def left() -> int:  # what the run left on the event loop, once it has settled
    others: set[asyncio.Task[object]] = set()
    for _ in range(200):
        others = asyncio.all_tasks() - {asyncio.current_task()}
        if not others:
            break
        await asyncio.sleep(0.1)
    return len(others)


print(code, asyncio.run_coroutine_threadsafe(left(), _event_loop.get()).result(), flush=True)
os._exit(0)  # the emulator's handshakes are held back for an hour: not waited for
"""


def test_a_run_interrupted_while_it_connects_leaves_nothing_on_the_event_loop(
    tmp_path: Path,
) -> None:
    # The event loop serves every later run of the process: a connection still being
    # made when Ctrl-C ended the wait for it must not be left to finish and stay open.
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_CONNECT, str(EXAMPLE_PROFILES), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert (done.stdout, done.stderr) == ("130 0\n", "interrupted\n")


def test_a_namespace_that_failed_to_open_is_opened_by_the_next_call(
    lmstudio_emulator: Emulator,
) -> None:
    with HostClient(lmstudio_emulator.host, timeout=0.5) as client:
        assert client.observe() == []
        lmstudio_emulator.latency_ms = 3000  # the system websocket's handshake is answered late
        with pytest.raises(LMStudioTimeoutError, match="could not list downloaded models"):
            client.downloaded()
        lmstudio_emulator.latency_ms = 0
        downloaded = client.downloaded()
    assert "google/gemma-3-1b" in {model.model_key for model in downloaded}
    assert lmstudio_emulator.websockets == {"llm": 1, "embedding": 1, "system": 2}


@contextlib.contextmanager
def odd_server(
    answers: Mapping[str, Any], errors: Mapping[str, Any] | None = None
) -> Iterator[str]:
    """A server that speaks LM Studio's protocol, answering each RPC with ``answers``, or
    failing it with the error of ``errors``."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    def greeting(connection: ServerConnection, request: Request) -> Response | None:
        if request.path.rstrip("/") != "/lmstudio-greeting":
            return None
        response = connection.respond(200, '{"lmstudio": true}')
        response.headers["Content-Type"] = "application/json"
        return response

    async def session(ws: ServerConnection) -> None:
        await ws.recv()  # the authentication packet
        await ws.send('{"success": true}')
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") == "rpcCall":
                endpoint, call = message["endpoint"], message["callId"]
                reply = {"type": "rpcResult", "callId": call, "result": answers.get(endpoint)}
                if endpoint in (errors or {}):
                    reply = {"type": "rpcError", "callId": call, "error": (errors or {})[endpoint]}
                await ws.send(json.dumps(reply))

    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    address: list[str] = []
    ready = threading.Event()

    async def main() -> None:
        async with serve(session, "127.0.0.1", 0, process_request=greeting) as server:
            address.append(f"127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}")
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield address[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        loop.close()


_INSTANCE = {"identifier": "g", "modelKey": "google/gemma-3-1b", "type": "llm"}


@pytest.mark.parametrize(
    ("answers", "doing"),
    [
        ({"listLoaded": "not a list"}, "list loaded"),
        ({"listLoaded": 5}, "list loaded"),
        ({"listLoaded": [{"modelKey": "google/gemma-3-1b"}]}, "list loaded"),
        ({"listLoaded": [{**_INSTANCE, "ttlMs": "soon"}], "getLoadConfig": {}}, "list loaded"),
        ({"listLoaded": [_INSTANCE], "getLoadConfig": "not a config"}, "read the load config"),
        ({"listLoaded": [], "listDownloadedModels": ["not a model"]}, "list downloaded"),
    ],
)
def test_an_answer_of_an_unexpected_shape_is_one_line_and_exit_1(
    answers: Mapping[str, Any], doing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with odd_server(answers) as address:
        argv = ["plan", "--profiles", str(EXAMPLE_PROFILES), "--host", address]
        code = main([*argv, "--state-dir", str(tmp_path), "--timeout", "10"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"error: could not {doing}")
    assert "unexpected" in err
    assert err.count("\n") == 1


def test_control_characters_from_the_host_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A host's identifiers and model keys reach the terminal: escape sequences in them
    # (clear the screen, set the title, write the clipboard) or a newline forging a line of
    # the plan must be shown as text, not acted on.
    odd = {"identifier": "odd\x1b[2J\x1b]0;title\x07\n  +   forged", "modelKey": "m\u202e\x9b"}
    answers = {"listLoaded": [{**odd, "type": "llm"}], "getLoadConfig": {"fields": []}}
    with odd_server(answers) as address:
        argv = ["plan", "--profiles", str(EXAMPLE_PROFILES), "--host", address]
        main([*argv, "--state-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert r"odd\x1b[2J\x1b]0;title\x07\n  +   forged" in out
    assert r"m\u202e\x9b" in out
    assert all(c.isprintable() for c in out.replace("\n", ""))
    assert "\n  +   forged" not in out


def test_control_characters_in_an_error_of_the_host_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    title = "refused\x1b]52;c;aGk=\x07\nerror: forged"  # writes the clipboard, forges a line
    with odd_server({}, {"listLoaded": {"title": title}}) as address:
        argv = ["plan", "--profiles", str(EXAMPLE_PROFILES), "--host", address]
        code = main([*argv, "--state-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.endswith(r"refused\x1b]52;c;aGk=\x07\nerror: forged" + "\n")
    assert err.count("\n") == 1
    assert all(c.isprintable() for c in err[:-1])
