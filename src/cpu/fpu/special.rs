//! Comparisons, FXAM classification, partial remainders (FPREM/FPREM1), FSCALE, FXTRACT
//! and the constants of FLDPI & co.

use std::cmp::Ordering;

use super::arith::{invalid, propagate_nan};
use super::convert::from_i64;
use super::float80::{Class, Ctx, BIAS, DE, F80, IE, ZE};

/// Compares two values: `None` when unordered. Any NaN raises IE for a signalling compare
/// (FCOM, FCOMI), only SNaNs for a quiet one (FUCOM, FUCOMI); unsupported encodings always.
pub fn compare(ctx: &mut Ctx, a: F80, b: F80, quiet: bool) -> Option<Ordering> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        ctx.flags |= IE;
        return None;
    }
    if a.is_nan() || b.is_nan() {
        if !quiet || ca == Class::SNaN || cb == Class::SNaN {
            ctx.flags |= IE;
        }
        return None;
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        ctx.flags |= DE;
    }
    Some(total_key(a).cmp(&total_key(b)))
}

/// A key ordering non-NaN values by value (both zeros equal).
fn total_key(a: F80) -> i128 {
    if a.is_zero() {
        return 0;
    }
    let mag: i128 = if a.is_inf() {
        i128::MAX
    } else {
        let (_, e, m) = a.unpack();
        // e may be below 1 for denormals: offset keeps the key positive.
        (((e + 64) as i128) << 64) | m as i128
    };
    if a.sign() {
        -mag
    } else {
        mag
    }
}

/// FXAM's C3, C2, C0 for a (non-empty) value.
pub fn examine(a: F80) -> (bool, bool, bool) {
    match a.class() {
        Class::Unsupported => (false, false, false),
        Class::QNaN | Class::SNaN => (false, false, true),
        Class::Normal => (false, true, false),
        Class::Infinity => (false, true, true),
        Class::Zero => (true, false, false),
        Class::Denormal => (true, true, false),
    }
}

/// The outcome of FPREM/FPREM1.
pub struct Remainder {
    pub value: F80,
    /// The three low bits of the quotient (C0 = bit 2, C3 = bit 1, C1 = bit 0).
    pub q: u64,
    /// The reduction is incomplete (C2 = 1): run the instruction again.
    pub partial: bool,
}

/// FPREM (`nearest` false: quotient truncated) and FPREM1 (IEEE remainder). When the
/// exponents differ by 64 or more, one step reduces the difference to between 32 and 63,
/// as the hardware does.
pub fn remainder(ctx: &mut Ctx, a: F80, b: F80, nearest: bool) -> Option<Remainder> {
    let done = |value| {
        Some(Remainder {
            value,
            q: 0,
            partial: false,
        })
    };
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return done(invalid(ctx));
    }
    if a.is_nan() || b.is_nan() {
        return done(propagate_nan(ctx, a, b));
    }
    if a.is_inf() || b.is_zero() {
        return done(invalid(ctx));
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        ctx.flags |= DE;
    }
    if a.is_zero() || b.is_inf() {
        return done(a);
    }
    let (sa, ea, ma) = a.unpack();
    let (_, eb, mb) = b.unpack();
    let mut d = ea - eb;
    if d < -1 {
        return done(a);
    }
    let mut partial = false;
    let mut scale = eb; // b's exponent, or a multiple of b's for a partial step
    if d >= 64 {
        // Reduce by a chunk so that the remaining difference is 32..63.
        let n = 32 + (d & 31);
        scale = ea - n;
        d = n;
        partial = true;
    }
    let nearest = nearest && !partial;
    // In units of 2^(scale - 64): A = ma * 2^(d + 1), B = mb * 2.
    let big_a = (ma as u128) << (d + 1) as u32;
    let big_b = (mb as u128) << 1;
    let mut q = big_a / big_b;
    let mut r = big_a % big_b;
    let mut sign = sa;
    if nearest && (2 * r > big_b || (2 * r == big_b && q & 1 != 0)) {
        q += 1;
        r = big_b - r;
        sign = !sign;
    }
    let value = if r == 0 {
        F80::zero(sa)
    } else {
        // r < 2^65 with its last bit clear (d >= 0) or small (d = -1): exact at 64 bits.
        let mut c = ctx.full();
        let v = c.pack(sign, scale + 63, r);
        ctx.flags |= c.flags;
        v
    };
    Some(Remainder {
        value,
        q: q as u64,
        partial,
    })
}

