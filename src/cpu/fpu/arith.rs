//! Correctly rounded add, subtract, multiply, divide and square root, with the x87 rules
//! for special operands: NaN propagation, invalid operations, division by zero, denormal
//! operands.

use super::float80::{shr_jam, Class, Ctx, Rc, BIAS, DE, F80, IE, ZE};

/// The result for an operation with at least one NaN operand: a signalling NaN raises IE;
/// a QNaN beats an SNaN; of two NaNs of the same kind the larger significand wins.
pub fn propagate_nan(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    let sa = a.class() == Class::SNaN;
    let sb = b.class() == Class::SNaN;
    if sa || sb {
        ctx.flags |= IE;
    }
    let pick_a = if !b.is_nan() {
        true
    } else if !a.is_nan() {
        false
    } else if sa != sb {
        sb
    } else if a.sig != b.sig {
        a.sig > b.sig
    } else {
        a.se < b.se
    };
    if pick_a {
        a.quiet()
    } else {
        b.quiet()
    }
}

/// IE with the real indefinite as result.
pub fn invalid(ctx: &mut Ctx) -> F80 {
    ctx.flags |= IE;
    F80::INDEFINITE
}

/// Handles NaN and unsupported operands of a two-operand operation, and sets DE for
/// denormal ones. `None` when both operands are numbers (or infinities) to compute with.
fn specials2(ctx: &mut Ctx, a: F80, b: F80) -> Option<F80> {
    let (ca, cb) = (a.class(), b.class());
    if ca == Class::Unsupported || cb == Class::Unsupported {
        return Some(invalid(ctx));
    }
    if a.is_nan() || b.is_nan() {
        return Some(propagate_nan(ctx, a, b));
    }
    if ca == Class::Denormal || cb == Class::Denormal {
        ctx.flags |= DE;
    }
    None
}

pub fn add(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    if let Some(r) = specials2(ctx, a, b) {
        return r;
    }
    add_signed(ctx, a, b)
}

pub fn sub(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    if let Some(r) = specials2(ctx, a, b) {
        return r;
    }
    add_signed(ctx, a, b.negated())
}

/// a + b for non-NaN operands.
fn add_signed(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    match (a.is_inf(), b.is_inf()) {
        (true, true) if a.sign() != b.sign() => return invalid(ctx),
        (true, _) => return a,
        (_, true) => return b,
        _ => {}
    }
    match (a.is_zero(), b.is_zero()) {
        (true, true) => {
            let sign = if a.sign() == b.sign() {
                a.sign()
            } else {
                ctx.rc == Rc::Down
            };
            return F80::zero(sign);
        }
        (true, false) => return round_value(ctx, b),
        (false, true) => return round_value(ctx, a),
        _ => {}
    }
    let (sa, ea, ma) = a.unpack();
    let (sb, eb, mb) = b.unpack();
    // Integer bit at 126, leaving room for the carry; the exponent is one more to match.
    let (big, small) = if (ea, ma) >= (eb, mb) {
        ((sa, ea, ma), (sb, eb, mb))
    } else {
        ((sb, eb, mb), (sa, ea, ma))
    };
    let x = (big.2 as u128) << 63;
    let y = shr_jam((small.2 as u128) << 63, (big.1 - small.1) as u32);
    let (sign, sum) = if big.0 == small.0 {
        (big.0, x + y)
    } else {
        (big.0, x - y)
    };
    if sum == 0 {
        return F80::zero(ctx.rc == Rc::Down);
    }
    ctx.pack(sign, big.1 + 1, sum)
}

/// A finite value rounded to the context's precision.
pub fn round_value(ctx: &mut Ctx, a: F80) -> F80 {
    if a.is_zero() {
        return a;
    }
    let (s, e, m) = a.unpack();
    ctx.pack(s, e, (m as u128) << 64)
}

pub fn mul(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    if let Some(r) = specials2(ctx, a, b) {
        return r;
    }
    let sign = a.sign() != b.sign();
    if a.is_inf() || b.is_inf() {
        if a.is_zero() || b.is_zero() {
            return invalid(ctx);
        }
        return F80::inf(sign);
    }
    if a.is_zero() || b.is_zero() {
        return F80::zero(sign);
    }
    let (_, ea, ma) = a.unpack();
    let (_, eb, mb) = b.unpack();
    ctx.pack(sign, ea + eb - BIAS + 1, ma as u128 * mb as u128)
}

