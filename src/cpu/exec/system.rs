//! System instructions as real mode sees them: HLT, LGDT/LIDT/SGDT/SIDT, SMSW/LMSW, CLTS,
//! MOV to/from control and debug registers, INVD/WBINVD/INVLPG. The descriptor-table
//! instructions that real mode does not recognise (SLDT, STR, LLDT, LTR, LAR, LSL, VERR,
//! VERW, ARPL) raise #UD there, as on the hardware; their protected-mode forms come with the
//! protected-mode work.

use iced_x86::{Code, OpKind};

use super::operand::reg_index;
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Cr0, Flags, Seg, TableReg, ECX, EDX, ESP};
use crate::cpu::Cpu;

/// Current privilege level: 0 in real mode; protected mode takes it from CS.
#[inline]
pub fn cpl(cpu: &Cpu) -> u8 {
    if !cpu.protected_mode() {
        0
    } else if cpu.eflags & crate::cpu::Flags::VM.bits() != 0 {
        3
    } else {
        (cpu.seg[crate::cpu::Seg::Cs as usize].selector & 3) as u8
    }
}

/// Privileged instructions need CPL 0.
fn require_cpl0(cpu: &Cpu) -> Exec {
    if cpl(cpu) != 0 {
        return Err(Exception::gp(0));
    }
    Ok(())
}

fn hlt(cpu: &mut Cpu, _op: &Op) -> Exec {
    require_cpl0(cpu)?;
    cpu.halted = true;
    Ok(())
}

/// Reads the 6-byte pseudo-descriptor operand of LGDT/LIDT.
fn read_table_reg(cpu: &mut Cpu, op: &Op) -> Result<TableReg, Exception> {
    if op.op0_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    require_cpl0(cpu)?;
    let (s, o) = cpu.mem_operand(op);
    let limit = cpu.read16(s, o)?;
    let mut base = cpu.read32(s, o.wrapping_add(2))?;
    // 16-bit operand size (and the 286) load only 24 bits of base.
    if cpu.model < CpuModel::I386
        || op.code() == Code::Lgdt_m1632_16
        || op.code() == Code::Lidt_m1632_16
    {
        base &= 0x00FF_FFFF;
    }
    Ok(TableReg { base, limit })
}

fn lgdt(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gdtr = read_table_reg(cpu, op)?;
    Ok(())
}

fn lidt(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.idtr = read_table_reg(cpu, op)?;
    Ok(())
}

fn store_table_reg(cpu: &mut Cpu, op: &Op, t: TableReg) -> Exec {
    if op.op0_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let (s, o) = cpu.mem_operand(op);
    // The 286 has a 24-bit base and stores 0xFF as the fourth byte.
    let base = if cpu.model == CpuModel::I286 {
        t.base | 0xFF00_0000
    } else {
        t.base
    };
    cpu.read32(s, o.wrapping_add(2))?;
    cpu.write16(s, o, t.limit)?;
    cpu.write32(s, o.wrapping_add(2), base)
}

fn sgdt(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.gdtr;
    store_table_reg(cpu, op, t)
}

fn sidt(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.idtr;
    store_table_reg(cpu, op, t)
}

/// SMSW: the low word of CR0 (a 32-bit register destination gets all of CR0 on 386+).
fn smsw(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.cr.cr0;
    if op.op0_kind() == OpKind::Register && op.op0_register().is_gpr32() {
        cpu.gpr[reg_index(op.op0_register())] = v;
        return Ok(());
    }
    let l = cpu.loc(op, 0);
    cpu.put16(l, v as u16)
}

/// LMSW: loads PE, MP, EM, TS; PE can be set but not cleared.
fn lmsw(cpu: &mut Cpu, op: &Op) -> Exec {
    let l = cpu.loc(op, 0);
    let v = cpu.get16(l)? as u32;
    require_cpl0(cpu)?;
    let keep_pe = cpu.cr.cr0 & Cr0::PE.bits();
    cpu.cr.cr0 = (cpu.cr.cr0 & !0xF) | (v & 0xF) | keep_pe;
    cpu.refresh_fast_key();
    Ok(())
}

fn clts(cpu: &mut Cpu, _op: &Op) -> Exec {
    require_cpl0(cpu)?;
    cpu.cr.cr0 &= !Cr0::TS.bits();
    Ok(())
}

