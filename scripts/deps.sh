#!/usr/bin/env bash
# Installs the C libraries Flightlog links (zlib, SQLite, libdeflate, libsystemd for the journal source) when they are
# missing, the openssl tool the TLS tests use as a TLS 1.2-only peer, util-linux's logger (bsdutils) that the syslog
# tests send with, and systemd-journal-remote, which the journal tests use to write real journal files from
# export-format input; the sqlite3 shell, with which the demo plays an insider editing the database; curl, which the
# metrics tests scrape with. For the install-script tests: systemd's systemd-analyze (unit checks), dpkg-dev's
# dpkg-shlibdeps (a package's Depends) and debootstrap (the long variant's fresh Debian, 300 KB). Debian/Ubuntu.
set -euo pipefail
missing=()
for pkg in libz-dev libsqlite3-dev libdeflate-dev libsystemd-dev systemd-journal-remote openssl bsdutils sqlite3 curl \
    systemd dpkg-dev debootstrap; do
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
