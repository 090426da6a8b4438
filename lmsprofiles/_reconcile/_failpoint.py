"""Named crash points for the crash-safety tests; inert unless ``_LMSPROFILES_FAILPOINT`` is set.

``_LMSPROFILES_FAILPOINT=STEP`` (or ``STEP:IDENTIFIER``) makes the process stop at that step
of a load or unload: it prints ``failpoint STEP IDENTIFIER`` on stderr and blocks, so a test
can kill it with SIGKILL at a known point and check that the next run repairs the state.
With ``_LMSPROFILES_FAILPOINT_RELEASE=FILE`` it blocks only until FILE exists and then goes
on, so a test can change the world (stop a server) between two steps of a run.
The steps, in order, are listed in :data:`STEPS`. The variables' names start with an
underscore so that they are never read as profile overrides.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Final

__all__ = ["ENV", "RELEASE_ENV", "STEPS", "failpoint"]

ENV: Final = "_LMSPROFILES_FAILPOINT"
RELEASE_ENV: Final = "_LMSPROFILES_FAILPOINT_RELEASE"
STEPS: Final = (
    "unload-intent",  # the unload intent is on disk; LM Studio not yet asked
    "unloaded",  # LM Studio unloaded the instance; the records not yet updated
    "load-intent",  # the load intent is on disk; LM Studio not yet asked
    "loaded",  # LM Studio loaded the instance; the records not yet updated
    "settled",  # the records say the instance is ours
)


def failpoint(step: str, identifier: str) -> None:
    """Block forever if ``_LMSPROFILES_FAILPOINT`` names ``step`` (and ``identifier``)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, only = wanted.partition(":")
    if name != step or (only and only != identifier):
        return
    sys.stderr.write(f"failpoint {step} {identifier}\n")  # one write: hosts stop at once
    sys.stderr.flush()
    release = os.environ.get(RELEASE_ENV)
    if not release:
        threading.Event().wait()  # until the process is killed
        return
    while not os.path.exists(release):
        time.sleep(0.05)
