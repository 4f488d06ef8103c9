//! Flag instructions (CLC/STC/CMC/CLD/STD/CLI/STI/LAHF/SAHF), sign extensions
//! (CBW/CWDE/CWD/CDQ), NOPs, WAIT, CPUID, RDTSC and the UD opcodes.

use iced_x86::Code;

use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Cr0, Flags, EAX, EBX, ECX, EDX, STATUS_FLAGS};
use crate::cpu::v86::FlagAccess;
use crate::cpu::Cpu;

fn nop(_cpu: &mut Cpu, _op: &Op) -> Exec {
    Ok(())
}

fn clc(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.set_flag(Flags::CF, false);
    Ok(())
}

fn stc(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.set_flag(Flags::CF, true);
    Ok(())
}

fn cmc(cpu: &mut Cpu, _op: &Op) -> Exec {
    let cf = cpu.cf();
    cpu.set_flag(Flags::CF, !cf);
    Ok(())
}

fn cld(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.set_flag(Flags::DF, false);
    Ok(())
}

fn std_(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.set_flag(Flags::DF, true);
    Ok(())
}

/// CLI/STI: on IF when CPL <= IOPL, on VIF under VME/PVI, #GP(0) otherwise.
fn cli(cpu: &mut Cpu, _op: &Op) -> Exec {
    match cpu.cli_sti_access() {
        FlagAccess::Real => cpu.set_flag(Flags::IF, false),
        FlagAccess::Virtual => cpu.set_flag(Flags::VIF, false),
        FlagAccess::Fault => return Err(Exception::gp(0)),
    }
    Ok(())
}

fn sti(cpu: &mut Cpu, _op: &Op) -> Exec {
    match cpu.cli_sti_access() {
        FlagAccess::Real => {
            if !cpu.interrupts_enabled() {
                // Interrupts stay off until after the next instruction.
                cpu.inhibit_interrupts = true;
            }
            cpu.set_flag(Flags::IF, true);
            Ok(())
        }
        FlagAccess::Virtual => cpu.set_virtual_if(true),
        FlagAccess::Fault => Err(Exception::gp(0)),
    }
}

/// SAHF: SF, ZF, AF, PF, CF from AH.
fn sahf(cpu: &mut Cpu, _op: &Op) -> Exec {
    let ah = (cpu.gpr[EAX] >> 8) & 0xFF;
    let which = STATUS_FLAGS & !Flags::OF.bits();
    cpu.set_status_flags(which, ah);
    Ok(())
}

/// LAHF: AH = SF ZF 0 AF 0 PF 1 CF.
fn lahf(cpu: &mut Cpu, _op: &Op) -> Exec {
    let f = (cpu.eflags() & 0xD5) | 0x02;
    cpu.set_reg8(4, f as u8);
    Ok(())
}

fn cbw(cpu: &mut Cpu, _op: &Op) -> Exec {
    let v = cpu.gpr[EAX] as u8 as i8 as i16 as u16;
    cpu.set_reg16(EAX, v);
    Ok(())
}

fn cwde(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.gpr[EAX] = cpu.gpr[EAX] as u16 as i16 as i32 as u32;
    Ok(())
}

fn cwd(cpu: &mut Cpu, _op: &Op) -> Exec {
    let hi = if cpu.gpr[EAX] & 0x8000 != 0 {
        0xFFFF
    } else {
        0
    };
    cpu.set_reg16(EDX, hi);
    Ok(())
}

fn cdq(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.gpr[EDX] = if cpu.gpr[EAX] & 0x8000_0000 != 0 {
        u32::MAX
    } else {
        0
    };
    Ok(())
}

/// WAIT with no FPU attached: #NM when CR0.MP and CR0.TS are both set (286+).
fn wait(cpu: &mut Cpu, _op: &Op) -> Exec {
    let mp_ts = Cr0::MP.bits() | Cr0::TS.bits();
    if cpu.model >= CpuModel::I286 && cpu.cr.cr0 & mp_ts == mp_ts {
        return Err(Exception::new(crate::cpu::exception::NM));
    }
    if cpu.model >= CpuModel::I386 {
        super::fpu::check_pending(cpu)?;
    }
    Ok(())
}

