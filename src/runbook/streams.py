# SPDX-License-Identifier: GPL-3.0-or-later
"""Output that survives its reader going away.

When the terminal hangs up (SIGHUP) or a pipe closes, writes fail (EIO,
EPIPE). A run must still finish its record and give its lock back, and
the CLI must not fail at exit flushing what it could not write.
"""

from __future__ import annotations

import os
from typing import Any, TextIO, cast


class _HangupSafe:
    """A stream whose writes never raise; everything else is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except (OSError, ValueError):
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def hangup_safe(stream: TextIO) -> TextIO:
    """stream, with writes that fail silently (for progress lines)."""
    return cast(TextIO, _HangupSafe(stream))


def silence(stream: TextIO) -> None:
    """Point a stream that can no longer be written at /dev/null, so exiting does not fail flushing it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
