"""Deploy safety end to end: the real CLI, the official SDK and the emulator.

Each test is a way a deploy once left a host worse than it found it, or gave a deploy gate a
wrong answer; docs/reliability.md lists them with their exit codes.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmsprofiles._cli import main
from lmsprofiles._reconcile._lock import host_lock
from tests.reconcile.conftest import Host

ALL = {"coder", "embed", "qwen-chat"}


def references(host: Host) -> dict[str, str]:
    return {i: s.instance_reference for i, s in host.loaded().items()}


# -- preflight --------------------------------------------------------------------------------


def test_model_key_typo_never_takes_the_working_instance_down(host: Host) -> None:
    assert host.run("reconcile").code == 0
    before = references(host)
    host.edit("models/qwen-chat.yaml", r"^model: qwen/qwen3-8b", "model: qwen/qwen3-8B")
    plan = host.run("plan", "--detailed-exitcode")
    assert plan.code == 4
    assert "x   qwen-chat" in plan.out
    where = host.profiles / "models" / "qwen-chat.yaml"
    said = f"model 'qwen/qwen3-8B' is not downloaded on this host [{where}:3:8]"
    assert said in plan.out  # the position of the model key, as for every problem
    assert f"error: qwen-chat: cannot apply: {said}" in plan.out
    assert "did you mean 'qwen/qwen3-8b'?" in plan.out
    assert "-/+" not in plan.out
    result = host.run("reconcile")
    assert result.code == 4
    assert references(host) == before  # nothing unloaded, nothing reloaded
    assert "was partial" in result.out and "Reconciled LM Studio" not in result.out
    assert "qwen-chat (invalid)" in result.err


def test_a_model_that_is_not_downloaded_is_not_a_pending_load(host: Host) -> None:
    (host.profiles / "models" / "extra.yaml").write_text("model: acme/not-here-7b\n")
    for argv in (("plan",), ("plan", "--detailed-exitcode"), ("reconcile", "--dry-run")):
        result = host.run(*argv)
        assert result.code == 4, argv
        assert "error: the plan is blocked: extra (invalid)" in result.err
    document = host.run("plan", "--json").json()
    assert document["status"] == "blocked"
    assert document["summary"]["invalid"] == 1
    applied = host.run("reconcile", "--json")
    assert applied.code == 4
    assert applied.json()["status"] == "blocked"
    assert set(host.loaded()) == ALL  # the rest of the plan still applied


# -- blocked is not success ----------------------------------------------------------------


def test_a_foreign_instance_blocks_the_plan_and_the_advice_works(host: Host) -> None:
    host.emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    for argv in (("plan",), ("plan", "--detailed-exitcode")):
        assert host.run(*argv).code == 4
    document = host.run("plan", "--json").json()
    assert document["status"] == "blocked"
    plan = host.run("plan")
    assert "`lmsprofiles adopt qwen-chat` takes it over" in plan.out
    adopted = host.run("adopt", "qwen-chat")
    assert adopted.code == 0, adopted.err
    assert "Adopted 1 on LM Studio at" in adopted.out
    assert host.loaded()["qwen-chat"].context_length == 4096  # adopt changes nothing
    result = host.run("reconcile")
    assert result.code == 0, result.err
    assert host.loaded()["qwen-chat"].context_length == 16384
    assert host.run("plan", "--detailed-exitcode").code == 0


def test_reconcile_adopt_takes_over_and_reloads_in_one_run(host: Host) -> None:
    host.emulator.preload("qwen/qwen3-8b", "qwen-chat", context_length=4096)
    result = host.run("reconcile", "--adopt")
    assert result.code == 0, result.err
    assert "<=  qwen-chat" in result.out and "Plan: 2 to load" in result.out
    assert host.loaded()["qwen-chat"].context_length == 16384
    owned = json.loads(host.state_file().read_text())["instances"]
    assert set(owned) == ALL


def test_adopt_refuses_what_does_not_match_and_names_unknown_profiles(host: Host) -> None:
    host.emulator.preload("google/gemma-3-1b", "qwen-chat")
    refused = host.run("adopt", "qwen-chat")
    assert refused.code == 4
    assert "adopt could not take over qwen-chat:" in refused.err
    assert "`lms unload qwen-chat`" in refused.err
    unknown = host.run("adopt", "qwen-chta")
    assert unknown.code == 3
    assert "did you mean 'qwen-chat'?" in unknown.err
    assert host.run("adopt").code == 0  # nothing adoptable is not an error


def test_lost_state_directory_is_recovered_with_adopt(host: Host) -> None:
    assert host.run("reconcile").code == 0
    before = references(host)
    host.state_file().unlink()
    assert host.run("plan").code == 4
    adopted = host.run("adopt")
    assert adopted.code == 0, adopted.err
    assert "Adopted 3" in adopted.out
    assert host.run("plan", "--detailed-exitcode").code == 0
    assert references(host) == before


# -- state files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe garbage", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply to read"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply to read"),
    ],
    ids=["binary", "deep-list", "deep-object"],
)
def test_corrupt_state_file_is_one_line_naming_the_file_and_the_recovery(
    host: Host, content: bytes, reason: str
) -> None:
    assert host.run("reconcile").code == 0
    path = host.state_file()
    path.write_bytes(content)
    for command in ("plan", "reconcile"):
        result = host.run(command)
        assert result.code == 1, result.out + result.err
        assert result.err == (
            f"error: the state file {path} is damaged ({reason}); run `lmsprofiles "
            "adopt` to set it aside and take over the loaded instances that match the "
            "profiles\n"
        )
    adopted = host.run("adopt")
    assert adopted.code == 0, adopted.err
    assert "The damaged state file was moved to" in adopted.out
    [aside] = path.parent.glob("*.damaged-*")  # kept, not deleted
    assert aside.read_bytes() == content
    assert host.run("plan", "--detailed-exitcode").code == 0


def test_unreadable_state_file_is_one_line(host: Host) -> None:
    assert host.run("reconcile").code == 0
    path = host.state_file()
    path.unlink()
    path.mkdir()
    result = host.run("plan")
    assert result.code == 1
    assert result.err.startswith(f"error: cannot read the state file {path}: Is a directory")
    assert result.err.count("\n") == 1


def test_state_file_of_format_1_keeps_working(host: Host) -> None:
    assert host.run("reconcile").code == 0
    path = host.state_file()
    document = json.loads(path.read_text())
    old = {
        "format_version": 1,
        "host": f"localhost:{host.emulator.port}",
        "instances": document["instances"],
    }
    path.unlink()
    legacy = path.with_name(f"localhost_{host.emulator.port}.json")
    legacy.write_text(json.dumps(old))
    assert host.run("plan", "--detailed-exitcode").code == 0
    assert host.run("reconcile").code == 0
    assert not legacy.exists()
    assert json.loads(path.read_text())["format_version"] == 2


@pytest.mark.parametrize("via", ["option", "variable"])
def test_state_dir_naming_a_regular_file_is_exit_3(
    via: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    regular = tmp_path / "state"
    regular.write_text("")
    argv = ["plan", "--profiles", str(EXAMPLE), "--host", f"127.0.0.1:{closed_port()}"]
    if via == "option":
        argv += ["--state-dir", str(regular)]
        source = "--state-dir"
    else:
        monkeypatch.setenv("LMSPROFILES_STATE_DIR", str(regular))
        source = "LMSPROFILES_STATE_DIR"
    assert main(argv) == 3  # not 1: nothing was contacted
    err = capsys.readouterr().err
    assert err == f"{source}: {regular} is not a directory\n1 problem found\n"


# -- hosts ---------------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("localhost:abc", "the port must be a number from 1 to 65535 (got 'localhost:abc')"),
        ("a:b:c", "expected host:port, e.g. localhost:1234; write an IPv6 address in brackets"),
        ("localhost:0", "the port must be a number from 1 to 65535"),
        ("[::1:1234", "unclosed '['"),
        ("http://localhost:1234", "give host:port without a scheme"),
        ("bad host:1", "'bad host' is not a host name or address"),
        ("127.1:1234", "'127.1' is not written as an IPv4 address"),
        ("0x7f000001", "'0x7f000001' is not written as an IPv4 address"),
        ("2130706433:1234", "'2130706433' is not written as an IPv4 address"),
        ("127.000.000.001", "'127.000.000.001' is not written as an IPv4 address"),
        ("a..b:1234", "'a..b' is not a host name: its dot-separated parts must be 1 to 63"),
        ("1.2.3.4.5", "'1.2.3.4.5' is not an IPv4 address"),
    ],
)
@pytest.mark.parametrize("via", ["option", "variable"])
def test_malformed_host_is_exit_3_before_anything_is_contacted(
    via: str,
    value: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = ["plan", "--profiles", str(EXAMPLE), "--state-dir", str(tmp_path)]
    if via == "option":
        argv += ["--host", value]
        source = "--host"
    else:
        monkeypatch.setenv("LMSPROFILES_HOST", value)
        source = "LMSPROFILES_HOST"
    assert main(argv) == 3
    problem, count = capsys.readouterr().err.splitlines()
    assert problem.startswith(f"{source}: {message}")
    assert count == "1 problem found"
    assert list(tmp_path.iterdir()) == []


def test_one_server_is_one_lock_and_one_set_of_records(host: Host) -> None:
    port = host.emulator.port
    assert host.run("reconcile").code == 0
    for spelling in (f"localhost:{port}", f"LOCALHOST:{port}"):
        argv = ["plan", "--profiles", str(host.profiles), "--state-dir", str(host.state_dir)]
        host.capsys.readouterr()
        assert main([*argv, "--host", spelling, "--detailed-exitcode"]) == 0, spelling
    with host_lock(host.state_dir, f"localhost:{port}", operation="reconcile", timeout=0):
        assert host.run("reconcile").code == 5
    assert len(list((host.state_dir / "hosts").iterdir())) == 1


# -- timeouts ------------------------------------------------------------------------------


def test_unresponsive_server_times_out_with_one_line(host: Host) -> None:
    host.emulator.unresponsive = True
    result = host.run("plan", "--timeout", "0.5")
    assert result.code == 1
    assert result.err.startswith(
        f"error: LM Studio at {host.emulator.host} did not answer within 0.5 s"
    )
    assert result.err.count("\n") == 1


def test_timeout_from_the_environment(host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    host.emulator.unresponsive = True
    monkeypatch.setenv("LMSPROFILES_TIMEOUT", "0.5")
    result = host.run("reconcile")
    assert result.code == 1
    assert "did not answer within 0.5 s" in result.err
    monkeypatch.setenv("LMSPROFILES_TIMEOUT", "soon")
    result = host.run("plan")
    assert result.code == 3
    assert (
        "LMSPROFILES_TIMEOUT: must be a number of seconds > 0 and at most 86400 (got 'soon')"
        in result.err
    )


@pytest.fixture
def silent_websocket_server() -> Iterator[str]:
    """A server that answers LM Studio's greeting, then never completes a websocket."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            request = conn.recv(4096)
            if b"/lmstudio-greeting" in request:
                body = b'{"lmstudio": true}'
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                conn.sendall(head + body)
                conn.close()
            else:
                held.append(conn)  # the websocket upgrade: never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()


