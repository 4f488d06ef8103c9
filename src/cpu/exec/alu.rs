//! ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST, INC, DEC, NEG, NOT in every form.

use iced_x86::{Code, Mnemonic};

use super::{Op, Table};
use crate::cpu::exception::Exec;
use crate::cpu::flags::{FlagOp, MASK16, MASK32, MASK8};
use crate::cpu::Cpu;

/// The eight classic ALU operations, in opcode order.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum AluOp {
    Add = 0,
    Or = 1,
    Adc = 2,
    Sbb = 3,
    And = 4,
    Sub = 5,
    Xor = 6,
    Cmp = 7,
}

pub(super) const ADD: u8 = AluOp::Add as u8;
pub(super) const OR: u8 = AluOp::Or as u8;
pub(super) const ADC: u8 = AluOp::Adc as u8;
pub(super) const SBB: u8 = AluOp::Sbb as u8;
pub(super) const AND: u8 = AluOp::And as u8;
pub(super) const SUB: u8 = AluOp::Sub as u8;
pub(super) const XOR: u8 = AluOp::Xor as u8;
pub(super) const CMP: u8 = AluOp::Cmp as u8;
/// TEST: AND without writing the result.
pub(super) const TEST: u8 = 8;

/// Computes `a OP b` at the size given by `mask` and records the flags.
#[inline(always)]
pub(super) fn compute<const OP: u8>(cpu: &mut Cpu, mask: u32, a: u32, b: u32) -> u32 {
    match OP {
        ADD => {
            let r = a.wrapping_add(b) & mask;
            cpu.set_lazy(FlagOp::Add, mask, a, b, r);
            r
        }
        ADC => {
            let c = cpu.cf();
            let r = a.wrapping_add(b).wrapping_add(c as u32) & mask;
            cpu.set_lazy_carry(FlagOp::Adc, mask, a, b, r, c);
            r
        }
        SBB => {
            let c = cpu.cf();
            let r = a.wrapping_sub(b).wrapping_sub(c as u32) & mask;
            cpu.set_lazy_carry(FlagOp::Sbb, mask, a, b, r, c);
            r
        }
        SUB | CMP => {
            let r = a.wrapping_sub(b) & mask;
            cpu.set_lazy(FlagOp::Sub, mask, a, b, r);
            r
        }
        OR => {
            let r = a | b;
            cpu.set_lazy(FlagOp::Logic, mask, 0, 0, r);
            r
        }
        XOR => {
            let r = a ^ b;
            cpu.set_lazy(FlagOp::Logic, mask, 0, 0, r);
            r
        }
        _ => {
            let r = a & b;
            cpu.set_lazy(FlagOp::Logic, mask, 0, 0, r);
            r
        }
    }
}

const fn writes_result(op: u8) -> bool {
    op != CMP && op != TEST
}

fn alu8<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let dst = cpu.loc(op, 0);
    let a = cpu.get8(dst)? as u32;
    let b = cpu.op8(op, 1)? as u32;
    if writes_result(OP) {
        // Write first so a faulting write leaves the flags untouched.
        let r = peek::<OP>(cpu, MASK8, a, b);
        cpu.put8(dst, r as u8)?;
    }
    compute::<OP>(cpu, MASK8, a, b);
    Ok(())
}

fn alu16<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let dst = cpu.loc(op, 0);
    let a = cpu.get16(dst)? as u32;
    let b = cpu.op16(op, 1)? as u32;
    if writes_result(OP) {
        let r = peek::<OP>(cpu, MASK16, a, b);
        cpu.put16(dst, r as u16)?;
    }
    compute::<OP>(cpu, MASK16, a, b);
    Ok(())
}

fn alu32<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let dst = cpu.loc(op, 0);
    let a = cpu.get32(dst)?;
    let b = cpu.op32(op, 1)?;
    if writes_result(OP) {
        let r = peek::<OP>(cpu, MASK32, a, b);
        cpu.put32(dst, r)?;
    }
    compute::<OP>(cpu, MASK32, a, b);
    Ok(())
}

/// The result of `a OP b` without touching flags.
#[inline(always)]
pub(super) fn peek<const OP: u8>(cpu: &Cpu, mask: u32, a: u32, b: u32) -> u32 {
    let r = match OP {
        ADD => a.wrapping_add(b),
        ADC => a.wrapping_add(b).wrapping_add(cpu.cf() as u32),
        SBB => a.wrapping_sub(b).wrapping_sub(cpu.cf() as u32),
        SUB | CMP => a.wrapping_sub(b),
        OR => a | b,
        XOR => a ^ b,
        _ => a & b,
    };
    r & mask
}

fn inc_dec<const DEC: bool>(cpu: &mut Cpu, op: &Op, mask: u32) -> Exec {
    let dst = cpu.loc(op, 0);
    let a = match mask {
        MASK8 => cpu.get8(dst)? as u32,
        MASK16 => cpu.get16(dst)? as u32,
        _ => cpu.get32(dst)?,
    };
    let r = if DEC {
        a.wrapping_sub(1)
    } else {
        a.wrapping_add(1)
    } & mask;
    put_sized(cpu, dst, mask, r)?;
    cpu.set_lazy(if DEC { FlagOp::Dec } else { FlagOp::Inc }, mask, a, 1, r);
    Ok(())
}

