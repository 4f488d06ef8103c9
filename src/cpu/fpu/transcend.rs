//! FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1: series evaluated on 128-bit
//! significands (`wide`) and rounded once to 64 bits, so results are within one ulp (and
//! almost always correctly rounded). Arguments of the trigonometric functions are reduced
//! modulo pi/2 with 512 fraction bits of pi, i.e. against the true pi, unlike the 66-bit
//! pi of Intel's hardware.

use super::arith::{invalid, propagate_nan};
use super::float80::{Class, Ctx, BIAS, DE, F80, ZE};
use super::special::{L2E, LN2, PI};
use super::wide::W;

/// What an instruction writes: `a` replaces the destination, `b` is pushed (FSINCOS,
/// FPTAN); `out_of_range` leaves the stack alone with C2 set.
pub struct Out {
    pub a: F80,
    pub b: Option<F80>,
    pub out_of_range: bool,
}

fn one(a: F80) -> Out {
    Out {
        a,
        b: None,
        out_of_range: false,
    }
}

/// The fraction bits of pi (after "3."), 512 of them, most significant limb first.
const PI_FRAC: [u64; 8] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
    0x4528_21E6_38D0_1377,
    0xBE54_66CF_34E9_0C6C,
    0xC0AC_29B7_C97C_50DD,
    0x3F84_D5B5_B547_0917,
];

/// A fixed-point number with 512 fraction bits in 10 limbs, least significant first.
type Big = [u64; 10];

fn pio2_fixed() -> Big {
    // pi * 2^512 = 3 : PI_FRAC, then halved.
    let mut b: Big = [0; 10];
    for (i, limb) in PI_FRAC.iter().enumerate() {
        b[7 - i] = *limb;
    }
    b[8] = 3;
    let mut out: Big = [0; 10];
    for i in 0..10 {
        let hi = if i + 1 < 10 { b[i + 1] } else { 0 };
        out[i] = (b[i] >> 1) | (hi << 63);
    }
    out
}

fn big_mul_small(a: &Big, k: u64) -> Big {
    let mut out: Big = [0; 10];
    let mut carry: u128 = 0;
    for i in 0..10 {
        let p = a[i] as u128 * k as u128 + carry;
        out[i] = p as u64;
        carry = p >> 64;
    }
    out
}

