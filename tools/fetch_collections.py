"""Install the Ansible collections of requirements.yml from the `ansible` bundle wheel.

The project depends on ansible-core plus a few collections (requirements.yml),
not on the whole `ansible` bundle (473 MB installed). Those collections are
published on the Python package index only inside that bundle, and Galaxy is
not reachable from every machine that builds or tests the project. So this
takes the one bundle wheel from the package index (`pip download`, kept in
.cache/wheels: a second run needs no network) and extracts only the listed
collections, checking each one's version against requirements.yml.

    python tools/fetch_collections.py DEST     # DEST/ansible_collections/<namespace>/<name>

DEST is a venv's site-packages for `make venv` (ansible-core, ansible-lint and
molecule find collections there by themselves) or the package's content
directory when the wheel is built. RUNBOOK_ANSIBLE_WHEEL names a bundle wheel
already on disk (offline machines).
"""

from __future__ import annotations

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
ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.yml"
WHEELS = ROOT / ".cache" / "wheels"
PREFIX = "ansible_collections/"


def required(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """namespace.name -> version, from a Galaxy requirements file."""
    data = yaml.safe_load(requirements.read_text(encoding="utf-8"))
    return {item["name"]: str(item["version"]) for item in data["collections"]}


def bundle_wheel() -> Path:
    """The bundle wheel: $RUNBOOK_ANSIBLE_WHEEL, else .cache/wheels, else downloaded there."""
    given = os.environ.get("RUNBOOK_ANSIBLE_WHEEL")
    if given:
        return Path(given)
    name = f"{BUNDLE}-{BUNDLE_VERSION}-py3-none-any.whl"
    wheel = WHEELS / name
    if not wheel.is_file():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", "--dest", str(WHEELS), f"{BUNDLE}=={BUNDLE_VERSION}"],
                       check=True)
    if not wheel.is_file():
        raise SystemExit(f"fetch_collections: pip did not leave {name} in {WHEELS}")
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


def install(dest: Path, collections: dict[str, str]) -> list[str]:
    """Install what is missing or at another version; return the names installed."""
    missing = {fqcn: version for fqcn, version in collections.items()
               if installed_version(dest, fqcn) != version}
    if missing:
        extract(bundle_wheel(), dest, missing)
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
