//! A 128-bit-significand binary float used inside the transcendental functions: enough
//! guard bits that the final rounding to 64 bits is right except within ~2^-120 of a
//! rounding boundary. Plain integer arithmetic, host independent.

use super::float80::{Ctx, BIAS, F80};

/// value = (-1)^neg * m * 2^(e - 127); m has bit 127 set unless the value is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct W {
    pub neg: bool,
    pub e: i32,
    pub m: u128,
}

/// Full 128 x 128 -> 256-bit product as (high, low).
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & u64::MAX as u128) + (p10 & u64::MAX as u128);
    let lo = (p00 & u64::MAX as u128) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

impl W {
    pub const ZERO: W = W {
        neg: false,
        e: 0,
        m: 0,
    };

    pub fn new(neg: bool, e: i32, m: u128) -> W {
        if m == 0 {
            return W::ZERO;
        }
        let lz = m.leading_zeros();
        W {
            neg,
            e: e - lz as i32,
            m: m << lz,
        }
    }

    /// A finite extended value.
    pub fn from_f80(a: F80) -> W {
        if a.is_zero() {
            return W::ZERO;
        }
        let (s, e, m) = a.unpack();
        W::new(s, e - BIAS, (m as u128) << 64)
    }

    pub fn from_i64(v: i64) -> W {
        W::new(v < 0, 127, v.unsigned_abs() as u128)
    }

    /// A constant given as (biased exponent, 128-bit significand).
    pub fn constant(c: (i32, u128)) -> W {
        W::new(false, c.0 - BIAS, c.1)
    }

    pub fn is_zero(self) -> bool {
        self.m == 0
    }

    pub fn negated(self) -> W {
        if self.is_zero() {
            self
        } else {
            W {
                neg: !self.neg,
                ..self
            }
        }
    }

    pub fn abs(self) -> W {
        W { neg: false, ..self }
    }

    pub fn times(self, b: W) -> W {
        if self.is_zero() || b.is_zero() {
            return W::ZERO;
        }
        let (hi, lo) = mul_wide(self.m, b.m);
        let neg = self.neg != b.neg;
        if hi >> 127 != 0 {
            W::new(neg, self.e + b.e + 1, hi)
        } else {
            W::new(neg, self.e + b.e, (hi << 1) | (lo >> 127))
        }
    }

    pub fn over(self, b: W) -> W {
        if self.is_zero() || b.is_zero() {
            return W::ZERO;
        }
        let (mut r, d) = (self.m, b.m);
        let mut q: u128 = 0;
        let mut carry = false;
        for _ in 0..128 {
            q <<= 1;
            if carry || r >= d {
                r = r.wrapping_sub(d);
                q |= 1;
            }
            carry = r >> 127 != 0;
            r <<= 1;
        }
        W::new(self.neg != b.neg, self.e - b.e, q)
    }

    pub fn plus(self, b: W) -> W {
        if self.is_zero() {
            return b;
        }
        if b.is_zero() {
            return self;
        }
        let (x, y) = if (self.e, self.m) >= (b.e, b.m) {
            (self, b)
        } else {
            (b, self)
        };
        let d = (x.e - y.e) as u32;
        if d >= 128 {
            return x;
        }
        let ym = y.m >> d;
        if x.neg == y.neg {
            let (s, c) = x.m.overflowing_add(ym);
            if c {
                W::new(x.neg, x.e + 1, (s >> 1) | 1 << 127)
            } else {
                W::new(x.neg, x.e, s)
            }
        } else {
            W::new(x.neg, x.e, x.m - ym)
        }
    }

    pub fn minus(self, b: W) -> W {
        self.plus(b.negated())
    }

    /// Rounds to an extended value at full precision by the context's rounding control.
    pub fn to_f80(self, ctx: &mut Ctx) -> F80 {
        if self.is_zero() {
            return F80::zero(self.neg);
        }
        let mut c = ctx.full();
        let r = c.pack(self.neg, self.e + BIAS, self.m);
        ctx.flags |= c.flags;
        ctx.up = c.up;
        r
    }

    /// Compares magnitudes.
    pub fn mag_lt(self, b: W) -> bool {
        if self.is_zero() {
            return !b.is_zero();
        }
        !b.is_zero() && (self.e, self.m) < (b.e, b.m)
    }

    /// The nearest integer (ties away), for |self| < 2^63.
    pub fn round_i64(self) -> i64 {
        if self.is_zero() || self.e < -1 {
            return 0;
        }
        if self.e >= 63 {
            return if self.neg { i64::MIN } else { i64::MAX };
        }
        let sh = 127 - self.e; // value = m >> sh
        let v = ((self.m >> (sh - 1)) + 1) >> 1;
        let v = v as i64;
        if self.neg {
            -v
        } else {
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_basics() {
        let three = W::from_i64(3);
        let two = W::from_i64(2);
        assert_eq!(three.times(two), W::from_i64(6));
        assert_eq!(three.plus(two), W::from_i64(5));
        assert_eq!(two.minus(three), W::from_i64(-1));
        assert_eq!(W::from_i64(6).over(three), two);
        assert_eq!(W::from_i64(7).over(two).round_i64(), 4);
        assert_eq!(W::from_i64(-5).round_i64(), -5);
    }
}
