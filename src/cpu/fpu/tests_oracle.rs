//! Randomised comparison against Berkeley SoftFloat 3 (x86-64 hosts only): results and
//! exception flags must agree bit for bit for every precision and rounding control.

use softfloat_sys as sf;

use super::arith;
use super::convert::{self, DOUBLE, SINGLE};
use super::float80::{Ctx, Rc, F80, IE, OE, PE, UE, ZE};

const PAIRS: usize = 1_000_000;

/// SplitMix64: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A significand with patterns that stress rounding: random, runs of ones or zeros,
    /// single bits.
    fn sig(&mut self) -> u64 {
        match self.below(6) {
            0 => !0u64 << self.below(64),
            1 => (1u64 << 63) | (1u64 << self.below(63)),
            2 => (1u64 << 63) | (!0u64 >> self.below(64)),
            3 => (1u64 << 63) | (self.next() & !((1u64 << self.below(64)) - 1)),
            _ => self.next() | 1 << 63,
        }
    }

    /// A canonical extended value: mostly normal numbers, with zeros, denormals,
    /// infinities, NaNs and extreme exponents mixed in. `near` biases the exponent
    /// towards another operand's (cancellation, equal operands).
    fn f80(&mut self, near: Option<F80>) -> F80 {
        let sign = self.next() & 1 != 0;
        let k = self.below(100);
        match k {
            0..=1 => F80::zero(sign),
            2..=5 => F80::new(sign, 0, self.sig() >> (1 + self.below(63))),
            6 => F80::inf(sign),
            7 => F80::new(sign, 0x7FFF, (3 << 62) | (self.next() >> 2)),
            8 => F80::new(sign, 0x7FFF, (2 << 62) | (self.next() >> 2) | 1),
            9..=13 => F80::new(sign, (1 + self.below(80)) as u16, self.sig()),
            14..=18 => F80::new(sign, (0x7FFE - self.below(80)) as u16, self.sig()),
            19..=50 => match near {
                Some(n) if n.exp() > 70 && n.exp() < 0x7FF0 => {
                    let e = n.exp() as i64 + self.below(140) as i64 - 70;
                    let sig = if self.below(4) == 0 {
                        n.sig ^ (self.next() >> self.below(64))
                    } else {
                        self.sig()
                    };
                    F80::new(sign, e as u16, sig | 1 << 63)
                }
                _ => F80::new(sign, (0x3FFF - 40 + self.below(80)) as u16, self.sig()),
            },
            51..=75 => F80::new(sign, (0x3FFF - 40 + self.below(80)) as u16, self.sig()),
            _ => F80::new(sign, (1 + self.below(0x7FFE)) as u16, self.sig()),
        }
    }
}

fn to_sf(a: F80) -> sf::extFloat80_t {
    sf::extFloat80M {
        signif: a.sig,
        signExp: a.se,
    }
}

fn from_sf(a: sf::extFloat80_t) -> F80 {
    F80 {
        se: a.signExp,
        sig: a.signif,
    }
}

/// Our flags in SoftFloat's encoding (no denormal-operand flag there).
fn sf_flags(f: u8) -> u8 {
    let mut r = 0;
    if f & PE != 0 {
        r |= sf::softfloat_flag_inexact;
    }
    if f & UE != 0 {
        r |= sf::softfloat_flag_underflow;
    }
    if f & OE != 0 {
        r |= sf::softfloat_flag_overflow;
    }
    if f & ZE != 0 {
        r |= sf::softfloat_flag_infinite;
    }
    if f & IE != 0 {
        r |= sf::softfloat_flag_invalid;
    }
    r
}

const MODES: [(Rc, u8); 4] = [
    (Rc::Nearest, sf::softfloat_round_near_even),
    (Rc::Down, sf::softfloat_round_min),
    (Rc::Up, sf::softfloat_round_max),
    (Rc::Zero, sf::softfloat_round_minMag),
];

