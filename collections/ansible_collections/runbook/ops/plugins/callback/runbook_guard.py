# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse ``-e`` values that carry a Jinja template, and ``--skip-tags``,
``--start-at-task`` or ``--step`` that would skip the input checks or the run
lock, before anything is templated.

Why this exists
---------------
Under ansible-core 2.19 every ``-e`` value (``k=v``, inline JSON/YAML and the
contents of ``-e @file``) is *trusted as a template*. A value such as
``commit={{ lookup('pipe', 'touch /tmp/x') }}`` is rendered -- and the lookup
runs on the controller -- the first time the variable is used: for
``runbook_serial`` that is the play's ``serial:`` at play start, for ``commit``
the very assert meant to refuse it. A branch name coming from CI can carry such
a payload, and CI runs ``ansible-playbook playbooks/X.yml -e ...`` directly, so
the runbook CLI's own checks do not protect that path.

How
---
ansible-playbook (ansible/executor/playbook_executor.py, PlaybookExecutor.run)
does, in this order: ``Playbook.load`` (parse only), ``tqm.load_callbacks()``,
``send_callback('v2_playbook_on_start')``, then per play ``get_vars`` /
``play.post_validate`` (the first templating: ``serial``, ``hosts``...) and
``tqm.run`` (the strategy forks the workers). ``load_callbacks`` instantiates
every callback plugin that does not need enabling, so the check below runs in
``__init__``: before the first callback event, before any play is templated
and before any worker process exists. It prints one line to stderr and raises
``SystemExit(2)``: ``load_callbacks`` only catches ``Exception`` and
``send_callback`` only ``Exception`` / ``AssertionError``, so SystemExit (a
BaseException) runs PlaybookExecutor.run's ``finally`` (``tqm.cleanup()``,
temp files) and ends the process with status 2; ``cli_executor`` does not
catch it either.

