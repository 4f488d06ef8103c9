//! Conversions between the extended format and integers (16/32/64-bit), single and double
//! precision, packed BCD; rounding to an integral value (FRNDINT).

use super::arith::invalid;
use super::float80::{Class, Ctx, Rc, BIAS, DE, F80, IE, PE};

/// An integer as an extended value (always exact).
pub fn from_i64(v: i64) -> F80 {
    from_u64(v < 0, v.unsigned_abs())
}

/// A signed magnitude as an extended value (exact; +0 for a zero magnitude).
pub fn from_u64(sign: bool, m: u64) -> F80 {
    if m == 0 {
        return F80::ZERO;
    }
    let lz = m.leading_zeros();
    F80::new(sign, (BIAS + 63 - lz as i32) as u16, m << lz)
}

/// Rounds a finite value to an integer by the rounding mode: (sign, magnitude, inexact,
/// rounded up); the magnitude is `None` when it does not fit in 64 bits.
fn to_integer(rc: Rc, a: F80) -> (bool, Option<u64>, bool, bool) {
    if a.is_zero() {
        return (a.sign(), Some(0), false, false);
    }
    let (s, e, m) = a.unpack();
    let shift = BIAS + 63 - e; // value = m / 2^shift
    if shift <= 0 {
        // |a| >= 2^63: an integer already, too large unless exactly representable.
        if shift == 0 {
            return (s, Some(m), false, false);
        }
        return (s, None, false, false);
    }
    let (int, frac, half) = if shift > 127 {
        (0u128, 1u128, u128::MAX) // far below one half: only the sticky matters
    } else {
        let w = m as u128;
        let sh = shift as u32;
        (w >> sh, w & ((1u128 << sh) - 1), 1u128 << (sh - 1))
    };
    let inc = match rc {
        Rc::Nearest => frac > half || (frac == half && int & 1 != 0),
        Rc::Zero => false,
        Rc::Down => s && frac != 0,
        Rc::Up => !s && frac != 0,
    };
    let r = int + inc as u128;
    let mag = if r > u64::MAX as u128 {
        None
    } else {
        Some(r as u64)
    };
    (s, mag, frac != 0, inc)
}

/// Converts to a signed integer of `bits` bits (16, 32, 64); out of range, NaN and
/// infinities give IE and the integer indefinite (the most negative value).
pub fn to_int(ctx: &mut Ctx, a: F80, bits: u32) -> i64 {
    let indefinite = -1i64 << (bits - 1);
    match a.class() {
        Class::Unsupported | Class::QNaN | Class::SNaN | Class::Infinity => {
            ctx.flags |= IE;
            return indefinite;
        }
        // Stores do not report denormal operands (no #D for FST/FIST/FBSTP).
        Class::Denormal => {}
        _ => {}
    }
    let (s, mag, inexact, inc) = to_integer(ctx.rc, a);
    let limit = 1u64 << (bits - 1); // |negative| may reach it
    let fits = match mag {
        Some(m) => m < limit || (s && m == limit),
        None => false,
    };
    if !fits {
        ctx.flags |= IE;
        return indefinite;
    }
    if inexact {
        ctx.flags |= PE;
    }
    ctx.up = inc;
    let m = mag.unwrap_or(0) as i64;
    if s {
        m.wrapping_neg()
    } else {
        m
    }
}

/// FRNDINT: rounds to an integral value by the rounding mode (precision control ignored).
pub fn round_to_int(ctx: &mut Ctx, a: F80) -> F80 {
    match a.class() {
        Class::Unsupported => return invalid(ctx),
        Class::QNaN | Class::SNaN => return super::arith::propagate_nan(ctx, a, a),
        Class::Zero | Class::Infinity => return a,
        Class::Denormal => ctx.flags |= DE,
        Class::Normal => {}
    }
    if a.exp() as i32 >= BIAS + 63 {
        return a;
    }
    let (s, mag, inexact, inc) = to_integer(ctx.rc, a);
    if inexact {
        ctx.flags |= PE;
    }
    ctx.up = inc;
    match mag {
        Some(0) | None => F80::zero(s),
        Some(m) => from_u64(s, m),
    }
}

/// The formats narrower than extended: significand bits (with the hidden bit) and
/// exponent bits.
#[derive(Clone, Copy)]
pub struct Format {
    pub mant: u32,
    pub exp: u32,
}

pub const SINGLE: Format = Format { mant: 24, exp: 8 };
pub const DOUBLE: Format = Format { mant: 53, exp: 11 };

impl Format {
    fn bias(self) -> i32 {
        (1 << (self.exp - 1)) - 1
    }
    fn emax(self) -> i32 {
        (1 << self.exp) - 1
    }
    fn frac_bits(self) -> u32 {
        self.mant - 1
    }
}

