# SPDX-License-Identifier: GPL-3.0-or-later
"""Install the Ansible collections of requirements.yml from the `ansible` bundle wheel.

The project depends on ansible-core plus a few collections (requirements.yml),
not on the whole `ansible` bundle (473 MB installed). Those collections are
published on the Python package index only inside that bundle, and Galaxy is
not reachable from every machine that builds or tests the project. So this
takes the one bundle wheel from the package index (`pip download`, kept in
.cache/wheels: a second run needs no network), checks it against the sha256
below (the lock of this one file, as requirements.lock is of the venv), and
extracts only the listed collections, checking each one's version against
requirements.yml.

    python tools/fetch_collections.py DEST     # DEST/ansible_collections/<namespace>/<name>

DEST is a venv's site-packages for `make venv` (ansible-core, ansible-lint and
molecule find collections there by themselves) or the package's content
directory when the wheel is built. RUNBOOK_ANSIBLE_WHEEL names a bundle wheel
already on disk (offline machines).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

# The bundle the collection versions in requirements.yml come from.
BUNDLE = "ansible"
BUNDLE_VERSION = "12.3.0"
# sha256 of ansible-12.3.0-py3-none-any.whl on the package index: a wheel with another
# digest (a corrupt cache, a different file under that name) is refused before use.
BUNDLE_SHA256 = "cd156f82fa87f7a899212b0efa9f7ca3a24d609212de9f78428a572eb01e5414"
ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.yml"
WHEELS = ROOT / ".cache" / "wheels"
PREFIX = "ansible_collections/"


def required(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """namespace.name -> version, from a Galaxy requirements file."""
    data = yaml.safe_load(requirements.read_text(encoding="utf-8"))
    return {item["name"]: str(item["version"]) for item in data["collections"]}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def bundle_wheel(expected: str = BUNDLE_SHA256) -> Path:
    """The bundle wheel: $RUNBOOK_ANSIBLE_WHEEL, else .cache/wheels, else downloaded there.

    Whichever it is, its sha256 must be `expected`.
    """
    given = os.environ.get("RUNBOOK_ANSIBLE_WHEEL")
    name = f"{BUNDLE}-{BUNDLE_VERSION}-py3-none-any.whl"
    wheel = Path(given) if given else WHEELS / name
    if not given and not wheel.is_file():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--dest", str(WHEELS), f"{BUNDLE}=={BUNDLE_VERSION}"],
                       check=True)
    if not wheel.is_file():
        raise SystemExit(f"fetch_collections: {wheel} does not exist")
    found = sha256(wheel)
    if found != expected:
        raise SystemExit(f"fetch_collections: {wheel} has sha256 {found}, expected {expected} "
                         f"({BUNDLE} {BUNDLE_VERSION}); remove it and run again")
    return wheel


def installed_version(dest: Path, fqcn: str) -> str | None:
    manifest = dest / PREFIX / fqcn.replace(".", "/") / "MANIFEST.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])
    except (OSError, ValueError, KeyError):
        return None


def extract(wheel: Path, dest: Path, collections: dict[str, str]) -> None:
    """Extract each collection's folder from the wheel into dest/ansible_collections."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        for fqcn in collections:
            folder = PREFIX + fqcn.replace(".", "/") + "/"
            members = [name for name in names if name.startswith(folder)]
            if not members:
                raise SystemExit(f"fetch_collections: {fqcn} is not in {wheel.name}")
            shutil.rmtree(dest / folder, ignore_errors=True)
            archive.extractall(dest, members)


def install(dest: Path, collections: dict[str, str], expected: str = BUNDLE_SHA256) -> list[str]:
    """Install what is missing or at another version; return the names installed."""
    missing = {fqcn: version for fqcn, version in collections.items()
               if installed_version(dest, fqcn) != version}
    if missing:
        extract(bundle_wheel(expected), dest, missing)
    for fqcn, version in collections.items():
        found = installed_version(dest, fqcn)
        if found != version:
            raise SystemExit(f"fetch_collections: {fqcn} is {found} in {BUNDLE} {BUNDLE_VERSION}, "
                             f"requirements.yml wants {version}")
    return sorted(missing)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: python tools/fetch_collections.py DEST", file=sys.stderr)
        return 2
    dest = Path(argv[0])
    done = install(dest, required())
    print(f"collections in {dest / PREFIX}: " + (", ".join(done) + " installed" if done else "up to date"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
