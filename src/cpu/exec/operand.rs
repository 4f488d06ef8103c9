//! Operand access shared by the handlers: registers by `iced_x86::Register`, effective
//! addresses, and "r/m" locations that are read and then written without decoding twice.

use iced_x86::{OpKind, Register};

use super::Op;
use crate::cpu::exception::Exception;
use crate::cpu::state::Seg;
use crate::cpu::Cpu;

/// General register number (0-7) of an 8/16/32-bit register, segment number (0-5) of a
/// segment register, by `Register` value.
const fn build_reg_index() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 8 {
        t[Register::AL as usize + i] = i as u8;
        t[Register::AX as usize + i] = i as u8;
        t[Register::EAX as usize + i] = i as u8;
        i += 1;
    }
    let mut s = 0;
    while s < 6 {
        t[Register::ES as usize + s] = s as u8;
        s += 1;
    }
    t
}

static REG_INDEX: [u8; 256] = build_reg_index();

/// Number of a general or segment register (0-7 / 0-5).
#[inline(always)]
pub fn reg_index(r: Register) -> usize {
    REG_INDEX[r as usize] as usize
}

/// Segment register of a `Register::ES..GS` value.
#[inline(always)]
pub fn seg_of(r: Register) -> Seg {
    Seg::from_index(reg_index(r))
}

/// Where an r/m operand lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    Reg(usize),
    Mem(Seg, u32),
}

impl Cpu {
    /// 8-bit register n: AL, CL, DL, BL, AH, CH, DH, BH.
    #[inline(always)]
    pub fn reg8(&self, n: usize) -> u8 {
        if n < 4 {
            self.gpr[n] as u8
        } else {
            (self.gpr[n & 3] >> 8) as u8
        }
    }

    #[inline(always)]
    pub fn set_reg8(&mut self, n: usize, v: u8) {
        if n < 4 {
            self.gpr[n] = (self.gpr[n] & !0xFF) | v as u32;
        } else {
            let r = &mut self.gpr[n & 3];
            *r = (*r & !0xFF00) | (v as u32) << 8;
        }
    }

    #[inline(always)]
    pub fn reg16(&self, n: usize) -> u16 {
        self.gpr[n] as u16
    }

    #[inline(always)]
    pub fn set_reg16(&mut self, n: usize, v: u16) {
        self.gpr[n] = (self.gpr[n] & !0xFFFF) | v as u32;
    }

    #[inline(always)]
    pub fn reg32(&self, n: usize) -> u32 {
        self.gpr[n]
    }

    #[inline(always)]
    pub fn set_reg32(&mut self, n: usize, v: u32) {
        self.gpr[n] = v;
    }

    /// Effective address (offset) of the instruction's memory operand.
    #[inline(always)]
    pub fn ea(&self, op: &Op) -> u32 {
        let m = &op.mem;
        let base = self.gpr[m.base as usize & 7] & m.base_mask;
        let index = (self.gpr[m.index as usize & 7] & m.index_mask) << m.shift;
        m.disp.wrapping_add(base).wrapping_add(index) & m.addr_mask
    }

    /// Segment and offset of the memory operand.
    #[inline(always)]
    pub fn mem_operand(&self, op: &Op) -> (Seg, u32) {
        (op.mem.seg, self.ea(op))
    }

    /// Location of operand `n`, which must be a register or memory.
    #[inline(always)]
    pub fn loc(&self, op: &Op, n: u32) -> Loc {
        if op.op_kind(n) == OpKind::Register {
            Loc::Reg(reg_index(op.op_register(n)))
        } else {
            let (s, o) = self.mem_operand(op);
            Loc::Mem(s, o)
        }
    }

