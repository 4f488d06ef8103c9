//! MUL, IMUL (one, two and three operands), DIV and IDIV at all sizes.
//!
//! MUL/IMUL set CF=OF when the upper half of the product is significant. SF/ZF/PF/AF are
//! undefined; the SingleStepTests recordings pin them down for the 8086 and the 286 (see
//! `mul_flags`). DIV/IDIV raise #DE for a zero divisor or a quotient that does not fit; the
//! 8086 also faults on the most negative quotient (0x80 / 0x8000), which later CPUs allow.

use iced_x86::Code;

use super::operand::reg_index;
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{parity, sign_bit};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Flags, EAX, EDX, STATUS_FLAGS};
use crate::cpu::Cpu;

/// Which flag rule a multiplication follows on the 386 and later (no hardware data here):
/// the one-operand forms take SF/ZF/PF from the upper half, the others from the result.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    OneOperand,
    Truncating,
}

/// Sets the flags of a `bits`-wide multiplication whose product is `hi:lo`.
///
/// - 8086: the microcode ends with an ALU add of the upper half and (IMUL only) the sign
///   bit of the lower half; all six flags come from that add, which is zero exactly when
///   the upper half is not significant (matches every recorded F6/F7 /4 and /5 test).
/// - 286: SF/ZF/PF from the upper half, AF always set.
/// - 386 and later: SF/ZF/PF per `Form`, AF clear.
fn mul_flags(cpu: &mut Cpu, bits: u32, lo: u32, hi: u32, signed: bool, form: Form) {
    let mask = mask_of(bits);
    let (lo, hi) = (lo & mask, hi & mask);
    let overflow = if signed {
        hi != if lo & sign_bit(mask) != 0 { mask } else { 0 }
    } else {
        hi != 0
    };
    let co = if overflow {
        Flags::CF.bits() | Flags::OF.bits()
    } else {
        0
    };
    let f = match cpu.model {
        CpuModel::I8086 => {
            let s = if signed { lo >> (bits - 1) } else { 0 };
            let t = hi.wrapping_add(s) & mask;
            let af = if (hi ^ s ^ t) & 0x10 != 0 {
                Flags::AF.bits()
            } else {
                0
            };
            szp(t, mask) | af | co
        }
        CpuModel::I286 => szp(hi, mask) | Flags::AF.bits() | co,
        _ if form == Form::OneOperand => szp(hi, mask) | co,
        _ => szp(lo, mask) | co,
    };
    cpu.set_status_flags(STATUS_FLAGS, f);
}

