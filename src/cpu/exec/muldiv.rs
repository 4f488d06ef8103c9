//! MUL, IMUL (one, two and three operands), DIV and IDIV at all sizes.
//!
//! MUL/IMUL set CF=OF when the upper half of the product is significant; SF/ZF/PF are
//! undefined on real CPUs and are taken here from the low half of the result (AF cleared).
//! DIV/IDIV raise #DE for a zero divisor or a quotient that does not fit; the 8086 also
//! faults on the most negative quotient (0x80 / 0x8000), which later CPUs allow.

use iced_x86::Code;

use super::operand::reg_index;
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{parity, sign_bit};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Flags, EAX, EDX, STATUS_FLAGS};
use crate::cpu::Cpu;

/// Sets the flags of a multiplication: CF/OF from `overflow`, SF/ZF/PF from `low`.
fn mul_flags(cpu: &mut Cpu, low: u32, mask: u32, overflow: bool) {
    let low = low & mask;
    let mut f = 0;
    if overflow {
        f |= Flags::CF.bits() | Flags::OF.bits();
    }
    if low == 0 {
        f |= Flags::ZF.bits();
    }
    if low & sign_bit(mask) != 0 {
        f |= Flags::SF.bits();
    }
    if parity(low) {
        f |= Flags::PF.bits();
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
}

/// The 8086 negates the result of a multiply or divide that carries a REP prefix.
#[inline]
fn rep_negates(cpu: &Cpu, op: &Op) -> bool {
    cpu.model == CpuModel::I8086 && (op.has_rep_prefix() || op.has_repne_prefix())
}

fn mul8(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op8(op, 0)? as u32;
    let r = (cpu.gpr[EAX] & 0xFF) * b;
    cpu.set_reg16(EAX, r as u16);
    mul_flags(cpu, r >> 8, 0xFF, r > 0xFF);
    Ok(())
}

fn mul16(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op16(op, 0)? as u32;
    let r = (cpu.gpr[EAX] & 0xFFFF) * b;
    cpu.set_reg16(EAX, r as u16);
    cpu.set_reg16(EDX, (r >> 16) as u16);
    mul_flags(cpu, r >> 16, 0xFFFF, r > 0xFFFF);
    Ok(())
}

fn mul32(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op32(op, 0)? as u64;
    let r = cpu.gpr[EAX] as u64 * b;
    cpu.gpr[EAX] = r as u32;
    cpu.gpr[EDX] = (r >> 32) as u32;
    mul_flags(cpu, (r >> 32) as u32, u32::MAX, r > u32::MAX as u64);
    Ok(())
}

fn imul8(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op8(op, 0)? as i8 as i32;
    let mut r = (cpu.gpr[EAX] as u8 as i8 as i32) * b;
    if rep_negates(cpu, op) {
        r = r.wrapping_neg();
    }
    cpu.set_reg16(EAX, r as u16);
    let low = r as u32 & 0xFF;
    mul_flags(cpu, r as u32 >> 8, 0xFF, r != r as i8 as i32);
    // On the 8086 SF/ZF/PF follow the low byte.
    if cpu.model == CpuModel::I8086 {
        let hi = if r != r as i8 as i32 {
            Flags::CF.bits() | Flags::OF.bits()
        } else {
            0
        };
        let f = hi | szp(low, 0xFF);
        cpu.set_status_flags(STATUS_FLAGS, f);
    }
    Ok(())
}

fn imul16(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op16(op, 0)? as i16 as i32;
    let mut r = (cpu.gpr[EAX] as u16 as i16 as i32).wrapping_mul(b);
    if rep_negates(cpu, op) {
        r = r.wrapping_neg();
    }
    cpu.set_reg16(EAX, r as u16);
    cpu.set_reg16(EDX, (r >> 16) as u16);
    let overflow = r != r as i16 as i32;
    if cpu.model == CpuModel::I8086 {
        let hi = if overflow {
            Flags::CF.bits() | Flags::OF.bits()
        } else {
            0
        };
        cpu.set_status_flags(STATUS_FLAGS, hi | szp(r as u32 & 0xFFFF, 0xFFFF));
    } else {
        mul_flags(cpu, (r >> 16) as u32, 0xFFFF, overflow);
    }
    Ok(())
}

fn imul32(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op32(op, 0)? as i32 as i64;
    let r = (cpu.gpr[EAX] as i32 as i64).wrapping_mul(b);
    cpu.gpr[EAX] = r as u32;
    cpu.gpr[EDX] = (r >> 32) as u32;
    mul_flags(cpu, (r >> 32) as u32, u32::MAX, r != r as i32 as i64);
    Ok(())
}

/// SF, ZF and PF of `v` at the size of `mask`.
fn szp(v: u32, mask: u32) -> u32 {
    let v = v & mask;
    let mut f = 0;
    if v == 0 {
        f |= Flags::ZF.bits();
    }
    if v & sign_bit(mask) != 0 {
        f |= Flags::SF.bits();
    }
    if parity(v) {
        f |= Flags::PF.bits();
    }
    f
}

/// IMUL r, r/m and IMUL r, r/m, imm: truncated product; CF=OF when it did not fit.
fn imul_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let (a, b) = if op.op_count() == 3 {
        (cpu.op16(op, 1)?, cpu.op16(op, 2)?)
    } else {
        (cpu.reg16(reg_index(op.op0_register())), cpu.op16(op, 1)?)
    };
    let r = (a as i16 as i32).wrapping_mul(b as i16 as i32);
    cpu.set_reg16(reg_index(op.op0_register()), r as u16);
    let overflow = r != r as i16 as i32;
    let f = if overflow {
        Flags::CF.bits() | Flags::OF.bits()
    } else {
        0
    };
    cpu.set_status_flags(STATUS_FLAGS, f | szp(r as u32, 0xFFFF));
    Ok(())
}