The plugin is found without configuration: ansible-playbook adds the
``callback_plugins/`` directory next to each playbook it is given
(cli/playbook.py, ``add_all_plugin_dirs``) and next to each playbook it
imports (playbook/__init__.py, ``Playbook._load_playbook_data``), both before
``load_callbacks``; ``CALLBACK_NEEDS_ENABLED = False`` makes it load without
being listed in ``callbacks_enabled``. The repo's ansible.cfg also lists this
directory in ``callback_plugins`` for playbooks in other directories (e.g.
playbooks/internal/) run with that config; ansible-runner replaces that setting
with ANSIBLE_CALLBACK_PLUGINS, so under ansible-runner only adjacency applies.
It prints nothing when the inputs are fine and implements no event method, so
it never interferes with the stdout callback (``ansible.builtin.default``,
ansible-runner's ``awx_display``).

Limits: ``--syntax-check`` and ``--list-hosts/--list-tasks/--list-tags`` load no
callback plugin, yet still template the play (``serial``, ``hosts``), so they
are not guarded. Anything templated while the playbook is parsed (an
``import_playbook`` / ``import_tasks`` path or a ``roles:`` name that uses a
variable) is rendered before callbacks load: keep such names static.
Inventory and group_vars are trusted configuration and are not checked.

What is checked
---------------
The raw ``-e`` arguments from ``context.CLIARGS['extra_vars']``, each parsed
the way ansible-core parses it (``k=v``, inline JSON/YAML, ``@file``), and the
merged extra vars ansible-core itself loaded (``load_extra_vars``' cache, which
also holds the contents of vault-encrypted ``@file`` s). Every key and value,
recursively, is refused when it contains ``{{``, ``{%`` or ``{#``.

Tags
----
Every playbook tags its input checks and its run lock ``always``: they run
under any ``--tags``. Only ``--skip-tags always`` or ``--skip-tags tagged``
would skip them (ansible/playbook/taggable.py, ``evaluate_tags``;
``--skip-tags all`` keeps ``always`` tasks), so those two are refused.

``--start-at-task`` skips every task before the one named, ``always`` ones
included, and ``--step`` lets whoever answers its prompts skip any of them:
both would start a change with no input check and no run lock, so both are
refused. To run one step of a scenario, select it with ``--tags``.

Literal braces
--------------
A caller who really needs a value with braces passes it in a vars file marked
``!unsafe``::

    # vars.yml, used as: ansible-playbook playbooks/X.yml -e @vars.yml
    some_var: !unsafe "literal {{ braces }}"

``!unsafe`` values are not trusted as templates: ansible-core never renders
them (the braces stay text), so this guard lets them through. The guard only
refuses what ansible-core would render, plus untagged strings (inline JSON
keys) to be safe.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: runbook_guard
type: aggregate
author: runbook maintainers (!UNKNOWN)
version_added: 0.2.0
short_description: Refuse -e values that carry a Jinja template, and options that skip the input checks
description:
  - Runs when ansible-playbook loads its callbacks, before any play is templated and before any worker
    starts. It needs no enabling (it is found in the C(callback_plugins/) directory next to the playbooks).
  - Exits with status 2 and one line on stderr when an extra var (key or value, at any depth) contains
    C({{), C({%) or C({#). Values marked C(!unsafe) in a vars file are not templated by Ansible and are
    let through.
  - Also exits with status 2 when C(--skip-tags) names C(always) or C(tagged), or when C(--start-at-task)
    or C(--step) is given, since each would skip the playbooks' input checks and run lock.
  - Prints nothing when the inputs are fine, and handles no event.
notes:
  - C(--syntax-check) and C(--list-hosts), C(--list-tasks), C(--list-tags) load no callback plugin, so they
    are not guarded.
"""

import json
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from ansible import context
from ansible.plugins.callback import CallbackBase


MARKERS = ("{{", "{%", "{#")
UNSKIPPABLE = ("always", "tagged")
EXIT_REFUSED = 2
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _templatable(text: str) -> bool:
    """Whether ansible-core would render this string (untagged strings count, to be safe)."""
    try:
        from ansible.module_utils._internal._datatag import AnsibleTagHelper
        from ansible.template import is_trusted_as_template
    except ImportError:  # not 2.19's data tagging: everything from -e is a template
        return True
    if not AnsibleTagHelper.tags(text):  # no origin, no trust tag (inline JSON keys): refuse to be safe
        return True
    return is_trusted_as_template(text)


def _has_marker(value: Any) -> bool:
    """A key or value at any depth that contains a template marker and would be templated."""
    if isinstance(value, str):
        return any(marker in value for marker in MARKERS) and _templatable(value)
    if isinstance(value, Mapping):
        return any(_has_marker(key) or _has_marker(item) for key, item in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_marker(item) for item in value)
    return False


def _parsed_arguments() -> Iterator[Any]:
    """Each raw -e argument, parsed as ansible-core parses it (utils/vars.py load_extra_vars)."""
    raw = context.CLIARGS.get("extra_vars") or ()
    if not raw:
        return
    from ansible.parsing.dataloader import DataLoader
    from ansible.parsing.splitter import parse_kv

    loader = DataLoader()
    for argument in raw:
        if not argument:
            continue
        text = str(argument)
        try:
            if text.startswith("@"):
                yield loader.load_from_file(text[1:], trusted_as_template=True)
            elif text[0] in "[{":
                yield loader.load(text)
            else:
                yield parse_kv(text)
        except Exception:  # pylint: disable=broad-except
            # A vault-encrypted @file (this loader has no secrets): ansible-core's
            # own loaded extra vars, judged below, hold its decrypted contents.
            # Anything else: judge the raw text rather than let a parse error pass.
            yield {_name_of_raw(text): text} if not text.startswith("@") else {}


def _name_of_raw(text: str) -> str:
    name = text.split("=", 1)[0].strip() if "=" in text else ""
    return name if _PLAIN_NAME.match(name) else "(argument)"


def _shown_name(key: Any) -> str:
    text = str(key)
    if text == "_raw_params":  # what parse_kv makes of an argument without k=v
        return "(free-form argument)"
    return text if _PLAIN_NAME.match(text) else json.dumps(text[:40])


def _loaded_extra_vars() -> Mapping[str, Any]:
    """The merged extra vars ansible-core loaded (vault files decrypted), if it has loaded them."""
    try:
        from ansible.utils.vars import load_extra_vars
    except ImportError:
        return {}
    loaded = getattr(load_extra_vars, "extra_vars", None)
    return loaded if isinstance(loaded, Mapping) else {}


def refused_names() -> list[str]:
    """Top-level names of the -e variables that carry a template marker, in order."""
    names: list[str] = []
    sources = list(_parsed_arguments())
    if not sources:
        return names
    sources.append(_loaded_extra_vars())
    for data in sources:
        if isinstance(data, Mapping):
            items = list(data.items())
        else:  # not a mapping: ansible-core refuses it itself; still judge it
            items = [("(argument)", data)]
        for key, value in items:
            if _has_marker(key) or _has_marker(value):
                name = _shown_name(key)
                if name not in names:
                    names.append(name)
    return names


def message(names: list[str]) -> str:
    if len(names) == 1:
        return (f"runbook: refused -e {names[0]}: it contains a template marker ({{{{, {{% or {{#); "
                "give a plain value")
    return (f"runbook: refused -e {', '.join(names)}: each contains a template marker ({{{{, {{% or {{#); "
            "give plain values")


def refused_skip_tags() -> list[str]:
    """The --skip-tags values that would skip the input checks and the lock."""
    skipped = context.CLIARGS.get("skip_tags") or ()
    return [tag for tag in UNSKIPPABLE if tag in skipped]


def skip_tags_message(tags: list[str]) -> str:
    return (f"runbook: refused --skip-tags {','.join(tags)}: the input checks and the run lock are tagged "
            "always and never skipped; skip a scenario step instead (ansible-playbook --list-tags PLAYBOOK)")


def refused_options() -> list[str]:
    """--start-at-task and --step: each can skip the tasks that run before any change."""
    options = []
    if context.CLIARGS.get("start_at_task"):
        options.append("--start-at-task")
    if context.CLIARGS.get("step"):
        options.append("--step")
    return options


def options_message(options: list[str]) -> str:
    return (f"runbook: refused {' and '.join(options)}: it would skip the input checks and the run lock; "
            "run one step with --tags instead (ansible-playbook --list-tags PLAYBOOK)")


class CallbackModule(CallbackBase):
    """Refuses templated -e values when ansible-playbook loads its callbacks; silent otherwise."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "runbook_guard"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refusal = self._refusal()
        if refusal:
            sys.stdout.flush()
            sys.stderr.write(refusal + "\n")
            sys.stderr.flush()
            raise SystemExit(EXIT_REFUSED)

    @staticmethod
    def _refusal() -> str:
        """The one line that refuses this run, or ""."""
        names = refused_names()
        if names:
            return message(names)
        tags = refused_skip_tags()
        if tags:
            return skip_tags_message(tags)
        options = refused_options()
        return options_message(options) if options else ""
