//! Decimal adjust instructions: DAA, DAS, AAA, AAS, AAM, AAD, and the undocumented SALC.
//! Flag results follow the hardware, including the ones Intel documents as undefined where
//! the SingleStepTests data pins them down.

use iced_x86::Code;

use super::{set, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::parity;
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Flags, EAX, STATUS_FLAGS};
use crate::cpu::Cpu;

fn szp8(v: u8) -> u32 {
    let mut f = 0;
    if v == 0 {
        f |= Flags::ZF.bits();
    }
    if v & 0x80 != 0 {
        f |= Flags::SF.bits();
    }
    if parity(v as u32) {
        f |= Flags::PF.bits();
    }
    f
}

/// Above this AL value DAA/DAS also adjust the high digit. The 8086 compares against 0x9F
/// instead of 0x99 when AF was set.
fn high_limit(cpu: &Cpu, af: bool) -> u8 {
    if cpu.model == CpuModel::I8086 && af {
        0x9F
    } else {
        0x99
    }
}

fn daa(cpu: &mut Cpu, _op: &Op) -> Exec {
    let old_al = cpu.gpr[EAX] as u8;
    let old_cf = cpu.cf();
    let old_af = cpu.af();
    let mut al = old_al;
    let mut cf = false;
    let mut af = false;
    if old_al & 0x0F > 9 || old_af {
        al = al.wrapping_add(6);
        af = true;
        // 286 and later: a carry out of the low adjustment also sets CF.
        cf = cpu.model != CpuModel::I8086 && old_al > 0xF9;
    }
    if old_al > high_limit(cpu, old_af) || old_cf {
        al = al.wrapping_add(0x60);
        cf = true;
    }
    cpu.set_reg8(0, al);
    let mut f = szp8(al);
    if cf {
        f |= Flags::CF.bits();
    }
    if af {
        f |= Flags::AF.bits();
    }
    // OF is undefined; the hardware reports a signed overflow of the adjustment.
    if old_al & 0x80 == 0 && al & 0x80 != 0 {
        f |= Flags::OF.bits();
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
    Ok(())
}

fn das(cpu: &mut Cpu, _op: &Op) -> Exec {
    let old_al = cpu.gpr[EAX] as u8;
    let old_cf = cpu.cf();
    let old_af = cpu.af();
    let mut al = old_al;
    let mut cf = false;
    let mut af = false;
    if old_al & 0x0F > 9 || old_af {
        al = al.wrapping_sub(6);
        af = true;
        // 286 and later: a borrow out of the low adjustment also sets CF.
        cf = cpu.model != CpuModel::I8086 && old_al < 6;
    }
    if old_al > high_limit(cpu, old_af) || old_cf {
        al = al.wrapping_sub(0x60);
        cf = true;
    }
    cpu.set_reg8(0, al);
    let mut f = szp8(al);
    if cf {
        f |= Flags::CF.bits();
    }
    if af {
        f |= Flags::AF.bits();
    }
    if old_al & 0x80 != 0 && al & 0x80 == 0 {
        f |= Flags::OF.bits();
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
    Ok(())
}

/// AAA/AAS: the 8086 adjusts AL by 6 and AH by 1; the 286 and later add 0x106 to AX.
fn aaa_aas<const SUB: bool>(cpu: &mut Cpu, _op: &Op) -> Exec {
    let al = cpu.gpr[EAX] as u8;
    let ax = cpu.gpr[EAX] as u16;
    let adjust = al & 0x0F > 9 || cpu.af();
    let mut f;
    if adjust {
        let (new_ax, new_al) = if cpu.model == CpuModel::I8086 {
            let ah = (ax >> 8) as u8;
            let (nal, nah) = if SUB {
                (al.wrapping_sub(6), ah.wrapping_sub(1))
            } else {
                (al.wrapping_add(6), ah.wrapping_add(1))
            };
            (((nah as u16) << 8) | (nal & 0x0F) as u16, nal)
        } else {
            let n = if SUB {
                ax.wrapping_sub(0x106)
            } else {
                ax.wrapping_add(0x106)
            };
            ((n & 0xFF0F), n as u8)
        };
        cpu.set_reg16(EAX, new_ax);
        f = Flags::CF.bits() | Flags::AF.bits();
        f |= szp8(new_al);
        // OF (undefined) is the signed overflow of AL ± 6 on the 8086 and 286.
        let overflow = if SUB {
            (al ^ 6) & (al ^ new_al) & 0x80 != 0
        } else {
            (al ^ new_al) & (6 ^ new_al) & 0x80 != 0
        };
        if overflow {
            f |= Flags::OF.bits();
        }
    } else {
        cpu.set_reg16(EAX, ax & 0xFF0F);
        f = szp8(al);
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
    Ok(())
}

fn aam(cpu: &mut Cpu, op: &Op) -> Exec {
    let base = op.immediate8();
    if base == 0 {
        if cpu.model == CpuModel::I8086 {
            // The 8086 divides in microcode; its overflow check (0 - 0) leaves ZF and PF.
            cpu.set_status_flags(STATUS_FLAGS, Flags::ZF.bits() | Flags::PF.bits());
        }
        return Err(Exception::divide_error());
    }
    let al = cpu.gpr[EAX] as u8;
    let ah = al / base;
    let nal = al % base;
    cpu.set_reg16(EAX, (ah as u16) << 8 | nal as u16);
    cpu.set_status_flags(STATUS_FLAGS, szp8(nal));
    Ok(())
}

fn aad(cpu: &mut Cpu, op: &Op) -> Exec {
    let base = op.immediate8();
    let al = cpu.gpr[EAX] as u8;
    let ah = (cpu.gpr[EAX] >> 8) as u8;
    let prod = ah.wrapping_mul(base);
    let r = al.wrapping_add(prod);
    cpu.set_reg16(EAX, r as u16);
    // Flags as for the ADD of AL and AH*base.
    let mut f = szp8(r);
    if (r as u32) < al as u32 {
        f |= Flags::CF.bits();
    }
    if (al ^ prod ^ r) & 0x10 != 0 {
        f |= Flags::AF.bits();
    }
    // OF is undefined: the 286 copies CF into it, the others report the add's overflow.
    let overflow = if cpu.model == CpuModel::I286 {
        f & Flags::CF.bits() != 0
    } else {
        (al ^ r) & (prod ^ r) & 0x80 != 0
    };
    if overflow {
        f |= Flags::OF.bits();
    }
    cpu.set_status_flags(STATUS_FLAGS, f);
    Ok(())
}

/// SALC: AL = CF ? 0xFF : 0, flags unchanged.
fn salc(cpu: &mut Cpu, _op: &Op) -> Exec {
    let v = if cpu.cf() { 0xFF } else { 0 };
    cpu.set_reg8(0, v);
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set(t, Daa, daa);
    set(t, Das, das);
    set(t, Aaa, aaa_aas::<false>);
    set(t, Aas, aaa_aas::<true>);
    set(t, Aam_imm8, aam);
    set(t, Aad_imm8, aad);
    set(t, Salc, salc);
}

#[cfg(test)]
mod tests {
    use crate::cpu::state::{EAX, EBX, ECX, EDX};
    use crate::cpu::testutil::flag::{AF, CF, OF, PF, SF, ZF};
    use crate::cpu::testutil::{assemble, load, run16, run32, run_to_halt};
    use crate::cpu::{Cpu, CpuModel};
    use iced_x86::code_asm::*;

    const SZAPC: u32 = SF | ZF | AF | PF | CF;

    fn flags(cpu: &Cpu) -> u32 {
        cpu.eflags() & (SZAPC | OF)
    }

    fn ax_of(cpu: &Cpu) -> u32 {
        cpu.gpr[EAX] & 0xFFFF
    }

    /// Runs `op` on `model` with AX = `v` and SF/ZF/AF/PF/CF = `f` beforehand.
    fn with(model: CpuModel, v: u16, f: u32, op: impl FnOnce(&mut CodeAssembler)) -> Cpu {
        run16(model, |a| {
            a.mov(ah, f).unwrap();
            a.sahf().unwrap();
            a.mov(ax, v as u32).unwrap();
            op(a);
        })
    }

    fn daa(a: &mut CodeAssembler) {
        a.daa().unwrap();
    }
    fn das(a: &mut CodeAssembler) {
        a.das().unwrap();
    }
    fn aaa(a: &mut CodeAssembler) {
        a.aaa().unwrap();
    }
    fn aas(a: &mut CodeAssembler) {
        a.aas().unwrap();
    }

    #[test]
    fn daa_corners() {
        for model in [CpuModel::I8086, CpuModel::I286] {
            // 0x9A: both digits adjust, 0x9A + 0x66 = 0x100.
            let cpu = with(model, 0x9A, 0, daa);
            assert_eq!(ax_of(&cpu), 0x00);
            assert_eq!(flags(&cpu) & SZAPC, CF | AF | ZF | PF);
            // Nothing to adjust.
            let cpu = with(model, 0x45, 0, daa);
            assert_eq!(ax_of(&cpu), 0x45);
            assert_eq!(flags(&cpu) & SZAPC, 0);
            // CF in forces the high adjustment.
            let cpu = with(model, 0x12, CF, daa);
            assert_eq!(ax_of(&cpu), 0x72);
            assert_eq!(flags(&cpu) & SZAPC, CF | PF);
        }
        // AL=0x9A with AF set: the 8086 compares with 0x9F and skips the high digit.
        let cpu = with(CpuModel::I8086, 0x9A, AF, daa);
        assert_eq!(ax_of(&cpu), 0xA0);
        assert_eq!(flags(&cpu) & SZAPC, AF | SF | PF);
        let cpu = with(CpuModel::I286, 0x9A, AF, daa);
        assert_eq!(ax_of(&cpu), 0x00);
        assert_eq!(flags(&cpu) & SZAPC, CF | AF | ZF | PF);
    }

    #[test]
    fn das_corners() {
        // 0x00 with AF: the low borrow sets CF on the 286, not on the 8086.
        let cpu = with(CpuModel::I8086, 0x00, AF, das);
        assert_eq!(ax_of(&cpu), 0xFA);
        assert_eq!(flags(&cpu) & SZAPC, AF | SF | PF);
        let cpu = with(CpuModel::I286, 0x00, AF, das);
        assert_eq!(ax_of(&cpu), 0xFA);
        assert_eq!(flags(&cpu) & SZAPC, CF | AF | SF | PF);
        for model in [CpuModel::I8086, CpuModel::I286] {
            // High digit only.
            let cpu = with(model, 0xA0, 0, das);
            assert_eq!(ax_of(&cpu), 0x40);
            assert_eq!(flags(&cpu) & SZAPC, CF);
            // 0x47 - 0x19 = 0x2E with AF → 0x28.
            let cpu = with(model, 0x2E, AF, das);
            assert_eq!(ax_of(&cpu), 0x28);
            assert_eq!(flags(&cpu) & SZAPC, AF | PF);
        }
    }

    #[test]
    fn aaa_aas_8086_adjust_al_only_286_adjusts_ax() {
        let cpu = with(CpuModel::I8086, 0x00FF, 0, aaa);
        assert_eq!(ax_of(&cpu), 0x0105);
        assert_eq!(flags(&cpu) & (AF | CF), AF | CF);
        let cpu = with(CpuModel::I286, 0x00FF, 0, aaa);
        assert_eq!(ax_of(&cpu), 0x0205);
        assert_eq!(flags(&cpu) & (AF | CF), AF | CF);

        let cpu = with(CpuModel::I8086, 0x0200, AF, aas);
        assert_eq!(ax_of(&cpu), 0x010A);
        assert_eq!(flags(&cpu) & (AF | CF), AF | CF);
        let cpu = with(CpuModel::I286, 0x0200, AF, aas);
        assert_eq!(ax_of(&cpu), 0x000A);
        assert_eq!(flags(&cpu) & (AF | CF), AF | CF);

        // No adjustment: AL keeps its low digit, AF and CF clear.
        for model in [CpuModel::I8086, CpuModel::I286] {
            let cpu = with(model, 0x1234, CF, aaa);
            assert_eq!(ax_of(&cpu), 0x1204);
            assert_eq!(flags(&cpu) & (AF | CF), 0);
            let cpu = with(model, 0x1239, CF, aas);
            assert_eq!(ax_of(&cpu), 0x1209);
            assert_eq!(flags(&cpu) & (AF | CF), 0);
        }
    }

    #[test]
    fn aam_and_aad_any_base() {
        let cpu = with(CpuModel::I286, 0x00FF, 0, |a| a.aam(10).unwrap());
        assert_eq!(ax_of(&cpu), 0x1905);
        assert_eq!(flags(&cpu) & (SF | ZF | PF), PF);
        let cpu = with(CpuModel::I8086, 0x0037, 0, |a| a.aam(16).unwrap());
        assert_eq!(ax_of(&cpu), 0x0307);
        let cpu = with(CpuModel::I286, 0x1230, 0, |a| a.aam(8).unwrap());
        assert_eq!(ax_of(&cpu), 0x0600);
        assert_eq!(flags(&cpu) & (SF | ZF | PF), ZF | PF);

        let cpu = with(CpuModel::I286, 0x0905, 0, |a| a.aad(10).unwrap());
        assert_eq!(ax_of(&cpu), 0x005F);
        assert_eq!(flags(&cpu) & (SF | ZF | PF), PF);
        let cpu = with(CpuModel::I8086, 0x0307, 0, |a| a.aad(16).unwrap());
        assert_eq!(ax_of(&cpu), 0x0037);
        // 255 * 10 + 1 wraps to 0xF7.
        let cpu = with(CpuModel::I286, 0xFF01, 0, |a| a.aad(10).unwrap());
        assert_eq!(ax_of(&cpu), 0x00F7);
        assert_eq!(flags(&cpu), SF);
        // 0xF0 + 15 * 16: the addition carries without signed overflow; the 286 copies
        // CF into OF.
        let cpu = with(CpuModel::I8086, 0x0FF0, 0, |a| a.aad(16).unwrap());
        assert_eq!(ax_of(&cpu), 0x00E0);
        assert_eq!(flags(&cpu), CF | SF);
        let cpu = with(CpuModel::I286, 0x0FF0, 0, |a| a.aad(16).unwrap());
        assert_eq!(ax_of(&cpu), 0x00E0);
        assert_eq!(flags(&cpu), CF | SF | OF);
        // 0x70 + 0x10 overflows into the sign without a carry.
        let cpu = with(CpuModel::I8086, 0x0170, 0, |a| a.aad(16).unwrap());
        assert_eq!(ax_of(&cpu), 0x0080);
        assert_eq!(flags(&cpu), SF | OF);
        let cpu = with(CpuModel::I286, 0x0170, 0, |a| a.aad(16).unwrap());
        assert_eq!(flags(&cpu), SF);
    }

    #[test]
    fn aaa_aas_overflow_of_the_plus_minus_6() {
        // AL=0x7A: 0x7A + 6 = 0x80 overflows; AL keeps the low digit 0, AH + 1.
        for model in [CpuModel::I8086, CpuModel::I286] {
            let cpu = with(model, 0x007A, 0, aaa);
            assert_eq!(ax_of(&cpu), 0x0100);
            assert_eq!(flags(&cpu), CF | AF | OF | SF);
        }
        // AX=0x0180 with AF: 0x80 - 6 = 0x7A overflows (odd parity); both models end with
        // AX=0x000A (AH - 1, or AX - 0x106).
        let cpu = with(CpuModel::I8086, 0x0180, AF, aas);
        assert_eq!(ax_of(&cpu), 0x000A);
        assert_eq!(flags(&cpu), CF | AF | OF);
        let cpu = with(CpuModel::I286, 0x0180, AF, aas);
        assert_eq!(ax_of(&cpu), 0x000A);
        assert_eq!(flags(&cpu), CF | AF | OF);
    }

    /// Runs `build` with the #DE vector pointing at 0000:2000, where a HLT waits.
    fn with_de_handler(model: CpuModel, build: impl FnOnce(&mut CodeAssembler)) -> Cpu {
        let code = assemble(16, build);
        let mut cpu = load(model, 16, &code);
        cpu.mem.write_u16(0, 0x2000);
        cpu.mem.write_u16(2, 0);
        cpu.mem.write_u8(0x2000, 0xF4);
        run_to_halt(&mut cpu);
        cpu
    }

    #[test]
    fn aam_zero_raises_divide_error() {
        // MOV AX,imm16 (3 bytes) then AAM 0 at 0x1003.
        let build = |a: &mut CodeAssembler| {
            a.mov(ax, 0x1234).unwrap();
            a.aam(0).unwrap();
        };
        let cpu = with_de_handler(CpuModel::I286, build);
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(cpu.mem.read_u16(cpu.sp()), 0x1003);
        assert_eq!(ax_of(&cpu), 0x1234);
        // The 8086 pushes the address after it and leaves ZF and PF set.
        let cpu = with_de_handler(CpuModel::I8086, build);
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(cpu.mem.read_u16(cpu.sp()), 0x1005);
        assert_eq!(ax_of(&cpu), 0x1234);
        assert_eq!(flags(&cpu) & (ZF | PF), ZF | PF);
    }

    #[test]
    fn salc_copies_cf_without_touching_flags() {
        for model in [CpuModel::I8086, CpuModel::I286] {
            let cpu = run16(model, |a| {
                a.mov(ah, CF | ZF).unwrap();
                a.sahf().unwrap();
                a.salc().unwrap();
                a.mov(bl, al).unwrap();
                a.clc().unwrap();
                a.salc().unwrap();
            });
            assert_eq!(cpu.gpr[EBX] & 0xFF, 0xFF);
            assert_eq!(cpu.gpr[EAX] & 0xFF, 0);
            assert_eq!(flags(&cpu), ZF);
        }
    }

    #[test]
    fn decimal_adjust_in_32_bit_code() {
        let cpu = run32(|a| {
            a.mov(eax, 0x1234_0019u32).unwrap();
            a.add(al, 0x28).unwrap(); // 0x41 with AF
            a.daa().unwrap(); // 0x47
            a.mov(ebx, eax).unwrap();
            a.sub(al, 0x19).unwrap(); // 0x2E with AF
            a.das().unwrap(); // 0x28
            a.mov(ecx, eax).unwrap();
            a.mov(eax, 0xABCD_00FFu32).unwrap();
            a.aam(10).unwrap(); // AX = 0x1905
            a.aad(10).unwrap(); // AL = 255
            a.mov(edx, eax).unwrap();
            a.mov(eax, 0x0000_0009u32).unwrap();
            a.add(al, 8).unwrap(); // 0x11 with AF
            a.aaa().unwrap(); // 0x0107
        });
        // The upper half of EAX is left alone.
        assert_eq!(cpu.gpr[EBX], 0x1234_0047);
        assert_eq!(cpu.gpr[ECX], 0x1234_0028);
        assert_eq!(cpu.gpr[EDX], 0xABCD_00FF);
        assert_eq!(cpu.gpr[EAX], 0x0000_0107);
        assert_eq!(flags(&cpu) & (AF | CF), AF | CF);
    }
}
