//! The 80-bit extended-precision format, the rounding context (precision control, rounding
//! control, exception flags) and the one rounding routine every operation ends in.
//!
//! Values are computed exactly on wide integers and rounded once, so results are correctly
//! rounded and identical on every host: nothing here touches the host FPU.

/// Exception flags, with the bit positions of the x87 status word.
pub const IE: u8 = 0x01;
pub const DE: u8 = 0x02;
pub const ZE: u8 = 0x04;
pub const OE: u8 = 0x08;
pub const UE: u8 = 0x10;
pub const PE: u8 = 0x20;

/// Exponent bias of the extended format.
pub const BIAS: i32 = 16383;
/// The exponent adjustment applied to results of unmasked overflow / underflow.
pub const WRAP: i32 = 24576;

/// An extended-precision value as stored: sign and 15-bit exponent, explicit 64-bit
/// significand (bit 63 is the integer bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct F80 {
    pub se: u16,
    pub sig: u64,
}

/// What an encoding means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Zero,
    /// Exponent 0 with a non-zero significand (includes pseudo-denormals).
    Denormal,
    Normal,
    Infinity,
    QNaN,
    SNaN,
    /// Unnormals, pseudo-NaNs and pseudo-infinities: invalid operands since the 387.
    Unsupported,
}

impl F80 {
    pub const ZERO: F80 = F80 { se: 0, sig: 0 };
    pub const ONE: F80 = F80 {
        se: 0x3FFF,
        sig: 1 << 63,
    };
    /// The real indefinite (default QNaN).
    pub const INDEFINITE: F80 = F80 {
        se: 0xFFFF,
        sig: 0xC000_0000_0000_0000,
    };

    pub const fn new(sign: bool, exp: u16, sig: u64) -> F80 {
        F80 {
            se: ((sign as u16) << 15) | (exp & 0x7FFF),
            sig,
        }
    }
    pub const fn zero(sign: bool) -> F80 {
        F80::new(sign, 0, 0)
    }
    pub const fn inf(sign: bool) -> F80 {
        F80::new(sign, 0x7FFF, 1 << 63)
    }
    #[inline]
    pub fn sign(self) -> bool {
        self.se & 0x8000 != 0
    }
    #[inline]
    pub fn exp(self) -> u16 {
        self.se & 0x7FFF
    }
    pub fn negated(self) -> F80 {
        F80 {
            se: self.se ^ 0x8000,
            sig: self.sig,
        }
    }
    pub fn abs(self) -> F80 {
        F80 {
            se: self.se & 0x7FFF,
            sig: self.sig,
        }
    }
    pub fn with_sign(self, sign: bool) -> F80 {
        F80 {
            se: (self.se & 0x7FFF) | ((sign as u16) << 15),
            sig: self.sig,
        }
    }

    pub fn class(self) -> Class {
        let int = self.sig >> 63 != 0;
        match self.exp() {
            0 if self.sig == 0 => Class::Zero,
            0 => Class::Denormal,
            0x7FFF if !int => Class::Unsupported,
            0x7FFF if self.sig << 1 == 0 => Class::Infinity,
            0x7FFF if self.sig >> 62 & 1 != 0 => Class::QNaN,
            0x7FFF => Class::SNaN,
            _ if !int => Class::Unsupported,
            _ => Class::Normal,
        }
    }
    pub fn is_nan(self) -> bool {
        matches!(self.class(), Class::QNaN | Class::SNaN)
    }
    pub fn is_zero(self) -> bool {
        self.exp() == 0 && self.sig == 0
    }
    pub fn is_denormal(self) -> bool {
        self.exp() == 0 && self.sig != 0
    }
    pub fn is_inf(self) -> bool {
        self.class() == Class::Infinity
    }
    /// The signalling NaN made quiet.
    pub fn quiet(self) -> F80 {
        F80 {
            se: self.se,
            sig: self.sig | 1 << 62,
        }
    }

    /// A finite non-zero value as (sign, exponent, significand) with bit 63 set: denormals
    /// are normalised (their exponent becomes 1 - shift).
    pub fn unpack(self) -> (bool, i32, u64) {
        let exp = (self.exp() as i32).max(1);
        let lz = self.sig.leading_zeros() as i32;
        (self.sign(), exp - lz, self.sig << lz)
    }
}

/// Rounding control (control word bits 10-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rc {
    Nearest = 0,
    Down = 1,
    Up = 2,
    Zero = 3,
}

impl Rc {
    pub fn from_bits(b: u16) -> Rc {
        match b & 3 {
            0 => Rc::Nearest,
            1 => Rc::Down,
            2 => Rc::Up,
            _ => Rc::Zero,
        }
    }
}

/// Settings and results of one operation.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub rc: Rc,
    /// Significand bits results are rounded to (24, 53 or 64).
    pub bits: u32,
    /// Exception masks (control word bits 0-5): an unmasked overflow/underflow delivers a
    /// result with the exponent wrapped by 24576.
    pub masks: u8,
    /// Exceptions raised.
    pub flags: u8,
    /// The last rounding went up in magnitude (reported in C1).
    pub up: bool,
}