/// Loads a single or double value (exact; an SNaN raises IE and becomes quiet).
pub fn from_ieee(ctx: &mut Ctx, v: u64, f: Format) -> F80 {
    let fb = f.frac_bits();
    let sign = v >> (fb + f.exp) & 1 != 0;
    let e = (v >> fb) as i32 & f.emax();
    let frac = v & ((1u64 << fb) - 1);
    if e == f.emax() {
        if frac == 0 {
            return F80::inf(sign);
        }
        let sig = (1 << 63) | (frac << (63 - fb));
        let nan = F80::new(sign, 0x7FFF, sig);
        if nan.class() == Class::SNaN {
            ctx.flags |= IE;
        }
        return nan.quiet();
    }
    if e == 0 {
        if frac == 0 {
            return F80::zero(sign);
        }
        ctx.flags |= DE;
        let lz = frac.leading_zeros();
        // value = frac * 2^(1 - bias - fb)
        let exp = 1 - f.bias() - fb as i32 + 63 - lz as i32 + BIAS;
        return F80::new(sign, exp as u16, frac << lz);
    }
    let sig = (1 << 63) | (frac << (63 - fb));
    F80::new(sign, (e - f.bias() + BIAS) as u16, sig)
}

/// Rounds to single or double by the rounding mode (precision control does not apply).
pub fn to_ieee(ctx: &mut Ctx, a: F80, f: Format) -> u64 {
    let fb = f.frac_bits();
    let sign_bit = (a.sign() as u64) << (fb + f.exp);
    let inf = sign_bit | (f.emax() as u64) << fb;
    match a.class() {
        Class::Unsupported => {
            ctx.flags |= IE;
            return 1 << (fb + f.exp) | inf | 1 << (fb - 1);
        }
        Class::QNaN | Class::SNaN => {
            if a.class() == Class::SNaN {
                ctx.flags |= IE;
            }
            let payload = (a.sig << 1) >> (64 - fb);
            return inf | payload | 1 << (fb - 1);
        }
        Class::Infinity => return inf,
        Class::Zero => return sign_bit,
        // Stores do not report denormal operands (no #D for FST/FIST/FBSTP).
        Class::Denormal => {}
        Class::Normal => {}
    }
    let (s, e, m) = a.unpack();
    let mut c = *ctx;
    c.masks |= 0x18; // wrapped results exist only for register destinations
    let (exp, sig) = c.round(s, e - BIAS + f.bias(), (m as u128) << 64, f.mant, f.emax());
    ctx.flags |= c.flags;
    ctx.up = c.up;
    sign_bit | (exp as u64) << fb | ((sig << 1) >> (64 - fb))
}

/// Loads an 18-digit packed BCD value (10 bytes, sign in bit 7 of the last).
pub fn from_bcd(b: &[u8; 10]) -> F80 {
    let mut v: i64 = 0;
    for i in (0..9).rev() {
        v = v * 100 + ((b[i] >> 4) as i64 & 15) * 10 + (b[i] as i64 & 15);
    }
    let r = from_i64(v);
    if b[9] & 0x80 != 0 {
        r.negated()
    } else {
        r
    }
}

/// Stores as packed BCD; values that do not round into 18 digits give IE and the BCD
/// indefinite.
pub fn to_bcd(ctx: &mut Ctx, a: F80) -> [u8; 10] {
    const INDEFINITE: [u8; 10] = [0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF];
    let mut c = *ctx;
    let v = to_int(&mut c, a, 64);
    if c.flags & IE != 0 || v.unsigned_abs() >= 1_000_000_000_000_000_000 {
        ctx.flags |= IE | (c.flags & DE);
        return INDEFINITE;
    }
    ctx.flags |= c.flags;
    ctx.up = c.up;
    let mut m = v.unsigned_abs();
    let mut out = [0u8; 10];
    for byte in out.iter_mut().take(9) {
        let lo = (m % 10) as u8;
        m /= 10;
        let hi = (m % 10) as u8;
        m /= 10;
        *byte = hi << 4 | lo;
    }
    out[9] = if a.sign() { 0x80 } else { 0 };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        for v in [0i64, 1, -1, 12345, i64::MIN, i64::MAX, -32768] {
            assert_eq!(to_int(&mut c, from_i64(v), 64), v);
        }
        assert_eq!(c.flags, 0);
    }

    #[test]
    fn half_rounds_to_even() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        let two_and_half = F80::new(false, 0x4000, 0xA000_0000_0000_0000);
        assert_eq!(to_int(&mut c, two_and_half, 32), 2);
        assert_eq!(c.flags, PE);
        let mut u = Ctx::new(Rc::Up, 64);
        assert_eq!(to_int(&mut u, two_and_half, 32), 3);
    }

    #[test]
    fn out_of_range_is_indefinite() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        assert_eq!(to_int(&mut c, from_i64(40000), 16), -32768);
        assert_eq!(c.flags, IE);
    }

    #[test]
    fn bcd_round_trip() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        let b = to_bcd(&mut c, from_i64(-123456789012345678));
        assert_eq!(
            b,
            [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80]
        );
        assert_eq!(from_bcd(&b), from_i64(-123456789012345678));
    }

    #[test]
    fn single_and_double_round_trip() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        for v in [
            0x3F80_0000u64,
            0x0000_0001,
            0x7F7F_FFFF,
            0xFF80_0000,
            0x8000_0000,
        ] {
            let x = from_ieee(&mut c, v, SINGLE);
            assert_eq!(to_ieee(&mut c, x, SINGLE), v);
        }
        for v in [0x3FF0_0000_0000_0000u64, 1, 0x7FEF_FFFF_FFFF_FFFF] {
            let x = from_ieee(&mut c, v, DOUBLE);
            assert_eq!(to_ieee(&mut c, x, DOUBLE), v);
        }
    }
}