fn imul_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    let (a, b) = if op.op_count() == 3 {
        (cpu.op32(op, 1)?, cpu.op32(op, 2)?)
    } else {
        (cpu.gpr[reg_index(op.op0_register())], cpu.op32(op, 1)?)
    };
    let r = (a as i32 as i64).wrapping_mul(b as i32 as i64);
    cpu.gpr[reg_index(op.op0_register())] = r as u32;
    let overflow = r != r as i32 as i64;
    let f = if overflow {
        Flags::CF.bits() | Flags::OF.bits()
    } else {
        0
    };
    cpu.set_status_flags(STATUS_FLAGS, f | szp(r as u32, u32::MAX));
    Ok(())
}

/// Flags of the subtraction `a - b` at `bits` bits, as the 8086 ALU leaves them.
fn sub_flags(a: u32, b: u32, bits: u32) -> u32 {
    let mask = if bits == 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    let (a, b) = (a & mask, b & mask);
    let r = a.wrapping_sub(b) & mask;
    let mut f = szp(r, mask);
    if a < b {
        f |= Flags::CF.bits();
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= Flags::AF.bits();
    }
    if (a ^ b) & (a ^ r) & sign_bit(mask) != 0 {
        f |= Flags::OF.bits();
    }
    f
}

/// The 8086 divides with a microcoded shift-and-subtract loop that updates the flags as it
/// goes; when the division faults, those flags are what the #DE handler sees on the stack.
/// Given the (non-negative) high and low halves of the dividend and the divisor, returns
/// whether the quotient overflows before the loop starts (high >= divisor) and the flags the
/// microcode has left: from the initial compare when it overflows there, otherwise from the
/// last trial subtraction whose result decided a quotient bit.
fn div8086_flags(high: u32, low: u32, divisor: u32, bits: u32) -> (bool, u32) {
    let mask = (1u32 << bits) - 1;
    if high >= divisor {
        return (true, sub_flags(high, divisor, bits));
    }
    let mut flags = sub_flags(high, divisor, bits);
    let (mut rem, mut quo) = (high, low);
    let mut carry = 1u32;
    for _ in 0..bits {
        let q_out = (quo >> (bits - 1)) & 1;
        quo = ((quo << 1) | carry) & mask;
        let r_out = (rem >> (bits - 1)) & 1;
        rem = ((rem << 1) | q_out) & mask;
        let borrow = (rem < divisor) as u32;
        let diff = rem.wrapping_sub(divisor) & mask;
        if r_out != 0 {
            // The shifted-out bit makes the remainder exceed the divisor: subtract blindly.
            carry = 0;
            rem = diff;
        } else {
            flags = sub_flags(rem, divisor, bits);
            carry = borrow;
            if borrow == 0 {
                rem = diff;
            }
        }
    }
    (false, flags)
}