impl Ctx {
    pub fn new(rc: Rc, bits: u32) -> Ctx {
        Ctx {
            rc,
            bits,
            masks: 0x3F,
            flags: 0,
            up: false,
        }
    }

    /// The context of control word `cw` (precision control 01, reserved, acts as 64 bits).
    pub fn from_cw(cw: u16) -> Ctx {
        let bits = match (cw >> 8) & 3 {
            0 => 24,
            2 => 53,
            _ => 64,
        };
        let mut c = Ctx::new(Rc::from_bits(cw >> 10), bits);
        c.masks = (cw & 0x3F) as u8;
        c
    }

    /// The same context rounding to full 64-bit precision.
    pub fn full(&self) -> Ctx {
        Ctx { bits: 64, ..*self }
    }

    fn increments(&self, sign: bool, kept_odd: bool, rem: u128, half: u128) -> bool {
        match self.rc {
            Rc::Nearest => rem > half || (rem == half && kept_odd),
            Rc::Zero => false,
            Rc::Down => sign && rem != 0,
            Rc::Up => !sign && rem != 0,
        }
    }

    /// Rounds `sig` (integer bit at 127 when normalised, value `sig * 2^(exp - bias - 127)`)
    /// to `bits` significand bits in an exponent range whose all-ones exponent is `emax`.
    /// Returns the biased exponent field and the significand with its integer bit at 63
    /// (clear for denormals). Overflow gives exponent `emax` with significand 1 << 63
    /// (infinity) or the largest finite value, by rounding mode.
    pub fn round(
        &mut self,
        sign: bool,
        mut exp: i32,
        mut sig: u128,
        bits: u32,
        emax: i32,
    ) -> (i32, u64) {
        self.up = false;
        if sig == 0 {
            return (0, 0);
        }
        let lz = sig.leading_zeros();
        sig <<= lz;
        exp -= lz as i32;
        let drop = 128 - bits;
        let mask = (1u128 << drop) - 1;
        let half = 1u128 << (drop - 1);
        // Rounds `s` at `drop`: (kept bits, inexact, incremented).
        let round_at = |ctx: &Ctx, s: u128| -> (u128, bool, bool) {
            let rem = s & mask;
            let kept = s >> drop;
            let inc = ctx.increments(sign, kept & 1 != 0, rem, half);
            (kept + inc as u128, rem != 0, inc)
        };
        if exp <= 0 {
            let (k, _, _) = round_at(self, sig);
            // Tininess after rounding: tiny unless rounding with an unbounded exponent
            // carries up to the smallest normal.
            let tiny = exp < 0 || k >> bits == 0;
            if self.masks & UE == 0 && exp + WRAP > 0 {
                // Unmasked underflow (tiny before rounding): the exponent wraps.
                self.flags |= UE;
                return self.round(sign, exp + WRAP, sig, bits, emax);
            }
            let s = shr_jam(sig, (1 - exp) as u32);
            let (k, inexact, inc) = round_at(self, s);
            if inexact {
                self.flags |= PE;
                if tiny {
                    self.flags |= UE;
                }
            }
            self.up = inc;
            let out = (k << (64 - bits)) as u64;
            return ((out >> 63) as i32, out);
        }
        let (mut k, inexact, inc) = round_at(self, sig);
        if k >> bits != 0 {
            k >>= 1;
            exp += 1;
        }
        if inexact {
            self.flags |= PE;
        }
        self.up = inc;
        if exp >= emax {
            if self.masks & OE == 0 && exp - WRAP < emax {
                self.flags |= OE;
                return (exp - WRAP, (k << (64 - bits)) as u64);
            }
            self.flags |= OE | PE;
            let to_inf = match self.rc {
                Rc::Nearest => true,
                Rc::Zero => false,
                Rc::Down => sign,
                Rc::Up => !sign,
            };
            self.up = to_inf;
            if to_inf {
                return (emax, 1 << 63);
            }
            return (emax - 1, !0u64 << (64 - bits));
        }
        (exp, (k << (64 - bits)) as u64)
    }

    /// Rounds to an extended value at this context's precision.
    pub fn pack(&mut self, sign: bool, exp: i32, sig: u128) -> F80 {
        self.pack_bits(sign, exp, sig, self.bits)
    }

    /// Rounds to an extended value with `bits` significand bits.
    pub fn pack_bits(&mut self, sign: bool, exp: i32, sig: u128, bits: u32) -> F80 {
        let (e, s) = self.round(sign, exp, sig, bits, 0x7FFF);
        F80::new(sign, e as u16, s)
    }
}

/// Shifts right, folding every bit shifted out into bit 0 (the sticky bit).
#[inline]
pub fn shr_jam(v: u128, n: u32) -> u128 {
    if n == 0 {
        v
    } else if n >= 128 {
        (v != 0) as u128
    } else {
        (v >> n) | ((v << (128 - n)) != 0) as u128
    }
}
