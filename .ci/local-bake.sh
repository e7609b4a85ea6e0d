#!/usr/bin/env bash
# What CI needs for test/boot/image.live.test.ts (sipbake build --local, booted under systemd-nspawn), on top of
# .ci/setup: systemd-nspawn (Debian's systemd-container) and debootstrap, as root, and the cache directory that
# keeps the debootstrap'd base and the compiled roots between runs (outside the clone: a second run on the same
# machine neither debootstraps nor compiles). Idempotent.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "local-bake.sh: run as root (debootstrap, chroot and systemd-nspawn need it)" >&2
  exit 1
fi
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
mkdir -p "${SIPBAKE_CACHE_DIR:-/var/cache/sipbake}"
echo "local-bake.sh: systemd-nspawn $(systemd-nspawn --version | head -n1 | cut -d' ' -f2), debootstrap present, cache ${SIPBAKE_CACHE_DIR:-/var/cache/sipbake}"
