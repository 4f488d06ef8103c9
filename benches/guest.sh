#!/usr/bin/env bash
# Guest-level benchmark: boots each workload built with two iteration counts on emu, and on
# Bochs and QEMU (TCG) when they are installed, runs them interleaved, and reports guest MIPS
# from the difference (so boot time cancels):
#
#   MIPS = (instructions(ITERS=hi) - instructions(ITERS=lo)) / (time(hi) - time(lo))
#
# The instruction counts are emu's (a property of the guest, the same on any correct
# emulator). Each figure is the median of RUNS runs. The high counts make every emulator run
# for at least a few tenths of a second longer than the low ones, so timer noise stays small.
# Workloads:
#   mips32  ../shared/guests/mips32.asm   32-bit paged integer mix (ITERS 40 / 1200)
#   real16  benches/guests/real16.asm     16-bit real mode, DOS-style (ITERS 200 / 8000)
#   paging  benches/guests/paging.asm     TLB misses, ring 3 <-> 0 (ITERS 20 / 3000)
# Every workload ends by writing to port 0xF4 (QEMU: isa-debug-exit) and "Shutdown" to port
# 0x8900 (Bochs' shutdown port). Debian's Bochs is built with its debugger and without the
# nogui display: it runs with the term display (package bochs-term) under `script` (a
# pseudo-terminal), sound on dummy drivers (ALSA init crashes it without a sound card), and a
# debugger command file that says "c" (continue).
#
# usage: benches/guest.sh [RUNS [WORKLOAD...]]   (env: EMU=target/release/emu)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
shift || true
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mips32 real16 paging)
emu=${EMU:-target/release/emu}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo c >"$work/cont.rc"

source_of() {
    case $1 in
    mips32) echo ../shared/guests/mips32.asm ;;
    real16) echo benches/guests/real16.asm ;;
    paging) echo benches/guests/paging.asm ;;
    *) echo "benches/guest.sh: unknown workload $1" >&2; exit 2 ;;
    esac
}
iters_of() {
    case $1 in
    mips32) echo "40 1200" ;;
    real16) echo "200 8000" ;;
    paging) echo "20 3000" ;;
    esac
}

[ -x "$emu" ] || cargo build --release

now() { date +%s.%N; }

# A run that did not finish the guest (a crash, a timeout, a missing plugin) must not be
# timed as if it had. The guests end by writing 0 to the isa-debug-exit port: exit code 1.
finished() {
    if [ "$3" -ne 1 ]; then
        echo "benches/guest.sh: $1 did not finish $2 (exit code $3)" >&2
        exit 2
    fi
}

time_emu() {
    local t0 t1 rc=0
    t0=$(now)
    "$emu" boot --display none "$work/$1.img" >/dev/null 2>"$work/emu-$1.err" </dev/null || rc=$?
    t1=$(now)
    finished emu "$1" "$rc"
    echo "$t1 - $t0" | bc -l
}

time_qemu() {
    local t0 t1 rc=0
    t0=$(now)
    timeout 600 qemu-system-i386 -m 32 -drive if=floppy,format=raw,file="$work/$1.img" -boot a -display none \
        -serial null -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot \
        >/dev/null 2>&1 || rc=$?
    t1=$(now)
    finished qemu "$1" "$rc"
    echo "$t1 - $t0" | bc -l
}

time_bochs() {
    local t0 t1
    cat >"$work/bochsrc-$1" <<EOF
megs: 32
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
floppya: 1_44=$work/$1.img, status=inserted
boot: floppy
display_library: term
log: /dev/null
port_e9_hack: enabled=1
cpu: ips=500000000
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
speaker: enabled=0
EOF
    t0=$(now)
    TERM=xterm timeout 1200 script -qec "bochs -q -f $work/bochsrc-$1 -rc $work/cont.rc" /dev/null \
        >"$work/bochs-$1.out" 2>&1 </dev/null || true
    t1=$(now)
    # A Bochs that did not run the guest (missing display plugin, sound trouble) must not
    # be timed as if it had.
    if ! grep -aq CHECKSUM "$work/bochs-$1.out"; then
        echo "benches/guest.sh: bochs did not run $1 (see its output below)" >&2
        tail -c 600 "$work/bochs-$1.out" >&2
        exit 2
    fi
    echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

emulators=(emu)
command -v qemu-system-i386 >/dev/null && emulators+=(qemu)
command -v bochs >/dev/null && command -v script >/dev/null &&
    [ -f /usr/share/bochs/BIOS-bochs-latest ] && emulators+=(bochs)

count() { grep -oE 'after [0-9]+ instructions' "$work/emu-$1.err" | grep -oE '[0-9]+'; }

for w in "${workloads[@]}"; do
    src=$(source_of "$w")
    [ -f "$src" ] || { echo "benches/guest.sh: $src not found" >&2; exit 2; }
    read -r lo hi <<<"$(iters_of "$w")"
    for n in "$lo" "$hi"; do
        nasm -f bin -DITERS="$n" -o "$work/$w-$n.img" "$src"
    done
    declare -A times=()
    for ((r = 1; r <= runs; r++)); do
        for e in "${emulators[@]}"; do
            for n in "$lo" "$hi"; do
                t=$("time_$e" "$w-$n")
                times[$e-$n]+="$t "
            done
        done
    done
    delta=$(($(count "$w-$hi") - $(count "$w-$lo")))
    echo "$w: ITERS=$lo vs ITERS=$hi, $delta guest instructions apart; median of $runs runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%-6s %10s %10s %10s\n' emulator "t($lo) s" "t($hi) s" MIPS
    declare -A mips=()
    for e in "${emulators[@]}"; do
        tl=$(echo "${times[$e-$lo]}" | tr ' ' '\n' | grep . | median)
        th=$(echo "${times[$e-$hi]}" | tr ' ' '\n' | grep . | median)
        m=$(echo "$delta / ($th - $tl) / 1000000" | bc -l)
        mips[$e]=$m
        printf '%-6s %10.3f %10.3f %10.1f\n' "$e" "$tl" "$th" "$m"
    done
    for e in "${emulators[@]}"; do
        [ "$e" = emu ] && continue
        printf '%s: emu / %s = %.2f\n' "$w" "$e" "$(echo "${mips[emu]} / ${mips[$e]}" | bc -l)"
    done
    unset times mips
done
