#!/usr/bin/env bash
# Remove build dependencies, caches, logs, shell history, cloud-init state, SSH host and user keys and the
# machine id; then scan the image's files for anything that looks like a secret, and fail the bake if found.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

R="$SIPBAKE_ROOT"

if on_instance; then
  export DEBIAN_FRONTEND=noninteractive
  if [ -s "$SIPBAKE_WORK/build-deps.txt" ]; then
    mapfile -t deps <"$SIPBAKE_WORK/build-deps.txt"
    log "purging build dependencies: ${deps[*]}"
    apt-get purge -y -q "${deps[@]}"
  fi
  apt-get autoremove -y -q --purge
  apt-get clean
  if command -v cloud-init >/dev/null 2>&1; then
    log "cloud-init clean"
    cloud-init clean --logs --seed || warn "cloud-init clean failed; removing its state by hand"
  fi
else
  log "local root $R: not touching this host's packages"
fi

log "removing build directory, caches and uploaded files"
rm -rf "$SIPBAKE_WORK"
if on_instance; then rm -rf "$(dirname "$SIPBAKE_TREE")"; fi
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/cache/apt/archives/*.deb "$R"/root/.cache "$R"/root/.npm
rm -rf "$R"/var/lib/cloud/instances "$R"/var/lib/cloud/instance "$R"/var/lib/cloud/data "$R"/var/lib/cloud/sem

log "removing logs and shell history"
if [ -d "$R/var/log" ]; then
  find "$R/var/log" -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete
  find "$R/var/log" -type f -exec truncate -s 0 {} +
  rm -rf "$R"/var/log/journal/*
fi
rm -f "$R"/root/.bash_history "$R"/root/.lesshst "$R"/root/.viminfo
for home in "$R"/home/*; do
  [ -d "$home" ] || continue
  rm -f "$home/.bash_history" "$home/.lesshst" "$home/.viminfo"
done

log "removing SSH host keys, authorized keys and the machine id"
rm -f "$R"/etc/ssh/ssh_host_*
rm -f "$R"/root/.ssh/authorized_keys
for home in "$R"/home/*; do
  [ -d "$home" ] || continue
  rm -f "$home/.ssh/authorized_keys"
done
rm -f "$R"/etc/ssl/private/ssl-cert-snakeoil.key "$R"/etc/ssl/certs/ssl-cert-snakeoil.pem
if [ -f "$R/etc/machine-id" ]; then : >"$R/etc/machine-id"; fi
rm -f "$R/var/lib/dbus/machine-id"

# The scan. Anything here would be shared by every instance launched from the AMI.
# shellcheck disable=SC2016 # the patterns are literal regular expressions
patterns=(
  '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----'
  '(AKIA|ASIA)[0-9A-Z]{16}'
  'aws_secret_access_key[[:space:]]*[=:][[:space:]]*["'"'"']?[A-Za-z0-9/+]{40}'
  # user:password@ in a URL; code that builds such a URL (${...}) is not a credential.
  '[a-z][a-z0-9+.-]*://[^/:@[:space:]"'"'"'${}()]+:[^/@[:space:]"'"'"'${}()]+@'
)
scan_dirs=()
for d in etc usr/local opt root home srv var/lib/sipbake; do [ -d "$R/$d" ] && scan_dirs+=("$R/$d"); done
log "scanning ${scan_dirs[*]} for secret-looking values"
found=()
for p in "${patterns[@]}"; do
  while IFS= read -r f; do [ -n "$f" ] && found+=("$f (matches ${p})"); done < <(grep -rIlE -e "$p" "${scan_dirs[@]}" 2>/dev/null || true)
done
if [ "${#found[@]}" -gt 0 ]; then
  die "secret-looking values remain in the image; refusing to make an AMI of it" "${found[@]}" \
    "fix: keep secrets out of the rendered tree (use secret references read at boot), or remove the files in a script"
fi
log "no secret-looking values found"
