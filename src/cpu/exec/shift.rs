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
    cpu.set_status_flags(which, f | shift_af(cpu.model, kind, r));
    Ok(())
}

/// AF after SHL/SHR/SAR, undefined by Intel. The 8086 and 286 recordings show SHL leaving
/// bit 4 of the result in AF and SHR/SAR leaving 0 (8086) or 1 (286); later CPUs clear it
/// here.
fn shift_af(model: CpuModel, kind: Kind, r: u32) -> u32 {
    let af = Flags::AF.bits();
    match (model, kind) {
        // AF is bit 4 of FLAGS, so bit 4 of the result lands in place.
        (CpuModel::I8086 | CpuModel::I286, Kind::Shl) => r & af,
        (CpuModel::I286, Kind::Shr | Kind::Sar) => af,
        _ => 0,
    }
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
    use crate::cpu::state::{EAX, EBX, EDX, ESI};
    use crate::cpu::testutil::flag::{AF, CF, OF, PF, SF, ZF};
    use crate::cpu::testutil::{run16, run32};
    use iced_x86::code_asm::*;

    /// Status flags without AF (undefined after shifts).
    const SZPCO: u32 = CF | PF | ZF | SF | OF;

    fn flags(cpu: &Cpu) -> u32 {
        cpu.eflags() & STATUS_FLAGS
    }

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

    #[test]
    fn shl_by_one_32_sets_cf_and_of() {
        let cpu = run32(|a| {
            a.mov(eax, 0x8000_0001u32).unwrap();
            a.shl(eax, 1).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 2);
        // CF = old bit 31; OF = new MSB ^ CF; 0x02 has odd parity.
        assert_eq!(flags(&cpu) & SZPCO, CF | OF);
    }

    #[test]
    fn shr_by_cl_33_is_masked_to_one_on_32_bit() {
        let cpu = run32(|a| {
            a.mov(eax, 0x8000_0003u32).unwrap();
            a.mov(cl, 33).unwrap();
            a.shr(eax, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x4000_0001);
        // OF of SHR by 1 is the original sign.
        assert_eq!(flags(&cpu) & SZPCO, CF | OF);
    }

    #[test]
    fn masked_count_of_zero_changes_no_flags() {
        let cpu = run32(|a| {
            a.mov(eax, 0x1234u32).unwrap();
            a.xor(ebx, ebx).unwrap(); // ZF, PF
            a.stc().unwrap();
            a.mov(cl, 32).unwrap();
            a.shl(eax, cl).unwrap();
            a.sar(eax, cl).unwrap();
            a.rcl(eax, cl).unwrap();
            a.shld(eax, ebx, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x1234);
        assert_eq!(flags(&cpu), ZF | PF | CF);
    }

    #[test]
    fn shifts_by_31_32() {
        let cpu = run32(|a| {
            a.mov(eax, 3u32).unwrap();
            a.shl(eax, 31).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x8000_0000);
        // CF = bit 1 of 3; low byte 0 has even parity.
        assert_eq!(flags(&cpu) & (CF | PF | ZF | SF), CF | SF | PF);

        let cpu = run32(|a| {
            a.mov(eax, 0x8000_0000u32).unwrap();
            a.sar(eax, 31).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0xFFFF_FFFF);
        assert_eq!(flags(&cpu) & SZPCO, SF | PF);

        let cpu = run32(|a| {
            a.mov(eax, 0xC000_0000u32).unwrap();
            a.shr(eax, 31).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 1);
        // CF = bit 30.
        assert_eq!(flags(&cpu) & (CF | PF | ZF | SF), CF);
    }

    #[test]
    fn rotates_touch_only_cf_and_of() {
        let cpu = run32(|a| {
            a.xor(ebx, ebx).unwrap(); // ZF, PF set
            a.stc().unwrap();
            a.mov(eax, 0x8000_0000u32).unwrap();
            a.rcl(eax, 1).unwrap();
        });
        // Old CF enters bit 0, old bit 31 leaves into CF; OF = MSB ^ CF.
        assert_eq!(cpu.gpr[EAX], 1);
        assert_eq!(flags(&cpu), ZF | PF | CF | OF);

        let cpu = run32(|a| {
            a.clc().unwrap();
            a.mov(eax, 1u32).unwrap();
            a.mov(cl, 33).unwrap();
            a.rcr(eax, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0);
        assert_eq!(flags(&cpu) & (CF | OF), CF);

        let cpu = run32(|a| {
            a.mov(edx, 0x1234_5678u32).unwrap();
            a.ror(edx, 4).unwrap();
            a.mov(ax, 1u32).unwrap();
            a.ror(ax, 1).unwrap();
        });
        assert_eq!(cpu.gpr[EDX], 0x8123_4567);
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x8000);
        // ROR by 1: CF = new MSB, OF = top two bits differ.
        assert_eq!(flags(&cpu) & (CF | OF), CF | OF);
    }

    #[test]
    fn rol_by_a_multiple_of_the_width_sets_cf_from_bit_0() {
        let cpu = run16(CpuModel::I286, |a| {
            a.clc().unwrap();
            a.mov(al, 0x81).unwrap();
            a.mov(cl, 16).unwrap();
            a.rol(al, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0x81);
        assert_eq!(flags(&cpu) & CF, CF);
    }

    #[test]
    fn rcl_8bit_large_counts_8086_vs_286() {
        let build = |a: &mut CodeAssembler| {
            a.stc().unwrap();
            a.mov(al, 0x5A).unwrap();
            a.mov(cl, 200).unwrap();
            a.rcl(al, cl).unwrap();
        };
        // 8086: 200 mod 9 = 2 rotations of the 9-bit ring 1_0101_1010.
        let cpu = run16(CpuModel::I8086, build);
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0x6A);
        assert_eq!(flags(&cpu) & CF, CF);
        // 286: 200 & 31 = 8 rotations, i.e. one to the right.
        let cpu = run16(CpuModel::I286, build);
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0xAD);
        assert_eq!(flags(&cpu) & CF, 0);
    }

    #[test]
    fn unmasked_8086_counts() {
        // SHL AL by 200: all bits gone, CF too; OF = MSB ^ CF = 0.
        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(al, 0xFF).unwrap();
            a.mov(cl, 200).unwrap();
            a.shl(al, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0);
        assert_eq!(flags(&cpu) & SZPCO, ZF | PF);
        // SHL AX by 16: the 16th step moves bit 0 into CF.
        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(ax, 1).unwrap();
            a.mov(cl, 16).unwrap();
            a.shl(ax, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0);
        assert_eq!(flags(&cpu) & CF, CF);
        // SHR AX by 17: the 17th step shifts a zero into CF.
        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(ax, 0x8000).unwrap();
            a.mov(cl, 17).unwrap();
            a.shr(ax, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0);
        assert_eq!(flags(&cpu) & (CF | ZF), ZF);
        // SAR of a negative byte by 200 fills with the sign.
        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(al, 0x80).unwrap();
            a.mov(cl, 200).unwrap();
            a.sar(al, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0xFF);
        assert_eq!(flags(&cpu) & (CF | SF | ZF | PF), CF | SF | PF);
        // A count of 0 leaves the flags.
        let cpu = run16(CpuModel::I8086, |a| {
            a.mov(ah, SF | ZF | AF | PF | CF).unwrap();
            a.sahf().unwrap();
            a.mov(al, 0x81).unwrap();
            a.mov(cl, 0).unwrap();
            a.shr(al, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0x81);
        assert_eq!(flags(&cpu), SF | ZF | AF | PF | CF);
    }

    #[test]
    fn af_after_shifts_per_model() {
        // SHL: bit 4 of the result on the 8086 and 286; cleared on later CPUs.
        let shl = |a: &mut CodeAssembler| {
            a.mov(al, 0x08).unwrap();
            a.shl(al, 1).unwrap();
        };
        assert_eq!(flags(&run16(CpuModel::I8086, shl)) & AF, AF);
        assert_eq!(flags(&run16(CpuModel::I286, shl)) & AF, AF);
        assert_eq!(flags(&run16(CpuModel::I386, shl)) & AF, 0);
        let shl2 = |a: &mut CodeAssembler| {
            a.mov(al, 0x08).unwrap();
            a.mov(cl, 2).unwrap();
            a.shl(al, cl).unwrap(); // 0x20: bit 4 clear
        };
        assert_eq!(flags(&run16(CpuModel::I8086, shl2)) & AF, 0);
        // SHR/SAR: 0 on the 8086, 1 on the 286.
        let shr = |a: &mut CodeAssembler| {
            a.mov(ah, AF).unwrap();
            a.sahf().unwrap();
            a.mov(al, 0x20).unwrap();
            a.sar(al, 1).unwrap();
        };
        assert_eq!(flags(&run16(CpuModel::I8086, shr)) & AF, 0);
        assert_eq!(flags(&run16(CpuModel::I286, shr)) & AF, AF);
    }

    #[test]
    fn memory_operands_16_and_32() {
        // 16-bit code on a 386, so 66h/67h forms exist.
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(word_ptr(0x2000), 0x4001u32).unwrap();
            a.shl(word_ptr(0x2000), 1).unwrap(); // 0x8002, OF=1
            a.mov(byte_ptr(0x2002), 0x90u32).unwrap();
            a.sar(byte_ptr(0x2002), 3).unwrap(); // 0xF2
            a.mov(dword_ptr(0x2004), 0x8000_0001u32).unwrap();
            a.mov(bx, 0x2004).unwrap();
            a.mov(cl, 4).unwrap();
            a.rol(dword_ptr(ebx), cl).unwrap(); // 0x0000_0018 (67h address size)
        });
        assert_eq!(cpu.mem.read_u16(0x2000), 0x8002);
        assert_eq!(cpu.mem.read_u8(0x2002), 0xF2);
        assert_eq!(cpu.mem.read_u32(0x2004), 0x18);
        // ROL: CF = bit 0 of the result.
        assert_eq!(flags(&cpu) & CF, 0);
        let cpu = run32(|a| {
            a.mov(dword_ptr(0x3000), 0xF000_000Fu32).unwrap();
            a.mov(ebx, 0x3000u32).unwrap();
            a.shr(dword_ptr(ebx + 0), 4).unwrap();
        });
        assert_eq!(cpu.mem.read_u32(0x3000), 0x0F00_0000);
        // CF = bit 3 of the original; 0x00 low byte has even parity.
        assert_eq!(flags(&cpu) & (CF | PF | ZF | SF), CF | PF);
    }

    #[test]
    fn shld_shrd_32_and_16() {
        let cpu = run32(|a| {
            a.mov(eax, 0x1234_5678u32).unwrap();
            a.mov(edx, 0xABCD_EF09u32).unwrap();
            a.mov(cl, 4).unwrap();
            a.shrd(eax, edx, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x9123_4567);
        // CF = bit 3 of the old destination; 0x67 has odd parity.
        assert_eq!(flags(&cpu) & (CF | PF | ZF | SF), CF | SF);

        let cpu = run32(|a| {
            a.mov(eax, 0x4000_0000u32).unwrap();
            a.mov(ebx, 0x8000_0000u32).unwrap();
            a.shld(eax, ebx, 1).unwrap();
        });
        assert_eq!(cpu.gpr[EAX], 0x8000_0001);
        // OF: the sign changed.
        assert_eq!(flags(&cpu) & SZPCO, OF | SF);

        let cpu = run32(|a| {
            a.mov(ax, 0x1234u32).unwrap();
            a.mov(bx, 0xABCDu32).unwrap();
            a.shld(ax, bx, 4).unwrap();
            a.mov(word_ptr(0x3000), 0x0003u32).unwrap();
            a.mov(dx, 0x8000u32).unwrap();
            a.shrd(word_ptr(0x3000), dx, 1).unwrap();
            a.mov(esi, 0x1111_2222u32).unwrap();
            a.mov(edx, 0x3333_4444u32).unwrap();
            a.shld(esi, edx, 31).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x234A);
        // 0x0003 >> 1 with bit 0 of DX entering at the top: 0x0001, CF=1.
        assert_eq!(cpu.mem.read_u16(0x3000), 0x0001);
        // 0x1111_2222 << 31 | 0x3333_4444 >> 1: CF = bit 1 of the destination.
        assert_eq!(cpu.gpr[ESI], 0x1999_A222);
        assert_eq!(flags(&cpu) & CF, CF);

        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 0x0001u32).unwrap();
            a.mov(dx, 0xFFFFu32).unwrap();
            a.mov(cl, 1).unwrap();
            a.shrd(ax, dx, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x8000);
        assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0xFFFF);
        assert_eq!(flags(&cpu) & SZPCO, CF | OF | SF | PF);
    }

    #[test]
    fn sal_is_shl_on_the_286() {
        // D0 /6 (SAL AL,1) on the 286 behaves as SHL.
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(al, 0xC1).unwrap();
            a.db(&[0xD0, 0xF0]).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0x82);
        assert_eq!(flags(&cpu) & SZPCO, CF | SF | PF);
    }

    #[test]
    fn shl_16_by_16_on_286_clears_and_sets_cf() {
        let cpu = run16(CpuModel::I286, |a| {
            a.mov(bx, 0x8001u32).unwrap();
            a.mov(cl, 16).unwrap();
            a.shl(bx, cl).unwrap();
        });
        assert_eq!(cpu.gpr[EBX] & 0xFFFF, 0);
        assert_eq!(flags(&cpu) & (CF | ZF), CF | ZF);
    }
}