fn mov_from_cr(cpu: &mut Cpu, op: &Op) -> Exec {
    require_cpl0(cpu)?;
    let v = match op.op1_register() {
        iced_x86::Register::CR0 => cpu.cr.cr0,
        iced_x86::Register::CR2 => cpu.cr.cr2,
        iced_x86::Register::CR3 => cpu.cr.cr3,
        iced_x86::Register::CR4 if cpu.model >= CpuModel::I486 => cpu.cr.cr4,
        _ => return Err(Exception::invalid_opcode()),
    };
    cpu.gpr[reg_index(op.op0_register())] = v;
    Ok(())
}

fn mov_to_cr(cpu: &mut Cpu, op: &Op) -> Exec {
    require_cpl0(cpu)?;
    let v = cpu.gpr[reg_index(op.op1_register())];
    match op.op0_register() {
        iced_x86::Register::CR0 => {
            // PG without PE is invalid.
            if v & Cr0::PG.bits() != 0 && v & Cr0::PE.bits() == 0 {
                return Err(Exception::gp(0));
            }
            let fixed = if cpu.model == CpuModel::I386 {
                Cr0::ET.bits()
            } else {
                0
            };
            cpu.cr.cr0 = v | fixed;
            cpu.refresh_fast_key();
        }
        iced_x86::Register::CR2 => cpu.cr.cr2 = v,
        iced_x86::Register::CR3 => {
            cpu.cr.cr3 = v;
            // A CR3 load flushes every translation except global pages.
            let keep_global = cpu.cr.cr4 & CR4_PGE != 0;
            cpu.flush_tlb(keep_global);
            return Ok(());
        }
        iced_x86::Register::CR4 if cpu.model >= CpuModel::I486 => {
            if v & !cr4_supported(cpu.model) != 0 {
                return Err(Exception::gp(0));
            }
            cpu.cr.cr4 = v;
        }
        _ => return Err(Exception::invalid_opcode()),
    }
    // CR0 and CR4 change how translations are made (PG, WP, PSE, PGE): drop them all.
    cpu.flush_tlb(false);
    // Paging and mode bits change how code is fetched: decoded blocks are keyed by physical
    // address, so they stay valid, but the next fetch must re-translate (blocks end here).
    Ok(())
}

const CR4_PGE: u32 = 1 << 7;

/// CR4 bits we implement (VME, PVI, TSD, PSE, PGE on the P6; a plain 486 has none).
/// Others — DE, MCE, PAE, PCE — raise #GP(0), matching what CPUID reports.
fn cr4_supported(model: CpuModel) -> u32 {
    match model {
        CpuModel::P6 => 0x97,
        _ => 0,
    }
}

/// The debug register an instruction names: DR4/DR5 are aliases of DR6/DR7, unless
/// CR4.DE makes them undefined (#UD).
fn dr_index(cpu: &Cpu, r: iced_x86::Register) -> Result<usize, Exception> {
    const CR4_DE: u32 = 1 << 3;
    let n = (r as usize).wrapping_sub(iced_x86::Register::DR0 as usize) & 7;
    match n {
        4 | 5 if cpu.cr.cr4 & CR4_DE != 0 => Err(Exception::invalid_opcode()),
        4 | 5 => Ok(n + 2),
        _ => Ok(n),
    }
}

/// DR7.GD: any debug register access raises #DB (a fault) with DR6.BD, clearing GD so
/// the handler can use the registers.
fn general_detect(cpu: &mut Cpu) -> Exec {
    use crate::cpu::debug::{DR6_BD, DR7_GD};
    if cpu.dr[7] & DR7_GD != 0 {
        cpu.dr[7] &= !DR7_GD;
        cpu.dr[6] |= DR6_BD;
        return Err(Exception::new(crate::cpu::exception::DB));
    }
    Ok(())
}

fn mov_from_dr(cpu: &mut Cpu, op: &Op) -> Exec {
    require_cpl0(cpu)?;
    general_detect(cpu)?;
    let v = cpu.dr[dr_index(cpu, op.op1_register())?];
    cpu.gpr[reg_index(op.op0_register())] = v;
    Ok(())
}

