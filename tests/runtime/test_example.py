"""The application example in examples/app.py runs as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app.py"


def test_example_app_runs_against_the_emulator() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("temperature 1.0 from ")
    assert lines[0].endswith("profiles/models/qwen-chat.yaml:12:20")
    assert any(line.startswith("parsed: {") for line in lines)
    assert lines[-1] == "embedding dimensions: 768"
