"""A state file nested too deeply for the JSON parser is damaged like any other (the one-line
message and `adopt`'s recovery are tested with the other damaged files in
test_deploy_safety.py): set aside under a name of its own, twice in one second too, by
`reconcile --adopt` as by `adopt`, and another server's deep file is left alone."""

from __future__ import annotations

from tests.reconcile.conftest import Host

DEEP = b"[" * 100_000 + b"]" * 100_000


def test_two_damaged_files_set_aside_in_one_second_are_both_kept(host: Host) -> None:
    assert host.run("reconcile").code == 0
    path = host.state_file()
    contents = [b"not json 1", DEEP]
    for content in contents:
        path.write_bytes(content)
        adopted = host.run("adopt")
        assert adopted.code == 0, adopted.err
    kept = sorted(p.read_bytes() for p in path.parent.glob("*.damaged-*"))
    assert kept == sorted(contents)
    assert host.run("plan", "--detailed-exitcode").code == 0


def test_a_deeply_nested_file_of_another_server_is_not_read_as_this_ones(host: Host) -> None:
    assert host.run("reconcile").code == 0
    other = host.state_dir / "hosts" / "other_1234.json"
    other.write_bytes(DEEP)
    result = host.run("plan", "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert other.read_bytes() == DEEP


def test_reconcile_adopt_sets_a_deeply_nested_state_file_aside_and_converges(host: Host) -> None:
    assert host.run("reconcile").code == 0
    path = host.state_file()
    path.write_bytes(DEEP)
    result = host.run("reconcile", "--adopt")
    assert result.code == 0, result.out + result.err
    assert "The damaged state file was moved to" in result.out
    [aside] = path.parent.glob("*.damaged-*")
    assert aside.read_bytes() == DEEP
    assert host.run("plan", "--detailed-exitcode").code == 0