fn mov_to_dr(cpu: &mut Cpu, op: &Op) -> Exec {
    require_cpl0(cpu)?;
    general_detect(cpu)?;
    let v = cpu.gpr[reg_index(op.op1_register())];
    let n = dr_index(cpu, op.op0_register())?;
    cpu.dr[n] = match n {
        6 => v | crate::cpu::debug::DR6_FIXED,
        7 => (v | crate::cpu::debug::DR7_FIXED) & !0xD800,
        _ => v,
    };
    cpu.update_debug_state();
    Ok(())
}

const MSR_TSC: u32 = 0x10;
const MSR_APIC_BASE: u32 = 0x1B;
const MSR_SYSENTER_CS: u32 = 0x174;
const MSR_SYSENTER_ESP: u32 = 0x175;
const MSR_SYSENTER_EIP: u32 = 0x176;
/// APIC base: the default address with the enable and bootstrap-processor bits.
const APIC_BASE_VALUE: u64 = 0xFEE0_0000 | 1 << 11 | 1 << 8;

/// RDMSR: the MSRs software reads on a P6; others raise #GP(0).
fn rdmsr(cpu: &mut Cpu, _op: &Op) -> Exec {
    require_cpl0(cpu)?;
    let v: u64 = match cpu.gpr[crate::cpu::state::ECX] {
        MSR_TSC => cpu.icount.wrapping_add(cpu.tsc_offset),
        MSR_APIC_BASE => APIC_BASE_VALUE,
        MSR_SYSENTER_CS => cpu.sysenter[0] as u64,
        MSR_SYSENTER_ESP => cpu.sysenter[1] as u64,
        MSR_SYSENTER_EIP => cpu.sysenter[2] as u64,
        _ => return Err(Exception::gp(0)),
    };
    cpu.gpr[crate::cpu::state::EAX] = v as u32;
    cpu.gpr[crate::cpu::state::EDX] = (v >> 32) as u32;
    Ok(())
}

fn wrmsr(cpu: &mut Cpu, _op: &Op) -> Exec {
    require_cpl0(cpu)?;
    let v = (cpu.gpr[crate::cpu::state::EDX] as u64) << 32 | cpu.gpr[crate::cpu::state::EAX] as u64;
    match cpu.gpr[crate::cpu::state::ECX] {
        // Writing the TSC sets the counter: keep the offset from the instruction count.
        MSR_TSC => cpu.tsc_offset = v.wrapping_sub(cpu.icount),
        // The APIC is not emulated: its base is fixed.
        MSR_APIC_BASE => {}
        MSR_SYSENTER_CS => cpu.sysenter[0] = v as u32,
        MSR_SYSENTER_ESP => cpu.sysenter[1] = v as u32,
        MSR_SYSENTER_EIP => cpu.sysenter[2] = v as u32,
        _ => return Err(Exception::gp(0)),
    }
    Ok(())
}

/// INVLPG: drops the TLB entry of the page holding the operand's linear address.
fn invlpg(cpu: &mut Cpu, op: &Op) -> Exec {
    require_cpl0(cpu)?;
    let (seg, off) = cpu.mem_operand(op);
    let lin = cpu.seg[seg as usize].base.wrapping_add(off);
    cpu.invlpg(lin);
    Ok(())
}

/// Cache maintenance: nothing is cached that these could make stale.
fn privileged_nop(cpu: &mut Cpu, _op: &Op) -> Exec {
    require_cpl0(cpu)
}

/// Instructions that real mode (and V86 mode) does not recognise.
fn not_in_real_mode(_cpu: &mut Cpu, _op: &Op) -> Exec {
    Err(Exception::invalid_opcode())
}

/// Protected mode outside V86, where the descriptor instructions exist.
fn require_protected(cpu: &Cpu) -> Exec {
    if !cpu.protected_mode() || cpu.eflags & crate::cpu::Flags::VM.bits() != 0 {
        return Err(Exception::invalid_opcode());
    }
    Ok(())
}

/// SLDT/STR: store a selector (zero-extended into a 32-bit register).
fn store_selector(cpu: &mut Cpu, op: &Op, sel: u16) -> Exec {
    if op.op0_kind() == OpKind::Register && op.op0_register().is_gpr32() {
        cpu.gpr[reg_index(op.op0_register())] = sel as u32;
        return Ok(());
    }
    let l = cpu.loc(op, 0);
    cpu.put16(l, sel)
}

