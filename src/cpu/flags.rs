//! Lazy evaluation of the arithmetic status flags.
//!
//! Flag-setting instructions record their operation, operands and result; CF/PF/AF/ZF/SF/OF
//! are computed only when something reads them. Most results are overwritten before anyone
//! looks, so this saves work on almost every ALU instruction.

use super::state::{Flags, STATUS_FLAGS};
use super::Cpu;

/// The last flag-setting operation whose flags have not been materialised yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FlagOp {
    /// All flags are up to date in `Cpu::eflags`.
    None,
    Add,
    /// ADC: `carry` holds the carry-in.
    Adc,
    Sub,
    /// SBB: `carry` holds the borrow-in.
    Sbb,
    /// AND/OR/XOR/TEST: CF=OF=AF=0.
    Logic,
    /// INC: like ADD with b=1, CF kept from `eflags`.
    Inc,
    /// DEC: like SUB with b=1, CF kept from `eflags`.
    Dec,
    /// SHL/SHR/SAR by a non-zero count: `carry` is CF, `b` is OF (0 or 1), AF=0; SF, ZF
    /// and PF come from the result.
    Shift,
}

/// Operand/result record for lazy flags. Values are already truncated to the operand size.
#[derive(Clone, Copy, Debug)]
pub struct LazyFlags {
    pub op: FlagOp,
    /// Mask of the operand size: 0xFF, 0xFFFF or 0xFFFF_FFFF.
    pub mask: u32,
    pub a: u32,
    pub b: u32,
    pub res: u32,
    pub carry: bool,
}

impl Default for LazyFlags {
    fn default() -> Self {
        LazyFlags {
            op: FlagOp::None,
            mask: 0xFF,
            a: 0,
            b: 0,
            res: 0,
            carry: false,
        }
    }
}

/// Size of an operation, as the mask of its bits.
pub const MASK8: u32 = 0xFF;
pub const MASK16: u32 = 0xFFFF;
pub const MASK32: u32 = 0xFFFF_FFFF;

#[inline]
pub fn sign_bit(mask: u32) -> u32 {
    mask ^ (mask >> 1)
}

#[inline]
pub fn parity(v: u32) -> bool {
    (v as u8).count_ones() & 1 == 0
}

impl LazyFlags {
    #[inline]
    fn cf(&self, stored: u32) -> bool {
        match self.op {
            FlagOp::None | FlagOp::Inc | FlagOp::Dec => stored & Flags::CF.bits() != 0,
            FlagOp::Add => self.res < self.a,
            FlagOp::Adc => self.res < self.a || (self.carry && self.res == self.a),
            FlagOp::Sub => self.a < self.b,
            FlagOp::Sbb => (self.a as u64) < self.b as u64 + self.carry as u64,
            FlagOp::Logic => false,
            FlagOp::Shift => self.carry,
        }
    }

    #[inline]
    fn of(&self, stored: u32) -> bool {
        let sign = sign_bit(self.mask);
        match self.op {
            FlagOp::None => stored & Flags::OF.bits() != 0,
            FlagOp::Add | FlagOp::Adc | FlagOp::Inc => {
                (self.a ^ self.res) & (self.b ^ self.res) & sign != 0
            }
            FlagOp::Sub | FlagOp::Sbb | FlagOp::Dec => {
                (self.a ^ self.b) & (self.a ^ self.res) & sign != 0
            }
            FlagOp::Logic => false,
            FlagOp::Shift => self.b != 0,
        }
    }

    /// All six status flags as EFLAGS bits.
    #[inline]
    fn status(&self, stored: u32) -> u32 {
        if self.op == FlagOp::None {
            return stored & STATUS_FLAGS;
        }
        let mut f = 0;
        if self.cf(stored) {
            f |= Flags::CF.bits();
        }
        if parity(self.res) {
            f |= Flags::PF.bits();
        }
        let no_af = matches!(self.op, FlagOp::Logic | FlagOp::Shift);
        if !no_af && (self.a ^ self.b ^ self.res) & 0x10 != 0 {
            f |= Flags::AF.bits();
        }
        if self.res == 0 {
            f |= Flags::ZF.bits();
        }
        if self.res & sign_bit(self.mask) != 0 {
            f |= Flags::SF.bits();
        }
        if self.of(stored) {
            f |= Flags::OF.bits();
        }
        f
    }
}

