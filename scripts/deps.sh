#!/bin/sh
# Installs the Debian packages corridor needs to build and test, only those missing.
# Idempotent and quiet when everything is present; needs root (or sudo) to install.
set -eu

packages="build-essential pkg-config clang libclang-rt-14-dev llvm \
libcriterion-dev libsodium-dev libjansson-dev libxml2-dev libxml2-utils libmicrohttpd-dev \
libcurl4-openssl-dev libssl-dev libpq-dev sqlite3 libsqlite3-dev libinih-dev prometheus wrk curl"

missing=""
for package in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    case "$status" in
        "install ok installed") ;;
        *) missing="$missing $package" ;;
    esac
done

[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: missing packages and not root:$missing" >&2
        exit 1
    fi
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
