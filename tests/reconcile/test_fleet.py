"""Fan-out: ``plan`` and ``reconcile`` with ``--all-hosts`` / ``--hosts`` against four emulators.

The inventory has overlays (a host-wide one, per-model ones) and model selection (by name and
by label); the addresses come from ``LMSPROFILES_HOSTS__<NAME>__ADDRESS``, as in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lmsprofiles._cli import main
from lmsprofiles._reconcile._failpoint import ENV, RELEASE_ENV
from lmsprofiles._reconcile._fleet import SEVERITY, worst
from lmsprofiles._reconcile._lock import HostLock
from lmsprofiles.emulator import Emulator
from tests.reconcile.conftest import Outcome

REPO = Path(__file__).resolve().parents[2]
NAMES = ("workstation", "gpu-a", "gpu-b", "laptop")

PROFILES = {
    "global.yaml": "load:\n  flashAttention: true\nttl: null\n",
    "models/chat.yaml": "model: qwen/qwen3-8b\nlabels: {size: large}\nload:\n  contextLength: 16384\n",
    "models/coder.yaml": (
        "model: qwen/qwen2.5-coder-14b\nlabels: {size: large}\nload:\n  contextLength: 32768\n"
    ),
    "models/embed.yaml": (
        "model: text-embedding-nomic-embed-text-v1.5\ntype: embedding\nlabels: {size: small}\n"
        "load:\n  contextLength: 2048\n"
    ),
    "models/tiny.yaml": "model: google/gemma-3-1b\nlabels: {size: small}\nload:\n  contextLength: 4096\n",
    "hosts.yaml": """\
        hosts:
          workstation:                 # a longer context for chat on this one
            labels: {gpu: 24GB}
            runs: {models: [chat, coder, embed]}
            models:
              chat: {load: {contextLength: 32k}}
          gpu-a:                       # half the layers on the GPU, for every model
            labels: {gpu: 80GB}
            load: {gpu: {ratio: 0.5}}
            runs: {models: [chat, coder]}
          gpu-b:                       # the large models, coder with less context
            labels: {gpu: 80GB}
            runs: {labels: {size: large}}
            models:
              coder: {load: {contextLength: 8k}}
          laptop:                      # the small ones, unloaded when idle
            labels: {gpu: none}
            ttl: 600
            runs: {labels: {size: small}}
        """,
}
EXPECTED = {
    "workstation": {"chat": 32768, "coder": 32768, "embed": 2048},
    "gpu-a": {"chat": 16384, "coder": 32768},
    "gpu-b": {"chat": 16384, "coder": 8192},
    "laptop": {"embed": 2048, "tiny": 4096},
}


@dataclass
class Fleet:
    """Four emulators (or their addresses), the profiles with hosts.yaml, and a state dir."""

    addresses: dict[str, str]
    profiles: Path
    state_dir: Path
    capsys: pytest.CaptureFixture[str] | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            f"LMSPROFILES_HOSTS__{name.upper().replace('-', '_')}__ADDRESS": address
            for name, address in self.addresses.items()
        }

    def argv(self, command: str, *rest: str) -> list[str]:
        return [
            command,
            "--profiles",
            str(self.profiles),
            "--state-dir",
            str(self.state_dir),
            *rest,
        ]

    def run(self, command: str, *rest: str) -> Outcome:
        """The CLI in this process; the fixture put the addresses in the environment."""
        assert self.capsys is not None
        self.capsys.readouterr()
        code = main(self.argv(command, *rest))
        captured = self.capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def process(self, command: str, *rest: str, **env: str) -> subprocess.Popen[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("LMSPROFILES_")}
        return subprocess.Popen(
            [sys.executable, "-m", "lmsprofiles", *self.argv(command, *rest)],
            cwd=REPO,
            env={**environ, **self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def state(self, name: str) -> dict[str, Any]:
        from lmsprofiles._reconcile._host import server_key
        from lmsprofiles._reconcile._state import host_slug

        path = self.state_dir / "hosts" / f"{host_slug(server_key(self.addresses[name]))}.json"
        document: dict[str, Any] = json.loads(path.read_text())
        return document


def write_profiles(root: Path) -> Path:
    for name, text in PROFILES.items():
        target = root / "profiles" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    return root / "profiles"


@pytest.fixture
def emulators() -> Iterator[dict[str, Emulator]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(Emulator().running()) for name in NAMES}


@pytest.fixture
def fleet(
    emulators: dict[str, Emulator],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Fleet:
    addresses = {name: emu.host for name, emu in emulators.items()}
    fleet = Fleet(addresses, write_profiles(tmp_path), tmp_path / "state", capsys)
    for name, value in fleet.env.items():
        monkeypatch.setenv(name, value)
    return fleet


def loaded(emulator: Emulator) -> dict[str, int]:
    return {i.identifier: i.context_length for i in emulator.instances()}


def assert_converged(fleet: Fleet, emulators: dict[str, Emulator], *names: str) -> None:
    """Every host named (default: all) has exactly its models, with its overlays, and owns
    them, with no intent left."""
    for name in names or NAMES:
        assert loaded(emulators[name]) == EXPECTED[name], name
        state = fleet.state(name)
        assert state["intents"] == {}, name
        assert set(state["instances"]) == set(EXPECTED[name]), name
    selection = ",".join(names or NAMES)
    again = fleet.run("plan", "--hosts", selection, "--detailed-exitcode")
    assert again.code == 0, again.out + again.err


def test_four_hosts_plan_reconcile_and_converge(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    plan = fleet.run("plan", "--all-hosts", "--detailed-exitcode")
    assert plan.code == 2, plan.out + plan.err
    heads = [line for line in plan.out.splitlines() if line.startswith("=== ")]
    assert heads == [f"=== {n} ({fleet.addresses[n]}) ===" for n in NAMES]
    assert f"Plan for LM Studio at {fleet.addresses['gpu-b']} (gpu-b)" in plan.out
    assert "+ load.contextLength = 8192" in plan.out  # gpu-b's overlay of coder
    table = plan.out.splitlines()[-6:]
    assert table[0].split() == ["HOST", "ADDRESS", "EXIT", "RESULT"]
    assert table[1].split()[:4] == ["workstation", fleet.addresses["workstation"], "2", "changes"]
    assert table[-1] == "4 hosts, exit 2: the most severe over the hosts (docs/fleet.md)"
    assert all(not emu.instances() for emu in emulators.values())  # plan changed nothing

    done = fleet.run("reconcile", "--all-hosts")
    assert done.code == 0, done.out + done.err
    assert done.err == ""
    assert "laptop" in done.out.splitlines()[-2] and "applied: 2 loaded, 0 reused" in done.out
    assert_converged(fleet, emulators)
    for instance in emulators["gpu-a"].instances():
        assert instance.load_config["llm.load.llama.acceleration.offloadRatio"] == 0.5
    assert {i.ttl_ms for i in emulators["laptop"].instances()} == {600_000}
    assert {i.ttl_ms for i in emulators["gpu-b"].instances()} == {None}
    assert len(list((fleet.state_dir / "hosts").glob("*.json"))) == 4  # one file per server

    again = fleet.run("reconcile", "--all-hosts")
    assert again.code == 0
    assert again.out.count("no changes: ") == 4


def test_the_json_document_has_one_plan_per_host(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    plan = fleet.run("plan", "--all-hosts", "--json")
    assert plan.code == 0, plan.err
    document = plan.json()
    assert list(document) == ["format_version", "command", "status", "exit_code", "hosts"]
    assert (document["command"], document["status"], document["exit_code"]) == (
        "plan",
        "changes_pending",
        0,
    )
    assert [h["name"] for h in document["hosts"]] == list(NAMES)
    gpu_b = document["hosts"][2]
    assert gpu_b["address"] == fleet.addresses["gpu-b"]
    assert gpu_b["labels"] == {"gpu": "80GB"}
    assert (gpu_b["status"], gpu_b["exit_code"], gpu_b["error"]) == ("changes_pending", 0, None)
    single = gpu_b["plan"]  # the single-host document, plus the host's name
    assert (single["host"], single["host_name"]) == (fleet.addresses["gpu-b"], "gpu-b")
    assert [a["identifier"] for a in single["actions"]] == ["chat", "coder"]
    assert single["actions"][1]["desired"]["load"]["contextLength"] == 8192

    done = fleet.run("reconcile", "--all-hosts", "--json")
    assert done.code == 0, done.err
    document = done.json()
    assert (document["command"], document["status"]) == ("reconcile", "applied")
    assert all(h["plan"]["result"]["verified"] for h in document["hosts"])
    assert fleet.run("reconcile", "--all-hosts", "--json").json()["status"] == "no_changes"


def test_hosts_by_name_and_by_label_in_inventory_order(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    by_label = fleet.run("reconcile", "--hosts", "gpu=80GB", "--json")
    assert by_label.code == 0, by_label.err
    assert [h["name"] for h in by_label.json()["hosts"]] == ["gpu-a", "gpu-b"]
    assert not emulators["workstation"].instances() and not emulators["laptop"].instances()
    assert_converged(fleet, emulators, "gpu-a", "gpu-b")
    by_name = fleet.run("plan", "--hosts", "laptop,gpu-a", "--json")
    assert [h["name"] for h in by_name.json()["hosts"]] == ["gpu-a", "laptop"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--hosts", "gpu-c"], 3, "--hosts: gpu-c: no host named 'gpu-c'; did you mean 'gpu-b'?"),
        (["--hosts", "gpu=1TB"], 3, "--hosts: gpu=1TB: no host has the label gpu=1TB"),
        (["--hosts", "gpu-a,"], 2, "expected NAME[,NAME...], not 'gpu-a,'"),
        (["--hosts", "gpu-a", "--all-hosts"], 2, "not allowed with argument"),
        (["--host", "localhost", "--all-hosts"], 2, "give --host or --all-hosts, not both"),
    ],
)
def test_bad_host_selections(fleet: Fleet, argv: list[str], code: int, message: str) -> None:
    try:
        outcome = fleet.run("plan", *argv)
    except SystemExit as exited:  # an argparse usage error
        assert fleet.capsys is not None
        outcome = Outcome(int(str(exited.code)), "", fleet.capsys.readouterr().err)
    assert outcome.code == code
    assert message in outcome.err


def test_fan_out_without_an_inventory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "profiles" / "models").mkdir(parents=True)
    (tmp_path / "profiles" / "models" / "a.yaml").write_text("model: google/gemma-3-1b\n")
    assert main(["plan", "--profiles", str(tmp_path / "profiles"), "--all-hosts"]) == 3
    err = capsys.readouterr().err
    assert "--all-hosts: no hosts to run on: there is no hosts.yaml in" in err


def test_the_address_of_an_inventory_host_brings_its_layers(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    assert fleet.run("reconcile", "--hosts", "gpu-b").code == 0
    plan = fleet.run("plan", "--host", fleet.addresses["gpu-b"], "--detailed-exitcode")
    assert plan.code == 0, plan.out  # without gpu-b's layers, coder would be reloaded
    assert plan.out.startswith(f"Plan for LM Studio at {fleet.addresses['gpu-b']} (gpu-b)\n")
    document = fleet.run("plan", "--host", fleet.addresses["gpu-b"], "--json").json()
    assert document["host_name"] == "gpu-b"
    assert "hosts" not in document  # the single-host document


def test_a_host_whose_lock_is_held_leaves_the_others_converged(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    lock = HostLock(fleet.state_dir, fleet.addresses["gpu-a"], operation="reconcile")
    lock.acquire(0)
    try:
        outcome = fleet.run("reconcile", "--all-hosts", "--json")
    finally:
        lock.release()
    assert outcome.code == 5, outcome.err
    document = outcome.json()
    gpu_a = document["hosts"][1]
    assert (gpu_a["status"], gpu_a["exit_code"], gpu_a["plan"]) == ("error", 5, None)
    assert "another lmsprofiles run holds the lock" in gpu_a["error"]
    assert (document["status"], document["exit_code"]) == ("error", 5)
    assert (
        f"error: gpu-a: another lmsprofiles run holds the lock for {fleet.addresses['gpu-a']}"
        in (outcome.err)
    )
    assert not emulators["gpu-a"].instances()
    assert_converged(fleet, emulators, "workstation", "gpu-b", "laptop")


def test_emulator_option_gives_every_host_a_fresh_emulator(
    fleet: Fleet, emulators: dict[str, Emulator], tmp_path: Path
) -> None:
    outcome = fleet.run("reconcile", "--all-hosts", "--emulator", "--json")
    assert outcome.code == 0, outcome.err
    hosts = outcome.json()["hosts"]
    assert len({h["address"] for h in hosts}) == 4
    assert not set(fleet.addresses.values()) & {h["address"] for h in hosts}
    assert all(not emu.instances() for emu in emulators.values())


def test_the_most_severe_exit_code_wins() -> None:
    assert SEVERITY == (130, 3, 1, 5, 4, 2, 0)
    assert worst([0, 2, 4, 2]) == 4
    assert worst([4, 5, 0]) == 5
    assert worst([5, 1, 4]) == 1
    assert worst([1, 130]) == 130
    assert worst([0, 0]) == 0
    assert worst([]) == 0


# ------------------------------------------------------------------------------------------
# Real processes: an emulator stopped mid-run, SIGKILL and SIGINT of a fan-out run


@contextlib.contextmanager
def emulator_processes(*argv: str, count: int) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lmsprofiles", "emulator", "--port", "0", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(count)]
        assert all(line.startswith("listening on ") for line in lines), lines
        yield process, [line.removeprefix("listening on ").strip() for line in lines]
    finally:
        process.kill()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def wait_for_failpoint(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("failpoint "):
            return line
    pytest.fail(f"the run ended before its failpoint (exit {process.wait()})")


def test_an_emulator_stopped_mid_run_leaves_the_others_converged(tmp_path: Path) -> None:
    """The laptop's emulator is killed (SIGKILL, a real process) after the laptop's run
    recorded the intent to load tiny and before it asks LM Studio: the laptop ends with
    exit 1, the three others converge, and the run exits 1 (docs/fleet.md)."""
    release = tmp_path / "release"
    with (
        emulator_processes("--count", "3", count=3) as (_, three),
        emulator_processes(count=1) as (laptop, [laptop_address]),
    ):
        addresses = dict(zip(NAMES, [*three, laptop_address], strict=True))
        fleet = Fleet(addresses, write_profiles(tmp_path), tmp_path / "state")
        run = fleet.process(
            "reconcile", "--all-hosts", **{ENV: "load-intent:tiny", RELEASE_ENV: str(release)}
        )
        try:
            assert wait_for_failpoint(run) == "failpoint load-intent tiny\n"
            laptop.send_signal(signal.SIGKILL)
            laptop.wait(timeout=30)
            release.touch()
            out, err = run.communicate(timeout=120)
        finally:
            run.kill()
            run.wait(timeout=30)
        assert run.returncode == 1, out + err
        assert f"error: laptop: lost the connection to LM Studio at {laptop_address}" in err
        rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[-6:-1]}
        assert rows == {
            "HOST": "EXIT",
            "workstation": "0",
            "gpu-a": "0",
            "gpu-b": "0",
            "laptop": "1",
        }
        assert fleet.state("laptop")["intents"]["tiny"]["op"] == "load"  # resolved next time
        check = fleet.process("plan", "--hosts", "workstation,gpu-a,gpu-b", "--detailed-exitcode")
        check_out, check_err = check.communicate(timeout=120)
        assert check.returncode == 0, check_out + check_err

        port = laptop_address.rsplit(":", 1)[1]
        with emulator_processes("--port", port, count=1):  # the laptop is back, empty
            again = fleet.process("reconcile", "--all-hosts")
            again_out, again_err = again.communicate(timeout=120)
            assert again.returncode == 0, again_out + again_err
            final = fleet.process("plan", "--all-hosts", "--detailed-exitcode")
            assert final.communicate(timeout=120) and final.returncode == 0
            assert fleet.state("laptop")["intents"] == {}


def test_a_fan_out_killed_with_sigkill_converges_on_every_host_when_run_again(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    run = fleet.process("reconcile", "--all-hosts", **{ENV: "loaded:chat"})
    try:
        assert wait_for_failpoint(run) == "failpoint loaded chat\n"
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
    finally:
        run.kill()
        run.communicate(timeout=30)
    assert run.returncode == -signal.SIGKILL
    again = fleet.run("reconcile", "--all-hosts")
    assert again.code == 0, again.out + again.err
    assert_converged(fleet, emulators)


def test_ctrl_c_stops_a_fan_out_with_130_and_the_next_run_converges(
    fleet: Fleet, emulators: dict[str, Emulator]
) -> None:
    run = fleet.process("reconcile", "--all-hosts", **{ENV: "load-intent:tiny"})
    try:
        assert wait_for_failpoint(run) == "failpoint load-intent tiny\n"
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
        run.wait(timeout=30)
    assert run.returncode == 130, out + err
    assert err.splitlines()[-1] == "interrupted"
    again = fleet.run("reconcile", "--all-hosts")
    assert again.code == 0, again.out + again.err
    assert_converged(fleet, emulators)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_fan_out_says_what_each_host_did(
    fleet: Fleet, emulators: dict[str, Emulator], signum: int
) -> None:
    """The laptop stops at the load of tiny (after embed); the others finish. Ctrl-C or
    SIGTERM then prints one line per host, the last line being `interrupted`."""
    run = fleet.process("reconcile", "--all-hosts", **{ENV: "load-intent:tiny"})
    try:
        assert wait_for_failpoint(run) == "failpoint load-intent tiny\n"
        assert run.stdout is not None
        for line in run.stdout:  # a host's group is printed once it is done, in order
            if line.startswith("=== gpu-b "):
                break
        run.send_signal(signum)
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()
        run.wait(timeout=30)
    assert run.returncode == 130, out + err
    lines = err.splitlines()
    assert lines[-1] == "interrupted"
    at = lines.index("What each host did before the interruption:")
    assert lines[at + 1 : -1] == [
        "  workstation  applied: 3 loaded, 0 reused",
        "  gpu-a        applied: 2 loaded, 0 reused",
        "  gpu-b        applied: 2 loaded, 0 reused",
        "  laptop       interrupted: 1 loaded (embed); load tiny was under way",
    ]
    again = fleet.run("reconcile", "--all-hosts")
    assert again.code == 0, again.out + again.err
    assert_converged(fleet, emulators)
