# shellcheck shell=bash
# Shared helpers for the numbered bake scripts. Sourced, never run.
#
# Where things go (the same scripts run on the Packer build instance and in the local rehearsal):
#   SIPBAKE_ROOT     filesystem root of the image: '' on the build instance, a directory in the rehearsal
#   SIPBAKE_TREE     the rendered tree uploaded by Packer (mirrors the image's /)
#   SIPBAKE_PINS     the pins file (default: pins.env beside the scripts)
#   SIPBAKE_WORK     scratch directory for sources and builds (removed by 90-cleanup.sh)
#   SIPBAKE_PREFIX   install prefix for Kamailio and RTPProxy (default: $SIPBAKE_ROOT/usr/local)
#   SIPBAKE_JOBS     parallel make jobs (default: number of CPUs)

SIPBAKE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIPBAKE_ROOT="${SIPBAKE_ROOT:-}"
SIPBAKE_ROOT="${SIPBAKE_ROOT%/}"
SIPBAKE_TREE="${SIPBAKE_TREE:-/tmp/sipbake/tree}"
SIPBAKE_PINS="${SIPBAKE_PINS:-$SIPBAKE_SCRIPTS/pins.env}"
SIPBAKE_WORK="${SIPBAKE_WORK:-/var/tmp/sipbake-build}"
SIPBAKE_PREFIX="${SIPBAKE_PREFIX:-$SIPBAKE_ROOT/usr/local}"
SIPBAKE_JOBS="${SIPBAKE_JOBS:-$(nproc 2>/dev/null || echo 2)}"
SIPBAKE_MANIFEST="$SIPBAKE_TREE/etc/sipbake/image.json"
export SIPBAKE_ROOT SIPBAKE_TREE SIPBAKE_PINS SIPBAKE_WORK SIPBAKE_PREFIX SIPBAKE_JOBS

SIPBAKE_STEP="$(basename "$0" .sh)"

log() { printf '==> sipbake [%s] %s\n' "$SIPBAKE_STEP" "$*"; }
warn() { printf '==> sipbake [%s] warning: %s\n' "$SIPBAKE_STEP" "$*" >&2; }
die() {
  printf '==> sipbake [%s] error: %s\n' "$SIPBAKE_STEP" "$1" >&2
  shift
  local line
  for line in "$@"; do printf '      %s\n' "$line" >&2; done
  exit 1
}

# True on the real build instance (the image is this machine's /), false in a local rehearsal.
on_instance() { [ -z "$SIPBAKE_ROOT" ]; }

# A locked system user with its own group, home under /run; never on the host of a local rehearsal.
ensure_system_user() {
  local name="$1"
  if ! on_instance; then
    log "local root: not creating the $name user on this host"
  elif getent passwd "$name" >/dev/null; then
    log "user $name exists"
  else
    log "creating system user $name"
    useradd --system --user-group --home-dir "/run/$name" --no-create-home --shell /usr/sbin/nologin "$name"
  fi
}

load_pins() {
  [ -f "$SIPBAKE_PINS" ] || die "pins file not found: $SIPBAKE_PINS" "fix: restore scripts/pins.env, or point SIPBAKE_PINS at one"
  # shellcheck source=/dev/null
  . "$SIPBAKE_PINS"
}

require_manifest() {
  [ -f "$SIPBAKE_MANIFEST" ] || die "image manifest not found: $SIPBAKE_MANIFEST" \
    "fix: upload the rendered tree (sipbake render IMAGE --out DIR) and set SIPBAKE_TREE to it"
}

# Reads one field of etc/sipbake/image.json with node (installed by 00-base.sh; the agent needs it anyway).
# Arrays are printed space-separated.
manifest_get() {
  node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let v = m;
    for (const k of process.argv[2].split(".")) v = v == null ? undefined : v[k];
    if (v === undefined || v === null) process.exit(0);
    console.log(Array.isArray(v) ? v.join(" ") : String(v));
  ' "$SIPBAKE_MANIFEST" "$1"
}

uses_rtpproxy() { [ "$(manifest_get rtpproxy.enabled)" = "true" ]; }

has_module() {
  local m
  for m in $(manifest_get modules); do [ "$m" = "$1" ] && return 0; done
  return 1
}

# Marks a step done for a given key, so re-running a script skips finished work (idempotence).
stamp_file() { printf '%s/.stamp-%s' "$SIPBAKE_WORK" "$1"; }
stamp_matches() { [ -f "$(stamp_file "$1")" ] && [ "$(cat "$(stamp_file "$1")")" = "$2" ]; }
stamp_write() { mkdir -p "$SIPBAKE_WORK" && printf '%s' "$2" >"$(stamp_file "$1")"; }

# Identity of a verified source tree: its git commit, or the sha256 of the tarball it came from.
source_id() {
  if [ -d "$1/.git" ]; then git -C "$1" rev-parse HEAD; else cat "$(stamp_file "extract-$2")" 2>/dev/null || echo unknown; fi
}