fn sldt(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let sel = cpu.ldtr.selector;
    store_selector(cpu, op, sel)
}

fn str_(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let sel = cpu.tr.selector;
    store_selector(cpu, op, sel)
}

/// LLDT: a null selector disables the LDT; otherwise a present LDT descriptor in the GDT.
fn lldt(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let l = cpu.loc(op, 0);
    let sel = cpu.get16(l)?;
    require_cpl0(cpu)?;
    if sel & !3 == 0 {
        cpu.ldtr = crate::cpu::Segment {
            selector: sel,
            base: 0,
            limit: 0,
            attrs: 0,
        };
        return Ok(());
    }
    if sel & 4 != 0 {
        return Err(Exception::gp(sel as u32 & 0xFFFC));
    }
    let d = cpu.read_descriptor(sel)?;
    if d.is_segment() || d.typ() != 2 {
        return Err(Exception::gp(sel as u32 & 0xFFFC));
    }
    if !d.present() {
        return Err(Exception::np(sel as u32 & 0xFFFC));
    }
    cpu.ldtr = d.to_segment(sel);
    Ok(())
}

/// LTR: an available TSS descriptor in the GDT, which becomes busy.
fn ltr(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let l = cpu.loc(op, 0);
    let sel = cpu.get16(l)?;
    require_cpl0(cpu)?;
    if sel & !3 == 0 || sel & 4 != 0 {
        return Err(Exception::gp(sel as u32 & 0xFFFC));
    }
    let d = cpu.read_descriptor(sel)?;
    if d.is_segment() || !matches!(d.typ(), 1 | 9) {
        return Err(Exception::gp(sel as u32 & 0xFFFC));
    }
    if !d.present() {
        return Err(Exception::np(sel as u32 & 0xFFFC));
    }
    let addr = cpu.gdtr.base.wrapping_add((sel & !7) as u32 + 5);
    let phys = cpu.translate_system(addr, true)?;
    let b = cpu.mem.read_u8(phys);
    cpu.mem.write_u8(phys, b | 2);
    let mut seg = d.to_segment(sel);
    seg.attrs |= 2;
    cpu.tr = seg;
    Ok(())
}

/// Whether LAR/LSL/VERR/VERW may see descriptor `d` through `sel` at the current CPL.
fn visible(cpu: &Cpu, sel: u16, d: &crate::cpu::protected::Descriptor) -> bool {
    let conforming = d.conforming();
    conforming || (d.dpl() >= cpu.cpl() && d.dpl() >= (sel & 3) as u8)
}

/// LAR/LSL/VERR/VERW set ZF when the selector passes; a descriptor outside the table or a
/// null selector just clears ZF.
fn lookup_for_check(cpu: &mut Cpu, sel: u16) -> Option<crate::cpu::protected::Descriptor> {
    if sel & !3 == 0 {
        return None;
    }
    cpu.read_descriptor(sel).ok()
}

fn lar_lsl<const LSL: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let sel = cpu.op16(op, 1)?;
    let result = lookup_for_check(cpu, sel).and_then(|d| {
        let type_ok = if d.is_segment() {
            true
        } else if LSL {
            matches!(d.typ(), 1 | 2 | 3 | 9 | 11)
        } else {
            matches!(d.typ(), 1 | 2 | 3 | 4 | 5 | 9 | 11 | 12)
        };
        (type_ok && visible(cpu, sel, &d)).then_some(d)
    });
    let Some(d) = result else {
        cpu.set_status_flags(crate::cpu::Flags::ZF.bits(), 0);
        return Ok(());
    };
    let v = if LSL { d.limit() } else { d.hi & 0x00F0_FF00 };
    let r = reg_index(op.op0_register());
    if op.op0_register().is_gpr32() {
        cpu.gpr[r] = v;
    } else {
        cpu.set_reg16(r, v as u16);
    }
    cpu.set_status_flags(crate::cpu::Flags::ZF.bits(), crate::cpu::Flags::ZF.bits());
    Ok(())
}

