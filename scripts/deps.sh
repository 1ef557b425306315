#!/usr/bin/env bash
# Installs the C libraries Flightlog links (zlib, SQLite, libdeflate) when they are missing, the openssl tool
# the TLS tests use as a TLS 1.2-only peer, and util-linux's logger (bsdutils) that the syslog tests send with.
# Debian/Ubuntu.
set -euo pipefail
missing=()
for pkg in libz-dev libsqlite3-dev libdeflate-dev openssl bsdutils; do
    # libz-dev is a virtual package provided by zlib1g-dev.
    probe="$pkg"; [ "$pkg" = libz-dev ] && probe=zlib1g-dev
    dpkg -s "$probe" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
