#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test sanity on the runbook.ops collection, offline, with an empty ignore file.
#   bash tools/sanity.sh [ansible-test sanity options, e.g. --test pep8]
#
# ansible-test makes a virtual environment per sanity test and bootstraps pip in it
# with get-pip.py downloaded from ci-files.testing.ansible.com, which these machines
# cannot reach. tools/sanity_get_pip.py, copied where ansible-test caches that script,
# bootstraps with the interpreter's ensurepip instead; pip then installs
# ansible-test's own pinned sanity requirements (ansible_test/_data/requirements/
# sanity.*.txt) from the usual index, with pip's configuration. HOME is
# .cache/ansible-test-home, so those venvs and the cache stay in the work tree and a
# second run reuses them. --python: the venv's Python (the controller's; other
# interpreters on a machine, such as pyenv shims, are not what runs the project).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/.venv/bin
home=$root/.cache/ansible-test-home
python_version=$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pip_version=$("$bin/python" - <<'PY'
import inspect
import re

from ansible_test._internal import python_requirements

print(re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages)).group(1))
PY
)
mkdir -p "$home/.ansible/test/cache"
cp "$root/tools/sanity_get_pip.py" "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
cd "$root/collections/ansible_collections/runbook/ops"
test ! -s tests/sanity/ignore-2.19.txt || { echo "sanity: tests/sanity/ignore-2.19.txt must stay empty" >&2; exit 1; }
HOME=$home PATH=$bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    exec "$bin/ansible-test" sanity --local --python "$python_version" --color no "$@"