pub fn div(ctx: &mut Ctx, a: F80, b: F80) -> F80 {
    if let Some(r) = specials2(ctx, a, b) {
        return r;
    }
    let sign = a.sign() != b.sign();
    match (a.is_inf(), b.is_inf()) {
        (true, true) => return invalid(ctx),
        (true, false) => return F80::inf(sign),
        (false, true) => return F80::zero(sign),
        _ => {}
    }
    if b.is_zero() {
        if a.is_zero() {
            return invalid(ctx);
        }
        ctx.flags |= ZE;
        return F80::inf(sign);
    }
    if a.is_zero() {
        return F80::zero(sign);
    }
    let (_, ea, ma) = a.unpack();
    let (_, eb, mb) = b.unpack();
    let s = (ma >= mb) as i32;
    let num = (ma as u128) << (64 - s);
    let (q1, r1) = (num / mb as u128, num % mb as u128);
    let num2 = r1 << 64;
    let (q2, r2) = (num2 / mb as u128, num2 % mb as u128);
    let q = (q1 << 64) | q2 | (r2 != 0) as u128;
    ctx.pack(sign, ea - eb + BIAS - 1 + s, q)
}

/// floor(sqrt(n)) and n - floor(sqrt(n))^2, for n < 2^128.
pub fn isqrt(n: u128) -> (u64, u128) {
    let mut r: u64 = 0;
    for i in (0..64).rev() {
        let c = r | 1 << i;
        if (c as u128) * (c as u128) <= n {
            r = c;
        }
    }
    (r, n - (r as u128) * (r as u128))
}

pub fn sqrt(ctx: &mut Ctx, a: F80) -> F80 {
    match a.class() {
        Class::Unsupported => return invalid(ctx),
        Class::QNaN | Class::SNaN => return propagate_nan(ctx, a, a),
        Class::Zero => return a,
        Class::Denormal => ctx.flags |= DE,
        _ => {}
    }
    if a.sign() {
        return invalid(ctx);
    }
    if a.is_inf() {
        return a;
    }
    let (_, e, m) = a.unpack();
    // value = m * 2^t with t the exponent of the significand's last bit.
    let t = e - BIAS - 63;
    let (n, k) = if t & 1 == 0 {
        ((m as u128) << 64, (t - 64) / 2)
    } else {
        ((m as u128) << 63, (t - 63) / 2)
    };
    let (r, rem) = isqrt(n);
    // The root is never exactly halfway between two integers: one guard bit and the sticky
    // bit describe the discarded fraction exactly.
    let guard = rem > r as u128;
    let q = ((r as u128) << 64) | ((guard as u128) << 63) | (rem != 0) as u128;
    ctx.pack(false, k + 63 + BIAS, q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c() -> Ctx {
        Ctx::new(Rc::Nearest, 64)
    }

    #[test]
    fn one_plus_one_is_two() {
        let r = add(&mut c(), F80::ONE, F80::ONE);
        assert_eq!(r, F80::new(false, 0x4000, 1 << 63));
    }

    #[test]
    fn x_minus_x_is_plus_zero_except_rounding_down() {
        let x = F80::new(false, 0x4005, 0xABCD_0000_0000_0000);
        assert_eq!(sub(&mut c(), x, x), F80::zero(false));
        let mut d = Ctx::new(Rc::Down, 64);
        assert_eq!(sub(&mut d, x, x), F80::zero(true));
    }

    #[test]
    fn sqrt_of_four_and_two() {
        let four = F80::new(false, 0x4001, 1 << 63);
        assert_eq!(sqrt(&mut c(), four), F80::new(false, 0x4000, 1 << 63));
        let two = F80::new(false, 0x4000, 1 << 63);
        // sqrt(2) = 1.6A09E667F3BCC908B2F...
        assert_eq!(
            sqrt(&mut c(), two),
            F80::new(false, 0x3FFF, 0xB504_F333_F9DE_6484)
        );
    }

    #[test]
    fn unmasked_overflow_wraps_the_exponent() {
        let max = F80::new(false, 0x7FFE, !0);
        let mut x = c();
        x.masks &= !super::super::float80::OE;
        // (2^64 - 1)^2 = 2^128 - 2^65 + 1: exponent 0xBFFE, wrapped by 24576.
        assert_eq!(mul(&mut x, max, max), F80::new(false, 0x5FFE, !0 - 1));
        let mut m = c();
        assert_eq!(mul(&mut m, max, max), F80::inf(false));
    }

    #[test]
    fn division_by_zero_and_invalid() {
        let mut x = c();
        assert_eq!(div(&mut x, F80::ONE, F80::ZERO), F80::inf(false));
        assert_eq!(x.flags, ZE);
        let mut y = c();
        assert_eq!(div(&mut y, F80::ZERO, F80::ZERO), F80::INDEFINITE);
        assert_eq!(y.flags, IE);
    }
}