def test_a_websocket_that_never_opens_is_bounded_by_the_timeout(
    silent_websocket_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plan", "--profiles", str(EXAMPLE), "--state-dir", str(tmp_path)]
    code = main([*argv, "--host", silent_websocket_server, "--timeout", "0.5"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: LM Studio at {silent_websocket_server} did not answer within")
    assert err.count("\n") == 1


def test_a_port_that_accepts_and_never_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"127.0.0.1:{server.getsockname()[1]}"
        argv = ["plan", "--profiles", str(EXAMPLE), "--state-dir", str(tmp_path)]
        assert main([*argv, "--host", address]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: LM Studio at {address} accepted the connection but did not")
    assert err.count("\n") == 1


def test_a_server_that_is_not_lm_studio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotFound(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"127.0.0.1:{server.server_address[1]}"
        argv = ["reconcile", "--profiles", str(EXAMPLE), "--state-dir", str(tmp_path)]
        assert main([*argv, "--host", address]) == 1
    finally:
        server.shutdown()
        server.server_close()
    assert capsys.readouterr().err == f"error: LM Studio is not reachable at {address}\n"


def test_every_test_the_fault_table_names_exists() -> None:
    import re

    table = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    named = set(re.findall(r"\b(test_[a-z0-9_]+)\b(?!\.py)", table))
    tests = Path(__file__).resolve().parents[1]
    defined = {
        name
        for path in tests.rglob("test_*.py")
        for name in re.findall(r"^(?:async )?def (test_[a-z0-9_]+)", path.read_text(), re.M)
    }
    assert len(named) > 20
    assert named <= defined, named - defined
