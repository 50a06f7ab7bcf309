#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make compat`: the ansible-core range pyproject.toml declares, tested at both ends.
#
#   bash tools/compat.sh [VERSION ...]     # default: the oldest and the newest the range admits
#
# For each version: a lock of its own (requirements.lock with only ansible-core moved, and
# whatever that version needs, through uv pip compile with hashes), a venv installed exactly
# from it under .cache/compat/, then the unit tests and `molecule test -s outage` with that
# venv first on PATH. The oldest and newest are what the package index serves for Python 3.11.
# Prints one line per version and exits 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
uv=$root/.venv/bin/uv
spec=$("$root/.venv/bin/python" - <<'EOF'
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print(next(dep for dep in deps if dep.startswith("ansible-core")))
EOF
)

end_of_range() {  # lowest|highest -> the version of ansible-core at that end of $spec
  echo "$spec" | "$uv" pip compile --quiet --no-deps --no-header --python-version 3.11 \
    --resolution "$1" - | sed -n 's/^ansible-core==//p'
}

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=("$(end_of_range lowest)" "$(end_of_range highest)")
fi
echo "compat: $spec -> testing ${versions[*]}"

summary=()
status=0
for version in "${versions[@]}"; do
  dir=$root/.cache/compat/ansible-core-$version
  rm -rf "$dir"
  mkdir -p "$dir"
  cp requirements.lock "$dir/lock.txt"  # uv keeps every other pin it can
  echo "ansible-core==$version" >"$dir/pin.txt"
  "$uv" pip compile --quiet --generate-hashes --python-version 3.11 --extra test \
    --constraint requirements-constraints.txt --constraint "$dir/pin.txt" \
    --upgrade-package ansible-core pyproject.toml requirements-dev.in --output-file "$dir/lock.txt"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --require-hashes -r "$dir/lock.txt"
  "$dir/venv/bin/pip" install --quiet --no-deps --no-build-isolation -e .
  "$dir/venv/bin/python" tools/fetch_collections.py \
    "$("$dir/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
  "$dir/venv/bin/python" tools/check_lock.py "$dir/lock.txt"
  moved=$( (diff <(grep -E '^[a-z0-9]' requirements.lock) <(grep -E '^[a-z0-9]' "$dir/lock.txt") || true) \
    | sed -n 's/^> //p' | tr '\n' ' ')
  echo "compat: ansible-core $version: differs from the lock in: ${moved:-nothing}"
  unit=failed molecule=failed
  if PATH=$dir/venv/bin:$PATH "$dir/venv/bin/pytest" -q -m 'not integration' -p no:cacheprovider \
      >"$dir/unit.log" 2>&1; then
    unit=passed
  fi
  echo "compat: ansible-core $version: unit tests $unit: $(tail -n 1 "$dir/unit.log")"
  if PATH=$dir/venv/bin:$PATH "$dir/venv/bin/python" testbed/suite.py outage >"$dir/molecule.log" 2>&1; then
    molecule=passed
  fi
  echo "compat: ansible-core $version: molecule outage $molecule (log: $dir/molecule.log)"
  if [ "$unit" != passed ] || [ "$molecule" != passed ]; then
    status=1
    tail -n 30 "$dir/unit.log"
  fi
  summary+=("ansible-core $version: unit tests $unit, molecule outage $molecule")
done
printf 'compat: %s\n' "${summary[@]}"
exit $status
