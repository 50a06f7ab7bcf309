"""Live progress of a run, per host and task.

On a terminal: coloured lines and a spinner naming the running task (rich).
Elsewhere: plain lines, one per play, task and host result.
"""

from __future__ import annotations

from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from runbook.events import TaskResult, is_noise, task_result
from runbook.redact import Redactor

_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "ignored": "cyan",
    "skipped": "dim",
    "unreachable": "bold red",
}


class Progress:
    def __init__(self, stream: TextIO, redactor: Redactor, live: bool | None = None) -> None:
        self._console = Console(file=stream, highlight=False, soft_wrap=True)
        self._live = self._console.is_terminal if live is None else live
        if not self._live:
            self._console = Console(file=stream, highlight=False, soft_wrap=True, no_color=True,
                                    force_terminal=False, emoji=False)
        self._redactor = redactor
        self._status: Status | None = None

    def start(self, text: str) -> None:
        self._print(f"[bold]{escape(self._redactor.text(text))}[/bold]")

    def handle(self, event: dict[str, Any]) -> None:
        """Show one ansible-runner event (already redacted)."""
        name = event.get("event")
        data = event.get("event_data") or {}
        if name == "playbook_on_play_start":
            self._print(f"[bold blue]PLAY[/bold blue] {escape(str(data.get('name') or data.get('play', '')))}")
        elif name in ("playbook_on_task_start", "playbook_on_handler_task_start"):
            label = "HANDLER" if name == "playbook_on_handler_task_start" else "TASK"
            task = escape(str(data.get("task") or data.get("task_action") or ""))
            if is_noise(task):
                return
            self._print(f"[bold]{label}[/bold] {task}")
            self._spin(f"{task} ...")
        elif name == "playbook_on_stats":
            self._stop_spinner()
            self._recap(data)
        else:
            result = task_result(event)
            if result is not None:
                self._print(self._result_line(result))

    def finish(self, text: str, ok: bool) -> None:
        self._stop_spinner()
        style = "bold green" if ok else "bold red"
        self._print(f"[{style}]{escape(self._redactor.text(text))}[/{style}]")

    def line(self, text: str) -> None:
        self._print(escape(self._redactor.text(text)))

    def close(self) -> None:
        self._stop_spinner()

    def _recap(self, data: dict[str, Any]) -> None:
        keys = (("ok", "ok"), ("changed", "changed"), ("failures", "failed"), ("dark", "unreachable"),
                ("skipped", "skipped"))
        hosts = sorted({host for key, _ in keys for host in (data.get(key) or {})})
        for host in hosts:
            counts = " ".join(f"{label}={(data.get(key) or {}).get(host, 0)}" for key, label in keys)
            self._print(f"[bold]RECAP[/bold] {escape(host)}: {counts}")

    def _result_line(self, result: TaskResult) -> str:
        style = _STYLE.get(result.status, "")
        line = f"  {escape(result.host)}: [{style}]{result.status}[/{style}] ({result.duration:.1f}s)"
        if result.message:
            line += f" - {escape(self._redactor.text(result.message))}"
        for note in result.note.splitlines():
            line += f"\n      {escape(self._redactor.text(note))}"
        return line

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
