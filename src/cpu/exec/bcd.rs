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
        f |= szp8(new_al) & !Flags::PF.bits() | (szp8(new_al) & Flags::PF.bits());
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
    if (al ^ r) & (prod ^ r) & 0x80 != 0 {
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
