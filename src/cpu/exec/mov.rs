//! Data movement: MOV (registers, memory, immediates, segment registers), MOVZX/MOVSX, LEA,
//! XCHG, LDS/LES/LSS/LFS/LGS, XLAT and CMOVcc.

use iced_x86::{Code, Mnemonic, OpKind};

use super::operand::{reg_index, seg_of};
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::state::{Seg, EAX, EBX};
use crate::cpu::Cpu;

fn mov8(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op8(op, 1)?;
    let d = cpu.loc(op, 0);
    cpu.put8(d, v)
}

fn mov16(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op16(op, 1)?;
    let d = cpu.loc(op, 0);
    cpu.put16(d, v)
}

fn mov32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op32(op, 1)?;
    let d = cpu.loc(op, 0);
    cpu.put32(d, v)
}

/// MOV r/m, Sreg. A 32-bit register destination gets the selector zero-extended.
fn mov_from_sreg(cpu: &mut Cpu, op: &Op) -> Exec {
    check_sreg_exists(cpu, op.op1_register())?;
    let sel = cpu.seg[seg_of(op.op1_register()) as usize].selector;
    match op.op0_kind() {
        OpKind::Register if op.op0_register().is_gpr32() => {
            cpu.gpr[reg_index(op.op0_register())] = sel as u32;
            Ok(())
        }
        _ => {
            let d = cpu.loc(op, 0);
            cpu.put16(d, sel)
        }
    }
}

/// FS and GS arrived with the 386: their encodings are #UD before it.
fn check_sreg_exists(cpu: &Cpu, r: iced_x86::Register) -> Exec {
    if cpu.model < crate::cpu::CpuModel::I386
        && matches!(r, iced_x86::Register::FS | iced_x86::Register::GS)
    {
        return Err(Exception::invalid_opcode());
    }
    Ok(())
}

/// MOV Sreg, r/m. Loading CS this way is #UD (the 8086 alias is handled separately); MOV SS
/// holds off interrupts for one instruction.
fn mov_to_sreg(cpu: &mut Cpu, op: &Op) -> Exec {
    let seg = seg_of(op.op0_register());
    if seg == Seg::Cs {
        return Err(Exception::invalid_opcode());
    }
    check_sreg_exists(cpu, op.op0_register())?;
    let l = cpu.loc(op, 1);
    let v = cpu.get16(l)?;
    cpu.load_seg(seg, v)?;
    if seg == Seg::Ss {
        cpu.inhibit_interrupts = true;
        cpu.inhibit_debug = true;
    }
    Ok(())
}

fn movzx_sx<const SIGNED: bool, const SRC8: bool, const DST32: bool>(
    cpu: &mut Cpu,
    op: &Op,
) -> Exec {
    let v = if SRC8 {
        let b = cpu.op8(op, 1)?;
        if SIGNED {
            b as i8 as i32 as u32
        } else {
            b as u32
        }
    } else {
        let w = cpu.op16(op, 1)?;
        if SIGNED {
            w as i16 as i32 as u32
        } else {
            w as u32
        }
    };
    let r = reg_index(op.op0_register());
    if DST32 {
        cpu.gpr[r] = v;
    } else {
        cpu.set_reg16(r, v as u16);
    }
    Ok(())
}

fn lea16(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op1_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let ea = cpu.ea(op);
    cpu.set_reg16(reg_index(op.op0_register()), ea as u16);
    Ok(())
}

fn lea32(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op1_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let ea = cpu.ea(op);
    cpu.gpr[reg_index(op.op0_register())] = ea;
    Ok(())
}

fn xchg8(cpu: &mut Cpu, op: &Op) -> Exec {
    let a = cpu.loc(op, 0);
    let b = cpu.loc(op, 1);
    let va = cpu.get8(a)?;
    let vb = cpu.get8(b)?;
    cpu.put8(a, vb)?;
    cpu.put8(b, va)
}

fn xchg16(cpu: &mut Cpu, op: &Op) -> Exec {
    let a = cpu.loc(op, 0);
    let b = cpu.loc(op, 1);
    let va = cpu.get16(a)?;
    let vb = cpu.get16(b)?;
    cpu.put16(a, vb)?;
    cpu.put16(b, va)
}

fn xchg32(cpu: &mut Cpu, op: &Op) -> Exec {
    let a = cpu.loc(op, 0);
    let b = cpu.loc(op, 1);
    let va = cpu.get32(a)?;
    let vb = cpu.get32(b)?;
    cpu.put32(a, vb)?;
    cpu.put32(b, va)
}

