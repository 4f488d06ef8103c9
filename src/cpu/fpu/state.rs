//! The FPU's registers: the eight-register stack, control, status and tag words, and the
//! last-instruction pointers; stack push/pop with overflow/underflow detection.

use super::float80::{Class, Ctx, F80, IE};

/// Status word bits.
pub const SW_SF: u16 = 1 << 6;
pub const SW_ES: u16 = 1 << 7;
pub const SW_C0: u16 = 1 << 8;
pub const SW_C1: u16 = 1 << 9;
pub const SW_C2: u16 = 1 << 10;
pub const SW_C3: u16 = 1 << 14;
pub const SW_B: u16 = 1 << 15;
pub const SW_CC: u16 = SW_C0 | SW_C1 | SW_C2 | SW_C3;

/// Tag values.
pub const TAG_VALID: u16 = 0;
pub const TAG_ZERO: u16 = 1;
pub const TAG_SPECIAL: u16 = 2;
pub const TAG_EMPTY: u16 = 3;

#[derive(Clone, Debug)]
pub struct Fpu {
    /// Physical registers R0-R7; ST(i) is R((TOP + i) mod 8).
    pub regs: [F80; 8],
    pub cw: u16,
    /// Status word with TOP in bits 11-13.
    pub sw: u16,
    /// Two bits per physical register.
    pub tag: u16,
    /// Last non-control instruction: offset, selector and opcode (11 bits); last operand.
    pub fip: u32,
    pub fcs: u16,
    pub fop: u16,
    pub fdp: u32,
    pub fds: u16,
}

impl Default for Fpu {
    fn default() -> Fpu {
        let mut f = Fpu {
            regs: [F80::ZERO; 8],
            cw: 0,
            sw: 0,
            tag: 0,
            fip: 0,
            fcs: 0,
            fop: 0,
            fdp: 0,
            fds: 0,
        };
        f.reset();
        f
    }
}

/// The tag a value gets when written to a register.
pub fn tag_of(v: F80) -> u16 {
    match v.class() {
        Class::Normal => TAG_VALID,
        Class::Zero => TAG_ZERO,
        _ => TAG_SPECIAL,
    }
}

impl Fpu {
    /// The state after RESET (Intel SDM: FCW 0040h, FSW 0, FTW 5555h, registers +0).
    pub fn reset(&mut self) {
        self.init();
        self.cw = 0x0040;
        self.tag = 0x5555;
        self.regs = [F80::ZERO; 8];
    }

    /// FNINIT: FCW 037Fh, FSW 0, all registers empty, pointers cleared.
    pub fn init(&mut self) {
        self.cw = 0x037F;
        self.sw = 0;
        self.tag = 0xFFFF;
        self.fip = 0;
        self.fcs = 0;
        self.fop = 0;
        self.fdp = 0;
        self.fds = 0;
    }

    #[inline]
    pub fn top(&self) -> usize {
        ((self.sw >> 11) & 7) as usize
    }
    pub fn set_top(&mut self, t: usize) {
        self.sw = (self.sw & !(7 << 11)) | ((t as u16 & 7) << 11);
    }
    #[inline]
    pub fn phys(&self, i: usize) -> usize {
        (self.top() + i) & 7
    }
    pub fn tag_at(&self, phys: usize) -> u16 {
        (self.tag >> (2 * phys)) & 3
    }
    pub fn set_tag(&mut self, phys: usize, t: u16) {
        self.tag = (self.tag & !(3 << (2 * phys))) | (t << (2 * phys));
    }
    pub fn is_empty(&self, i: usize) -> bool {
        self.tag_at(self.phys(i)) == TAG_EMPTY
    }
    pub fn st(&self, i: usize) -> F80 {
        self.regs[self.phys(i)]
    }
    pub fn set_st(&mut self, i: usize, v: F80) {
        let p = self.phys(i);
        self.regs[p] = v;
        self.set_tag(p, tag_of(v));
    }
    /// Makes room for a new ST(0) and stores `v` there (the caller has checked overflow).
    pub fn push(&mut self, v: F80) {
        let t = (self.top() + 7) & 7;
        self.set_top(t);
        self.set_st(0, v);
    }
    pub fn pop(&mut self) {
        let p = self.phys(0);
        self.set_tag(p, TAG_EMPTY);
        self.set_top(p + 1);
    }

    /// The rounding context of the control word.
    pub fn ctx(&self) -> Ctx {
        Ctx::from_cw(self.cw)
    }

    /// Records exception flags; unmasked ones set the error summary and busy bits.
    pub fn raise(&mut self, flags: u8) {
        self.sw |= flags as u16;
        self.update_es();
    }

    /// ES and B follow the unmasked exception flags (FLDCW, FLDENV and FRSTOR re-evaluate).
    pub fn update_es(&mut self) {
        if self.sw & !self.cw & 0x3F != 0 {
            self.sw |= SW_ES | SW_B;
        } else {
            self.sw &= !(SW_ES | SW_B);
        }
    }

    /// Whether the invalid-operation exception is masked.
    pub fn im(&self) -> bool {
        self.cw & IE as u16 != 0
    }

    /// Stack overflow or underflow: IE and SF, C1 = 1 for overflow.
    pub fn stack_fault(&mut self, overflow: bool) {
        self.set_c1(overflow);
        self.sw |= SW_SF;
        self.raise(IE);
    }

    pub fn set_c1(&mut self, v: bool) {
        self.sw = (self.sw & !SW_C1) | if v { SW_C1 } else { 0 };
    }

    /// Sets C3, C2, C0 (C1 unchanged).
    pub fn set_c320(&mut self, c3: bool, c2: bool, c0: bool) {
        self.sw &= !(SW_C3 | SW_C2 | SW_C0);
        if c3 {
            self.sw |= SW_C3;
        }
        if c2 {
            self.sw |= SW_C2;
        }
        if c0 {
            self.sw |= SW_C0;
        }
    }

    /// The tag word abridged to one bit per register (FXSAVE).
    pub fn abridged_tag(&self) -> u8 {
        (0..8).fold(0u8, |acc, p| {
            acc | (((self.tag_at(p) != TAG_EMPTY) as u8) << p)
        })
    }

    /// Tags recomputed from register contents for an FXRSTOR abridged tag byte.
    pub fn tag_from_abridged(&mut self, t: u8) {
        for p in 0..8 {
            let tag = if t >> p & 1 == 0 {
                TAG_EMPTY
            } else {
                tag_of(self.regs[p])
            };
            self.set_tag(p, tag);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_move_top_and_tags() {
        let mut f = Fpu::default();
        f.init();
        f.push(F80::ONE);
        assert_eq!(f.top(), 7);
        assert_eq!(f.tag, 0x3FFF);
        f.push(F80::ZERO);
        assert_eq!(f.tag, 0x1FFF);
        assert_eq!(f.st(1), F80::ONE);
        f.pop();
        f.pop();
        assert_eq!((f.top(), f.tag), (0, 0xFFFF));
    }

    #[test]
    fn unmasked_exceptions_set_es() {
        let mut f = Fpu::default();
        f.init();
        f.raise(super::super::float80::PE);
        assert_eq!(f.sw & SW_ES, 0);
        f.cw &= !1;
        f.raise(IE);
        assert_eq!(f.sw & (SW_ES | SW_B), SW_ES | SW_B);
    }
}
