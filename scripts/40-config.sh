#!/usr/bin/env bash
# Install the rendered tree, enable the units, and check the baked config with the built kamailio
# (placeholder boot values; the real include is written at boot): first `kamailio -c`, then a real start-up
# on loopback until the ctl socket answers, because module initialisation errors (mod_init, e.g. an invalid
# tls_method) pass -c and would make every instance of the image restart-loop. Either failure fails the bake.
# SIPBAKE_BOOT_PLACEHOLDER: the placeholder include, rendered by sipbake with the same function the boot
# agent uses (uploaded by Packer beside the tree).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

require_manifest
for f in etc/kamailio/sipbake-boot.cfg etc/sipbake/rtpproxy-boot.env; do
  [ ! -e "$SIPBAKE_TREE/$f" ] || die "the rendered tree contains $f, which is per-instance and must not be baked" \
    "fix: render without --local (sipbake render IMAGE --out DIR)"
done

log "installing the rendered tree from $SIPBAKE_TREE into ${SIPBAKE_ROOT:-/}"
mkdir -p "$SIPBAKE_ROOT/"
cp -R --no-preserve=ownership,timestamps -T "$SIPBAKE_TREE" "$SIPBAKE_ROOT/"
chmod 0644 "$SIPBAKE_ROOT"/etc/systemd/system/*.service
if on_instance; then
  chown -R root:kamailio /etc/kamailio
  chmod 0750 /etc/kamailio
fi

units=()
for u in "$SIPBAKE_TREE"/etc/systemd/system/*.service; do units+=("$(basename "$u")"); done
log "enabling ${units[*]}"
if on_instance; then
  systemctl daemon-reload
  systemctl enable "${units[@]}"
else
  systemctl --root="$SIPBAKE_ROOT" enable "${units[@]}"
fi

bin="$SIPBAKE_PREFIX/sbin/kamailio"
[ -x "$bin" ] || die "$bin not found" "fix: run 20-kamailio.sh first"
cfg="$SIPBAKE_ROOT/etc/kamailio/kamailio.cfg"
include="$SIPBAKE_ROOT/etc/kamailio/sipbake-boot.cfg"
placeholder="${SIPBAKE_BOOT_PLACEHOLDER:-$(dirname "$SIPBAKE_TREE")/boot-placeholder.cfg}"
[ -f "$placeholder" ] || die "placeholder boot include not found: $placeholder" "fix: sipbake build uploads it; in a rehearsal set SIPBAKE_BOOT_PLACEHOLDER"
trap 'rm -f "$include"' EXIT
install -m 0640 "$placeholder" "$include"
log "checking $cfg with $bin -c (placeholder boot values from $placeholder)"
if ! out="$("$bin" -c -f "$cfg" 2>&1)"; then
  printf '%s\n' "$out" | tail -n 20 >&2
  die "kamailio rejects the baked config $cfg" "fix: run 'sipbake render IMAGE --local' and 'kamailio -c' locally to see the error"
fi
rm -f "$include"
trap - EXIT
log "kamailio accepts the baked config"

# ----- start-up check -----
# Kamailio runs from a temporary directory: a copy of the config beside a start include, which is the
# placeholder with what must differ to start here: the listen address (the placeholder private address is
# not on this machine; a random 127/8 address is, and stays clear of anything already on the image's
# ports), and the ctl socket and JSON-RPC FIFO (in the temporary directory, not the image's /run).
kamcmd="$SIPBAKE_PREFIX/sbin/kamcmd"
[ -x "$kamcmd" ] || die "$kamcmd not found (installed by Kamailio's make install with the ctl module)" "fix: run 20-kamailio.sh first"
timeout_s="${SIPBAKE_START_TIMEOUT:-30}"
run="$(mktemp -d "${TMPDIR:-/tmp}/sipbake-start.XXXXXX")"
pid=""
# Kamailio runs in a process group of its own (setsid), and the whole group is signalled: on a loaded machine
# its main process once outlived the TERM's 10 s, and a KILL to the main process alone left its workers running.
stop_kamailio() {
  [ -n "$pid" ] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  local n=0
  while kill -0 -- "-$pid" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
trap 'stop_kamailio; rm -rf "$run"' EXIT
addr="127.$((RANDOM % 250 + 1)).$((RANDOM % 250)).$((RANDOM % 250 + 1))"
sed -e "s|^#!define SIPBAKE_PRIVATE_IP .*|#!define SIPBAKE_PRIVATE_IP $addr|" \
  -e "s|^#!define SIPBAKE_PRIVATE_IP_STR .*|#!define SIPBAKE_PRIVATE_IP_STR \"$addr\"|" \
  -e "s|^#!define SIPBAKE_RUN_DIR .*|#!define SIPBAKE_RUN_DIR \"$run\"|" \
  -e "s|^#!define SIPBAKE_CTL_SOCK .*|#!define SIPBAKE_CTL_SOCK \"unix:$run/kamailio_ctl\"|" \
  -e "s|^#!define SIPBAKE_JSONRPC_FIFO .*|#!define SIPBAKE_JSONRPC_FIFO \"$run/kamailio_rpc.fifo\"|" \
  "$placeholder" >"$run/sipbake-boot.cfg"
if ! grep -qx "#!define SIPBAKE_PRIVATE_IP $addr" "$run/sipbake-boot.cfg" || ! grep -q "^#!define SIPBAKE_CTL_SOCK \"unix:$run/" "$run/sipbake-boot.cfg"; then
  die "the placeholder include $placeholder has no SIPBAKE_PRIVATE_IP or SIPBAKE_CTL_SOCK define to point at loopback" \
    "fix: rebuild sipbake and render again (src/contract/boot-include.ts writes them)"
fi
cp "$cfg" "$run/kamailio.cfg"

# TLS: the certificate and key arrive at boot (from their secrets) or are baked. When either is not here yet,
# a throwaway self-signed pair stands in for both (a pair, so they match), and the tls module initialises with
# the image's own tls options. openssl comes with ca-certificates (00-base.sh), which depends on it.
cert="$(sed -n 's|^#!define SIPBAKE_TLS_CERT "\(.*\)"$|\1|p' "$placeholder")"
key="$(sed -n 's|^#!define SIPBAKE_TLS_KEY "\(.*\)"$|\1|p' "$placeholder")"
if [ -n "$cert$key" ] && { [ ! -f "$cert" ] || [ ! -f "$key" ]; }; then
  command -v openssl >/dev/null || die "openssl not found: needed for a throwaway certificate to start the tls module" "fix: apt-get install -y openssl"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sipbake-bake-check \
    -keyout "$run/tls.key" -out "$run/tls.crt" >/dev/null 2>&1 || die "openssl could not make a throwaway certificate"
  sed -i -e "s|^#!define SIPBAKE_TLS_CERT .*|#!define SIPBAKE_TLS_CERT \"$run/tls.crt\"|" \
    -e "s|^#!define SIPBAKE_TLS_KEY .*|#!define SIPBAKE_TLS_KEY \"$run/tls.key\"|" "$run/sipbake-boot.cfg"
  log "$cert or $key is not in the image yet (written at boot): starting with a throwaway self-signed certificate"
fi

# PostgreSQL backend: the database is not reachable from the build instance (and the bake has no
# credentials), and dispatcher's mod_init fails without it. Only for this check, dispatcher reads an
# empty list file instead; every other module, db_postgres included, starts as baked. The connection
# itself is checked at boot, where the agent has the URL and the password.
if grep -q '^modparam("dispatcher", "db_url", SIPBAKE_DB_URL)$' "$run/kamailio.cfg"; then
  : >"$run/dispatcher.list"
  sed -i "s|^modparam(\"dispatcher\", \"db_url\", SIPBAKE_DB_URL)\$|modparam(\"dispatcher\", \"list_file\", \"$run/dispatcher.list\")|" "$run/kamailio.cfg"
  warn "dispatcher's PostgreSQL backend is not reachable at bake time: the start-up check loads dispatcher from an empty list instead (its database connection is checked when an instance boots)"
elif grep -q 'SIPBAKE_DB_URL' "$run/kamailio.cfg"; then
  die "the baked config uses SIPBAKE_DB_URL in a way this check does not know how to stand in for" \
    "fix: keep modparam(\"dispatcher\", \"db_url\", SIPBAKE_DB_URL) on a line of its own in templates/kamailio/kamailio.cfg.eta"
fi

# The memory sizes are the unit's own (rendered from src/contract/kamailio-args.ts), so the check starts Kamailio
# as an instance will: a size too small for the image's modules fails here, not on every instance.
unit="$SIPBAKE_ROOT/etc/systemd/system/kamailio.service"
read -r -a mem <<<"$(sed -n 's/^ExecStart=.* \(-m [0-9][0-9]* -M [0-9][0-9]*\)$/\1/p' "$unit")"
[ "${#mem[@]}" -eq 4 ] || die "$unit has no ExecStart= line ending in -m SIZE -M SIZE" "fix: render the image again with this sipbake (templates/systemd/kamailio.service.eta)"
log "starting $bin (${mem[*]}) on $addr until its ctl socket answers (at most ${timeout_s}s)"
setsid "$bin" -DD -E "${mem[@]}" -Y "$run" -w "$run" -f "$run/kamailio.cfg" >"$run/kamailio.log" 2>&1 &
pid=$!
up=false
deadline=$((SECONDS + timeout_s))
while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
  if "$kamcmd" -s "unix:$run/kamailio_ctl" core.uptime >/dev/null 2>&1; then
    up=true
    break
  fi
  sleep 0.2
done
if ! $up; then
  kill -0 "$pid" 2>/dev/null && why="did not answer on its ctl socket within ${timeout_s}s" || why="exited during start-up"
  stop_kamailio
  printf '%s\n' "--- last lines of kamailio's log ---" >&2
  tail -n 25 "$run/kamailio.log" >&2
  # Kamailio's first error names the module and the option; the rest follow from it.
  first="$(grep -m1 -E 'ERROR|CRITICAL|ALERT' "$run/kamailio.log" | sed -e 's/^ *[0-9]*([0-9]*) //' || true)"
  die "kamailio accepts the baked config with -c but $why" \
    ${first:+"first error: $first"} \
    "fix: the module named in the log (mod_init) rejects an option of the image definition; reproduce with" \
    "     'sipbake check IMAGE --start', change the option in images/IMAGE.yaml and bake again"
fi
stop_kamailio
rm -rf "$run"
trap - EXIT
log "kamailio starts with the baked config (ctl socket answered on $addr; stopped again)"
