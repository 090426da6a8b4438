"""The runnable examples in the docs run as written and print what the docs show.

In a page listed in :data:`PAGES`, a ``sh`` block is run as it is and a ``console`` block is a
session: each ``$ command`` line is run and its output (stdout and stderr) must equal the
lines after it. ``...`` on a line of its own stands for any number of lines; a line ending
in ``...`` matches any line that starts with the rest. All blocks of a page run in order in
one bash process, in an empty directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("interop.md",)
_BLOCK = re.compile(r"^```(sh|console)\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


@dataclass
class _Step:
    command: str
    expected: list[str]


def _script(page: str) -> tuple[str, list[_Step]]:
    """The page as one bash script (outputs to ``.out-N``, exit codes to ``.rc-N``)."""
    steps: list[_Step] = []
    script = ["set -euo pipefail"]
    for kind, body in _BLOCK.findall((DOCS / page).read_text()):
        if kind == "sh":
            script.append(body)
            continue
        for line in body.splitlines():
            if not line.startswith("$ "):
                steps[-1].expected.append(line)
                continue
            n = len(steps)
            steps.append(_Step(line[2:], []))
            script.append(
                f"{{ {line[2:]} ; }} > .out-{n} 2>&1 && echo 0 > .rc-{n} || echo $? > .rc-{n}"
            )
    return "\n".join(script) + "\n", steps


def _matches(expected: list[str], actual: list[str]) -> bool:
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == "...":
        return any(_matches(rest, actual[i:]) for i in range(len(actual) + 1))
    if not actual:
        return False
    line = actual[0]
    ok = line.startswith(head[:-3]) if head.endswith("...") else line == head
    return ok and _matches(rest, actual[1:])


@pytest.mark.parametrize("page", PAGES)
def test_the_examples_of_the_page_run_as_documented(page: str, tmp_path: Path) -> None:
    script, steps = _script(page)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    env = {k: v for k, v in env.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever the page left running
    assert process.returncode == 0, f"the page's script failed:\n{out}\n{err}"
    for index, step in enumerate(steps):
        actual = (tmp_path / f".out-{index}").read_text().splitlines()
        code = (tmp_path / f".rc-{index}").read_text().strip()
        assert code == "0", f"$ {step.command}\nexit {code}\n" + "\n".join(actual)
        assert _matches(step.expected, actual), (
            f"$ {step.command}\n--- expected\n"
            + "\n".join(step.expected)
            + "\n--- got\n"
            + "\n".join(actual)
        )