/// 8086 DIV fault check: sets the microcode's flags and faults when the quotient overflows.
fn div8086_check(cpu: &mut Cpu, high: u32, divisor: u32, bits: u32) -> Exec {
    if high >= divisor {
        let (_, f) = div8086_flags(high, 0, divisor, bits);
        cpu.set_status_flags(STATUS_FLAGS, f);
        return Err(Exception::divide_error());
    }
    Ok(())
}

/// 8086 IDIV: divides magnitudes like DIV; a quotient magnitude that does not fit in
/// `bits - 1` bits faults (so -128 / -32768 fault too), with CF cleared by the post-check.
fn idiv8086(
    cpu: &mut Cpu,
    op: &Op,
    dividend: i64,
    divisor: i64,
    bits: u32,
) -> Result<(u32, u32), Exception> {
    let mag_n = dividend.unsigned_abs();
    let mag_d = divisor.unsigned_abs();
    let mask = (1u64 << bits) - 1;
    let (high, low) = (((mag_n >> bits) & mask) as u32, (mag_n & mask) as u32);
    let (early, f) = div8086_flags(high, low, (mag_d & mask) as u32, bits);
    if early {
        cpu.set_status_flags(STATUS_FLAGS, f);
        return Err(Exception::divide_error());
    }
    let q = mag_n / mag_d;
    if q >= 1 << (bits - 1) {
        cpu.set_status_flags(STATUS_FLAGS, f & !Flags::CF.bits());
        return Err(Exception::divide_error());
    }
    let mut q = q as i64;
    let mut r = (mag_n % mag_d) as i64;
    if (dividend < 0) != (divisor < 0) {
        q = -q;
    }
    if dividend < 0 {
        r = -r;
    }
    if rep_negates(cpu, op) {
        q = -q;
    }
    Ok((q as u32, r as u32))
}

fn div8(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op8(op, 0)? as u32;
    let n = cpu.gpr[EAX] & 0xFFFF;
    if cpu.model == CpuModel::I8086 {
        div8086_check(cpu, n >> 8, d, 8)?;
    }
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let q = n / d;
    if q > 0xFF {
        return Err(Exception::divide_error());
    }
    let r = n % d;
    cpu.set_reg16(EAX, (q | r << 8) as u16);
    Ok(())
}

fn div16(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op16(op, 0)? as u32;
    let n = (cpu.gpr[EDX] & 0xFFFF) << 16 | (cpu.gpr[EAX] & 0xFFFF);
    if cpu.model == CpuModel::I8086 {
        div8086_check(cpu, n >> 16, d, 16)?;
    }
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let q = n / d;
    if q > 0xFFFF {
        return Err(Exception::divide_error());
    }
    cpu.set_reg16(EAX, q as u16);
    cpu.set_reg16(EDX, (n % d) as u16);
    Ok(())
}