fn verr_verw<const WRITE: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let l = cpu.loc(op, 0);
    let sel = cpu.get16(l)?;
    let ok = lookup_for_check(cpu, sel).is_some_and(|d| {
        d.is_segment()
            && if WRITE {
                d.writable_data()
            } else {
                d.readable()
            }
            && visible(cpu, sel, &d)
    });
    let zf = if ok { crate::cpu::Flags::ZF.bits() } else { 0 };
    cpu.set_status_flags(crate::cpu::Flags::ZF.bits(), zf);
    Ok(())
}

/// ARPL: raises the destination selector's RPL to the source's.
fn arpl(cpu: &mut Cpu, op: &Op) -> Exec {
    require_protected(cpu)?;
    let l = cpu.loc(op, 0);
    let dst = cpu.get16(l)?;
    let src = cpu.reg16(reg_index(op.op1_register()));
    if dst & 3 < src & 3 {
        cpu.put16(l, (dst & !3) | (src & 3))?;
        cpu.set_status_flags(crate::cpu::Flags::ZF.bits(), crate::cpu::Flags::ZF.bits());
    } else {
        cpu.set_status_flags(crate::cpu::Flags::ZF.bits(), 0);
    }
    Ok(())
}

/// SYSENTER: to ring 0 with flat segments derived from SYSENTER_CS (CS, then SS = CS + 8),
/// EIP and ESP from the other two MSRs; VM, IF and RF are cleared.
fn sysenter(cpu: &mut Cpu, _op: &Op) -> Exec {
    let cs = cpu.sysenter[0] as u16 & 0xFFFC;
    if !cpu.protected_mode() || cs == 0 {
        return Err(Exception::gp(0));
    }
    cpu.eflags &= !(Flags::VM.bits() | Flags::IF.bits() | Flags::RF.bits());
    cpu.seg[Seg::Cs as usize] = flat_segment(cs, 0x9B);
    cpu.refresh_fast_key();
    cpu.seg[Seg::Ss as usize] = flat_segment(cs + 8, 0x93);
    cpu.gpr[ESP] = cpu.sysenter[1];
    cpu.next_eip = cpu.sysenter[2];
    Ok(())
}

/// SYSEXIT: from ring 0 to ring 3 with CS = SYSENTER_CS + 16, SS = + 24, EIP = EDX,
/// ESP = ECX.
fn sysexit(cpu: &mut Cpu, _op: &Op) -> Exec {
    let cs = cpu.sysenter[0] as u16 & 0xFFFC;
    if !cpu.protected_mode() || cpl(cpu) != 0 || cs == 0 {
        return Err(Exception::gp(0));
    }
    cpu.seg[Seg::Cs as usize] = flat_segment((cs + 16) | 3, 0xFB);
    cpu.refresh_fast_key();
    cpu.seg[Seg::Ss as usize] = flat_segment((cs + 24) | 3, 0xF3);
    cpu.gpr[ESP] = cpu.gpr[ECX];
    cpu.next_eip = cpu.gpr[EDX];
    Ok(())
}

/// The descriptor cache SYSENTER/SYSEXIT load: base 0, 4 GiB, 32-bit, the given access
/// byte (the GDT is not read).
fn flat_segment(selector: u16, access: u16) -> crate::cpu::Segment {
    crate::cpu::Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        attrs: access | 0xC000,
    }
}

pub fn register(t: &mut Table) {
    use Code::*;
    set(t, Hlt, hlt);
    set(t, Sysenter, sysenter);
    set(t, Sysexitd, sysexit);
    set_all(t, &[Lgdt_m1632_16, Lgdt_m1632], lgdt);
    set_all(t, &[Lidt_m1632_16, Lidt_m1632], lidt);
    set_all(t, &[Sgdt_m1632_16, Sgdt_m1632], sgdt);
    set_all(t, &[Sidt_m1632_16, Sidt_m1632], sidt);
    set_all(t, &[Smsw_rm16, Smsw_r32m16], smsw);
    set_all(t, &[Lmsw_rm16, Lmsw_r32m16], lmsw);
    set(t, Rdmsr, rdmsr);
    set(t, Wrmsr, wrmsr);
    // POP CS exists only on the 8086 (decoded by its fixups); elsewhere 0F is an escape.
    set(t, Popw_CS, not_in_real_mode);
    set(t, Clts, clts);
    set(t, Mov_r32_cr, mov_from_cr);
    set(t, Mov_cr_r32, mov_to_cr);
    set(t, Mov_r32_dr, mov_from_dr);
    set(t, Mov_dr_r32, mov_to_dr);
    set_all(t, &[Invd, Wbinvd], privileged_nop);
    set(t, Invlpg_m, invlpg);
    set_all(t, &[Sldt_rm16, Sldt_r32m16], sldt);
    set_all(t, &[Str_rm16, Str_r32m16], str_);
    set_all(t, &[Lldt_rm16, Lldt_r32m16], lldt);
    set_all(t, &[Ltr_rm16, Ltr_r32m16], ltr);
    set_all(t, &[Verr_rm16, Verr_r32m16], verr_verw::<false>);
    set_all(t, &[Verw_rm16, Verw_r32m16], verr_verw::<true>);
    set_all(t, &[Lar_r16_rm16, Lar_r32_r32m16], lar_lsl::<false>);
    set_all(t, &[Lsl_r16_rm16, Lsl_r32_r32m16], lar_lsl::<true>);
    set_all(t, &[Arpl_rm16_r16, Arpl_r32m16_r32], arpl);
}