/// Runs `PAIRS` random cases spread over every precision and rounding control; `check`
/// returns a description of the first mismatch.
fn run(seed: u64, check: impl Fn(&mut Rng, Ctx) -> Option<String>) {
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    for i in 0..PAIRS {
        let (rc, sfrc) = MODES[i % 4];
        let bits = [24u32, 53, 64][(i / 4) % 3];
        unsafe {
            sf::softfloat_roundingMode_write_helper(sfrc);
            sf::extF80_roundingPrecision_write_helper(match bits {
                24 => 32,
                53 => 64,
                _ => 80,
            });
            sf::softfloat_exceptionFlags_write_helper(0);
            sf::softfloat_detectTininess_write_helper(sf::softfloat_tininess_afterRounding);
        }
        if let Some(msg) = check(&mut rng, Ctx::new(rc, bits)) {
            failures.push(format!("case {i} rc {rc:?} bits {bits}: {msg}"));
            if failures.len() >= 10 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

fn sf_take_flags() -> u8 {
    unsafe { sf::softfloat_exceptionFlags_read_helper() }
}

type Op2 = fn(&mut Ctx, F80, F80) -> F80;
type SfOp2 = unsafe extern "C" fn(sf::extFloat80_t, sf::extFloat80_t) -> sf::extFloat80_t;

fn binary(seed: u64, ours: Op2, theirs: SfOp2) {
    run(seed, |rng, mut ctx| {
        let a = rng.f80(None);
        let b = rng.f80(Some(a));
        let r = ours(&mut ctx, a, b);
        let s = from_sf(unsafe { theirs(to_sf(a), to_sf(b)) });
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        (r != s || f != g)
            .then(|| format!("{a:?} {b:?}: ours {r:?} flags {f:#x}, oracle {s:?} flags {g:#x}"))
    });
}

#[test]
fn add_matches_softfloat() {
    binary(1, arith::add, sf::extF80_add);
}

#[test]
fn sub_matches_softfloat() {
    binary(2, arith::sub, sf::extF80_sub);
}

#[test]
fn mul_matches_softfloat() {
    binary(3, arith::mul, sf::extF80_mul);
}

#[test]
fn div_matches_softfloat() {
    binary(4, arith::div, sf::extF80_div);
}

#[test]
fn sqrt_matches_softfloat() {
    run(5, |rng, mut ctx| {
        let a = rng.f80(None);
        let r = arith::sqrt(&mut ctx, a);
        let s = from_sf(unsafe { sf::extF80_sqrt(to_sf(a)) });
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        (r != s || f != g)
            .then(|| format!("{a:?}: ours {r:?} flags {f:#x}, oracle {s:?} flags {g:#x}"))
    });
}

#[test]
fn round_to_int_matches_softfloat() {
    run(6, |rng, mut ctx| {
        let a = rng.f80(None);
        let r = convert::round_to_int(&mut ctx, a);
        let mode = unsafe { sf::softfloat_roundingMode_read_helper() };
        let s = from_sf(unsafe { sf::extF80_roundToInt(to_sf(a), mode, true) });
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        (r != s || f != g)
            .then(|| format!("{a:?}: ours {r:?} flags {f:#x}, oracle {s:?} flags {g:#x}"))
    });
}

#[test]
fn integer_conversions_match_softfloat() {
    run(7, |rng, mut ctx| {
        let mut a = rng.f80(None);
        if rng.below(2) == 0 {
            // Exponents around the integer range.
            a = F80::new(a.sign(), (0x3FFF + rng.below(66)) as u16, a.sig | 1 << 63);
        }
        let mode = unsafe { sf::softfloat_roundingMode_read_helper() };
        let mut c2 = ctx;
        let r32 = convert::to_int(&mut ctx, a, 32);
        let s32 = unsafe { sf::extF80_to_i32(to_sf(a), mode, true) } as i64;
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        if r32 != s32 || f != g {
            return Some(format!(
                "i32 {a:?}: ours {r32:#x} {f:#x}, oracle {s32:#x} {g:#x}"
            ));
        }
        unsafe { sf::softfloat_exceptionFlags_write_helper(0) };
        let r64 = convert::to_int(&mut c2, a, 64);
        let s64 = unsafe { sf::extF80_to_i64(to_sf(a), mode, true) };
        let (f, g) = (sf_flags(c2.flags), sf_take_flags());
        (r64 != s64 || f != g)
            .then(|| format!("i64 {a:?}: ours {r64:#x} {f:#x}, oracle {s64:#x} {g:#x}"))
    });
}

#[test]
fn integer_loads_match_softfloat() {
    run(8, |rng, _ctx| {
        let v = (rng.next() as i64) >> rng.below(64);
        let r = convert::from_i64(v);
        let s = from_sf(unsafe { sf::i64_to_extF80(v) });
        (r != s).then(|| format!("{v:#x}: ours {r:?} oracle {s:?}"))
    });
}

#[test]
fn float_stores_match_softfloat() {
    run(9, |rng, mut ctx| {
        let mut a = rng.f80(None);
        if rng.below(2) == 0 {
            // Exponents around the single and double ranges.
            let centre = if rng.below(2) == 0 {
                0x3FFF - 126
            } else {
                0x3FFF - 1022
            };
            let e = (centre + rng.below(80) as i64 - 70).clamp(1, 0x7FFE);
            a = F80::new(a.sign(), e as u16, a.sig | 1 << 63);
        }
        let mut c2 = ctx;
        let r32 = convert::to_ieee(&mut ctx, a, SINGLE);
        let s32 = unsafe { sf::extF80_to_f32(to_sf(a)) }.v as u64;
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        if r32 != s32 || f != g {
            return Some(format!(
                "f32 {a:?}: ours {r32:#x} {f:#x}, oracle {s32:#x} {g:#x}"
            ));
        }
        unsafe { sf::softfloat_exceptionFlags_write_helper(0) };
        let r64 = convert::to_ieee(&mut c2, a, DOUBLE);
        let s64 = unsafe { sf::extF80_to_f64(to_sf(a)) }.v;
        let (f, g) = (sf_flags(c2.flags), sf_take_flags());
        (r64 != s64 || f != g)
            .then(|| format!("f64 {a:?}: ours {r64:#x} {f:#x}, oracle {s64:#x} {g:#x}"))
    });
}

#[test]
fn float_loads_match_softfloat() {
    run(10, |rng, mut ctx| {
        let v32 = match rng.below(4) {
            0 => rng.next() as u32 & 0x807F_FFFF,
            1 => rng.next() as u32 | 0x7F80_0000,
            _ => rng.next() as u32,
        };
        let v64 = match rng.below(4) {
            0 => rng.next() & 0x800F_FFFF_FFFF_FFFF,
            1 => rng.next() | 0x7FF0_0000_0000_0000,
            _ => rng.next(),
        };
        let r = convert::from_ieee(&mut ctx, v32 as u64, SINGLE);
        let s = from_sf(unsafe { sf::f32_to_extF80(sf::float32_t { v: v32 }) });
        let (f, g) = (sf_flags(ctx.flags), sf_take_flags());
        if r != s || f != g {
            return Some(format!(
                "f32 {v32:#x}: ours {r:?} {f:#x}, oracle {s:?} {g:#x}"
            ));
        }
        unsafe { sf::softfloat_exceptionFlags_write_helper(0) };
        let mut c2 = Ctx::new(Rc::Nearest, 64);
        let r = convert::from_ieee(&mut c2, v64, DOUBLE);
        let s = from_sf(unsafe { sf::f64_to_extF80(sf::float64_t { v: v64 }) });
        let (f, g) = (sf_flags(c2.flags), sf_take_flags());
        (r != s || f != g).then(|| format!("f64 {v64:#x}: ours {r:?} {f:#x}, oracle {s:?} {g:#x}"))
    });
}
