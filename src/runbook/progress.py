# SPDX-License-Identifier: GPL-3.0-or-later
"""Live progress of a run, per host and step.

Quiet (the default): one line per host per step that matters, as
`host role: task - status`, decided by `events.worth_showing` (changes,
failures, unreachable hosts, what debug tasks said); no play or task banners.
A debug message's lines follow, indented, as the playbook wrote them (at most
NOTE_LINES of them; `-v` shows all). Verbose (`-v`): every play, task and
result, argument checks included. Both end with a recap line per host.

On a terminal a spinner names the running task (rich); elsewhere plain lines.
Everything printed goes through the Redactor.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from runbook.events import TaskResult, task_result, worth_showing
from runbook.redact import Redactor

_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "ignored": "cyan",
    "skipped": "dim",
    "unreachable": "bold red",
}
_TASK_STARTS = ("playbook_on_task_start", "playbook_on_handler_task_start")
# stats key -> recap label; the first five always, the others when not zero
_RECAP = (("ok", "ok"), ("changed", "changed"), ("failures", "failed"), ("dark", "unreachable"),
          ("skipped", "skipped"), ("rescued", "rescued"), ("ignored", "ignored"))
# Lines of one debug message the quiet progress shows (a run's whole output fits a screen).
NOTE_LINES = 12
NOTE_INDENT = "    "


class Progress:
    def __init__(self, stream: TextIO, redactor: Redactor, live: bool | None = None,
                 verbose: bool = False) -> None:
        self._console = Console(file=stream, highlight=False, soft_wrap=True)
        self._live = self._console.is_terminal if live is None else live
        if not self._live:
            self._console = Console(file=stream, highlight=False, soft_wrap=True, no_color=True,
                                    force_terminal=False, emoji=False)
        self._redactor = redactor
        self._verbose = verbose
        self._status: Status | None = None
        self._running = ""  # the spinner's task label

    def start(self, text: str) -> None:
        self._print(f"[bold]{escape(self._redactor.text(text))}[/bold]")

    def handle(self, event: dict[str, Any]) -> None:
        """Show one ansible-runner event (already redacted)."""
        name = event.get("event")
        data = event.get("event_data") or {}
        if name == "playbook_on_play_start":
            if self._verbose:
                self._print(f"[bold blue]PLAY[/bold blue] {self._text(data.get('name') or data.get('play'))}")
        elif name in _TASK_STARTS:
            self._task_started(name, data)
        elif name == "runner_retry":
            self._retrying(data)
        elif name == "playbook_on_stats":
            self._stop_spinner()
            self._recap(data)
        else:
            result = task_result(event, argument_checks=self._verbose)
            if result is None:
                return
            if self._verbose:
                self._print(self._verbose_line(result))
            elif worth_showing(result):
                self._print(self._quiet_line(result))

    def finish(self, text: str, ok: bool) -> None:
        self._stop_spinner()
        style = "bold green" if ok else "bold red"
        self._print(f"[{style}]{escape(self._redactor.text(text))}[/{style}]")

    def line(self, text: str) -> None:
        self._print(escape(self._redactor.text(text)))

    def close(self) -> None:
        self._stop_spinner()

    def _task_started(self, name: str, data: dict[str, Any]) -> None:
        task = str(data.get("task") or data.get("task_action") or "")
        if self._verbose:
            label = "HANDLER" if name == "playbook_on_handler_task_start" else "TASK"
            self._print(f"[bold]{label}[/bold] {self._text(task)}")
        role = str(data.get("role") or "")
        self._running = f"{role}: {task}" if role else task
        self._spin(f"{self._text(self._running)} ...")

    def _retrying(self, data: dict[str, Any]) -> None:
        res = data.get("res") if isinstance(data.get("res"), dict) else {}
        attempts, retries = res.get("attempts"), res.get("retries")
        if self._running and attempts:
            of = f" of {retries}" if retries else ""
            self._spin(f"{self._text(self._running)} ... (attempt {attempts}{of})")

    def _recap(self, data: dict[str, Any]) -> None:
        hosts = sorted({host for key, _ in _RECAP for host in (data.get(key) or {})})
        width = max((len(host) for host in hosts), default=0)
        for host in hosts:
            counts = [(label, (data.get(key) or {}).get(host, 0)) for key, label in _RECAP]
            shown = " ".join(f"{label}={count}" for index, (label, count) in enumerate(counts)
                             if index < 5 or count)
            self._print(f"[bold]RECAP[/bold] {self._text(host.ljust(width))}  {shown}")

    def _quiet_line(self, result: TaskResult) -> str:
        """`host role: task - status (time): message`, then a debug message's lines;
        a one-line message stands in place of the task's name (`host role: message`)."""
        where = f"{result.host} {result.role}" if result.role else result.host
        if result.note and len(result.note.splitlines()) == 1 and not result.message:
            return f"{self._text(where)}: {self._text(result.note)}"
        line = f"{self._text(where)}: {self._text(result.task)}"
        if not result.note:
            style = _STYLE.get(result.status, "")
            line += f" - [{style}]{result.status}[/{style}] ({result.duration:.1f}s)"
        if result.message:
            line += f": {self._text(result.message)}"
        return line + self._note(result.note, NOTE_LINES)

    def _verbose_line(self, result: TaskResult) -> str:
        style = _STYLE.get(result.status, "")
        line = f"  {self._text(result.host)}: [{style}]{result.status}[/{style}] ({result.duration:.1f}s)"
        if result.message:
            line += f" - {self._text(result.message)}"
        return line + self._note(result.note, None, indent="      ")

    def _note(self, note: str, limit: int | None, indent: str = NOTE_INDENT) -> str:
        lines = self._redactor.text(note).splitlines()  # whole: a secret may span lines
        shown = lines if limit is None else lines[:limit]
        while len(shown) < len(lines) and shown and shown[-1].rstrip().endswith(":"):
            shown = shown[:-1]  # a cut never ends on a heading whose lines it hides
        text = "".join(f"\n{indent}{escape(line)}" for line in shown)
        if len(lines) > len(shown):
            text += f"\n{indent}[dim]... {len(lines) - len(shown)} more lines (-v shows them)[/dim]"
        return text

    def _text(self, value: Any) -> str:
        return escape(self._redactor.text(str(value or "")))

    def _print(self, markup: str) -> None:
        self._console.print(markup)

    def _spin(self, text: str) -> None:
        if not self._live:
            return
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