#[cfg(test)]
mod tests {
    use crate::cpu::testutil::{run16, run32};
    use crate::cpu::CpuModel;
    use iced_x86::code_asm::*;

    #[test]
    fn lgdt_sgdt_round_trip_32() {
        let cpu = run32(|a| {
            a.mov(dword_ptr(0x2000), 0x5678_0017u32).unwrap();
            a.mov(word_ptr(0x2004), 0x1234u32).unwrap();
            a.lgdt(ptr(0x2000)).unwrap();
            a.sgdt(ptr(0x3000)).unwrap();
        });
        assert_eq!(cpu.gdtr.limit, 0x17);
        assert_eq!(cpu.gdtr.base, 0x1234_5678);
        assert_eq!(cpu.mem.read_u16(0x3000), 0x17);
        assert_eq!(cpu.mem.read_u32(0x3002), 0x1234_5678);
    }

    #[test]
    fn sidt_on_286_stores_ff_high_byte() {
        let cpu = run16(CpuModel::I286, |a| {
            a.sidt(ptr(0x3000)).unwrap();
        });
        assert_eq!(cpu.mem.read_u16(0x3000), 0x3FF);
        assert_eq!(cpu.mem.read_u32(0x3002), 0xFF00_0000);
    }

    #[test]
    fn smsw_lmsw_and_clts() {
        let cpu = run16(CpuModel::I386, |a| {
            a.mov(ax, 0x000Eu32).unwrap();
            a.lmsw(ax).unwrap();
            a.smsw(bx).unwrap();
            a.clts().unwrap();
            a.smsw(cx).unwrap();
        });
        assert_eq!(cpu.gpr[3] & 0xF, 0xE);
        assert_eq!(cpu.gpr[1] & 0xF, 0x6);
    }

    #[test]
    fn mov_cr_and_dr_32() {
        let cpu = run32(|a| {
            a.mov(eax, 0x1234_5000u32).unwrap();
            a.mov(cr3, eax).unwrap();
            a.mov(ebx, cr3).unwrap();
            a.mov(ecx, 0x55u32).unwrap();
            a.mov(dr0, ecx).unwrap();
            a.mov(edx, dr0).unwrap();
        });
        assert_eq!(cpu.cr.cr3, 0x1234_5000);
        assert_eq!(cpu.gpr[3], 0x1234_5000);
        assert_eq!(cpu.gpr[2], 0x55);
    }

    #[test]
    fn descriptor_instructions_are_undefined_in_real_mode() {
        // SLDT AX at 0000:1000 raises #UD: vector 6 points at 0000:2000 where HLT waits.
        let code = crate::cpu::testutil::assemble(16, |a| {
            a.sldt(ax).unwrap();
        });
        let mut cpu = crate::cpu::testutil::load(CpuModel::I286, 16, &code);
        cpu.mem.write_u16(6 * 4, 0x2000);
        cpu.mem.write_u16(6 * 4 + 2, 0);
        cpu.mem.write_u8(0x2000, 0xF4);
        crate::cpu::testutil::run_to_halt(&mut cpu);
        assert_eq!(cpu.eip, 0x2001);
        assert_eq!(
            cpu.mem.read_u16(cpu.sp()),
            0x1000,
            "#UD returns to the faulting instruction"
        );
    }
}
