//! Stack instructions: PUSH/POP of registers, memory, immediates and segment registers,
//! PUSHA/POPA, PUSHF/POPF, ENTER and LEAVE.

use iced_x86::{Code, OpKind};

use super::operand::{reg_index, seg_of};
use super::{set, set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Flags, Seg, EBP, ESP, STATUS_FLAGS};
use crate::cpu::v86::FlagAccess;
use crate::cpu::Cpu;

/// Loads FLAGS/EFLAGS from a popped value: only `writable` bits change, the model's fixed
/// bits are forced.
pub fn write_flags(cpu: &mut Cpu, value: u32, writable: u32) {
    // Status flags that are all overwritten need not be computed from the lazy record.
    let cur = if writable & STATUS_FLAGS == STATUS_FLAGS {
        cpu.eflags
    } else {
        cpu.eflags()
    };
    let new = (cur & !writable) | (value & writable) | cpu.model.flags_fixed_ones();
    cpu.load_eflags_raw(new);
}

fn push_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let r = reg_index(op.op0_register());
    let v = if r == ESP && cpu.model == CpuModel::I8086 {
        // The 8086 pushes SP as it is after the decrement.
        cpu.sp().wrapping_sub(2) as u16
    } else {
        cpu.reg16(r)
    };
    cpu.push16(v)
}

fn push_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.gpr[reg_index(op.op0_register())];
    cpu.push32(v)
}

fn push16(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op0_kind() == OpKind::Register && reg_index(op.op0_register()) == ESP {
        // FF /6 with SP as its operand behaves like PUSH SP.
        return push_r16(cpu, op);
    }
    let v = cpu.op16(op, 0)?;
    cpu.push16(v)
}

fn push32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.op32(op, 0)?;
    cpu.push32(v)
}

fn push_sreg16(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.seg[seg_of(op.op0_register()) as usize].selector;
    cpu.push16(v)
}

fn push_sreg32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.seg[seg_of(op.op0_register()) as usize].selector;
    cpu.push32(v as u32)
}

fn pop_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.pop16()?;
    cpu.set_reg16(reg_index(op.op0_register()), v);
    Ok(())
}

fn pop_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.pop32()?;
    cpu.gpr[reg_index(op.op0_register())] = v;
    Ok(())
}

/// POP r/m: the address of a memory destination is computed with the incremented SP.
fn pop_rm<const SIZE32: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op0_kind() == OpKind::Register {
        return if SIZE32 {
            pop_r32(cpu, op)
        } else {
            pop_r16(cpu, op)
        };
    }
    let old_sp = cpu.gpr[ESP];
    let v = if SIZE32 {
        cpu.pop32()?
    } else {
        cpu.pop16()? as u32
    };
    let (s, o) = cpu.mem_operand(op);
    let r = if SIZE32 {
        cpu.write32(s, o, v)
    } else {
        cpu.write16(s, o, v as u16)
    };
    if r.is_err() {
        cpu.gpr[ESP] = old_sp;
    }
    r
}

fn pop_sreg<const SIZE32: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let seg = seg_of(op.op0_register());
    let v = if SIZE32 {
        cpu.peek32(0)? as u16
    } else {
        cpu.peek16(0)?
    };
    // The pop happens on the old stack: its size decides how SP wraps, even when the
    // value popped is a new SS with a different size.
    let mask = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let new_esp = (esp & !mask) | (esp.wrapping_add(if SIZE32 { 4 } else { 2 }) & mask);
    cpu.load_seg(seg, v)?;
    cpu.gpr[ESP] = new_esp;
    if seg == Seg::Ss {
        cpu.inhibit_interrupts = true;
        cpu.inhibit_debug = true;
    }
    Ok(())
}

