"""`import --from-host`: instances on a real (emulated) host become profiles that plan no change."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import lmstudio
import pytest

from lmsprofiles._cli import main
from lmsprofiles.emulator import Emulator
from tests.processes import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "profiles"


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _plan(
    capsys: pytest.CaptureFixture[str], host: str, profiles: Path, state: Path, expect: int = 0
) -> dict[str, Any]:
    code, out, err = _cli(
        capsys,
        "plan",
        "--host",
        host,
        "--profiles",
        str(profiles),
        "--state-dir",
        str(state),
        "--json",
        "--detailed-exitcode",
    )
    assert code == expect, out + err  # 0: no changes pending; 4: blocked
    document: dict[str, Any] = json.loads(out)
    return document


def test_instances_lmsprofiles_loaded_import_into_profiles_that_plan_no_change(
    lmstudio_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = lmstudio_emulator.host
    state = tmp_path / "state"
    first = tmp_path / "first"
    shutil.copytree(EXAMPLE, first)
    code, _, err = _cli(
        capsys, "reconcile", "--host", host, "--profiles", str(first), "--state-dir", str(state)
    )
    assert code == 0, err
    # the profiles are lost; the host still runs what they described
    restored = tmp_path / "restored"
    code, out, err = _cli(capsys, "import", "--from-host", "--host", host, "--to", str(restored))
    assert code == 0, err
    assert out.count("wrote ") == 3
    plan = _plan(capsys, host, restored, state)
    assert plan["summary"] == {
        "load": 0,
        "reload": 0,
        "reuse": 3,
        "unload": 0,
        "leave": 0,
        "conflict": 0,
        "adopt": 0,
        "invalid": 0,
    }


def test_instances_someone_else_loaded_import_into_profiles_that_match_them(
    lmstudio_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host = lmstudio_emulator.host
    with lmstudio.Client(host) as client:  # as `lms load` and the app do it
        client.llm.load_new_instance("qwen/qwen3-8b", config={"contextLength": 4096, "seed": 7})
        client.llm.load_new_instance(
            "google/gemma-3-1b", "tiny", ttl=600, config={"gpu": {"ratio": 0.5}}
        )
        client.embedding.load_new_instance("text-embedding-nomic-embed-text-v1.5", ttl=None)
    profiles = tmp_path / "profiles"
    # a global.yaml that would change them if the imported profiles left fields to it
    (profiles).mkdir()
    (profiles / "global.yaml").write_text(
        "load:\n  flashAttention: true\n  seed: 1\n  ropeFrequencyBase: 10000\nttl: 60\n"
    )
    code, _, err = _cli(capsys, "import", "--from-host", "--host", host, "--to", str(profiles))
    assert code == 0, err
    tiny = (profiles / "models" / "tiny.yaml").read_text()
    assert "model: google/gemma-3-1b\nttl: 600\n" in tiny
    assert "  seed: false\n" in tiny
    state = tmp_path / "state"
    plan = _plan(capsys, host, profiles, state, expect=4)
    # nothing to load, reload or unload: they are foreign instances that match their profiles,
    # blocked until lmsprofiles is told to take them over
    assert not plan["changes_pending"] and plan["status"] == "blocked"
    assert {a["identifier"]: a["action"] for a in plan["actions"]} == {
        "qwen/qwen3-8b": "conflict",
        "text-embedding-nomic-embed-text-v1.5": "conflict",
        "tiny": "conflict",
    }
    assert all("`lmsprofiles adopt " in a["message"] for a in plan["actions"])
    argv = ["--host", host, "--profiles", str(profiles), "--state-dir", str(state)]
    code, _, err = _cli(capsys, "adopt", *argv)
    assert code == 0, err
    adopted = _plan(capsys, host, profiles, state)
    assert {a["action"] for a in adopted["actions"]} == {"reuse"}


def test_a_host_with_nothing_loaded_is_an_error(
    lmstudio_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(
        capsys, "import", "--from-host", "--host", lmstudio_emulator.host, "--to", str(tmp_path)
    )
    assert code == 1
    assert f"no instances are loaded on {lmstudio_emulator.host}; nothing to import" in err


def test_an_unreachable_host_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(
        capsys, "import", "--from-host", "--host", "127.0.0.1:9", "--to", str(tmp_path)
    )
    assert code == 1
    assert err.startswith("error: LM Studio is not reachable at 127.0.0.1:9")


@pytest.mark.parametrize("how", ["option", "variable"])
def test_the_timeout_bounds_the_wait_for_the_host(
    lmstudio_emulator: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    lmstudio_emulator.unresponsive = True
    argv = ["import", "--from-host", "--host", lmstudio_emulator.host, "--to", str(tmp_path)]
    if how == "option":
        argv += ["--timeout", "0.5"]
    else:
        monkeypatch.setenv("LMSPROFILES_TIMEOUT", "0.5")
    code, _, err = _cli(capsys, *argv)
    assert code == 1
    assert "did not answer within 0.5 s" in err
    assert len(err.splitlines()) == 1, err


def test_a_bad_timeout_variable_is_a_problem_before_anything_is_contacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSPROFILES_TIMEOUT", "abc")
    argv = ["import", "--from-host", "--host", "127.0.0.1:9", "--to", str(tmp_path)]
    code, _, err = _cli(capsys, *argv)
    assert code == 3
    assert (
        err.splitlines()[0]
        == "LMSPROFILES_TIMEOUT: must be a number of seconds > 0 and at most 86400 (got 'abc')"
    )


def test_a_bad_host_is_a_problem_before_anything_is_contacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _cli(capsys, "import", "--from-host", "--host", "bad:abc", "--to", str(tmp_path))
    assert code == 3
    assert err.splitlines()[0].startswith("--host: the port must be a number from 1 to 65535")


def test_the_sdks_log_lines_stay_off_stderr(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    done = run_cli("import", "--from-host", "--host", address, "--to", str(tmp_path))
    assert done.code == 1, done
    assert done.err == f"error: LM Studio is not reachable at {address}\n", done
