#!/usr/bin/env bash
# Cross-builds emu for aarch64-unknown-linux-gnu with Debian's Rust toolchain, runs the
# test suite under qemu-user, and runs the same guests on the x86-64 and aarch64 builds,
# failing if any result differs (scripts/cross-host-compare.sh). Called by .ci/run.
#
# rustup cannot fetch other targets here, so this uses Debian's rustc-web (which ships the
# aarch64 standard library as libstd-rust-web-dev:arm64). Plain qemu-aarch64 is the runner:
# with -L /usr/aarch64-linux-gnu any threaded program (every libtest run) spins forever.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${EMU_SKIP_AARCH64:-}" = 1 ]; then
    echo "aarch64 check skipped (EMU_SKIP_AARCH64=1)"
    exit 0
fi

need_install=0
for f in /usr/bin/rustc /usr/bin/cargo /usr/bin/aarch64-linux-gnu-gcc /usr/bin/qemu-aarch64; do
    [ -x "$f" ] || need_install=1
done
[ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] || need_install=1
if [ "$need_install" = 1 ]; then
    echo "== installing the aarch64 cross toolchain (Debian packages)"
    # Limiting the architectures keeps a failing i386 index from discarding the others.
    if ! { dpkg --add-architecture arm64 &&
        apt-get update -qq -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 &&
        apt-get install -y -qq -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 \
            rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu \
            libc6-dev-arm64-cross qemu-user >/dev/null; }; then
        # Only a failed package download skips the check; failing tests fail it.
        echo "WARNING: could not install the aarch64 cross toolchain; aarch64 check NOT run"
        exit 0
    fi
fi

# The native build the results are compared with (the README's test command built it).
native_emu="$PWD/target/release/emu"
[ -x "$native_emu" ] || cargo build --release

export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64
# Tests that start the emu binary themselves run it through the same runner.
export EMU_TEST_RUNNER=qemu-aarch64
# A target directory of its own keeps the native build cache intact.
export CARGO_TARGET_DIR="$PWD/target/aarch64-check"

start=$(date +%s)
echo "== aarch64: $(/usr/bin/rustc --version)"
/usr/bin/cargo test --release --target aarch64-unknown-linux-gnu "$@"
/usr/bin/cargo build --release --target aarch64-unknown-linux-gnu
end=$(date +%s)
echo "== aarch64 tests took $((end - start)) s"

echo "== same guests on both hosts: x86-64 and aarch64 results must be identical"
scripts/cross-host-compare.sh "$native_emu" \
    "$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/emu" qemu-aarch64
end2=$(date +%s)
echo "== cross-host comparison took $((end2 - end)) s"