impl Cpu {
    /// Records an arithmetic result for lazy flag evaluation.
    #[inline]
    pub fn set_lazy(&mut self, op: FlagOp, mask: u32, a: u32, b: u32, res: u32) {
        if matches!(op, FlagOp::Inc | FlagOp::Dec)
            && !matches!(self.lazy.op, FlagOp::Inc | FlagOp::Dec)
        {
            // INC/DEC keep CF: the record being replaced holds it.
            self.cf_source = self.lazy;
        }
        self.lazy = LazyFlags {
            op,
            mask,
            a: a & mask,
            b: b & mask,
            res: res & mask,
            carry: false,
        };
    }

    /// Records an ADC/SBB result, whose flags also depend on the carry-in.
    #[inline]
    pub fn set_lazy_carry(&mut self, op: FlagOp, mask: u32, a: u32, b: u32, res: u32, c: bool) {
        self.lazy = LazyFlags {
            op,
            mask,
            a: a & mask,
            b: b & mask,
            res: res & mask,
            carry: c,
        };
    }

    /// The stored EFLAGS with the CF a pending INC/DEC record keeps (see `cf_source`).
    #[inline]
    fn stored_flags(&self) -> u32 {
        if matches!(self.lazy.op, FlagOp::Inc | FlagOp::Dec) {
            let cf = self.cf_source.cf(self.eflags);
            (self.eflags & !Flags::CF.bits()) | cf as u32
        } else {
            self.eflags
        }
    }

    /// The complete EFLAGS value with the status flags materialised.
    #[inline]
    pub fn eflags(&self) -> u32 {
        (self.eflags & !STATUS_FLAGS) | self.lazy.status(self.stored_flags())
    }

    /// Writes the status flags from `bits` (only the bits in `which` change) and drops any
    /// pending lazy record.
    #[inline]
    pub fn set_status_flags(&mut self, which: u32, bits: u32) {
        let cur = self.eflags();
        self.eflags = (cur & !which) | (bits & which);
        self.lazy.op = FlagOp::None;
    }

    /// Replaces the whole EFLAGS register (bits not writable on this model are fixed).
    pub fn load_eflags_raw(&mut self, v: u32) {
        self.eflags = v;
        self.lazy.op = FlagOp::None;
        // EFLAGS.VM decides CPL 3 in virtual-8086 mode.
        self.refresh_fast_key();
    }

    #[inline]
    pub fn cf(&self) -> bool {
        if matches!(self.lazy.op, FlagOp::Inc | FlagOp::Dec) {
            self.cf_source.cf(self.eflags)
        } else {
            self.lazy.cf(self.eflags)
        }
    }
    #[inline]
    pub fn of(&self) -> bool {
        self.lazy.of(self.eflags)
    }
    #[inline]
    pub fn zf(&self) -> bool {
        if self.lazy.op == FlagOp::None {
            self.eflags & Flags::ZF.bits() != 0
        } else {
            self.lazy.res == 0
        }
    }
    #[inline]
    pub fn sf(&self) -> bool {
        if self.lazy.op == FlagOp::None {
            self.eflags & Flags::SF.bits() != 0
        } else {
            self.lazy.res & sign_bit(self.lazy.mask) != 0
        }
    }
    #[inline]
    pub fn pf(&self) -> bool {
        if self.lazy.op == FlagOp::None {
            self.eflags & Flags::PF.bits() != 0
        } else {
            parity(self.lazy.res)
        }
    }
    #[inline]
    pub fn af(&self) -> bool {
        self.eflags() & Flags::AF.bits() != 0
    }
    #[inline]
    pub fn df(&self) -> bool {
        self.eflags & Flags::DF.bits() != 0
    }
    #[inline]
    pub fn set_flag(&mut self, flag: Flags, on: bool) {
        if STATUS_FLAGS & flag.bits() != 0 {
            self.set_status_flags(flag.bits(), if on { flag.bits() } else { 0 });
        } else if on {
            self.eflags |= flag.bits();
        } else {
            self.eflags &= !flag.bits();
        }
    }

