# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/runbook_command: the modules' one command runner."""

from __future__ import annotations

from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import NOT_RUN, Commands


class FakeModule:
    def __init__(self):
        self.calls = []

    def get_bin_path(self, name, opt_dirs=None):
        return {"timeout": "/usr/bin/timeout", "git": "/usr/bin/git"}.get(name)

    def run_command(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        return 0, "out", ""


def test_through_run_command_with_a_time_limit_and_no_expansion(tmp_path):
    module = FakeModule()
    commands = Commands().use(module)
    assert commands.run(["git", "status", "$HOME"], cwd=str(tmp_path), timeout=30) == (0, "out", "")
    argv, kwargs = module.calls[0]
    assert argv == ["/usr/bin/timeout", "--kill-after=5", "30", "/usr/bin/git", "status", "$HOME"]
    assert kwargs["expand_user_and_vars"] is False and kwargs["cwd"] == str(tmp_path)


def test_a_missing_directory_is_not_run(tmp_path):
    rc, out, err = Commands().use(FakeModule()).run(["ls"], cwd=str(tmp_path / "none"))
    assert (rc, out) == (NOT_RUN, "") and "none" in err


def test_without_a_module_it_runs_directly():
    assert Commands().run(["sh", "-c", "echo hi; exit 3"]) == (3, "hi\n", "")
    assert Commands().run(["/nonexistent/tool"])[0] == NOT_RUN
