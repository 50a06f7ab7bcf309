#!/usr/bin/env bash
# Build the two local images every test and the demo stand on:
#   runbook-app-base:TAG  a minimal Debian with python3, the FROM of the app's Dockerfile
#   runbook-testhost:TAG  a Debian 13 server with systemd, its own Docker engine and the
#                         compose plugin, nginx, certbot, ufw, git, Postgres, cron, pebble,
#                         e2fsprogs (the disk-full drill makes a small ext4 filesystem);
#                         the app base image is saved inside it for `docker load`.
# No registry is reachable, so both come from Debian packages (debootstrap + apt in a chroot).
# TAG is a hash of this script, so an unchanged script reuses what exists and a changed one
# rebuilds. Prints the host image name on stdout; progress goes to stderr.
set -euo pipefail

tag=$(sha256sum "$0" | cut -c1-12)
host_image="runbook-testhost:$tag"
app_image="runbook-app-base:$tag"
work=${RUNBOOK_BUILD_DIR:-/var/tmp/runbook-testbed-build}
mirror=${RUNBOOK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=trixie

log() { printf 'build-images: %s\n' "$*" >&2; }

if docker image inspect "$host_image" >/dev/null 2>&1; then
  log "$host_image exists, nothing to build"
  echo "$host_image"
  exit 0
fi

rm -rf "$work"
mkdir -p "$work"
trap 'umount_all; rm -rf "$work"' EXIT

umount_all() {
  local root
  for root in "$work"/base "$work"/app "$work"/host; do
    mountpoint -q "$root/proc" 2>/dev/null && umount -l "$root/proc" || true
  done
}

in_chroot() {
  local root=$1; shift
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

apt_in() {
  local root=$1; shift
  in_chroot "$root" apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "$@" >&2
}

slim() {
  local root=$1
  in_chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
    "$root"/usr/share/locale/* "$root"/var/log/*.log "$root"/var/cache/debconf/*-old
  umount -l "$root/proc" 2>/dev/null || true
  : > "$root/etc/resolv.conf"
}

log "debootstrap $suite (minbase) from $mirror"
debootstrap --variant=minbase "$suite" "$work/base" "$mirror" >&2
# Keep services from starting inside the chroot while packages install.
printf '#!/bin/sh\nexit 101\n' > "$work/base/usr/sbin/policy-rc.d"
chmod 0755 "$work/base/usr/sbin/policy-rc.d"
in_chroot "$work/base" apt-get update -o Dpkg::Use-Pty=0 >&2
umount -l "$work/base/proc"

log "app base image $app_image"
cp -a "$work/base" "$work/app"
apt_in "$work/app" python3 python3-psycopg2
rm -f "$work/app/usr/sbin/policy-rc.d"
slim "$work/app"
tar -C "$work/app" -c . | docker import -c 'CMD ["python3"]' - "$app_image" >&2
rm -rf "$work/app"

log "test host image $host_image"
mv "$work/base" "$work/host"
root="$work/host"
apt_in "$root" \
  systemd systemd-sysv dbus ca-certificates \
  docker.io docker-cli docker-compose containerd runc \
  nginx certbot python3-certbot-nginx pebble openssl \
  ufw iptables git postgresql postgresql-client cron \
  python3 python3-requests python3-yaml python3-psycopg2 python3-apt \
  curl procps iproute2 psmisc less sudo logrotate openssh-server unattended-upgrades \
  e2fsprogs
# The inner engine gets no bridge and leaves iptables alone: the stack uses network_mode host.
mkdir -p "$root/etc/docker"
printf '{"bridge": "none", "iptables": false, "log-driver": "json-file"}\n' > "$root/etc/docker/daemon.json"
# These units cannot work in a container and would leave the system "degraded".
for unit in systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
  sys-kernel-tracing.mount systemd-remount-fs.service getty@tty1.service \
  systemd-firstboot.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# apt's daily timers stay off in the image (no network; they would hold dpkg's lock
# during a test). prevention.yml turns them on where it installs unattended upgrades.
rm -f "$root"/etc/systemd/system/timers.target.wants/apt-daily*.timer
# pebble ships a unit in some releases; the fixture runs its own with its own config.
rm -f "$root/etc/systemd/system/multi-user.target.wants/pebble.service"
echo "runbook-testhost" > "$root/etc/hostname"
mkdir -p "$root/opt/runbook-testbed"
docker save "$app_image" -o "$root/opt/runbook-testbed/app-base.tar"
echo "$app_image" > "$root/opt/runbook-testbed/app-base.image"
rm -f "$root/usr/sbin/policy-rc.d"
slim "$root"
tar -C "$root" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' \
  -c 'ENV container=docker' \
  - "$host_image" >&2
log "built $host_image"
echo "$host_image"