    /// Evaluates condition code `cc` (the low nibble of Jcc/SETcc/CMOVcc opcodes).
    #[inline(always)]
    pub fn condition(&self, cc: u8) -> bool {
        let r = match cc >> 1 {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        r ^ (cc & 1 != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CpuModel;

    fn cpu() -> Cpu {
        Cpu::new(CpuModel::P6, 1 << 20)
    }

    #[test]
    fn add_flags() {
        let mut c = cpu();
        c.set_lazy(FlagOp::Add, MASK8, 0xFF, 0x01, 0x100);
        let f = c.eflags();
        assert_ne!(f & Flags::CF.bits(), 0);
        assert_ne!(f & Flags::ZF.bits(), 0);
        assert_ne!(f & Flags::AF.bits(), 0);
        assert_eq!(f & Flags::OF.bits(), 0);
        c.set_lazy(FlagOp::Add, MASK16, 0x7FFF, 1, 0x8000);
        let f = c.eflags();
        assert_ne!(f & Flags::OF.bits(), 0);
        assert_ne!(f & Flags::SF.bits(), 0);
        assert_eq!(f & Flags::CF.bits(), 0);
    }

    #[test]
    fn inc_keeps_carry() {
        let mut c = cpu();
        c.set_lazy(FlagOp::Sub, MASK32, 0, 1, 0xFFFF_FFFF);
        assert!(c.cf());
        c.set_lazy(FlagOp::Inc, MASK32, 0xFFFF_FFFF, 1, 0);
        assert!(c.cf());
        assert!(c.zf());
        c.set_lazy(FlagOp::Dec, MASK32, 0, 1, 0xFFFF_FFFF);
        assert!(c.cf(), "CF survives two INC/DEC in a row");
        assert_ne!(
            c.eflags() & Flags::CF.bits(),
            0,
            "materialised EFLAGS keep it too"
        );
        // Writing other status flags materialises the kept CF into EFLAGS.
        c.set_status_flags(Flags::ZF.bits(), 0);
        assert!(c.cf());
        c.set_lazy(FlagOp::Add, MASK32, 1, 1, 2);
        c.set_lazy(FlagOp::Inc, MASK32, 2, 1, 3);
        assert!(!c.cf(), "a later record replaces the kept CF");
    }

    #[test]
    fn shift_record() {
        let mut c = cpu();
        c.set_lazy_carry(FlagOp::Shift, MASK32, 0, 1, 0x8000_0000, true);
        let f = c.eflags();
        assert_ne!(f & Flags::CF.bits(), 0);
        assert_ne!(f & Flags::OF.bits(), 0);
        assert_ne!(f & Flags::SF.bits(), 0);
        assert_ne!(
            f & Flags::PF.bits(),
            0,
            "no bits set in the low byte: even parity"
        );
        assert_eq!(f & (Flags::ZF.bits() | Flags::AF.bits()), 0);
        // INC after a shift keeps the shift's CF.
        c.set_lazy(FlagOp::Inc, MASK32, 5, 1, 6);
        assert!(c.cf());
    }

    #[test]
    fn sbb_borrow() {
        let mut c = cpu();
        c.set_lazy_carry(FlagOp::Sbb, MASK8, 5, 5, 0xFF, true);
        assert!(c.cf());
        c.set_lazy_carry(FlagOp::Sbb, MASK8, 5, 4, 0, true);
        assert!(!c.cf());
        assert!(c.zf());
    }

    #[test]
    fn conditions() {
        let mut c = cpu();
        // cmp 1, 2: below, less, not equal
        c.set_lazy(FlagOp::Sub, MASK32, 1, 2, 1u32.wrapping_sub(2));
        assert!(c.condition(0x2)); // B
        assert!(c.condition(0xC)); // L
        assert!(c.condition(0x5)); // NE
        assert!(!c.condition(0xF)); // G
        assert!(c.condition(0x6)); // BE
    }
}