/// |a - b| and whether a < b.
fn big_sub_abs(a: &Big, b: &Big) -> (Big, bool) {
    let less = (0..10)
        .rev()
        .find(|&i| a[i] != b[i])
        .is_some_and(|i| a[i] < b[i]);
    let (x, y) = if less { (b, a) } else { (a, b) };
    let mut out: Big = [0; 10];
    let mut borrow = 0u64;
    for i in 0..10 {
        let (d1, b1) = x[i].overflowing_sub(y[i]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        out[i] = d2;
        borrow = (b1 || b2) as u64;
    }
    (out, less)
}

fn big_to_wide(a: &Big, neg: bool) -> W {
    let mut w = W::ZERO;
    for (i, limb) in a.iter().enumerate() {
        w = w.plus(W::new(false, 64 * i as i32 - 512 + 127, *limb as u128));
    }
    if neg {
        w.negated()
    } else {
        w
    }
}

/// |x| reduced modulo pi/2: (r, quadrant) with |r| <= pi/4 (a hair more at worst), for a
/// finite non-zero |x| < 2^63.
fn reduce(x: F80) -> (W, u64) {
    let w = W::from_f80(x.abs());
    let pio4 = W::constant((PI.0 - 2, PI.1));
    if w.mag_lt(pio4) {
        return (w, 0);
    }
    let two_over_pi = W::from_i64(2).over(W::constant(PI));
    let k = w.times(two_over_pi).round_i64() as u64;
    let (_, e, m) = x.abs().unpack();
    // x = m * 2^(e - BIAS - 63); as fixed point with 512 fraction bits: m << (512 + E).
    let sh = 512 + (e - BIAS - 63);
    let mut xb: Big = [0; 10];
    let (limb, bit) = ((sh / 64) as usize, sh % 64);
    xb[limb] = m << bit;
    if bit != 0 && limb + 1 < 10 {
        xb[limb + 1] = m >> (64 - bit);
    }
    let (r, neg) = big_sub_abs(&xb, &big_mul_small(&pio2_fixed(), k));
    (big_to_wide(&r, neg), k & 3)
}

/// sin and cos of |r| <= ~pi/4 by their Taylor series.
fn sin_cos_series(r: W) -> (W, W) {
    let r2 = r.times(r);
    let (mut s, mut ts) = (r, r);
    let (mut c, mut tc) = (W::from_i64(1), W::from_i64(1));
    for n in 1..40i64 {
        ts = ts
            .times(r2)
            .over(W::from_i64((2 * n) * (2 * n + 1)))
            .negated();
        tc = tc
            .times(r2)
            .over(W::from_i64((2 * n - 1) * (2 * n)))
            .negated();
        s = s.plus(ts);
        c = c.plus(tc);
        if (ts.is_zero() || ts.e < s.e - 132) && (tc.is_zero() || tc.e < c.e - 132) {
            break;
        }
    }
    (s, c)
}

/// sin(x), cos(x) for a finite x with |x| < 2^63.
fn sin_cos(x: F80) -> (W, W) {
    if x.is_zero() {
        return (W::ZERO, W::from_i64(1));
    }
    let (r, q) = reduce(x);
    let (s, c) = sin_cos_series(r);
    let (s, c) = match q {
        0 => (s, c),
        1 => (c, s.negated()),
        2 => (s.negated(), c.negated()),
        _ => (c.negated(), s),
    };
    (if x.sign() { s.negated() } else { s }, c)
}

/// Common checks of the one-operand trigonometric functions: NaN, infinity, out of range.
fn trig_special(ctx: &mut Ctx, x: F80) -> Option<Out> {
    match x.class() {
        Class::Unsupported | Class::Infinity => return Some(one(invalid(ctx))),
        Class::QNaN | Class::SNaN => return Some(one(propagate_nan(ctx, x, x))),
        Class::Denormal => ctx.flags |= DE,
        _ => {}
    }
    if x.exp() as i32 >= BIAS + 63 {
        return Some(Out {
            a: x,
            b: None,
            out_of_range: true,
        });
    }
    None
}

fn round_out(ctx: &mut Ctx, w: W, zero_sign: bool) -> F80 {
    if w.is_zero() {
        return F80::zero(zero_sign);
    }
    w.to_f80(ctx)
}

pub fn sin(ctx: &mut Ctx, x: F80) -> Out {
    if let Some(o) = trig_special(ctx, x) {
        return o;
    }
    let (s, _) = sin_cos(x);
    one(round_out(ctx, s, x.sign()))
}

pub fn cos(ctx: &mut Ctx, x: F80) -> Out {
    if let Some(o) = trig_special(ctx, x) {
        return o;
    }
    let (_, c) = sin_cos(x);
    one(round_out(ctx, c, false))
}

pub fn sincos(ctx: &mut Ctx, x: F80) -> Out {
    if let Some(mut o) = trig_special(ctx, x) {
        if !o.out_of_range {
            o.b = Some(o.a);
        }
        return o;
    }
    let (s, c) = sin_cos(x);
    let a = round_out(ctx, s, x.sign());
    let up = ctx.up;
    let b = round_out(ctx, c, false);
    ctx.up |= up;
    Out {
        a,
        b: Some(b),
        out_of_range: false,
    }
}

/// FPTAN: tan(x) replaces ST(0), then 1.0 is pushed.
pub fn ptan(ctx: &mut Ctx, x: F80) -> Out {
    if let Some(mut o) = trig_special(ctx, x) {
        if !o.out_of_range {
            o.b = Some(o.a);
        }
        return o;
    }
    let (s, c) = sin_cos(x);
    let t = if x.is_zero() { W::ZERO } else { s.over(c) };
    Out {
        a: round_out(ctx, t, x.sign()),
        b: Some(F80::ONE),
        out_of_range: false,
    }
}

/// ln(1 + u) for the (exact) pair u = num/den as 2 atanh(num / (2 den + num)).
fn ln1p_ratio(t: W) -> W {
    let t2 = t.times(t);
    let (mut sum, mut pow) = (t, t);
    for n in 1..80i64 {
        pow = pow.times(t2);
        let term = pow.over(W::from_i64(2 * n + 1));
        sum = sum.plus(term);
        if term.is_zero() || term.e < sum.e - 132 {
            break;
        }
    }
    sum.times(W::from_i64(2))
}

/// log2 of a positive finite value.
fn log2(x: F80) -> W {
    let (_, e, m) = x.unpack();
    let mut e = e - BIAS;
    let mut mw = W::new(false, 0, (m as u128) << 64);
    // Keep the significand in [sqrt(1/2), sqrt(2)) so that t stays small.
    if m > 0xB504_F333_F9DE_6484 {
        mw.e -= 1;
        e += 1;
    }
    let one = W::from_i64(1);
    let t = mw.minus(one).over(mw.plus(one));
    let ln = ln1p_ratio(t);
    W::from_i64(e as i64).plus(ln.times(W::constant(L2E)))
}

/// FYL2X: y * log2(x).
pub fn yl2x(ctx: &mut Ctx, y: F80, x: F80) -> Out {
    let (cx, cy) = (x.class(), y.class());
    if cx == Class::Unsupported || cy == Class::Unsupported {
        return one(invalid(ctx));
    }
    if x.is_nan() || y.is_nan() {
        return one(propagate_nan(ctx, y, x));
    }
    if cx == Class::Denormal || cy == Class::Denormal {
        ctx.flags |= DE;
    }
    if x.sign() && !x.is_zero() {
        return one(invalid(ctx));
    }
    if x.is_zero() {
        if y.is_zero() {
            return one(invalid(ctx));
        }
        if !y.is_inf() {
            ctx.flags |= ZE;
        }
        return one(F80::inf(!y.sign()));
    }
    if x.is_inf() {
        if y.is_zero() {
            return one(invalid(ctx));
        }
        return one(F80::inf(y.sign()));
    }
    let l = log2(x);
    if y.is_inf() {
        if l.is_zero() {
            return one(invalid(ctx));
        }
        return one(F80::inf(y.sign() != l.neg));
    }
    if y.is_zero() || l.is_zero() {
        return one(F80::zero(
            y.sign() != (l.neg || (l.is_zero() && x.exp() < BIAS as u16)),
        ));
    }
    one(W::from_f80(y).times(l).to_f80(ctx))
}

/// FYL2XP1: y * log2(1 + x) for small |x|.
pub fn yl2xp1(ctx: &mut Ctx, y: F80, x: F80) -> Out {
    let (cx, cy) = (x.class(), y.class());
    if cx == Class::Unsupported || cy == Class::Unsupported {
        return one(invalid(ctx));
    }
    if x.is_nan() || y.is_nan() {
        return one(propagate_nan(ctx, y, x));
    }
    if cx == Class::Denormal || cy == Class::Denormal {
        ctx.flags |= DE;
    }
    if x.is_inf() || (y.is_inf() && x.is_zero()) {
        return one(invalid(ctx));
    }
    if y.is_inf() {
        return one(F80::inf(y.sign() != x.sign()));
    }
    if x.is_zero() || y.is_zero() {
        return one(F80::zero(y.sign() != x.sign()));
    }
    let xw = W::from_f80(x);
    let t = xw.over(W::from_i64(2).plus(xw));
    let l = ln1p_ratio(t).times(W::constant(L2E));
    one(W::from_f80(y).times(l).to_f80(ctx))
}

/// F2XM1: 2^x - 1 (defined by Intel for |x| <= 1; computed for any finite x).
pub fn f2xm1(ctx: &mut Ctx, x: F80) -> Out {
    match x.class() {
        Class::Unsupported => return one(invalid(ctx)),
        Class::QNaN | Class::SNaN => return one(propagate_nan(ctx, x, x)),
        Class::Zero => return one(x),
        Class::Infinity => return one(if x.sign() { F80::ONE.negated() } else { x }),
        Class::Denormal => ctx.flags |= DE,
        Class::Normal => {}
    }
    let xw = W::from_f80(x);
    // Split off the nearest integer n (|x| large only outside the documented domain).
    let n = if x.exp() as i32 >= BIAS + 16 {
        if x.sign() {
            -(1 << 16)
        } else {
            1 << 16
        }
    } else {
        xw.round_i64()
    };
    let f = xw.minus(W::from_i64(n));
    let z = f.times(W::constant(LN2));
    // expm1(z) by its series.
    let (mut sum, mut term) = (z, z);
    for k in 2..60i64 {
        term = term.times(z).over(W::from_i64(k));
        sum = sum.plus(term);
        if term.is_zero() || term.e < sum.e - 132 {
            break;
        }
    }
    // 2^x - 1 = 2^n (expm1(z) + 1) - 1 = 2^n expm1(z) + (2^n - 1).
    let r = if n == 0 {
        sum
    } else {
        let p2 = W::new(false, n as i32, 1 << 127);
        let mut s2 = sum;
        if !s2.is_zero() {
            s2.e += n as i32;
        }
        s2.plus(p2.minus(W::from_i64(1)))
    };
    one(round_out(ctx, r, x.sign()))
}

/// atan of 0 <= t <= 1.
fn atan_unit(t: W) -> W {
    let pi = W::constant(PI);
    let pio4 = W::new(false, pi.e - 2, pi.m);
    // tan(pi/8) = 0.41421...: above it, atan(t) = pi/4 + atan((t - 1)/(t + 1)).
    let thr = W::new(false, -2, 0xD413_CCCF_E779_9211u128 << 64);
    let one = W::from_i64(1);
    let (base, u) = if thr.mag_lt(t) {
        (pio4, t.minus(one).over(t.plus(one)))
    } else {
        (W::ZERO, t)
    };
    let u2 = u.times(u);
    let (mut sum, mut pow) = (u, u);
    for n in 1..120i64 {
        pow = pow.times(u2).negated();
        let term = pow.over(W::from_i64(2 * n + 1));
        sum = sum.plus(term);
        if term.is_zero() || term.e < sum.e - 132 {
            break;
        }
    }
    base.plus(sum)
}

/// FPATAN: atan(y / x) with the quadrant of (x, y).
pub fn patan(ctx: &mut Ctx, y: F80, x: F80) -> Out {
    let (cx, cy) = (x.class(), y.class());
    if cx == Class::Unsupported || cy == Class::Unsupported {
        return one(invalid(ctx));
    }
    if x.is_nan() || y.is_nan() {
        return one(propagate_nan(ctx, y, x));
    }
    if cx == Class::Denormal || cy == Class::Denormal {
        ctx.flags |= DE;
    }
    let pi = W::constant(PI);
    let half = |w: W, k: i32| W::new(w.neg, w.e - k, w.m);
    let r = if y.is_zero() || (x.is_inf() && !y.is_inf()) {
        // On the x axis.
        if x.sign() {
            pi
        } else {
            W::ZERO
        }
    } else if x.is_zero() || (y.is_inf() && !x.is_inf()) {
        half(pi, 1)
    } else if x.is_inf() {
        // Both infinite.
        if x.sign() {
            pi.times(W::from_i64(3)).over(W::from_i64(4))
        } else {
            half(pi, 2)
        }
    } else {
        let (ax, ay) = (W::from_f80(x.abs()), W::from_f80(y.abs()));
        let mut r = if ay.mag_lt(ax) || ay == ax {
            atan_unit(ay.over(ax))
        } else {
            half(pi, 1).minus(atan_unit(ax.over(ay)))
        };
        if x.sign() {
            r = pi.minus(r);
        }
        r
    };
    let r = if y.sign() { r.negated() } else { r };
    one(round_out(ctx, r, y.sign()))
}

#[cfg(test)]
mod tests {
    use super::super::convert::from_i64;
    use super::super::float80::Rc;
    use super::*;

    fn c() -> Ctx {
        Ctx::new(Rc::Nearest, 64)
    }

    #[test]
    fn pi_fraction_agrees_with_the_pi_constant() {
        // The top 126 fraction bits of PI (after "11.") are PI_FRAC's first bits.
        let from_const = PI.1 << 2;
        let from_frac = ((PI_FRAC[0] as u128) << 64) | PI_FRAC[1] as u128;
        assert_eq!(from_const >> 2, from_frac >> 2);
    }

    #[test]
    fn exact_cases() {
        let mut x = c();
        assert_eq!(yl2x(&mut x, from_i64(5), from_i64(8)).a, from_i64(15));
        assert_eq!(f2xm1(&mut x, F80::ONE).a, F80::ONE);
        assert_eq!(sin(&mut x, F80::ZERO).a, F80::ZERO);
        assert_eq!(cos(&mut x, F80::ZERO).a, F80::ONE);
        assert_eq!(x.flags, 0);
    }

    #[test]
    fn known_values() {
        let mut x = c();
        // sin(1) = 0.8414709848078965066525..., 64-bit significand D76AA47848677020 (C..)
        let s = sin(&mut x, F80::ONE).a;
        assert_eq!(s, F80::new(false, 0x3FFE, 0xD76A_A478_4867_7021));
        // atan(1) = pi/4
        let a = patan(&mut x, F80::ONE, F80::ONE).a;
        assert_eq!(a, F80::new(false, 0x3FFE, 0xC90F_DAA2_2168_C235));
        // sin(pi rounded) = pi - PI_ROUNDED, tiny but exact in sign and magnitude.
        let p = F80::new(false, 0x4000, 0xC90F_DAA2_2168_C235);
        let sp = sin(&mut x, p).a;
        assert!(sp.sign() && sp.exp() < 0x3FC0);
        // Out of range.
        let big = F80::new(false, 0x3FFF + 63, 1 << 63);
        assert!(sin(&mut x, big).out_of_range);
    }
}
