#!/usr/bin/env python3
"""Reference values for the x87 transcendental instructions, from Python mpmath.

Writes seeded random cases, one per line: `op a_se a_sig b_se b_sig r_se r_sig` (hex), where
a = ST(0), b = ST(1) (for FPATAN/FYL2X/FYL2XP1, else 0) and r is the true result rounded to
nearest-even at 64 significand bits. The test tests/fpu_transcend.rs compares emu with it.

Usage: scripts/fpu-transcend-reference.py N SEED > test-suites/fpu/transcend-mpmath.txt
"""
import random
import sys

import mpmath as mp

mp.mp.prec = 512


def to_mpf(se, sig):
    sign = -1 if se & 0x8000 else 1
    e = se & 0x7FFF
    return sign * mp.mpf(sig) * mp.mpf(2) ** (max(e, 1) - 16383 - 63)


def from_mpf(v):
    if v == 0:
        return (0x8000 if mp.sign(v) < 0 else 0), 0
    sign = 0x8000 if v < 0 else 0
    v = abs(v)
    e = int(mp.floor(mp.log(v, 2)))
    while v >= mp.mpf(2) ** (e + 1):
        e += 1
    while v < mp.mpf(2) ** e:
        e -= 1
    scaled = v * mp.mpf(2) ** (63 - e)
    n = int(mp.floor(scaled))
    frac = scaled - n
    if frac > 0.5 or (frac == 0.5 and n & 1):
        n += 1
    if n == 1 << 64:
        n = 1 << 63
        e += 1
    return sign | (e + 16383), n


def rand_f80(rng, lo_exp, hi_exp, neg=True):
    e = rng.randint(lo_exp, hi_exp) + 16383
    sig = rng.getrandbits(64) | (1 << 63)
    s = 0x8000 if neg and rng.random() < 0.5 else 0
    return s | e, sig


def main():
    n = int(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    out = []
    one_minus = 1 - mp.sqrt(2) / 2
    for _ in range(n):
        # Trigonometric: magnitudes from 2^-40 to 2^62.
        for op, f in (("fsin", mp.sin), ("fcos", mp.cos), ("fptan", mp.tan)):
            a = rand_f80(rng, -40, 62)
            out.append((op, a, (0, 0), from_mpf(f(to_mpf(*a)))))
        a = rand_f80(rng, -60, -1)
        out.append(("f2xm1", a, (0, 0), from_mpf(mp.power(2, to_mpf(*a)) - 1)))
        a = rand_f80(rng, -2000, 2000, neg=False)
        b = rand_f80(rng, -10, 10)
        x, y = to_mpf(*a), to_mpf(*b)
        out.append(("fyl2x", a, b, from_mpf(y * mp.log(x, 2))))
        while True:
            a = rand_f80(rng, -60, -2)
            if abs(to_mpf(*a)) < one_minus:
                break
        b = rand_f80(rng, -10, 10)
        x, y = to_mpf(*a), to_mpf(*b)
        out.append(("fyl2xp1", a, b, from_mpf(y * mp.log(1 + x, 2))))
        a = rand_f80(rng, -30, 30)
        b = rand_f80(rng, -30, 30)
        x, y = to_mpf(*a), to_mpf(*b)
        out.append(("fpatan", a, b, from_mpf(mp.atan2(y, x))))
    for op, a, b, r in out:
        print("%s %04x %016x %04x %016x %04x %016x" % (op, a[0], a[1], b[0], b[1], r[0], r[1]))


main()