/// FSCALE: a * 2^trunc(b).
pub fn scale(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return invalid(ctx);
    }
    if a.is_nan() || b.is_nan() {
        return propagate_nan(ctx, a, b);
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        ctx.flags |= DE;
    }
    if b.is_inf() {
        return match (a.is_zero(), a.is_inf(), b.sign()) {
            (true, _, false) | (_, true, true) => invalid(ctx),
            (true, _, true) | (_, true, false) => a,
            (false, false, false) => F80::inf(a.sign()),
            (false, false, true) => F80::zero(a.sign()),
        };
    }
    if a.is_zero() || a.is_inf() {
        return a;
    }
    let mut c = *ctx;
    c.rc = super::float80::Rc::Zero;
    let n = super::convert::to_int(&mut c, b.with_sign(false), 64).clamp(0, 1 << 20);
    let n = if b.sign() { -n } else { n };
    let (s, e, m) = a.unpack();
    let mut full = ctx.full();
    let r = full.pack(s, e + n as i32, (m as u128) << 64);
    ctx.flags |= full.flags;
    ctx.up = full.up;
    r
}

/// FXTRACT: (exponent, significand) of a.
pub fn extract(ctx: &mut Ctx, a: F80) -> (F80, F80) {
    match a.class() {
        Class::Unsupported => {
            let i = invalid(ctx);
            (i, i)
        }
        Class::QNaN | Class::SNaN => {
            let n = propagate_nan(ctx, a, a);
            (n, n)
        }
        Class::Zero => {
            ctx.flags |= ZE;
            (F80::inf(true), a)
        }
        Class::Infinity => (F80::inf(false), a),
        Class::Denormal | Class::Normal => {
            if a.is_denormal() {
                ctx.flags |= DE;
            }
            let (s, e, m) = a.unpack();
            (from_i64((e - BIAS) as i64), F80::new(s, BIAS as u16, m))
        }
    }
}

/// The constants of FLDPI, FLDL2T, FLDL2E, FLDLG2, FLDLN2: exponent and 128 significand
/// bits, rounded by the rounding control when loaded.
pub const PI: (i32, u128) = (BIAS + 1, 0xC90F_DAA2_2168_C234_C4C6_628B_80DC_1CD1);
pub const L2T: (i32, u128) = (BIAS + 1, 0xD49A_784B_CD1B_8AFE_492B_F6FF_4DAF_DB4C);
pub const L2E: (i32, u128) = (BIAS, 0xB8AA_3B29_5C17_F0BB_BE87_FED0_691D_3E89);
pub const LG2: (i32, u128) = (BIAS - 2, 0x9A20_9A84_FBCF_F798_8F89_59AC_0B7C_9178);
pub const LN2: (i32, u128) = (BIAS - 1, 0xB172_17F7_D1CF_79AB_C9E3_B398_03F2_F6AF);

/// A constant rounded to 64 bits by the context's rounding control.
pub fn constant(ctx: &Ctx, c: (i32, u128)) -> F80 {
    let mut x = ctx.full();
    x.pack(false, c.0, c.1)
}

#[cfg(test)]
mod tests {
    use super::super::float80::Rc;
    use super::*;

    #[test]
    fn constants_round_by_rounding_control() {
        let n = Ctx::new(Rc::Nearest, 64);
        assert_eq!(
            constant(&n, PI),
            F80::new(false, 0x4000, 0xC90F_DAA2_2168_C235)
        );
        assert_eq!(
            constant(&n, L2T),
            F80::new(false, 0x4000, 0xD49A_784B_CD1B_8AFE)
        );
        assert_eq!(
            constant(&n, LG2),
            F80::new(false, 0x3FFD, 0x9A20_9A84_FBCF_F799)
        );
        let d = Ctx::new(Rc::Down, 64);
        assert_eq!(
            constant(&d, PI),
            F80::new(false, 0x4000, 0xC90F_DAA2_2168_C234)
        );
    }

    #[test]
    fn prem_of_ten_by_three() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        let r = remainder(&mut c, from_i64(10), from_i64(3), false).unwrap();
        assert_eq!((r.value, r.q, r.partial), (from_i64(1), 3, false));
        let r1 = remainder(&mut c, from_i64(11), from_i64(3), true).unwrap();
        assert_eq!((r1.value, r1.q), (from_i64(-1), 4));
    }

    #[test]
    fn compare_orders_values() {
        let mut c = Ctx::new(Rc::Nearest, 64);
        assert_eq!(
            compare(&mut c, from_i64(-2), from_i64(1), false),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare(&mut c, F80::zero(true), F80::ZERO, false),
            Some(Ordering::Equal)
        );
        assert_eq!(compare(&mut c, F80::INDEFINITE, F80::ZERO, true), None);
        assert_eq!(c.flags, 0);
    }
}
