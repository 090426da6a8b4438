"""``python -m lmsprofiles``: the same as the ``lmsprofiles`` command."""

import sys

from lmsprofiles._cli import main

sys.exit(main())
