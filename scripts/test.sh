#!/usr/bin/env bash
# The README's test command: installs what the tests need (NASM, which assembles the guest
# test programs in test-suites/) when it is missing, then runs every test in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nasm >/dev/null; then
    echo "== installing nasm (needed to assemble test-suites/)"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq nasm >/dev/null
fi

cargo test --release "$@"
