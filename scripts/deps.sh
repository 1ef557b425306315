#!/usr/bin/env bash
# Installs the C libraries Flightlog links (zlib, SQLite, libdeflate, libsystemd for the journal source) when they are
# missing, the openssl tool the TLS tests use as a TLS 1.2-only peer, util-linux's logger (bsdutils) that the syslog
# tests send with, and systemd-journal-remote, which the journal tests use to write real journal files from
# export-format input; the sqlite3 shell, with which the demo plays an insider editing the database; curl, which the
# metrics tests scrape with. Debian/Ubuntu. --tests: also what only the tests use: systemd's systemd-analyze (unit
# checks), dpkg-dev's dpkg-shlibdeps (a package's Depends), debootstrap (the long variant's fresh Debian, 300 KB) and
# chromium (about 150 MB to download, 480 MB installed), in which the HTML report tests open report.html headless;
# and postgresql, the server the PostgreSQL store's tests run against (scripts/postgres.sh starts a throwaway cluster);
# scripts/test.sh passes it, the demo does not need it.
set -euo pipefail
packages=(libz-dev libsqlite3-dev libdeflate-dev libsystemd-dev systemd-journal-remote openssl bsdutils sqlite3 curl)
[ "${1:-}" = "--tests" ] && packages+=(systemd dpkg-dev debootstrap chromium postgresql)
missing=()
for pkg in "${packages[@]}"; do
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
