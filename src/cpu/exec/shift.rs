//! Shifts and rotates: ROL, ROR, RCL, RCR, SHL/SAL, SHR, SAR (by 1, CL, imm8) and
//! SHLD/SHRD. Counts are masked to 5 bits on the 286 and later; the 8086 uses the whole
//! count. A count of zero (after masking) changes nothing, flags included.

use iced_x86::{Code, Mnemonic, OpKind};

use super::{set, Op, Table};
use crate::cpu::exception::Exec;
use crate::cpu::flags::parity;
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Flags, ECX, STATUS_FLAGS};
use crate::cpu::Cpu;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rol,
    Ror,
    Rcl,
    Rcr,
    Shl,
    Shr,
    Sar,
}

/// The count operand (1, CL or imm8), masked for the model.
#[inline(always)]
fn count(cpu: &Cpu, op: &Op, n: u32) -> u32 {
    let c = match op.op_kind(n) {
        OpKind::Register => cpu.gpr[ECX] & 0xFF,
        _ => op.immediate8() as u32,
    };
    if cpu.model == CpuModel::I8086 {
        c
    } else {
        c & 31
    }
}

/// SF, ZF, PF of `r` at `bits` bits.
fn szp(r: u32, bits: u32) -> u32 {
    let mut f = 0;
    if r == 0 {
        f |= Flags::ZF.bits();
    }
    if (r >> (bits - 1)) & 1 != 0 {
        f |= Flags::SF.bits();
    }
    if parity(r) {
        f |= Flags::PF.bits();
    }
    f
}

/// Computes `kind` of `v` (`bits` wide) by `c` (> 0) with carry-in `cf`: (result, flags
/// to set, which flags are written).
fn compute(kind: Kind, bits: u32, v: u32, c: u32, cf: bool) -> (u32, u32, u32) {
    let mask = if bits == 32 {
        u32::MAX
    } else {
        (1u32 << bits) - 1
    };
    let msb = |x: u32| (x >> (bits - 1)) & 1;
    let v64 = v as u64;
    match kind {
        Kind::Shl | Kind::Shr | Kind::Sar => {
            let (r, carry) = match kind {
                Kind::Shl => {
                    let r = if c < 64 { (v64 << c) as u32 & mask } else { 0 };
                    let carry = if c <= bits {
                        (v64 >> (bits - c)) as u32 & 1
                    } else {
                        0
                    };
                    (r, carry)
                }
                Kind::Shr => {
                    let r = if c < 64 { (v64 >> c) as u32 } else { 0 };
                    let carry = if c <= bits {
                        (v64 >> (c - 1)) as u32 & 1
                    } else {
                        0
                    };
                    (r, carry)
                }
                _ => {
                    let sv = ((v << (32 - bits)) as i32 >> (32 - bits)) as i64;
                    let r = (sv >> c.min(63)) as u32 & mask;
                    let carry = (sv >> (c - 1).min(63)) as u32 & 1;
                    (r, carry)
                }
            };
            let of = match kind {
                Kind::Shl => msb(r) ^ carry,
                // The top two result bits differ: for a count of 1 that is the original sign
                // (as documented); the 286 data shows the same rule for larger counts.
                Kind::Shr => msb(r) ^ ((r >> (bits - 2)) & 1),
                _ => 0,
            };
            let mut f = szp(r, bits) | carry;
            if of != 0 {
                f |= Flags::OF.bits();
            }
            (r, f, STATUS_FLAGS)
        }
        Kind::Rol | Kind::Ror => {
            let e = c % bits;
            let r = if e == 0 {
                v
            } else if kind == Kind::Rol {
                ((v << e) | (v >> (bits - e))) & mask
            } else {
                ((v >> e) | (v << (bits - e))) & mask
            };
            let (carry, of) = if kind == Kind::Rol {
                (r & 1, msb(r) ^ (r & 1))
            } else {
                (msb(r), msb(r) ^ ((r >> (bits - 2)) & 1))
            };
            let f = carry | if of != 0 { Flags::OF.bits() } else { 0 };
            (r, f, Flags::CF.bits() | Flags::OF.bits())
        }
        Kind::Rcl | Kind::Rcr => {
            let width = bits + 1;
            let wmask = (1u64 << width) - 1;
            let x = v64 | (cf as u64) << bits;
            let e = (c % width) as u64;
            let rot = if e == 0 {
                x
            } else if kind == Kind::Rcl {
                ((x << e) | (x >> (width as u64 - e))) & wmask
            } else {
                ((x >> e) | (x << (width as u64 - e))) & wmask
            };
            let r = rot as u32 & mask;
            let carry = (rot >> bits) as u32 & 1;
            let of = if kind == Kind::Rcl {
                msb(r) ^ carry
            } else {
                msb(r) ^ ((r >> (bits - 2)) & 1)
            };
            let f = carry | if of != 0 { Flags::OF.bits() } else { 0 };
            (r, f, Flags::CF.bits() | Flags::OF.bits())
        }
    }
}

