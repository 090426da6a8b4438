"""The cache of loaded trees: a speed-up that never changes an answer.

Every test compares the CLI's answer with the cache (in whatever state) to the answer with
``--no-cache``. Files are aged an hour so that the cache trusts them, as it would files
edited a while ago; a file modified just before it was read is read again next time.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lmsprofiles import _cache
from lmsprofiles._cli import main
from tests.conftest import EXAMPLE_PROFILES

HOUR = 3600


def age(root: Path, seconds: int = HOUR) -> None:
    """Set every file's mtime ``seconds`` back, as if edited a while ago."""
    then = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (then, then))


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def answers(root: Path, *extra: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """The answer with the cache and without it, for validate (or ``extra`` argv)."""
    argv = ["--profiles", str(root), *(extra or ("validate",))]
    return run(argv), run(["--no-cache", *argv])


def cache_files() -> list[Path]:
    return sorted(_cache.cache_dir().glob("*.cache"))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "profiles"
    shutil.copytree(EXAMPLE_PROFILES, root)
    age(root)
    return root


def make_invalid(root: Path) -> None:
    (root / "models" / "coder.yaml").write_text("model: x\nload:\n  contextLength: -1\n")
    age(root)


_PROBE = """
import contextlib, io, sys
from lmsprofiles._cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    code = main(sys.argv[1:])
print(code, " ".join(sorted(sys.modules)))
"""


def probe(argv: list[str]) -> tuple[int, set[str]]:
    """Exit code and the modules imported by a real ``lmsprofiles`` process."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    code, *modules = done.stdout.split()
    return int(code), set(modules)


def test_the_tests_have_a_cache_of_their_own() -> None:
    assert _cache.cache_dir().is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
    assert not cache_files()


@pytest.mark.parametrize("broken", [False, True])
def test_an_unchanged_tree_is_answered_without_pydantic_or_ruamel(tree: Path, broken: bool) -> None:
    if broken:
        make_invalid(tree)
    code, modules = probe(["--profiles", str(tree), "validate"])
    assert "ruamel.yaml" in modules
    # a tree without a problem is validated without pydantic; a problem is worded by it
    assert ("pydantic" in modules) == broken
    warm_code, warm_modules = probe(["--profiles", str(tree), "validate"])
    assert warm_code == code == (3 if broken else 0)
    assert not {"pydantic", "pydantic_core", "ruamel.yaml", "_ruamel_yaml"} & warm_modules
    assert len(cache_files()) == 1


def test_warm_answers_are_the_cold_answers(tree: Path) -> None:
    cold = run(["--profiles", str(tree), "validate", "--json"])
    warm, uncached = answers(tree, "validate", "--json")
    assert cold == warm == uncached
    make_invalid(tree)
    cold = run(["--profiles", str(tree), "validate"])
    warm, uncached = answers(tree)
    assert cold == warm == uncached
    assert cold[0] == 3 and "coder.yaml:3:18: load.contextLength" in cold[2]


def test_files_modified_just_before_they_were_read_are_read_again(tree: Path) -> None:
    age(tree, 0)  # just written
    assert probe(["--profiles", str(tree), "validate"])[0] == 0
    _, modules = probe(["--profiles", str(tree), "validate"])
    assert "ruamel.yaml" in modules  # not trusted: a second write in the same tick keeps the stat
    entry = _cache._Entry("model", (1, 10**19 - RACY_MARGIN, 0, 0, 0, 0), 10**19)
    assert not entry.trusted()


RACY_MARGIN = _cache.RACY_NS - 1


@pytest.mark.parametrize(
    "change",
    ["edit", "same size", "restore mtime", "add", "remove", "user file", "env", "chdir"],
)
def test_every_change_is_seen(tree: Path, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(["--profiles", str(tree), "validate"])[0] == 0
    coder = tree / "models" / "coder.yaml"
    before = coder.stat()
    if change == "edit":
        coder.write_text(coder.read_text() + "ttl: -5\n")
    elif change == "same size":
        coder.write_text(coder.read_text().replace("ttl: 7200", "ttl: -720"))
    elif change == "restore mtime":
        coder.write_text(coder.read_text().replace("ttl: 7200", "ttl: -720"))
        os.utime(coder, ns=(before.st_atime_ns, before.st_mtime_ns))
    elif change == "add":
        (tree / "models" / "extra.yaml").write_text("model: x\nttl: 0\n")
    elif change == "remove":
        (tree / "requests" / "creative.yaml").unlink()
    elif change == "user file":
        user = Path(os.environ["XDG_CONFIG_HOME"]) / "lmsprofiles" / "global.yaml"
        user.parent.mkdir(parents=True)
        user.write_text("ttl: -1\n")
    elif change == "env":
        monkeypatch.setenv("LMSPROFILES_TTL", "-1")
    elif change == "chdir":
        (tree / "models" / "bad.yaml").write_text("model: x\nttl: 0\n")
        age(tree)
        assert run(["--profiles", str(tree), "validate"])[0] == 3
        monkeypatch.chdir(tree)
    if change not in ("restore mtime", "chdir"):
        age(tree)
    warm, uncached = answers(tree)
    assert warm == uncached
    assert warm[0] == 3
    if change == "chdir":
        assert "models/bad.yaml:2:6" in warm[2] and str(tree) not in warm[2]


def _cache_file(tree: Path) -> Path:
    assert run(["--profiles", str(tree), "validate"])[0] in (0, 3)
    (found,) = cache_files()
    return found


@pytest.mark.parametrize("broken", [False, True])
@pytest.mark.parametrize(
    "damage", ["truncated", "garbage", "empty", "header only", "directory", "evil pickle"]
)
def test_a_damaged_cache_changes_no_answer(tree: Path, damage: str, broken: bool) -> None:
    if broken:
        make_invalid(tree)
    target = _cache_file(tree)
    data = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        target.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "header only":
        target.write_bytes(data[:40])
    elif damage == "directory":  # cannot be read nor replaced
        target.unlink()
        target.mkdir()
    elif damage == "evil pickle":
        target.write_bytes(_evil_cache())
    for _ in range(2):
        warm, uncached = answers(tree)
        assert warm == uncached
        assert warm[0] == (3 if broken else 0)
        for extra in (
            ("render", "coder", "--show-origin"),
            ("export", "coder", "--format", "json"),
        ):
            assert answers(tree, *extra)[0] == answers(tree, *extra)[1]
    assert not (tree.parent / "pwned").exists()


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def _evil_cache() -> bytes:
    import hashlib

    index = pickle.dumps({"valid_for": _Evil()}, protocol=5)
    digest = hashlib.blake2b(index, digest_size=32).digest()
    return _cache._MAGIC + _cache._HEAD.pack(digest, len(index), 0) + index


def test_a_stale_cache_from_another_state_of_the_tree_changes_no_answer(tree: Path) -> None:
    target = _cache_file(tree)
    valid_cache = target.read_bytes()
    make_invalid(tree)
    target.write_bytes(valid_cache)  # the cache of the valid tree, files changed since
    warm, uncached = answers(tree)
    assert warm == uncached and warm[0] == 3
    broken_cache = target.read_bytes()
    shutil.rmtree(tree)
    shutil.copytree(EXAMPLE_PROFILES, tree)
    age(tree)
    target.write_bytes(broken_cache)
    warm, uncached = answers(tree)
    assert warm == uncached and warm[0] == 0


def test_an_unwritable_cache_dir_changes_no_answer(tree: Path) -> None:
    _cache.cache_dir().parent.mkdir(parents=True)
    _cache.cache_dir().write_text("a file where the cache dir would be")
    for _ in range(2):
        warm, uncached = answers(tree)
        assert warm == uncached and warm[0] == 0


def test_concurrent_runs_share_a_cache_safely(tree: Path) -> None:
    make_invalid(tree)
    argv = [sys.executable, "-m", "lmsprofiles", "--profiles", str(tree), "validate"]
    for _ in range(3):
        runs = [
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(4)
        ]
        results = [(p.wait(), p.communicate()) for p in runs]
        assert {(code, out, err) for code, (out, err) in results} == {(3, b"", results[0][1][1])}
        (tree / "models" / "coder.yaml").write_text("model: x\nload:\n  contextLength: -2\n")
        age(tree)
    assert run(["--profiles", str(tree), "validate"]) == run(
        ["--no-cache", "--profiles", str(tree), "validate"]
    )
    assert not list(_cache.cache_dir().glob(".*.tmp"))


def test_the_api_cache_gives_the_same_profile_set(tree: Path) -> None:
    import lmsprofiles

    plain = lmsprofiles.load(tree, env={}, user_config=None)
    for _ in range(2):
        cached = lmsprofiles.load(tree, env={}, user_config=None, cache=True)
        for identifier in plain.identifiers:
            for request in (None, *plain.models[identifier].requests):
                a = plain.resolve(identifier, request)
                b = cached.resolve(identifier, request)
                assert (a.values, dict(a.origins)) == (b.values, dict(b.origins))
    assert len(cache_files()) == 1


# ------------------------------------------------------------------------------------------
# The inventory: hosts.yaml is read, checked and answered through the cache like every file

HOSTS = """\
hosts:
  box:
    address: box
    load: {flashAttention: false}
    runs: {labels: {kv: full}}
  laptop:
    address: laptop:5000
    load: {flashAttention: true}
    models:
      qwen-chat: {load: {contextLength: 8192}}
"""


@pytest.fixture
def fleet(tree: Path) -> Path:
    """The example tree with a hosts.yaml: box (which runs no model yet) turns off
    flashAttention, which coder's quantized V cache needs; laptop runs every model and
    turns it on (coder is checked on laptop, and the cache remembers it valid there)."""
    (tree / "hosts.yaml").write_text(HOSTS)
    age(tree)
    return tree


def test_a_cached_answer_names_the_hosts(fleet: Path) -> None:
    from lmsprofiles._scan import user_config_file

    for argv in (["validate"], ["validate", "--json"]):
        cold = run(["--profiles", str(fleet), *argv])
        warm, uncached = answers(fleet, *argv)
        assert cold == warm == uncached
    assert run(["--profiles", str(fleet), "validate"])[1] == (
        f"valid: {fleet} (3 models, 3 requests, 2 hosts)\n"
    )
    assert '"hosts": ["box", "laptop"]' in warm[1]
    store = _cache.Store(("cli", str(fleet)), os.environ, user_config_file())
    cached = store.answer()
    assert cached is not None and cached[1].hosts == ("box", "laptop")
    code, modules = probe(["--profiles", str(fleet), "validate"])
    assert code == 0 and not {"pydantic", "ruamel.yaml"} & modules


def test_a_valid_inventory_is_validated_without_pydantic(fleet: Path) -> None:
    code, modules = probe(["--no-cache", "--profiles", str(fleet), "validate"])
    assert code == 0 and "ruamel.yaml" in modules and "pydantic" not in modules


@pytest.mark.parametrize(
    "change",
    ["edit", "same size", "label", "hosts.yml", "remove", "env layer", "env address"],
)
def test_every_change_of_the_inventory_is_seen(
    fleet: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["--profiles", str(fleet), "validate"])[0] == 0
    hosts, coder = fleet / "hosts.yaml", fleet / "models" / "coder.yaml"
    changed = None  # the one file written: dated back, as the others are
    if change == "edit":  # only hosts.yaml changed: coder, found valid on laptop, is not now
        changed = hosts
        hosts.write_text(HOSTS.replace("flashAttention: true", "flashAttention: false"))
    elif change == "same size":
        changed = hosts
        hosts.write_text(HOSTS.replace("contextLength: 8192", "contextLength: -819"))
    elif change == "label":  # box runs coder too: only coder's file changed
        changed = coder
        coder.write_text(coder.read_text() + "labels: {kv: full}\n")
    elif change == "hosts.yml":
        changed = fleet / "hosts.yml"
        changed.write_text("hosts: {}\n")
    elif change == "remove":
        hosts.unlink()
    elif change == "env layer":
        monkeypatch.setenv("LMSPROFILES_HOSTS__LAPTOP__LOAD__FLASH_ATTENTION", "false")
    elif change == "env address":
        monkeypatch.setenv("LMSPROFILES_HOSTS__BOX__ADDRESS", "laptop:5000")
    if changed is not None:
        os.utime(changed, (time.time() - HOUR, time.time() - HOUR))
    warm, uncached = answers(fleet)
    assert warm == uncached
    if change == "remove":
        assert warm == (0, f"valid: {fleet} (3 models, 3 requests)\n", "")
        return
    assert warm[0] == 3
    expected = {
        "edit": "needs flashAttention: true (model 'coder', host 'laptop')",
        "same size": "hosts.yaml:10:41: hosts.laptop.models.qwen-chat.load.contextLength",
        "label": "needs flashAttention: true (model 'coder', host 'box')",
        "hosts.yml": "hosts.yml: both hosts.yaml and hosts.yml exist; keep one",
        "env layer": "needs flashAttention: true (model 'coder', host 'laptop')",
        "env address": "hosts.yaml:7:14: hosts.laptop.address: laptop:5000 is the same LM "
        "Studio server as host 'box'",
    }[change]
    assert expected in warm[2]


def test_render_on_a_host_with_and_without_the_cache(fleet: Path) -> None:
    argv = ("render", "qwen-chat", "--host", "laptop", "--request", "creative", "--show-origin")
    for _ in range(2):
        warm, uncached = answers(fleet, *argv)
        assert warm == uncached
    assert warm[0] == 0
    assert "contextLength: 8192 # profiles/hosts.yaml:10:41\n" in warm[1]
    assert "host: laptop\n" in warm[1]