fn div32(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op32(op, 0)? as u64;
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let n = (cpu.gpr[EDX] as u64) << 32 | cpu.gpr[EAX] as u64;
    let q = n / d;
    if q > u32::MAX as u64 {
        return Err(Exception::divide_error());
    }
    cpu.gpr[EAX] = q as u32;
    cpu.gpr[EDX] = (n % d) as u32;
    Ok(())
}

/// Range check of a signed quotient of `bits` bits for the model.
fn idiv_fits(cpu: &Cpu, q: i64, bits: u32) -> bool {
    let max = (1i64 << (bits - 1)) - 1;
    let min = if cpu.model == CpuModel::I8086 {
        -max
    } else {
        -max - 1
    };
    q >= min && q <= max
}

fn idiv8(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op8(op, 0)? as i8 as i64;
    if cpu.model == CpuModel::I8086 {
        let n = cpu.gpr[EAX] as u16 as i16 as i64;
        let (q, r) = idiv8086(cpu, op, n, d, 8)?;
        cpu.set_reg16(EAX, (q as u8 as u16) | (r as u8 as u16) << 8);
        return Ok(());
    }
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let n = cpu.gpr[EAX] as u16 as i16 as i64;
    let mut q = n / d;
    let r = n % d;
    if rep_negates(cpu, op) {
        q = -q;
    }
    if !idiv_fits(cpu, q, 8) {
        return Err(Exception::divide_error());
    }
    cpu.set_reg16(EAX, (q as u8 as u16) | (r as u8 as u16) << 8);
    Ok(())
}

fn idiv16(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op16(op, 0)? as i16 as i64;
    if cpu.model == CpuModel::I8086 {
        let n = ((cpu.gpr[EDX] & 0xFFFF) << 16 | (cpu.gpr[EAX] & 0xFFFF)) as i32 as i64;
        let (q, r) = idiv8086(cpu, op, n, d, 16)?;
        cpu.set_reg16(EAX, q as u16);
        cpu.set_reg16(EDX, r as u16);
        return Ok(());
    }
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let n = ((cpu.gpr[EDX] & 0xFFFF) << 16 | (cpu.gpr[EAX] & 0xFFFF)) as i32 as i64;
    let mut q = n / d;
    let r = n % d;
    if rep_negates(cpu, op) {
        q = -q;
    }
    if !idiv_fits(cpu, q, 16) {
        return Err(Exception::divide_error());
    }
    cpu.set_reg16(EAX, q as u16);
    cpu.set_reg16(EDX, r as u16);
    Ok(())
}

fn idiv32(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = cpu.op32(op, 0)? as i32 as i128;
    if d == 0 {
        return Err(Exception::divide_error());
    }
    let n = ((cpu.gpr[EDX] as u64) << 32 | cpu.gpr[EAX] as u64) as i64 as i128;
    let q = n / d;
    let r = n % d;
    if q < i32::MIN as i128 || q > i32::MAX as i128 {
        return Err(Exception::divide_error());
    }
    cpu.gpr[EAX] = q as u32;
    cpu.gpr[EDX] = r as u32;
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set(t, Mul_rm8, mul8);
    set(t, Mul_rm16, mul16);
    set(t, Mul_rm32, mul32);
    set(t, Imul_rm8, imul8);
    set(t, Imul_rm16, imul16);
    set(t, Imul_rm32, imul32);
    set_all(
        t,
        &[Imul_r16_rm16, Imul_r16_rm16_imm16, Imul_r16_rm16_imm8],
        imul_r16,
    );
    set_all(
        t,
        &[Imul_r32_rm32, Imul_r32_rm32_imm32, Imul_r32_rm32_imm8],
        imul_r32,
    );
    set(t, Div_rm8, div8);
    set(t, Div_rm16, div16);
    set(t, Div_rm32, div32);
    set(t, Idiv_rm8, idiv8);
    set(t, Idiv_rm16, idiv16);
    set(t, Idiv_rm32, idiv32);
}