fn shift<const BITS: u32>(cpu: &mut Cpu, op: &Op, kind: Kind) -> Exec {
    let l = cpu.loc(op, 0);
    let v = cpu.get_bits(l, BITS)?;
    let c = count(cpu, op, 1);
    if c == 0 {
        return Ok(());
    }
    let (r, f, which) = compute(kind, BITS, v, c, cpu.cf());
    cpu.put_bits(l, BITS, r)?;
    cpu.set_status_flags(which, f);
    Ok(())
}

/// SHLD/SHRD: shift the destination, filling from the source register.
fn double_shift<const BITS: u32, const LEFT: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let l = cpu.loc(op, 0);
    let dst = cpu.get_bits(l, BITS)? as u64;
    let src = match BITS {
        16 => cpu.reg16(super::operand::reg_index(op.op1_register())) as u64,
        _ => cpu.gpr[super::operand::reg_index(op.op1_register())] as u64,
    };
    let c = if op.op2_kind() == OpKind::Register {
        cpu.gpr[ECX] & 31
    } else {
        op.immediate8() as u32 & 31
    };
    if c == 0 {
        return Ok(());
    }
    let c = c as u64;
    let (r, carry) = if BITS == 32 {
        if LEFT {
            (
                ((dst << c) | (src >> (32 - c))) as u32,
                (dst >> (32 - c)) as u32 & 1,
            )
        } else {
            (
                ((dst >> c) | (src << (32 - c))) as u32,
                (dst >> (c - 1)) as u32 & 1,
            )
        }
    } else {
        // 16-bit counts above 16 shift through dst:src:dst, as the P6 does.
        if LEFT {
            let x = (dst << 32) | (src << 16) | dst;
            (
                (((x << c) >> 32) & 0xFFFF) as u32,
                ((x << (c - 1)) >> 47) as u32 & 1,
            )
        } else {
            let x = (dst << 32) | (src << 16) | dst;
            (((x >> c) & 0xFFFF) as u32, (x >> (c - 1)) as u32 & 1)
        }
    };
    cpu.put_bits(l, BITS, r)?;
    let msb = |x: u32| (x >> (BITS - 1)) & 1;
    let mut f = szp(r, BITS) | carry;
    if msb(r) != msb(dst as u32) {
        f |= Flags::OF.bits();
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
    Ok(())
}

pub fn register(t: &mut Table) {
    macro_rules! handlers {
        ($kind:expr) => {{
            fn h8(cpu: &mut Cpu, op: &Op) -> Exec {
                shift::<8>(cpu, op, $kind)
            }
            fn h16(cpu: &mut Cpu, op: &Op) -> Exec {
                shift::<16>(cpu, op, $kind)
            }
            fn h32(cpu: &mut Cpu, op: &Op) -> Exec {
                shift::<32>(cpu, op, $kind)
            }
            [h8 as super::Handler, h16, h32]
        }};
    }
    let rol = handlers!(Kind::Rol);
    let ror = handlers!(Kind::Ror);
    let rcl = handlers!(Kind::Rcl);
    let rcr = handlers!(Kind::Rcr);
    let shl = handlers!(Kind::Shl);
    let shr = handlers!(Kind::Shr);
    let sar = handlers!(Kind::Sar);
    for code in Code::values() {
        let hs = match code.mnemonic() {
            Mnemonic::Rol => rol,
            Mnemonic::Ror => ror,
            Mnemonic::Rcl => rcl,
            Mnemonic::Rcr => rcr,
            // SAL (/6) is an alias of SHL on the 286 and later.
            Mnemonic::Shl | Mnemonic::Sal => shl,
            Mnemonic::Shr => shr,
            Mnemonic::Sar => sar,
            _ => continue,
        };
        if let Some(size) = super::alu::gpr_operand_size(code) {
            set(t, code, hs[size]);
        }
    }
    use Code::*;
    set(t, Shld_rm16_r16_imm8, double_shift::<16, true>);
    set(t, Shld_rm16_r16_CL, double_shift::<16, true>);
    set(t, Shld_rm32_r32_imm8, double_shift::<32, true>);
    set(t, Shld_rm32_r32_CL, double_shift::<32, true>);
    set(t, Shrd_rm16_r16_imm8, double_shift::<16, false>);
    set(t, Shrd_rm16_r16_CL, double_shift::<16, false>);
    set(t, Shrd_rm32_r32_imm8, double_shift::<32, false>);
    set(t, Shrd_rm32_r32_CL, double_shift::<32, false>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rcl_through_carry_and_unmasked_counts() {
        // RCL 8-bit of 0x80 with CF=0 by 1: result 0, CF=1.
        assert_eq!(compute(Kind::Rcl, 8, 0x80, 1, false).0, 0);
        assert_eq!(compute(Kind::Rcl, 8, 0x80, 1, false).1 & 1, 1);
        // By 9 (the full 9-bit ring) nothing changes.
        assert_eq!(compute(Kind::Rcl, 8, 0x5A, 9, true).0, 0x5A);
        // SHL by more than the width (8086): zero, CF clear.
        let (r, f, _) = compute(Kind::Shl, 8, 0xFF, 200, false);
        assert_eq!((r, f & 1), (0, 0));
        // SAR of a negative byte by 200 (8086): all ones and CF set.
        let (r, f, _) = compute(Kind::Sar, 8, 0x80, 200, false);
        assert_eq!((r, f & 1), (0xFF, 1));
    }
}