fn mask_of(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// The 8086 negates the result of a signed multiply or divide that carries a REP prefix
/// (the prefix flips the microcode's sign flag; MUL and DIV never look at it).
#[inline]
fn rep_negates(cpu: &Cpu, op: &Op) -> bool {
    cpu.model == CpuModel::I8086 && (op.has_rep_prefix() || op.has_repne_prefix())
}

fn mul8(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op8(op, 0)? as u32;
    let r = (cpu.gpr[EAX] & 0xFF) * b;
    cpu.set_reg16(EAX, r as u16);
    mul_flags(cpu, 8, r, r >> 8, false, Form::OneOperand);
    Ok(())
}

fn mul16(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op16(op, 0)? as u32;
    let r = (cpu.gpr[EAX] & 0xFFFF) * b;
    cpu.set_reg16(EAX, r as u16);
    cpu.set_reg16(EDX, (r >> 16) as u16);
    mul_flags(cpu, 16, r, r >> 16, false, Form::OneOperand);
    Ok(())
}

fn mul32(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op32(op, 0)? as u64;
    let r = cpu.gpr[EAX] as u64 * b;
    cpu.gpr[EAX] = r as u32;
    cpu.gpr[EDX] = (r >> 32) as u32;
    mul_flags(cpu, 32, r as u32, (r >> 32) as u32, false, Form::OneOperand);
    Ok(())
}

fn imul8(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op8(op, 0)? as i8 as i32;
    let mut r = (cpu.gpr[EAX] as u8 as i8 as i32) * b;
    if rep_negates(cpu, op) {
        r = r.wrapping_neg();
    }
    cpu.set_reg16(EAX, r as u16);
    mul_flags(cpu, 8, r as u32, r as u32 >> 8, true, Form::OneOperand);
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
    mul_flags(cpu, 16, r as u32, r as u32 >> 16, true, Form::OneOperand);
    Ok(())
}

fn imul32(cpu: &mut Cpu, op: &Op) -> Exec {
    let b = cpu.op32(op, 0)? as i32 as i64;
    let r = (cpu.gpr[EAX] as i32 as i64).wrapping_mul(b);
    cpu.gpr[EAX] = r as u32;
    cpu.gpr[EDX] = (r >> 32) as u32;
    mul_flags(cpu, 32, r as u32, (r >> 32) as u32, true, Form::OneOperand);
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
    mul_flags(cpu, 16, r as u32, r as u32 >> 16, true, Form::Truncating);
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
    mul_flags(cpu, 32, r as u32, (r >> 32) as u32, true, Form::Truncating);
    Ok(())
}

/// Flags of the subtraction `a - b` at `bits` bits, as the 8086 ALU leaves them.
fn sub_flags(a: u32, b: u32, bits: u32) -> u32 {
    let mask = mask_of(bits);
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
    // The sign fix-up after the loop clears CF and OF and keeps SF/ZF/PF/AF.
    cpu.set_status_flags(STATUS_FLAGS, f & !(Flags::CF.bits() | Flags::OF.bits()));
    Ok((q as u32, r as u32))
}

/// Flags after a DIV that did not fault (undefined by Intel; the 8086 and 286 recordings
/// pin them down, later CPUs leave them unchanged here). `high:low` is the dividend.
fn div_flags(cpu: &mut Cpu, high: u32, low: u32, divisor: u32, q: u32, r: u32, bits: u32) {
    let (_, loop_flags) = match cpu.model {
        CpuModel::I8086 | CpuModel::I286 => div8086_flags(high, low, divisor, bits),
        _ => return,
    };
    let cf = Flags::CF.bits();
    let f = if cpu.model == CpuModel::I8086 {
        // The last trial subtraction's flags; CF is the complement of the quotient's top
        // bit, shifted out when the microcode rotates the last quotient bit in.
        let top = (q >> (bits - 1)) & 1;
        (loop_flags & !cf) | (top ^ 1)
    } else {
        // 286: SF/ZF/PF of the remainder, AF set, CF=OF from the last trial subtraction.
        let co = if loop_flags & cf != 0 {
            cf | Flags::OF.bits()
        } else {
            0
        };
        szp(r, mask_of(bits)) | Flags::AF.bits() | co
    };
    cpu.set_status_flags(STATUS_FLAGS, f);
}

/// Flags after a 286 IDIV that did not fault: SF/ZF/PF of the remainder, AF set, and
/// CF=OF set for a positive divisor (from the recordings; undefined by Intel).
fn idiv286_flags(cpu: &mut Cpu, divisor: i64, r: u32, bits: u32) {
    let co = if divisor > 0 {
        Flags::CF.bits() | Flags::OF.bits()
    } else {
        0
    };
    cpu.set_status_flags(STATUS_FLAGS, szp(r, mask_of(bits)) | Flags::AF.bits() | co);
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
    div_flags(cpu, n >> 8, n & 0xFF, d, q, r, 8);
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
    let r = n % d;
    cpu.set_reg16(EAX, q as u16);
    cpu.set_reg16(EDX, r as u16);
    div_flags(cpu, n >> 16, n & 0xFFFF, d, q, r, 16);
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
    if cpu.model == CpuModel::I286 {
        idiv286_flags(cpu, d, r as u32, 8);
    }
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
    if cpu.model == CpuModel::I286 {
        idiv286_flags(cpu, d, r as u32, 16);
    }
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

#[cfg(test)]
mod tests {
    use crate::cpu::state::{EAX, EBP, EBX, ECX, EDI, EDX, ESI};
    use crate::cpu::testutil::{run16, run32, with_handler, STACK_TOP};
    use crate::cpu::{Cpu, CpuModel};
    use iced_x86::code_asm::*;

    use crate::cpu::testutil::flag::{CF, OF};

    fn cfof(cpu: &Cpu) -> u32 {
        cpu.eflags() & (CF | OF)
    }

    /// The IP and CS that the interrupt pushed.
    fn pushed_cs_ip(cpu: &Cpu) -> (u16, u16) {
        (cpu.mem.read_u16(cpu.sp() + 2), cpu.mem.read_u16(cpu.sp()))
    }

    #[test]
    fn mul_8_16_32() {
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(al, 0x80).unwrap();
            a.mov(bl, 2).unwrap();
            a.mul(bl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x0100);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run16(CpuModel::I286, |a| {
            a.mov(ax, 0xFFFF).unwrap();
            a.mov(bx, 0xFFFF).unwrap();
            a.mul(bx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x0001);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0xFFFE);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run16(CpuModel::I286, |a| {
            a.mov(dx, 0x1234).unwrap();
            a.mov(ax, 3).unwrap();
            a.mov(word_ptr(0x2000), 4u32).unwrap();
            a.mul(word_ptr(0x2000)).unwrap();
        });
        // DX is cleared when the product fits in AX.
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 12);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0);
        assert_eq!(cfof(&cpu), 0);

        let cpu = run32(|a| {
            a.mov(eax, 0xFFFF_FFFFu32).unwrap();
            a.mov(ecx, 0xFFFF_FFFFu32).unwrap();
            a.mul(ecx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 1);
        assert_eq!(cpu.gpr[EDX], 0xFFFF_FFFE);
        assert_eq!(cfof(&cpu), CF | OF);
    }

    #[test]
    fn imul_one_operand() {
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(al, 0xFE).unwrap(); // -2
            a.mov(bl, 0xFC).unwrap(); // -4
            a.imul(bl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 8);
        assert_eq!(cfof(&cpu), 0);

        let cpu = run16(CpuModel::I286, |a| {
            a.mov(al, 0x80).unwrap(); // -128 * -1 = 128 does not fit in AL
            a.mov(bl, 0xFF).unwrap();
            a.imul(bl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x0080);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(ax, 0xFC18).unwrap(); // -1000 * 1000
            a.mov(bx, 1000).unwrap();
            a.imul(bx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xBDC0);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0xFFF0);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run32(|a| {
            a.mov(eax, 0x8000_0000u32).unwrap();
            a.mov(ebx, 0xFFFF_FFFFu32).unwrap();
            a.imul(ebx).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x8000_0000);
        assert_eq!(cpu.gpr[EDX], 0);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run32(|a| {
            a.mov(eax, 0xFFFF_FFFFu32).unwrap();
            a.mov(dword_ptr(0x3000), 0xFFFF_FFFFu32).unwrap();
            a.imul(dword_ptr(0x3000)).unwrap();
        });
        assert_eq!((cpu.gpr[EAX], cpu.gpr[EDX]), (1, 0));
        assert_eq!(cfof(&cpu), 0);
    }

    #[test]
    fn imul_two_and_three_operands() {
        // IMUL r, r/m (0F AF) arrived with the 386.
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 300).unwrap();
            a.mov(bx, 300).unwrap();
            a.imul_2(ax, bx).unwrap(); // 90000 = 0x15F90
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x5F90);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run16(CpuModel::I286, |a| {
            a.mov(bx, 7).unwrap();
            a.imul_3(cx, bx, -3).unwrap();
            a.mov(word_ptr(0x2000), 0x0100u32).unwrap();
            a.imul_3(dx, word_ptr(0x2000), 0x0100).unwrap(); // imm16 form, overflows
        });
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0xFFEB);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run32(|a| {
            a.mov(dword_ptr(0x3000), 100_000u32).unwrap();
            a.imul_3(edx, dword_ptr(0x3000), 100_000).unwrap(); // 10^10 = 0x2_540B_E400
        });
        assert_eq!(cpu.gpr[EDX], 0x540B_E400);
        assert_eq!(cfof(&cpu), CF | OF);

        let cpu = run32(|a| {
            a.mov(esi, 0x8000_0000u32).unwrap();
            a.mov(edi, 0xFFFF_FFFFu32).unwrap();
            a.imul_2(esi, edi).unwrap();
            a.mov(ebx, 0xFFFF_FFF0u32).unwrap(); // -16
            a.imul_3(ebx, ebx, -2).unwrap(); // 32, fits
        });
        assert_eq!(cpu.gpr[ESI], 0x8000_0000);
        assert_eq!(cpu.gpr[EBX], 32);
        assert_eq!(cfof(&cpu), 0);
    }

    const PF: u32 = 4;
    const AF: u32 = 0x10;
    const ZF: u32 = 0x40;
    const SF: u32 = 0x80;
    const ALL: u32 = CF | PF | AF | ZF | SF | OF;

    #[test]
    fn multiply_flags_per_model() {
        // -2 * 4 = 0xFFF8: AH = 0xFF is only the sign extension of AL.
        let imul = |a: &mut CodeAssembler| {
            a.mov(al, 0xFE).unwrap();
            a.mov(bl, 4).unwrap();
            a.imul(bl).unwrap();
        };
        // 8086: flags of AH + (AL's sign) = 0xFF + 1 = 0 (carry out of bit 3).
        let cpu = run16(CpuModel::I8086, imul);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xFFF8);
        assert_eq!(cpu.eflags() & ALL, ZF | PF | AF);
        // 286: SF/ZF/PF of AH, AF set.
        assert_eq!(run16(CpuModel::I286, imul).eflags() & ALL, SF | PF | AF);
        // 386+: SF/ZF/PF of AH, AF clear.
        assert_eq!(run16(CpuModel::I386, imul).eflags() & ALL, SF | PF);

        // MUL 0x10 * 0x20 = 0x0200: AH = 2 is significant.
        let mul = |a: &mut CodeAssembler| {
            a.mov(al, 0x10).unwrap();
            a.mov(bl, 0x20).unwrap();
            a.mul(bl).unwrap();
        };
        assert_eq!(run16(CpuModel::I8086, mul).eflags() & ALL, CF | OF);
        assert_eq!(run16(CpuModel::I286, mul).eflags() & ALL, CF | OF | AF);

        // IMUL r16, r/m16, imm on the 286: flags from the upper half 0xFFFF.
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(bx, 0xFFFF).unwrap();
            a.imul_3(cx, bx, 3).unwrap(); // -3
        });
        assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0xFFFD);
        assert_eq!(cpu.eflags() & ALL, SF | PF | AF);
    }

    #[test]
    fn divide_flags_per_model() {
        // 7 / 2 = 3 r 1. The last trial subtraction of the 8086's restoring loop is
        // 3 - 2 = 1 (no flags); the 8086 then sets CF = !top bit of the quotient.
        let div = |a: &mut CodeAssembler| {
            a.mov(ax, 7).unwrap();
            a.mov(bl, 2).unwrap();
            a.div(bl).unwrap();
        };
        let cpu = run16(CpuModel::I8086, div);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x0103);
        assert_eq!(cpu.eflags() & ALL, CF);
        // 286: SF/ZF/PF of the remainder 1, AF set, CF=OF from that subtraction (none).
        assert_eq!(run16(CpuModel::I286, div).eflags() & ALL, AF);
        // 386+: unchanged (the MOVs leave the reset flags).
        assert_eq!(run16(CpuModel::I386, div).eflags() & ALL, 0);

        // IDIV -7 / 2 = -3 r -1.
        let idiv = |a: &mut CodeAssembler| {
            a.mov(ax, 0xFFF9).unwrap();
            a.mov(bl, 2).unwrap();
            a.idiv(bl).unwrap();
        };
        // 8086: the magnitudes' loop flags (none here) with CF and OF cleared.
        let cpu = run16(CpuModel::I8086, idiv);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xFFFD);
        assert_eq!(cpu.eflags() & ALL, 0);
        // 286: SF/ZF/PF of the remainder 0xFF, AF, and CF=OF for a positive divisor.
        assert_eq!(
            run16(CpuModel::I286, idiv).eflags() & ALL,
            SF | PF | AF | CF | OF
        );
    }

    #[test]
    fn div_and_idiv() {
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(ax, 256).unwrap();
            a.mov(bl, 3).unwrap();
            a.div(bl).unwrap(); // 85 r 1
            a.mov(si, ax).unwrap();
            a.mov(dx, 1).unwrap();
            a.mov(ax, 0).unwrap();
            a.mov(cx, 0x10).unwrap();
            a.div(cx).unwrap(); // 0x10000 / 16
            a.mov(di, ax).unwrap();
            a.mov(ax, 0xFFF9).unwrap(); // -7 / 2 = -3 r -1
            a.mov(bl, 2).unwrap();
            a.idiv(bl).unwrap();
            a.mov(bp, ax).unwrap();
            a.mov(dx, 0xFFFE).unwrap(); // -100000 / 7 = -14285 r -5
            a.mov(ax, 0x7960).unwrap();
            a.mov(cx, 7).unwrap();
            a.idiv(cx).unwrap();
        });
        assert_eq!(cpu.gpr[ESI] & 0xFFFF, 0x0155);
        assert_eq!(cpu.gpr[EDI] & 0xFFFF, 0x1000);
        assert_eq!(cpu.gpr[EBP] & 0xFFFF, 0xFFFD);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xC833);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0xFFFB);

        let cpu = run32(|a| {
            a.mov(edx, 0xFFFF_FFFFu32).unwrap(); // -2^31 / 1 fits exactly
            a.mov(eax, 0x8000_0000u32).unwrap();
            a.mov(ecx, 1u32).unwrap();
            a.idiv(ecx).unwrap();
            a.mov(esi, eax).unwrap();
            a.mov(edi, edx).unwrap();
            a.mov(edx, 5u32).unwrap(); // 0x5_0000_0003 / 0x10 = 0x5000_0000 r 3
            a.mov(eax, 3u32).unwrap();
            a.mov(dword_ptr(0x3000), 0x10u32).unwrap();
            a.div(dword_ptr(0x3000)).unwrap();
        });
        assert_eq!((cpu.gpr[ESI], cpu.gpr[EDI]), (0x8000_0000, 0));
        assert_eq!((cpu.gpr[EAX], cpu.gpr[EDX]), (0x5000_0000, 3));
    }

    #[test]
    fn divide_by_zero_goes_through_the_ivt() {
        // 286: the pushed IP is the DIV itself (mov bl,0 = 2 bytes, mov ax = 3, at 0x1000).
        let cpu = with_handler(CpuModel::I286, 16, 0, |a| {
            a.mov(bl, 0).unwrap();
            a.mov(ax, 0x1234).unwrap();
            a.div(bl).unwrap();
        });
        assert_eq!((cpu.seg[1].selector, cpu.eip), (0, 0x2001));
        assert_eq!(pushed_cs_ip(&cpu), (0, 0x1005));
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x1234);
        assert_eq!(cpu.sp(), STACK_TOP - 6);

        // 8086: the pushed IP is the instruction after the DIV.
        let cpu = with_handler(CpuModel::I8086, 16, 0, |a| {
            a.mov(bl, 0).unwrap();
            a.mov(ax, 0x1234).unwrap();
            a.div(bl).unwrap();
        });
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(pushed_cs_ip(&cpu), (0, 0x1007));
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x1234);
    }

    #[test]
    fn quotient_overflow_faults() {
        // DIV: 0x1000 / 0x10 = 0x100 does not fit in AL.
        let cpu = with_handler(CpuModel::I286, 16, 0, |a| {
            a.mov(ax, 0x1000).unwrap();
            a.mov(bl, 0x10).unwrap();
            a.div(bl).unwrap();
        });
        assert_eq!(pushed_cs_ip(&cpu), (0, 0x1005));
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x1000);

        // IDIV i32::MIN / -1.
        let cpu = with_handler(CpuModel::P6, 32, 0, |a| {
            a.mov(eax, 0x8000_0000u32).unwrap();
            a.cdq().unwrap();
            a.mov(ecx, 0xFFFF_FFFFu32).unwrap();
            a.idiv(ecx).unwrap();
        });
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(pushed_cs_ip(&cpu), (0, 0x100B));
        assert_eq!((cpu.gpr[EAX], cpu.gpr[EDX]), (0x8000_0000, 0xFFFF_FFFF));
    }

    #[test]
    fn most_negative_idiv_quotient_faults_only_on_the_8086() {
        let build = |a: &mut CodeAssembler| {
            a.mov(ax, 0xFF80).unwrap(); // -128 / 1
            a.mov(bl, 1).unwrap();
            a.idiv(bl).unwrap();
        };
        let cpu = with_handler(CpuModel::I8086, 16, 0, build);
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xFF80);
        let cpu = with_handler(CpuModel::I286, 16, 0, build);
        assert_eq!(cpu.eip, 0x1008);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x0080);

        let build = |a: &mut CodeAssembler| {
            a.mov(dx, 0xFFFF).unwrap(); // -32768 / 1
            a.mov(ax, 0x8000).unwrap();
            a.mov(bx, 1).unwrap();
            a.idiv(bx).unwrap();
        };
        let cpu = with_handler(CpuModel::I8086, 16, 0, build);
        assert_eq!(cpu.eip, 0x2001);
        let cpu = with_handler(CpuModel::I286, 16, 0, build);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x8000);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0);
    }

    #[test]
    fn rep_prefix_negates_imul_and_idiv_on_the_8086() {
        // F3 F6 EB = REP IMUL BL; F3 F6 FB = REP IDIV BL.
        let imul = |a: &mut CodeAssembler| {
            a.mov(al, 3).unwrap();
            a.mov(bl, 4).unwrap();
            a.db(&[0xF3, 0xF6, 0xEB]).unwrap();
        };
        assert_eq!(run16(CpuModel::I8086, imul).gpr[EAX] & 0xFFFF, 0xFFF4);
        assert_eq!(run16(CpuModel::I286, imul).gpr[EAX] & 0xFFFF, 12);
        let idiv = |a: &mut CodeAssembler| {
            a.mov(ax, 7).unwrap();
            a.mov(bl, 2).unwrap();
            a.db(&[0xF3, 0xF6, 0xFB]).unwrap();
        };
        // Quotient negated, remainder kept.
        assert_eq!(run16(CpuModel::I8086, idiv).gpr[EAX] & 0xFFFF, 0x01FD);
        assert_eq!(run16(CpuModel::I286, idiv).gpr[EAX] & 0xFFFF, 0x0103);
        // MUL is unsigned and ignores the prefix.
        let mul = |a: &mut CodeAssembler| {
            a.mov(al, 3).unwrap();
            a.mov(bl, 4).unwrap();
            a.db(&[0xF3, 0xF6, 0xE3]).unwrap();
        };
        assert_eq!(run16(CpuModel::I8086, mul).gpr[EAX] & 0xFFFF, 12);
    }
}