fn inc8(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<false>(cpu, op, MASK8)
}
fn inc16(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<false>(cpu, op, MASK16)
}
fn inc32(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<false>(cpu, op, MASK32)
}
fn dec8(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<true>(cpu, op, MASK8)
}
fn dec16(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<true>(cpu, op, MASK16)
}
fn dec32(cpu: &mut Cpu, op: &Op) -> Exec {
    inc_dec::<true>(cpu, op, MASK32)
}

#[inline(always)]
fn put_sized(cpu: &mut Cpu, dst: super::operand::Loc, mask: u32, v: u32) -> Exec {
    match mask {
        MASK8 => cpu.put8(dst, v as u8),
        MASK16 => cpu.put16(dst, v as u16),
        _ => cpu.put32(dst, v),
    }
}

fn get_sized(
    cpu: &mut Cpu,
    dst: super::operand::Loc,
    mask: u32,
) -> Result<u32, crate::cpu::Exception> {
    Ok(match mask {
        MASK8 => cpu.get8(dst)? as u32,
        MASK16 => cpu.get16(dst)? as u32,
        _ => cpu.get32(dst)?,
    })
}

fn neg_sized(cpu: &mut Cpu, op: &Op, mask: u32) -> Exec {
    let dst = cpu.loc(op, 0);
    let b = get_sized(cpu, dst, mask)?;
    let r = 0u32.wrapping_sub(b) & mask;
    put_sized(cpu, dst, mask, r)?;
    cpu.set_lazy(FlagOp::Sub, mask, 0, b, r);
    Ok(())
}

fn not_sized(cpu: &mut Cpu, op: &Op, mask: u32) -> Exec {
    let dst = cpu.loc(op, 0);
    let v = get_sized(cpu, dst, mask)?;
    put_sized(cpu, dst, mask, !v & mask)
}

fn neg8(cpu: &mut Cpu, op: &Op) -> Exec {
    neg_sized(cpu, op, MASK8)
}
fn neg16(cpu: &mut Cpu, op: &Op) -> Exec {
    neg_sized(cpu, op, MASK16)
}
fn neg32(cpu: &mut Cpu, op: &Op) -> Exec {
    neg_sized(cpu, op, MASK32)
}
fn not8(cpu: &mut Cpu, op: &Op) -> Exec {
    not_sized(cpu, op, MASK8)
}
fn not16(cpu: &mut Cpu, op: &Op) -> Exec {
    not_sized(cpu, op, MASK16)
}
fn not32(cpu: &mut Cpu, op: &Op) -> Exec {
    not_sized(cpu, op, MASK32)
}

/// Handlers for one ALU operation at the three sizes.
fn sized<const OP: u8>() -> [super::Handler; 3] {
    [alu8::<OP>, alu16::<OP>, alu32::<OP>]
}

pub fn register(t: &mut Table) {
    // Every Code whose mnemonic is one of the binary ALU operations gets the handler for its
    // operand size, so all encodings (00-3D, 80-83 including the 82 alias, 84/85, A8/A9,
    // F6/F7 /0 and /1) are covered without listing them.
    for code in Code::values() {
        let m = code.mnemonic();
        let handlers = match m {
            Mnemonic::Add => sized::<ADD>(),
            Mnemonic::Or => sized::<OR>(),
            Mnemonic::Adc => sized::<ADC>(),
            Mnemonic::Sbb => sized::<SBB>(),
            Mnemonic::And => sized::<AND>(),
            Mnemonic::Sub => sized::<SUB>(),
            Mnemonic::Xor => sized::<XOR>(),
            Mnemonic::Cmp => sized::<CMP>(),
            Mnemonic::Test => sized::<TEST>(),
            Mnemonic::Inc => [inc8, inc16, inc32],
            Mnemonic::Dec => [dec8, dec16, dec32],
            Mnemonic::Neg => [neg8, neg16, neg32],
            Mnemonic::Not => [not8, not16, not32],
            _ => continue,
        };
        if let Some(size) = gpr_operand_size(code) {
            t[code as usize] = handlers[size];
        }
    }
}

/// 0, 1 or 2 for an instruction whose first operand is an 8, 16 or 32-bit general register
/// or memory operand; `None` for 64-bit-only and vector forms.
pub fn gpr_operand_size(code: Code) -> Option<usize> {
    let name = super::code_name(code);
    // Code names spell the first operand: Add_rm8_r8, Add_AX_imm16, Inc_r32, Test_rm16_imm16...
    let first = name.split('_').nth(1)?;
    let size = match first {
        "rm8" | "r8" | "AL" => 0,
        "rm16" | "r16" | "AX" => 1,
        "rm32" | "r32" | "EAX" => 2,
        _ => return None,
    };
    Some(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operand_sizes_from_code_names() {
        assert_eq!(gpr_operand_size(Code::Add_rm8_r8), Some(0));
        assert_eq!(gpr_operand_size(Code::Add_AX_imm16), Some(1));
        assert_eq!(gpr_operand_size(Code::Sub_rm32_imm8), Some(2));
        assert_eq!(gpr_operand_size(Code::Inc_r16), Some(1));
        assert_eq!(gpr_operand_size(Code::Add_rm64_r64), None);
        assert_eq!(gpr_operand_size(Code::Test_rm8_imm8_F6r1), Some(0));
    }
}
