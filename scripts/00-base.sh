#!/usr/bin/env bash
# Base packages, build dependencies, Node.js (the on-instance agent) and the SSM agent (Session Manager).
# Build dependencies are recorded so 90-cleanup.sh removes exactly those again.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# sngrep and tcpdump: what an operator reaches for in Session Manager at 3 a.m. (seed 000's hosts carry both).
RUNTIME_PACKAGES=(ca-certificates nodejs libssl3 libpq5 iproute2 procps sngrep tcpdump gpg)
BUILD_PACKAGES=(build-essential bison flex pkg-config libssl-dev libpq-dev git curl)
BUILD_TOOLS=(cc make bison flex pkg-config git curl sha256sum tar node gpg)

if ! on_instance; then
  log "local root $SIPBAKE_ROOT: not installing packages on this host; checking the build tools are present"
  missing=()
  for tool in "${BUILD_TOOLS[@]}"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  [ "${#missing[@]}" -eq 0 ] || die "missing build tools: ${missing[*]}" "fix: apt-get install -y ${BUILD_PACKAGES[*]} nodejs"
  log "build tools present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
mkdir -p "$SIPBAKE_WORK"
deps_file="$SIPBAKE_WORK/build-deps.txt"
if [ ! -f "$deps_file" ]; then
  # Only packages that are not already on the base image count as build dependencies.
  : >"$deps_file"
  for p in "${BUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p" >>"$deps_file"
  done
fi

log "apt-get update"
apt-get update -q
log "installing runtime packages: ${RUNTIME_PACKAGES[*]}"
apt-get install -y -q --no-install-recommends "${RUNTIME_PACKAGES[@]}"
log "installing build dependencies: ${BUILD_PACKAGES[*]}"
apt-get install -y -q --no-install-recommends "${BUILD_PACKAGES[@]}"
node --version >/dev/null || die "node does not run after installing nodejs" "fix: check the base AMI's apt sources"

# A local bake (sipbake build --local) has no AWS: the SSM agent is a cloud part, left out like cloud-init.
if [ "${SIPBAKE_LOCAL_BAKE:-}" = 1 ]; then
  log "local bake: not installing the SSM agent (a cloud part)"
  exit 0
fi

# SSM agent: the .deb and its detached signature from AWS, verified with gpg against AWS's published key whose
# fingerprint pins.env pins (lib/verify-signature.sh); an optional sha256 pin is checked too.
if dpkg-query -W -f='${Status}' amazon-ssm-agent 2>/dev/null | grep -q 'install ok installed'; then
  log "amazon-ssm-agent already installed"
else
  load_pins
  # shellcheck source=lib/verify-signature.sh
  . "$SIPBAKE_SCRIPTS/lib/verify-signature.sh"
  case "$(dpkg --print-architecture)" in
    amd64) url="${SSM_AGENT_X86_64_URL:-}" sha="${SSM_AGENT_X86_64_SHA256:-}" ;;
    arm64) url="${SSM_AGENT_ARM64_URL:-}" sha="${SSM_AGENT_ARM64_SHA256:-}" ;;
    *) die "no SSM agent pin for architecture $(dpkg --print-architecture)" ;;
  esac
  [ -n "$url" ] || die "pins.env has no SSM agent URL for this architecture" "fix: set SSM_AGENT_X86_64_URL / SSM_AGENT_ARM64_URL (AWS's regional bucket)"
  deb="$SIPBAKE_WORK/amazon-ssm-agent.deb"
  log "downloading amazon-ssm-agent $SSM_AGENT_VERSION from $url (and its .sig)"
  curl -fsSL --retry 3 -o "$deb" "$url" || die "could not download $url" "fix: check SSM_AGENT_*_URL in pins.env"
  curl -fsSL --retry 3 -o "$deb.sig" "$url.sig" || die "could not download $url.sig" "fix: AWS publishes the signature beside the .deb"
  verify_signature "$SIPBAKE_SCRIPTS/keys/amazon-ssm-agent.asc" "${SSM_AGENT_KEY_FINGERPRINT:-}" "$deb.sig" "$deb"
  if [ -n "$sha" ]; then
    actual="$(sha256sum "$deb" | cut -d' ' -f1)"
    [ "$actual" = "$sha" ] || die "amazon-ssm-agent: sha256 does not match the pin" "expected sha256: $sha" "actual sha256:   $actual" "url:             $url"
  fi
  dpkg -i "$deb"
fi
systemctl enable amazon-ssm-agent.service
log "amazon-ssm-agent present and enabled"
