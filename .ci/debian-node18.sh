#!/usr/bin/env bash
# Debian 12's own Node (nodejs 18, what the baked image runs the agent with: scripts/00-base.sh installs it),
# unpacked beside the CI's newer Node so the bundled agent's tests can run under it (issue 13: the pinned SDK
# declares Node >= 20; CI proves the agent works on the image's 18).
# Debian's build loads acorn, cjs-module-lexer and undici from /usr/share/nodejs (hard-coded), so the wrapper
# bind-mounts the unpacked copy there in a private mount namespace (root; nothing changes outside it).
# Usage: .ci/debian-node18.sh DIR  → DIR/node is the wrapper.
set -euo pipefail
dir=${1:?usage: debian-node18.sh DIR}
rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/root"
apt-get install -y -q --no-install-recommends libbrotli1 libc-ares2 libicu72 libnghttp2-14 libuv1 zlib1g libssl3 util-linux >/dev/null
ver=$(apt-cache madison nodejs | awk '$3 ~ /deb12/ {print $3; exit}')
[ -n "$ver" ] || { echo "debian-node18: no Debian 12 nodejs in apt-cache" >&2; exit 1; }
(cd "$dir/debs" && apt-get download "nodejs=$ver" "libnode108=$ver" node-acorn node-cjs-module-lexer node-undici >/dev/null)
for d in "$dir"/debs/*.deb; do dpkg -x "$d" "$dir/root"; done
mkdir -p /usr/share/nodejs
cat > "$dir/node" <<WRAP
#!/bin/sh
exec unshare -m sh -c 'mount --bind "\$0/usr/share/nodejs" /usr/share/nodejs && LD_LIBRARY_PATH="\$0/usr/lib/x86_64-linux-gnu" exec "\$0/usr/bin/node" "\$@"' "$dir/root" "\$@"
WRAP
chmod 755 "$dir/node"
echo "debian-node18: $("$dir/node" -p process.version) at $dir/node"
