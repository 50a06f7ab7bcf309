# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures the integration tests share."""

from __future__ import annotations

from pathlib import Path

import pytest
from wheelutil import installed_wheel


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv outside the repository holding the wheel built from this work tree."""
    return installed_wheel(tmp_path_factory.mktemp("wheel"))
