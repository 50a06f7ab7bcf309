# SPDX-License-Identifier: GPL-3.0-or-later
"""An offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test creates a virtual environment per sanity test and bootstraps pip
in it with a script it downloads from ci-files.testing.ansible.com, a host these
machines cannot reach. `make sanity` puts this file where ansible-test caches
that script (~/.ansible/test/cache/get_pip_<version>.py, under the HOME the
Makefile gives it), so the bootstrap uses the interpreter's own ensurepip and
then pip itself installs the exact pip version ansible-test asked for, from the
same package index as everything else (pip's configuration applies).

Called as ansible-test calls get-pip.py: python get_pip.py [pip options]
[--no-setuptools] [--no-wheel] pip==X [packages ...]
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True,
                   stdout=subprocess.DEVNULL)
    options = [arg for arg in argv if arg not in GET_PIP_ONLY]
    return subprocess.run([sys.executable, "-m", "pip", "install", *options], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