fn pusha<const SIZE32: bool>(cpu: &mut Cpu, _op: &Op) -> Exec {
    let old_sp = cpu.gpr[ESP];
    let regs = cpu.gpr;
    for (i, &v) in regs.iter().enumerate() {
        let v = if i == ESP { old_sp } else { v };
        let r = if SIZE32 {
            cpu.push32(v)
        } else {
            cpu.push16(v as u16)
        };
        if let Err(e) = r {
            cpu.gpr[ESP] = old_sp;
            return Err(e);
        }
    }
    Ok(())
}

fn popa<const SIZE32: bool>(cpu: &mut Cpu, _op: &Op) -> Exec {
    let size = if SIZE32 { 4 } else { 2 };
    let mut vals = [0u32; 8];
    for (k, v) in vals.iter_mut().enumerate() {
        let off = (k as u32) * size;
        *v = if SIZE32 {
            cpu.peek32(off)?
        } else {
            cpu.peek16(off)? as u32
        };
    }
    // Popped in the order DI, SI, BP, (SP skipped), BX, DX, CX, AX.
    for (k, &v) in vals.iter().enumerate() {
        let r = 7 - k;
        if r == ESP {
            continue;
        }
        if SIZE32 {
            cpu.gpr[r] = v;
        } else {
            cpu.set_reg16(r, v as u16);
        }
    }
    let sp = cpu.sp().wrapping_add(8 * size);
    cpu.set_sp(sp);
    Ok(())
}

fn pushf16(cpu: &mut Cpu, _op: &Op) -> Exec {
    let f = match cpu.v86_flags_access(false) {
        FlagAccess::Real => cpu.eflags() as u16,
        FlagAccess::Virtual => cpu.virtual_flags_image(),
        FlagAccess::Fault => return Err(Exception::gp(0)),
    };
    cpu.push16(f)
}

fn pushf32(cpu: &mut Cpu, _op: &Op) -> Exec {
    if cpu.v86_flags_access(true) == FlagAccess::Fault {
        return Err(Exception::gp(0));
    }
    // The pushed image has VM and RF clear.
    let f = cpu.eflags() & !(Flags::VM.bits() | Flags::RF.bits());
    cpu.push32(f)
}

fn popf16(cpu: &mut Cpu, _op: &Op) -> Exec {
    match cpu.v86_flags_access(false) {
        FlagAccess::Real => {}
        FlagAccess::Virtual => {
            let v = cpu.peek16(0)?;
            cpu.load_virtual_flags(v)?;
            let sp = cpu.sp().wrapping_add(2);
            cpu.set_sp(sp);
            return Ok(());
        }
        FlagAccess::Fault => return Err(Exception::gp(0)),
    }
    let v = cpu.pop16()? as u32;
    pop_flags(cpu, v, false);
    Ok(())
}

fn popf32(cpu: &mut Cpu, _op: &Op) -> Exec {
    if cpu.v86_flags_access(true) == FlagAccess::Fault {
        return Err(Exception::gp(0));
    }
    let v = cpu.pop32()?;
    pop_flags(cpu, v, true);
    Ok(())
}

/// POPF: in protected mode IOPL changes only at CPL 0 and IF only when CPL <= IOPL.
/// In V86 mode (IOPL 3 here) IOPL is unchanged.
fn pop_flags(cpu: &mut Cpu, v: u32, size32: bool) {
    if cpu.protected_mode() {
        let cpl = cpu.cpl();
        cpu.write_flags_checked(v & !Flags::RF.bits(), size32, cpl);
        return;
    }
    let mut writable = cpu.model.flags_writable();
    if !size32 {
        writable &= 0xFFFF;
    }
    write_flags(cpu, v, writable);
}

/// ENTER size, level: builds a stack frame with `level` copied frame pointers.
fn enter<const SIZE32: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let size = op.immediate16() as u32;
    let level = (op.immediate8_2nd() & 31) as u32;
    let old_esp = cpu.gpr[ESP];
    let old_ebp = cpu.gpr[EBP];
    let r = enter_frame::<SIZE32>(cpu, size, level);
    if r.is_err() {
        cpu.gpr[ESP] = old_esp;
        cpu.gpr[EBP] = old_ebp;
    }
    r
}

