#!/usr/bin/env bash
# Guest-level benchmark: boots the mips32 benchmark (../shared/guests/mips32.asm) built with
# two iteration counts on emu, and on Bochs and QEMU (TCG) when they are installed, runs
# interleaved, and reports guest MIPS from the difference (so boot time cancels):
#
#   MIPS = (instructions(ITERS=hi) - instructions(ITERS=lo)) / (time(hi) - time(lo))
#
# The instruction counts are emu's (a property of the guest, the same on any correct
# emulator). Each figure is the median of RUNS runs.
#
# usage: benches/guest.sh [RUNS]      (env: LO=40 HI=400, EMU=target/release/emu)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
lo=${LO:-40}
hi=${HI:-400}
emu=${EMU:-target/release/emu}
src=../shared/guests/mips32.asm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -f "$src" ] || { echo "benches/guest.sh: $src not found" >&2; exit 2; }
[ -x "$emu" ] || cargo build --release
for n in "$lo" "$hi"; do
    nasm -f bin -DITERS="$n" -o "$work/mips-$n.img" "$src"
done

now() { date +%s.%N; }

time_emu() {
    local t0 t1
    t0=$(now)
    "$emu" boot --display none "$work/mips-$1.img" >/dev/null 2>"$work/emu-$1.err" </dev/null || true
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

time_qemu() {
    local t0 t1
    t0=$(now)
    timeout 600 qemu-system-i386 -m 32 -fda "$work/mips-$1.img" -boot a -display none \
        -serial null -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot \
        >/dev/null 2>&1 || true
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

time_bochs() {
    local t0 t1
    cat >"$work/bochsrc-$1" <<EOF
megs: 32
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
floppya: 1_44=$work/mips-$1.img, status=inserted
boot: floppy
display_library: nogui
log: /dev/null
port_e9_hack: enabled=1
cpu: ips=500000000
EOF
    t0=$(now)
    timeout 1200 bochs -q -f "$work/bochsrc-$1" >/dev/null 2>&1 </dev/null || true
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

emulators=(emu)
command -v qemu-system-i386 >/dev/null && emulators+=(qemu)
command -v bochs >/dev/null && [ -f /usr/share/bochs/BIOS-bochs-latest ] && emulators+=(bochs)

declare -A times
for ((r = 1; r <= runs; r++)); do
    for e in "${emulators[@]}"; do
        for n in "$lo" "$hi"; do
            echo "run $r/$runs: $e ITERS=$n" >&2
            t=$("time_$e" "$n")
            times[$e-$n]+="$t "
        done
    done
done

count() { grep -oE 'after [0-9]+ instructions' "$work/emu-$1.err" | grep -oE '[0-9]+'; }
delta=$(($(count "$hi") - $(count "$lo")))
echo "mips32: ITERS=$lo vs ITERS=$hi, $delta guest instructions apart; median of $runs runs"
printf '%-6s %10s %10s %10s\n' emulator "t($lo) s" "t($hi) s" MIPS
declare -A mips
for e in "${emulators[@]}"; do
    tl=$(echo "${times[$e-$lo]}" | tr ' ' '\n' | grep . | median)
    th=$(echo "${times[$e-$hi]}" | tr ' ' '\n' | grep . | median)
    m=$(echo "$delta / ($th - $tl) / 1000000" | bc -l)
    mips[$e]=$m
    printf '%-6s %10.3f %10.3f %10.1f\n' "$e" "$tl" "$th" "$m"
done
for e in "${emulators[@]}"; do
    [ "$e" = emu ] && continue
    printf 'emu / %s = %.2f\n' "$e" "$(echo "${mips[emu]} / ${mips[$e]}" | bc -l)"
done
