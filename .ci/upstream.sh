#!/usr/bin/env bash
# Compile the pinned Kamailio and RTPProxy once per machine, with the bake scripts themselves, from the archives in
# ../shared/upstream (tarball pins: file:// URL + the sha256 from its SHA256SUMS). The result is cached outside the
# clone, keyed by the pins and the module set, so a second run compiles nothing:
#   /var/cache/sipbake/upstream/KEY/{sbin/kamailio, lib64/kamailio/modules/*.so, bin/rtpproxy, sipbake-upstream.json}
# The live tests, `sipbake try` and bench:sip find it by its sipbake-upstream.json (src/try/upstream.ts).
# Where ../shared/upstream is absent (a user's clone), the pinned git sources if this machine reaches them (the git
# pins in scripts/pins.env), else one line: Debian's Kamailio and the stand-in stay (src/bake/local/upstream-source.ts).
# Env: SIPBAKE_SHARED_UPSTREAM (the archives), SIPBAKE_UPSTREAM_CACHE (the cache root), SIPBAKE_JOBS,
#      SIPBAKE_UPSTREAM_PINS (the pins file; default scripts/pins.env).
set -euo pipefail
cd "$(dirname "$0")/.."

# ../shared/upstream beside the clone; from a git worktree, beside the main clone.
shared="${SIPBAKE_SHARED_UPSTREAM:-$(cd .. && pwd)/shared/upstream}"
if [ -z "${SIPBAKE_SHARED_UPSTREAM:-}" ] && [ ! -d "$shared" ] && common="$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null)"; then
  shared="$(dirname "$(dirname "$common")")/shared/upstream"
fi
cache="${SIPBAKE_UPSTREAM_CACHE:-/var/cache/sipbake/upstream}"
pins="${SIPBAKE_UPSTREAM_PINS:-scripts/pins.env}"
debian_kamailio="$(kamailio -v 2>/dev/null | head -n1 | cut -d' ' -f3 || true)"
choice="$(npx --no-install tsx src/bake/local/upstream-source.ts "$shared" "$pins" "$debian_kamailio")"
source="" line=""
eval "$choice"
if [ "$source" = none ]; then
  echo "$line"
  exit 0
fi

# The versions come from the bake's own pins; the checksums from the archives' SHA256SUMS, or the pinned commits.
# shellcheck source=/dev/null
. "$pins"
kv="$KAMAILIO_VERSION" rv="$RTPPROXY_VERSION"
if [ "$source" = git ]; then
  echo "$line"
  ksha="git:$KAMAILIO_GIT_COMMIT" rsha="git:$RTPPROXY_GIT_COMMIT"
else
  karchive="kamailio-$kv.tar.xz" rarchive="rtpproxy-$rv.tar.xz"
  sum_of() { awk -v f="$1" '$2 == f || $2 == "*" f { print $1 }' "$shared/SHA256SUMS"; }
  ksha="$(sum_of "$karchive")" rsha="$(sum_of "$rarchive")"
  if [ -z "$ksha" ] || [ -z "$rsha" ]; then
    echo "error: $shared/SHA256SUMS has no line for $karchive or $rarchive (pins.env pins Kamailio $kv, RTPProxy $rv)" >&2
    echo "      fix: put the archives for the pinned versions there, or update pins.env" >&2
    exit 1
  fi
fi
modules="$(npx --no-install tsx test/support/upstream-modules.ts)"
key="$(printf 'sipbake-upstream v1\nkamailio %s %s\nrtpproxy %s %s\nmodules %s\n' "$kv" "$ksha" "$rv" "$rsha" "$modules" | sha256sum | cut -c1-16)"
dir="$cache/$key"
marker="$dir/sipbake-upstream.json"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # two setups at once compile once
if [ -f "$marker" ] && [ -x "$dir/sbin/kamailio" ] && [ -x "$dir/bin/rtpproxy" ]; then
  echo "==> pinned sources: reusing the compiled Kamailio $kv and RTPProxy $rv in $dir (nothing compiled)"
  exit 0
fi

echo "==> pinned sources: compiling Kamailio $kv (${modules// /,}) and RTPProxy $rv into $dir"
scratch="$(mktemp -d /var/tmp/sipbake-upstream.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
rm -rf "$dir"
# A rendered tree of one image that loads every module: the bake scripts read only its manifest and units.
tree="$scratch/tree"
mkdir -p "$tree/etc/sipbake" "$tree/etc/systemd/system" "$scratch/root"
node -e '
  const [file, modules] = process.argv.slice(1);
  const m = { modules: modules.split(" "), dispatcher: { backend: { type: "postgres" } }, tls: { enabled: true }, rtpproxy: { enabled: true } };
  require("fs").writeFileSync(file, JSON.stringify(m));
' "$tree/etc/sipbake/image.json" "$modules"
for u in kamailio rtpproxy; do printf '[Service]\nExecStart=/bin/true\n' >"$tree/etc/systemd/system/$u.service"; done
: >"$tree/etc/sipbake/rtpproxy.env"
if [ "$source" = git ]; then
  cp "$pins" "$scratch/pins.env" # the git pins as they are: 10-sources.sh clones each tag and checks its commit
else
  cat >"$scratch/pins.env" <<EOF
KAMAILIO_VERSION=$kv
KAMAILIO_SOURCE=tarball
KAMAILIO_TARBALL_URL=file://$shared/$karchive
KAMAILIO_TARBALL_SHA256=$ksha
RTPPROXY_VERSION=$rv
RTPPROXY_SOURCE=tarball
RTPPROXY_TARBALL_URL=file://$shared/$rarchive
RTPPROXY_TARBALL_SHA256=$rsha
EOF
fi

start=$(date +%s)
for s in 00-base.sh 10-sources.sh 20-kamailio.sh 30-rtpproxy.sh; do
  if ! SIPBAKE_ROOT="$scratch/root" SIPBAKE_TREE="$tree" SIPBAKE_PINS="$scratch/pins.env" SIPBAKE_WORK="$scratch/work" \
    SIPBAKE_PREFIX="$dir" bash "scripts/$s" >"$scratch/$s.log" 2>&1; then
    tail -n 40 "$scratch/$s.log" >&2
    rm -rf "$dir"
    echo "error: scripts/$s failed while compiling the pinned sources (last lines above)" >&2
    echo "      fix: install the build dependencies (.ci/setup does), or unset SIPBAKE_SHARED_UPSTREAM to test on Debian's kamailio" >&2
    exit 1
  fi
  grep '^==> sipbake' "$scratch/$s.log" | tail -n 2
done
seconds=$(($(date +%s) - start))
kver="$("$dir/sbin/kamailio" -v | head -n1 | sed -e 's/^version: //' -e 's/ *$//')"
rver="$("$dir/bin/rtpproxy" -V 2>&1 | head -n1)"
node -e '
  const [file, key, kv, ksha, kver, rv, rsha, rver, modules, seconds, load] = process.argv.slice(1);
  const m = { key, kamailio: { version: kv, sha256: ksha, banner: kver }, rtpproxy: { version: rv, sha256: rsha, banner: rver },
    modules: modules.split(" "), compileSeconds: Number(seconds), loadavg: load, builtAt: new Date().toISOString() };
  require("fs").writeFileSync(file, JSON.stringify(m, null, 2) + "\n");
' "$marker" "$key" "$kv" "$ksha" "$kver" "$rv" "$rsha" "$rver" "$modules" "$seconds" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo "==> pinned sources: compiled in ${seconds} s: $kver, rtpproxy $rver"
