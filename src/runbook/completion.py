# SPDX-License-Identifier: GPL-3.0-or-later
"""Shell completion: `runbook completion bash` prints a plain bash `complete -F` function; it asks
`runbook __complete ...` for the scenario names, a scenario's variables and a variable's values."""

from __future__ import annotations

import argparse
from pathlib import Path

from runbook.catalog import load_catalog, load_scenario
from runbook.errors import BadInput
from runbook.validate import CONNECTION_VARS, CONTRACT_VARS

HIDDEN_COMMAND = "__complete"
# Options whose next word is a value, not the scenario.
_FILE_OPTIONS = ("-i", "--inventory", "--private-key", "--vault-password-file", "--vault-id")


def candidates(project: Path, words: list[str]) -> list[str]:
    """What `runbook __complete scenarios | vars SCENARIO | values SCENARIO VAR` prints, one a line."""
    try:
        if words[:1] == ["scenarios"]:
            return sorted(load_catalog(project).scenarios)
        if words[:1] == ["vars"] and len(words) == 2:
            own = list(load_scenario(project, words[1]).extra_vars)
            return own + sorted(CONTRACT_VARS) + sorted(CONNECTION_VARS)
        if words[:1] == ["values"] and len(words) == 3:
            spec = load_scenario(project, words[1]).extra_vars.get(words[2])
            if spec is None:
                return []
            if spec.choices:
                return list(spec.choices)
            return ["true", "false"] if spec.type == "bool" else []
    except (BadInput, OSError, ValueError):
        return []
    return []


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return sorted(option for action in parser._actions for option in action.option_strings)  # noqa: SLF001


def _valued(parser: argparse.ArgumentParser) -> list[str]:
    """Options that take a value (their next word is never the scenario)."""
    return sorted(option for action in parser._actions  # noqa: SLF001
                  if action.nargs != 0 for option in action.option_strings)


def bash_script(commands: dict[str, argparse.ArgumentParser]) -> str:
    """The bash completion script: `eval "$(runbook completion bash)"` or save it under bash-completion's dir."""
    per_command = "\n".join(f'        {name}) opts="{" ".join(_options(sub))}" ;;' for name, sub in commands.items())
    valued = "|".join(sorted({option for sub in commands.values() for option in _valued(sub)}))
    files = "|".join(_FILE_OPTIONS)
    return f"""\
# bash completion for runbook; load it with: eval "$(runbook completion bash)"
_runbook() {{
    local cur prev cmd opts scenario i word before
    COMPREPLY=()
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{' '.join(commands)} --version --help" -- "$cur"))
        return 0
    fi
    cmd="${{COMP_WORDS[1]}}"
    case "$cmd" in
{per_command}
        *) return 0 ;;
    esac
    scenario=""
    if [[ $cmd == run ]]; then
        for ((i = 2; i < COMP_CWORD; i++)); do
            word="${{COMP_WORDS[i]}}"
            before="${{COMP_WORDS[i-1]}}"
            case "$before" in {valued}|=) continue ;; esac
            [[ $word == -* || $word == = ]] && continue
            [[ ${{COMP_WORDS[i+1]}} == = ]] && continue
            scenario="$word"
            break
        done
    fi
    # -e NAME=VALUE: bash splits the word at "=" (COMP_WORDBREAKS)
    if [[ $cur == = && ( ${{COMP_WORDS[COMP_CWORD-2]}} == -e || ${{COMP_WORDS[COMP_CWORD-2]}} == --extra-vars ) ]]; then
        [[ -n $scenario ]] && COMPREPLY=($(runbook {HIDDEN_COMMAND} values "$scenario" "$prev" 2>/dev/null))
        return 0
    fi
    if [[ $prev == = && ( ${{COMP_WORDS[COMP_CWORD-3]}} == -e || ${{COMP_WORDS[COMP_CWORD-3]}} == --extra-vars ) ]]; then
        [[ -n $scenario ]] && COMPREPLY=($(compgen -W "$(runbook {HIDDEN_COMMAND} values "$scenario" \\
            "${{COMP_WORDS[COMP_CWORD-2]}}" 2>/dev/null)" -- "$cur"))
        return 0
    fi
    case "$prev" in
        -e|--extra-vars)
            if [[ -n $scenario ]]; then
                compopt -o nospace 2>/dev/null
                COMPREPLY=($(compgen -W "$(runbook {HIDDEN_COMMAND} vars "$scenario" 2>/dev/null)" -S = -- "$cur"))
            fi
            return 0 ;;
        {files})
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0 ;;
        {valued})
            return 0 ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ $cmd == run && -z $scenario ]]; then
        COMPREPLY=($(compgen -W "$(runbook {HIDDEN_COMMAND} scenarios 2>/dev/null)" -- "$cur"))
    fi
    return 0
}}
complete -F _runbook runbook
"""