/// LDS/LES/LSS/LFS/LGS: offset then selector from memory; the register form is #UD.
fn load_far_pointer<const OFF32: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op1_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let (s, o) = cpu.mem_operand(op);
    let (off, sel) = if OFF32 {
        let off = cpu.read32(s, o)?;
        (off, cpu.read16(s, o.wrapping_add(4))?)
    } else {
        let off = cpu.read16(s, o)? as u32;
        let sel_off = if op.addr32 {
            o.wrapping_add(2)
        } else {
            o.wrapping_add(2) & 0xFFFF
        };
        (off, cpu.read16(s, sel_off)?)
    };
    let seg = match op.mnemonic() {
        Mnemonic::Lds => Seg::Ds,
        Mnemonic::Les => Seg::Es,
        Mnemonic::Lss => Seg::Ss,
        Mnemonic::Lfs => Seg::Fs,
        _ => Seg::Gs,
    };
    cpu.load_seg(seg, sel)?;
    let r = reg_index(op.op0_register());
    if OFF32 {
        cpu.gpr[r] = off;
    } else {
        cpu.set_reg16(r, off as u16);
    }
    if seg == Seg::Ss {
        cpu.inhibit_interrupts = true;
    }
    Ok(())
}

fn xlat(cpu: &mut Cpu, op: &Op) -> Exec {
    let seg = seg_of(op.memory_segment());
    let al = cpu.gpr[EAX] & 0xFF;
    let off = if op.addr32 {
        cpu.gpr[EBX].wrapping_add(al)
    } else {
        (cpu.gpr[EBX].wrapping_add(al)) & 0xFFFF
    };
    let v = cpu.read8(seg, off)?;
    cpu.set_reg8(0, v);
    Ok(())
}

fn cmov16(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op16(op, 1)?;
    if cpu.condition(op.condition_code() as u8 - 1) {
        cpu.set_reg16(reg_index(op.op0_register()), v);
    }
    Ok(())
}

fn cmov32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op32(op, 1)?;
    if cpu.condition(op.condition_code() as u8 - 1) {
        cpu.gpr[reg_index(op.op0_register())] = v;
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set_all(
        t,
        &[
            Mov_rm8_r8,
            Mov_r8_rm8,
            Mov_AL_moffs8,
            Mov_moffs8_AL,
            Mov_r8_imm8,
            Mov_rm8_imm8,
        ],
        mov8,
    );
    set_all(
        t,
        &[
            Mov_rm16_r16,
            Mov_r16_rm16,
            Mov_AX_moffs16,
            Mov_moffs16_AX,
            Mov_r16_imm16,
            Mov_rm16_imm16,
        ],
        mov16,
    );
    set_all(
        t,
        &[
            Mov_rm32_r32,
            Mov_r32_rm32,
            Mov_EAX_moffs32,
            Mov_moffs32_EAX,
            Mov_r32_imm32,
            Mov_rm32_imm32,
        ],
        mov32,
    );
    set_all(t, &[Mov_rm16_Sreg, Mov_r32m16_Sreg], mov_from_sreg);
    set_all(t, &[Mov_Sreg_rm16, Mov_Sreg_r32m16], mov_to_sreg);
    set(t, Movzx_r16_rm8, movzx_sx::<false, true, false>);
    set(t, Movzx_r32_rm8, movzx_sx::<false, true, true>);
    set(t, Movzx_r16_rm16, movzx_sx::<false, false, false>);
    set(t, Movzx_r32_rm16, movzx_sx::<false, false, true>);
    set(t, Movsx_r16_rm8, movzx_sx::<true, true, false>);
    set(t, Movsx_r32_rm8, movzx_sx::<true, true, true>);
    set(t, Movsx_r16_rm16, movzx_sx::<true, false, false>);
    set(t, Movsx_r32_rm16, movzx_sx::<true, false, true>);
    set(t, Lea_r16_m, lea16);
    set(t, Lea_r32_m, lea32);
    set(t, Xchg_rm8_r8, xchg8);
    set_all(t, &[Xchg_rm16_r16, Xchg_r16_AX], xchg16);
    set_all(t, &[Xchg_rm32_r32, Xchg_r32_EAX], xchg32);
    set_all(
        t,
        &[
            Lds_r16_m1616,
            Les_r16_m1616,
            Lss_r16_m1616,
            Lfs_r16_m1616,
            Lgs_r16_m1616,
        ],
        load_far_pointer::<false>,
    );
    set_all(
        t,
        &[
            Lds_r32_m1632,
            Les_r32_m1632,
            Lss_r32_m1632,
            Lfs_r32_m1632,
            Lgs_r32_m1632,
        ],
        load_far_pointer::<true>,
    );
    set(t, Xlat_m8, xlat);
    for code in Code::values() {
        let name = super::code_name(code);
        if name.starts_with("Cmov") {
            if name.ends_with("_r16_rm16") {
                set(t, code, cmov16);
            } else if name.ends_with("_r32_rm32") {
                set(t, code, cmov32);
            }
        }
    }
}
