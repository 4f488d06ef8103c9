#!/usr/bin/env bash
# Runs the same guests on two emu builds (x86-64 native, aarch64 under qemu-user) and fails
# unless they agree exactly: same serial/console output, same final registers and text
# screen, same number of guest instructions. Prints the instruction counts.
#
# usage: scripts/cross-host-compare.sh NATIVE_EMU AARCH64_EMU [RUNNER]
set -euo pipefail
cd "$(dirname "$0")/.."

native=$1
cross=$2
runner=${3:-qemu-aarch64}
guests=../shared/guests
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Fixed clock and limits make every run reproducible.
common=(--rtc-start 1700000000 --dump-state --display none)

run() { # name, emu command..., then the run's arguments
    local out=$1
    shift
    "$@" >"$out" 2>&1 </dev/null || true
    # Wall-clock speed is the only thing allowed to differ.
    sed -i -E 's/ \([0-9.]+ MIPS\)//' "$out"
}

cases=()
add_case() { cases+=("$1|$2|$3"); } # name | image (or -) | extra args

add_case demo-disk - "--max-instructions 10000000"
nasm -f bin -o "$work/pmode.bin" test-suites/pmode/pmode.asm
add_case pmode-rom - "--bios $work/pmode.bin --max-instructions 20000000"
if [ -d "$guests" ]; then
    add_case mips32 "$guests/mips32.img" "--max-instructions 100000000"
    add_case freedos-1.44 "$guests/freedos-1.44.img" "--max-instructions 20000000"
    add_case freedos-360k "$guests/freedos-360k.img" "--max-instructions 20000000"
else
    echo "note: $guests not found; comparing the built-in guests only"
fi

status=0
printf '%-14s %14s %14s  %s\n' guest x86-64 aarch64 result
for c in "${cases[@]}"; do
    IFS='|' read -r name image extra <<<"$c"
    args=(boot "${common[@]}")
    # shellcheck disable=SC2206
    args+=($extra)
    for host in native cross; do
        img_args=()
        if [ "$image" != - ]; then
            cp "$image" "$work/$name-$host.img"
            chmod u+w "$work/$name-$host.img"
            img_args=("$work/$name-$host.img")
        fi
        if [ $host = native ]; then
            run "$work/$name.$host" "$native" "${args[@]}" "${img_args[@]}"
        else
            run "$work/$name.$host" "$runner" "$cross" "${args[@]}" "${img_args[@]}"
        fi
        # The image paths differ by host name; nothing else may.
        sed -i "s/$name-$host.img/IMAGE/g" "$work/$name.$host"
    done
    count() { grep -oE '(after|\() ?[0-9]+ instructions' "$1" | grep -oE '[0-9]+' | tail -1; }
    n1=$(count "$work/$name.native" || echo "?")
    n2=$(count "$work/$name.cross" || echo "?")
    if cmp -s "$work/$name.native" "$work/$name.cross"; then
        result=same
    else
        result=DIFFERENT
        status=1
        diff "$work/$name.native" "$work/$name.cross" | head -20 || true
    fi
    printf '%-14s %14s %14s  %s\n' "$name" "$n1" "$n2" "$result"
done
exit $status
