"""Every child process a test starts has Python's fault handler on, so a crash is diagnosable."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.processes import explain, start_cli


def test_every_child_of_a_test_has_the_fault_handler_on() -> None:
    """Also a child started without the helper (tests/conftest.py sets the variable)."""
    done = subprocess.run(
        [sys.executable, "-c", "import faulthandler; print(faulthandler.is_enabled())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == "True\n"


def test_a_child_that_dies_of_a_signal_leaves_every_threads_traceback() -> None:
    argv = ("emulator", "--port", "0")
    process = start_cli(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("listening on ")
        process.send_signal(signal.SIGSEGV)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == -signal.SIGSEGV
    assert "Fatal Python error: Segmentation fault" in err
    assert 'File "' in err  # the Python stack of the threads
    message = explain(argv, process.returncode, err)
    assert message.startswith(
        "lmsprofiles emulator --port 0: killed by SIGSEGV\n--- its stderr ---\n"
    )
