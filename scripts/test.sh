#!/usr/bin/env bash
# The README's test command: installs what the tests need when it is missing (NASM, which
# assembles the guest test programs in test-suites/, mtools, which puts a DOS program on a
# FreeDOS floppy copy, xorriso, which makes the CD test image, Xvfb and xdotool for the window
# test, tmux for the terminal test, sfdisk, mkfs.fat and SYSLINUX for the hard-disk image
# of tests/syslinux_hd.rs), then runs every test in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."

# A command on PATH or in the sbin directories (a normal user's PATH on Debian has neither).
have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

missing=()
command -v nasm >/dev/null || missing+=(nasm)
command -v mcopy >/dev/null || missing+=(mtools)
have sfdisk || missing+=(fdisk)
have mkfs.fat || missing+=(dosfstools)
command -v syslinux >/dev/null || missing+=(syslinux)
[ -f /usr/lib/syslinux/mbr/mbr.bin ] && [ -f /usr/lib/syslinux/modules/bios/ls.c32 ] ||
    missing+=(syslinux-common)
command -v xorriso >/dev/null || missing+=(xorriso)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xdotool >/dev/null || missing+=(xdotool)
command -v tmux >/dev/null || missing+=(tmux)
# cmake builds the SoftFloat oracle crate (an x86-64 dev-dependency of the FPU tests).
command -v cmake >/dev/null || missing+=(cmake)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]} (needed by the guest tests)"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The tools are there now: tests that need them fail rather than skip without them.
export EMU_TEST_REQUIRE_TOOLS=1
cargo test --release "$@"