    #[inline(always)]
    pub fn get8(&mut self, l: Loc) -> Result<u8, Exception> {
        match l {
            Loc::Reg(n) => Ok(self.reg8(n)),
            Loc::Mem(s, o) => self.read8(s, o),
        }
    }
    #[inline(always)]
    pub fn get16(&mut self, l: Loc) -> Result<u16, Exception> {
        match l {
            Loc::Reg(n) => Ok(self.reg16(n)),
            Loc::Mem(s, o) => self.read16(s, o),
        }
    }
    #[inline(always)]
    pub fn get32(&mut self, l: Loc) -> Result<u32, Exception> {
        match l {
            Loc::Reg(n) => Ok(self.gpr[n]),
            Loc::Mem(s, o) => self.read32(s, o),
        }
    }
    #[inline(always)]
    pub fn put8(&mut self, l: Loc, v: u8) -> Result<(), Exception> {
        match l {
            Loc::Reg(n) => {
                self.set_reg8(n, v);
                Ok(())
            }
            Loc::Mem(s, o) => self.write8(s, o, v),
        }
    }
    #[inline(always)]
    pub fn put16(&mut self, l: Loc, v: u16) -> Result<(), Exception> {
        match l {
            Loc::Reg(n) => {
                self.set_reg16(n, v);
                Ok(())
            }
            Loc::Mem(s, o) => self.write16(s, o, v),
        }
    }
    #[inline(always)]
    pub fn put32(&mut self, l: Loc, v: u32) -> Result<(), Exception> {
        match l {
            Loc::Reg(n) => {
                self.gpr[n] = v;
                Ok(())
            }
            Loc::Mem(s, o) => self.write32(s, o, v),
        }
    }

    /// Reads a location of `bits` (8, 16 or 32) bits.
    #[inline(always)]
    pub fn get_bits(&mut self, l: Loc, bits: u32) -> Result<u32, Exception> {
        Ok(match bits {
            8 => self.get8(l)? as u32,
            16 => self.get16(l)? as u32,
            _ => self.get32(l)?,
        })
    }

    /// Writes a location of `bits` (8, 16 or 32) bits.
    #[inline(always)]
    pub fn put_bits(&mut self, l: Loc, bits: u32, v: u32) -> Result<(), Exception> {
        match bits {
            8 => self.put8(l, v as u8),
            16 => self.put16(l, v as u16),
            _ => self.put32(l, v),
        }
    }

    /// Reads operand `n` of any kind (register, memory, immediate) as 8 bits.
    #[inline(always)]
    pub fn op8(&mut self, op: &Op, n: u32) -> Result<u8, Exception> {
        match op.op_kind(n) {
            OpKind::Register => Ok(self.reg8(reg_index(op.op_register(n)))),
            OpKind::Memory => {
                let (s, o) = self.mem_operand(op);
                self.read8(s, o)
            }
            OpKind::Immediate8_2nd => Ok(op.immediate8_2nd()),
            _ => Ok(op.immediate8()),
        }
    }

    /// Reads operand `n` as 16 bits (immediates sign-extended as encoded).
    #[inline(always)]
    pub fn op16(&mut self, op: &Op, n: u32) -> Result<u16, Exception> {
        match op.op_kind(n) {
            OpKind::Register => Ok(self.reg16(reg_index(op.op_register(n)))),
            OpKind::Memory => {
                let (s, o) = self.mem_operand(op);
                self.read16(s, o)
            }
            OpKind::Immediate16 => Ok(op.immediate16()),
            OpKind::Immediate8to16 => Ok(op.immediate8to16() as u16),
            OpKind::Immediate8 => Ok(op.immediate8() as u16),
            _ => Ok(op.immediate(n) as u16),
        }
    }

    /// Reads operand `n` as 32 bits (immediates sign-extended as encoded).
    #[inline(always)]
    pub fn op32(&mut self, op: &Op, n: u32) -> Result<u32, Exception> {
        match op.op_kind(n) {
            OpKind::Register => Ok(self.gpr[reg_index(op.op_register(n))]),
            OpKind::Memory => {
                let (s, o) = self.mem_operand(op);
                self.read32(s, o)
            }
            OpKind::Immediate32 => Ok(op.immediate32()),
            OpKind::Immediate8to32 => Ok(op.immediate8to32() as u32),
            OpKind::Immediate8 => Ok(op.immediate8() as u32),
            _ => Ok(op.immediate(n) as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::CpuModel;

    #[test]
    fn register_numbers_follow_encoding_order() {
        assert_eq!(reg_index(Register::AL), 0);
        assert_eq!(reg_index(Register::BH), 7);
        assert_eq!(reg_index(Register::DI), 7);
        assert_eq!(reg_index(Register::ESP), 4);
        assert_eq!(reg_index(Register::GS), 5);
        assert_eq!(seg_of(Register::SS), Seg::Ss);
    }

    #[test]
    fn high_byte_registers() {
        let mut c = Cpu::new(CpuModel::P6, 1 << 16);
        c.gpr[0] = 0x1122_3344;
        assert_eq!(c.reg8(4), 0x33);
        c.set_reg8(4, 0xAA);
        assert_eq!(c.gpr[0], 0x1122_AA44);
        c.set_reg16(0, 0xBEEF);
        assert_eq!(c.gpr[0], 0x1122_BEEF);
    }
}
