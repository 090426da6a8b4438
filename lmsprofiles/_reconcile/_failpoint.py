"""Named crash points for the crash-safety tests; inert unless ``_LMSPROFILES_FAILPOINT`` is set.

``_LMSPROFILES_FAILPOINT=STEP`` (or ``STEP:IDENTIFIER``) makes the process stop at that step
of a load or unload: it prints ``failpoint STEP IDENTIFIER`` on stderr and blocks, so a test
can kill it with SIGKILL at a known point and check that the next run repairs the state.
The steps, in order, are listed in :data:`STEPS`. The variable's name starts with an
underscore so that it is never read as a profile override.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Final

__all__ = ["ENV", "STEPS", "failpoint"]

ENV: Final = "_LMSPROFILES_FAILPOINT"
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
    print(f"failpoint {step} {identifier}", file=sys.stderr, flush=True)
    threading.Event().wait()