/// Processor signature (family, model, stepping) reported by CPUID leaf 1.
fn signature(model: CpuModel) -> u32 {
    match model {
        // A late 486 (DX4-class, family 4 model 8) — the first 486s had no CPUID.
        CpuModel::I486 => 0x0480,
        // Pentium Pro, family 6 model 1 stepping 1.
        _ => 0x0611,
    }
}

/// CPUID leaf 1 EDX: exactly the features this interpreter implements.
pub fn feature_edx(model: CpuModel) -> u32 {
    const TSC: u32 = 1 << 4;
    const CX8: u32 = 1 << 8;
    const CMOV: u32 = 1 << 15;
    const MSR: u32 = 1 << 5;
    const VME: u32 = 1 << 1;
    const PSE: u32 = 1 << 3;
    const PGE: u32 = 1 << 13;
    const SEP: u32 = 1 << 11;
    const FPU: u32 = 1 << 0;
    match model {
        CpuModel::P6 => FPU | VME | PSE | TSC | MSR | CX8 | SEP | PGE | CMOV,
        CpuModel::I486 => FPU,
        _ => 0,
    }
}

fn cpuid(cpu: &mut Cpu, _op: &Op) -> Exec {
    let leaf = cpu.gpr[EAX];
    let (a, b, c, d) = match leaf {
        // Highest leaf, then "GenuineIntel" in EBX, EDX, ECX.
        0 => (1, 0x756E_6547, 0x6C65_746E, 0x4965_6E69),
        1 => (signature(cpu.model), 0, 0, feature_edx(cpu.model)),
        // Leaves above the maximum return the highest basic leaf's data, as Intel CPUs do.
        _ => (signature(cpu.model), 0, 0, feature_edx(cpu.model)),
    };
    cpu.gpr[EAX] = a;
    cpu.gpr[EBX] = b;
    cpu.gpr[ECX] = c;
    cpu.gpr[EDX] = d;
    Ok(())
}

/// RDTSC: the time-stamp counter counts retired instructions (plus an offset that WRMSR
/// will set); #GP when CR4.TSD restricts it to ring 0.
fn rdtsc(cpu: &mut Cpu, _op: &Op) -> Exec {
    const CR4_TSD: u32 = 1 << 2;
    if cpu.cr.cr4 & CR4_TSD != 0 && super::system::cpl(cpu) != 0 {
        return Err(Exception::gp(0));
    }
    let tsc = cpu.icount.wrapping_add(cpu.tsc_offset);
    cpu.gpr[EAX] = tsc as u32;
    cpu.gpr[EDX] = (tsc >> 32) as u32;
    Ok(())
}

fn ud(_cpu: &mut Cpu, _op: &Op) -> Exec {
    Err(Exception::invalid_opcode())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set_all(t, &[Nopw, Nopd, Nop_rm16, Nop_rm32, Pause], nop);
    // 0F 0D and 0F 18-1F with a ModRM byte are hint NOPs on the P6.
    for code in Code::values() {
        if super::code_name(code).starts_with("Reservednop_") {
            set(t, code, nop);
        }
    }
    set(t, Clc, clc);
    set(t, Stc, stc);
    set(t, Cmc, cmc);
    set(t, Cld, cld);
    set(t, Std, std_);
    set(t, Cli, cli);
    set(t, Sti, sti);
    set(t, Sahf, sahf);
    set(t, Lahf, lahf);
    set(t, Cbw, cbw);
    set(t, Cwde, cwde);
    set(t, Cwd, cwd);
    set(t, Cdq, cdq);
    set(t, Wait, wait);
    set(t, Cpuid, cpuid);
    set(t, Rdtsc, rdtsc);
    set_all(
        t,
        &[
            Ud0,
            Ud0_r16_rm16,
            Ud0_r32_rm32,
            Ud1_r16_rm16,
            Ud1_r32_rm32,
            Ud2,
        ],
        ud,
    );
}
