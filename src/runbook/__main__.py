# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point for `python -m runbook`."""

import sys

from runbook.cli import main

sys.exit(main())