fn enter_frame<const SIZE32: bool>(cpu: &mut Cpu, size: u32, level: u32) -> Exec {
    let width = if SIZE32 { 4 } else { 2 };
    let bp = cpu.gpr[EBP];
    if SIZE32 {
        cpu.push32(bp)?;
    } else {
        cpu.push16(bp as u16)?;
    }
    // FrameTemp is ESP for a 32-bit operand size even on a 16-bit stack, SP otherwise.
    let frame = if SIZE32 { cpu.gpr[ESP] } else { cpu.sp() };
    if level > 0 {
        let mask = cpu.sp_mask();
        let mut ptr = bp & mask;
        for _ in 1..level {
            ptr = ptr.wrapping_sub(width) & mask;
            if SIZE32 {
                let v = cpu.read32(Seg::Ss, ptr)?;
                cpu.push32(v)?;
            } else {
                let v = cpu.read16(Seg::Ss, ptr)?;
                cpu.push16(v)?;
            }
        }
        if SIZE32 {
            cpu.push32(frame)?;
        } else {
            cpu.push16(frame as u16)?;
        }
    }
    let new_sp = cpu.sp().wrapping_sub(size) & cpu.sp_mask();
    // The frame must be writable down to the new stack pointer.
    if size > 0 {
        cpu.probe_write(Seg::Ss, new_sp, 1)?;
    }
    if SIZE32 {
        cpu.gpr[EBP] = frame;
    } else {
        cpu.set_reg16(EBP, frame as u16);
    }
    cpu.set_sp(new_sp);
    Ok(())
}

/// LEAVE: SP = BP, then pop BP.
fn leave<const SIZE32: bool>(cpu: &mut Cpu, _op: &Op) -> Exec {
    let mask = cpu.sp_mask();
    let bp = cpu.gpr[EBP] & mask;
    let v = if SIZE32 {
        cpu.read32(Seg::Ss, bp)?
    } else {
        cpu.read16(Seg::Ss, bp)? as u32
    };
    cpu.set_sp(bp.wrapping_add(if SIZE32 { 4 } else { 2 }));
    if SIZE32 {
        cpu.gpr[EBP] = v;
    } else {
        cpu.set_reg16(EBP, v as u16);
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set(t, Push_r16, push_r16);
    set(t, Push_r32, push_r32);
    set_all(t, &[Push_rm16, Push_imm16, Pushw_imm8], push16);
    set_all(t, &[Push_rm32, Pushd_imm32, Pushd_imm8], push32);
    set_all(
        t,
        &[Pushw_ES, Pushw_CS, Pushw_SS, Pushw_DS, Pushw_FS, Pushw_GS],
        push_sreg16,
    );
    set_all(
        t,
        &[Pushd_ES, Pushd_CS, Pushd_SS, Pushd_DS, Pushd_FS, Pushd_GS],
        push_sreg32,
    );
    set(t, Pop_r16, pop_r16);
    set(t, Pop_r32, pop_r32);
    set(t, Pop_rm16, pop_rm::<false>);
    set(t, Pop_rm32, pop_rm::<true>);
    set_all(
        t,
        &[Popw_ES, Popw_SS, Popw_DS, Popw_FS, Popw_GS],
        pop_sreg::<false>,
    );
    set_all(
        t,
        &[Popd_ES, Popd_SS, Popd_DS, Popd_FS, Popd_GS],
        pop_sreg::<true>,
    );
    set(t, Pushaw, pusha::<false>);
    set(t, Pushad, pusha::<true>);
    set(t, Popaw, popa::<false>);
    set(t, Popad, popa::<true>);
    set(t, Pushfw, pushf16);
    set(t, Pushfd, pushf32);
    set(t, Popfw, popf16);
    set(t, Popfd, popf32);
    set(t, Enterw_imm16_imm8, enter::<false>);
    set(t, Enterd_imm16_imm8, enter::<true>);
    set(t, Leavew, leave::<false>);
    set(t, Leaved, leave::<true>);
}
