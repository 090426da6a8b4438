"""The runtime API's arguments: a wrong type or value is a clear TypeError/ValueError at once,
before anything is contacted."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import lmsprofiles
from tests.conftest import EXAMPLE_PROFILES


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        (
            math.nan,
            ValueError,
            "timeout= must be a number of seconds > 0 and at most 86400 (got nan)",
        ),
        (math.inf, ValueError, "(got inf)"),
        (-1, ValueError, "(got -1)"),
        (0, ValueError, "(got 0)"),
        (1e10, ValueError, "(got 10000000000.0)"),
        ("5", TypeError, "timeout= must be a number of seconds > 0 and at most 86400, not str '5'"),
        (True, TypeError, "not bool True"),
    ],
)
@pytest.mark.parametrize("connect", [lmsprofiles.connect, lmsprofiles.connect_async])
def test_a_bad_timeout_is_refused_at_once(
    connect: object, timeout: object, error: type[Exception], message: str, tmp_path: Path
) -> None:
    assert callable(connect)
    with pytest.raises(error) as raised:
        connect(EXAMPLE_PROFILES, host="127.0.0.1:1", state_dir=tmp_path, timeout=timeout)
    assert message in str(raised.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [-5, math.nan, math.inf])
def test_a_bad_lock_timeout_is_refused_at_once(value: float, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lock_timeout= must be a number of seconds >= 0"):
        lmsprofiles.connect(EXAMPLE_PROFILES, state_dir=tmp_path, lock_timeout=value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"X": 5}, "env= must map names to strings, like os.environ; 'X' maps to int 5"),
        ({"LMSPROFILES_LOAD__CONTEXT_LENGTH": 4096}, "maps to int 4096"),
        ({5: "x"}, "5 maps to str 'x'"),
        ("LMSPROFILES_HOST=x", "env= must be a mapping of names to strings, not str"),
    ],
)
def test_an_environment_that_is_not_strings_is_a_type_error(env: object, message: str) -> None:
    with pytest.raises(TypeError) as raised:
        lmsprofiles.load(EXAMPLE_PROFILES, env=env)  # type: ignore[arg-type]
    assert message in str(raised.value)


@pytest.mark.parametrize("host", ["127.1", "0x7f000001:1234", "2130706433", "127.000.000.001"])
def test_a_host_in_another_ipv4_spelling_is_refused(host: str, tmp_path: Path) -> None:
    with pytest.raises(lmsprofiles.ProfileError, match=r"write it as 127\.0\.0\.1"):
        lmsprofiles.connect(EXAMPLE_PROFILES, host=host, state_dir=tmp_path)
