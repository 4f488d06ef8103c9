//! Control transfers: JMP, Jcc, CALL, RET, LOOP/JCXZ, INT/INTO/INT3/INT1, IRET, BOUND.
//! Branch handlers set `cpu.next_eip`; far transfers load CS through the segment loader.
//! Everything that can fault (stack reads, memory operands, limit checks) happens before any
//! register changes.

use iced_x86::{Code, OpKind};

use super::{set, set_all, Op, Table};
use crate::cpu::exception::{self, Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Seg, ECX};
use crate::cpu::Cpu;

/// Checks a near branch target against the CS limit (286+) and commits it.
#[inline(always)]
fn branch(cpu: &mut Cpu, target: u32) -> Exec {
    if cpu.model != CpuModel::I8086 && target > cpu.seg[Seg::Cs as usize].limit {
        return Err(Exception::gp(0));
    }
    cpu.next_eip = target;
    Ok(())
}

/// Operand size of a near branch: 16-bit targets wrap at 64 KiB.
#[inline(always)]
fn near_target(op: &Op) -> u32 {
    let t = op.near_branch_target() as u32;
    match op.op0_kind() {
        OpKind::NearBranch16 => t & 0xFFFF,
        _ => t,
    }
}

fn jmp_rel(cpu: &mut Cpu, op: &Op) -> Exec {
    branch(cpu, near_target(op))
}

fn jcc(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.condition(op.condition_code() as u8 - 1) {
        branch(cpu, near_target(op))
    } else {
        Ok(())
    }
}

fn jmp_rm16(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.op16(op, 0)? as u32;
    branch(cpu, t)
}

fn jmp_rm32(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.op32(op, 0)?;
    branch(cpu, t)
}

/// Loads CS:EIP for a far transfer in real mode (protected-mode gates come later).
fn far_jump(cpu: &mut Cpu, sel: u16, off: u32) -> Exec {
    let v86 = cpu.eflags & crate::cpu::Flags::VM.bits() != 0;
    if cpu.protected_mode() && !v86 {
        return cpu.jmp_far_protected(sel, off);
    }
    cpu.load_seg_real(Seg::Cs, sel);
    cpu.next_eip = off;
    Ok(())
}

/// Protected mode outside V86: far returns and IRET take the checked paths.
fn protected(cpu: &Cpu) -> bool {
    cpu.protected_mode() && cpu.eflags & crate::cpu::Flags::VM.bits() == 0
}

fn jmp_far_ptr(cpu: &mut Cpu, op: &Op) -> Exec {
    let off = if op.op0_kind() == OpKind::FarBranch32 {
        op.far_branch32()
    } else {
        op.far_branch16() as u32
    };
    far_jump(cpu, op.far_branch_selector(), off)
}

/// Reads a far pointer m16:16 / m16:32 operand: (selector, offset).
fn read_far_pointer(cpu: &mut Cpu, op: &Op, off32: bool) -> Result<(u16, u32), Exception> {
    if op.op0_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let (s, o) = cpu.mem_operand(op);
    let mask = if op.addr32 { u32::MAX } else { 0xFFFF };
    if off32 {
        let off = cpu.read32(s, o)?;
        let sel = cpu.read16(s, o.wrapping_add(4) & mask)?;
        Ok((sel, off))
    } else {
        let off = cpu.read16(s, o)? as u32;
        let sel = cpu.read16(s, o.wrapping_add(2) & mask)?;
        Ok((sel, off))
    }
}

fn jmp_far_m16(cpu: &mut Cpu, op: &Op) -> Exec {
    let (sel, off) = read_far_pointer(cpu, op, false)?;
    far_jump(cpu, sel, off)
}

fn jmp_far_m32(cpu: &mut Cpu, op: &Op) -> Exec {
    let (sel, off) = read_far_pointer(cpu, op, true)?;
    far_jump(cpu, sel, off)
}

/// Pushes a return address of the given operand size, checking the target first.
fn call_near(cpu: &mut Cpu, target: u32, size32: bool) -> Exec {
    if cpu.model != CpuModel::I8086 && target > cpu.seg[Seg::Cs as usize].limit {
        return Err(Exception::gp(0));
    }
    let ret = cpu.next_eip;
    if size32 {
        cpu.push32(ret)?;
    } else {
        cpu.push16(ret as u16)?;
    }
    cpu.next_eip = target;
    Ok(())
}

fn call_rel16(cpu: &mut Cpu, op: &Op) -> Exec {
    call_near(cpu, near_target(op), false)
}

fn call_rel32(cpu: &mut Cpu, op: &Op) -> Exec {
    call_near(cpu, near_target(op), true)
}

fn call_rm16(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.op16(op, 0)? as u32;
    call_near(cpu, t, false)
}

fn call_rm32(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.op32(op, 0)?;
    call_near(cpu, t, true)
}

/// Far call in real mode: push CS and the return offset, then load CS:EIP.
fn call_far(cpu: &mut Cpu, sel: u16, off: u32, size32: bool) -> Exec {
    if protected(cpu) {
        return cpu.call_far_protected(sel, off, size32);
    }
    let cs = cpu.seg[Seg::Cs as usize].selector;
    let ret = cpu.next_eip;
    let sp = cpu.sp();
    if size32 {
        cpu.push32(cs as u32)?;
        if let Err(e) = cpu.push32(ret) {
            cpu.set_sp(sp);
            return Err(e);
        }
    } else {
        cpu.push16(cs)?;
        if let Err(e) = cpu.push16(ret as u16) {
            cpu.set_sp(sp);
            return Err(e);
        }
    }
    if let Err(e) = far_jump(cpu, sel, off) {
        cpu.set_sp(sp);
        return Err(e);
    }
    Ok(())
}

fn call_far_ptr(cpu: &mut Cpu, op: &Op) -> Exec {
    let (off, size32) = if op.op0_kind() == OpKind::FarBranch32 {
        (op.far_branch32(), true)
    } else {
        (op.far_branch16() as u32, false)
    };
    call_far(cpu, op.far_branch_selector(), off, size32)
}

fn call_far_m16(cpu: &mut Cpu, op: &Op) -> Exec {
    let (sel, off) = read_far_pointer(cpu, op, false)?;
    call_far(cpu, sel, off, false)
}

fn call_far_m32(cpu: &mut Cpu, op: &Op) -> Exec {
    let (sel, off) = read_far_pointer(cpu, op, true)?;
    call_far(cpu, sel, off, true)
}

fn ret_imm(op: &Op) -> u32 {
    if op.op_count() > 0 {
        op.immediate16() as u32
    } else {
        0
    }
}

fn ret_near16(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.peek16(0)? as u32;
    branch(cpu, t)?;
    let sp = cpu.sp().wrapping_add(2).wrapping_add(ret_imm(op));
    cpu.set_sp(sp);
    Ok(())
}

fn ret_near32(cpu: &mut Cpu, op: &Op) -> Exec {
    let t = cpu.peek32(0)?;
    branch(cpu, t)?;
    let sp = cpu.sp().wrapping_add(4).wrapping_add(ret_imm(op));
    cpu.set_sp(sp);
    Ok(())
}

fn ret_far16(cpu: &mut Cpu, op: &Op) -> Exec {
    if protected(cpu) {
        return cpu.retf_protected(false, ret_imm(op));
    }
    let off = cpu.peek16(0)? as u32;
    let sel = cpu.peek16(2)?;
    far_jump(cpu, sel, off)?;
    let sp = cpu.sp().wrapping_add(4).wrapping_add(ret_imm(op));
    cpu.set_sp(sp);
    Ok(())
}

fn ret_far32(cpu: &mut Cpu, op: &Op) -> Exec {
    if protected(cpu) {
        return cpu.retf_protected(true, ret_imm(op));
    }
    let off = cpu.peek32(0)?;
    let sel = cpu.peek32(4)? as u16;
    far_jump(cpu, sel, off)?;
    let sp = cpu.sp().wrapping_add(8).wrapping_add(ret_imm(op));
    cpu.set_sp(sp);
    Ok(())
}

/// The count register of LOOP/JCXZ: CX or ECX, named by the Code.
#[inline(always)]
fn count_mask(op: &Op) -> u32 {
    use Code::*;
    match op.code() {
        Loopne_rel8_16_ECX | Loopne_rel8_32_ECX | Loope_rel8_16_ECX | Loope_rel8_32_ECX
        | Loop_rel8_16_ECX | Loop_rel8_32_ECX | Jecxz_rel8_16 | Jecxz_rel8_32 => u32::MAX,
        _ => 0xFFFF,
    }
}

/// LOOP/LOOPE/LOOPNE: decrement the count (no flags), branch while it is non-zero and, for
/// LOOPE/LOOPNE, while ZF matches.
fn loop_cc<const KIND: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let mask = count_mask(op);
    let count = cpu.gpr[ECX].wrapping_sub(1) & mask;
    let take = count != 0
        && match KIND {
            1 => cpu.zf(),
            2 => !cpu.zf(),
            _ => true,
        };
    if take {
        branch(cpu, near_target(op))?;
    }
    cpu.gpr[ECX] = (cpu.gpr[ECX] & !mask) | count;
    Ok(())
}

fn jcxz(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.gpr[ECX] & count_mask(op) == 0 {
        branch(cpu, near_target(op))
    } else {
        Ok(())
    }
}

fn int_imm(cpu: &mut Cpu, op: &Op) -> Exec {
    let ret = cpu.next_eip;
    if cpu.in_v86() {
        // INT n (unlike INT3 and INTO) is IOPL-sensitive in V86 mode, and VME may redirect it.
        return cpu.v86_software_interrupt(op.immediate8(), ret);
    }
    cpu.deliver_software_interrupt(op.immediate8(), ret)
}

fn int3(cpu: &mut Cpu, _op: &Op) -> Exec {
    let ret = cpu.next_eip;
    cpu.deliver_software_interrupt(exception::BP, ret)
}

fn int1(cpu: &mut Cpu, _op: &Op) -> Exec {
    let ret = cpu.next_eip;
    cpu.deliver_interrupt(exception::DB, ret, None)
}

fn into(cpu: &mut Cpu, _op: &Op) -> Exec {
    if cpu.of() {
        let ret = cpu.next_eip;
        cpu.deliver_software_interrupt(exception::OF, ret)
    } else {
        Ok(())
    }
}

/// Real-mode IRET: pops IP, CS, FLAGS (32-bit: EIP, CS, EFLAGS with VM/RF/VIP/VIF kept).
fn iret(cpu: &mut Cpu, op: &Op) -> Exec {
    let size32 = op.code() == Code::Iretd;
    if protected(cpu) {
        return cpu.iret_protected(size32);
    }
    if cpu.in_v86() {
        return iret_v86(cpu, size32);
    }
    let (ip, cs, flags) = if size32 {
        (cpu.peek32(0)?, cpu.peek32(4)? as u16, cpu.peek32(8)?)
    } else {
        (cpu.peek16(0)? as u32, cpu.peek16(2)?, cpu.peek16(4)? as u32)
    };
    far_jump(cpu, cs, ip)?;
    let sp = cpu.sp().wrapping_add(if size32 { 12 } else { 6 });
    cpu.set_sp(sp);
    let writable = if size32 {
        cpu.model.flags_writable()
            & !(crate::cpu::Flags::VM.bits()
                | crate::cpu::Flags::VIF.bits()
                | crate::cpu::Flags::VIP.bits())
    } else {
        cpu.model.flags_writable() & 0xFFFF
    };
    super::stack::write_flags(cpu, flags, writable);
    Ok(())
}

/// IRET inside V86 mode: real-mode style with IOPL 3 (IOPL itself stays), through VIF for
/// the 16-bit form under VME, #GP(0) otherwise.
fn iret_v86(cpu: &mut Cpu, size32: bool) -> Exec {
    use crate::cpu::v86::FlagAccess;
    let access = cpu.v86_flags_access(size32);
    if access == FlagAccess::Fault {
        return Err(Exception::gp(0));
    }
    let (ip, cs, flags) = if size32 {
        (cpu.peek32(0)?, cpu.peek32(4)? as u16, cpu.peek32(8)?)
    } else {
        (cpu.peek16(0)? as u32, cpu.peek16(2)?, cpu.peek16(4)? as u32)
    };
    if ip > 0xFFFF {
        return Err(Exception::gp(0));
    }
    if access == FlagAccess::Virtual {
        cpu.load_virtual_flags(flags as u16)?;
    } else {
        let mut writable = cpu.model.flags_writable() & !crate::cpu::Flags::IOPL.bits();
        if !size32 {
            writable &= 0xFFFF;
        }
        super::stack::write_flags(cpu, flags, writable);
    }
    cpu.load_seg_real(Seg::Cs, cs);
    cpu.next_eip = ip;
    let sp = cpu.sp().wrapping_add(if size32 { 12 } else { 6 });
    cpu.set_sp(sp);
    Ok(())
}

/// BOUND: #BR unless lower <= index <= upper (signed).
fn bound16(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op1_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let idx = cpu.reg16(super::operand::reg_index(op.op0_register())) as i16;
    let (s, o) = cpu.mem_operand(op);
    let lo = cpu.read16(s, o)? as i16;
    let mask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let hi = cpu.read16(s, o.wrapping_add(2) & mask)? as i16;
    if idx < lo || idx > hi {
        return Err(Exception::bound_range());
    }
    Ok(())
}

fn bound32(cpu: &mut Cpu, op: &Op) -> Exec {
    if op.op1_kind() != OpKind::Memory {
        return Err(Exception::invalid_opcode());
    }
    let idx = cpu.gpr[super::operand::reg_index(op.op0_register())] as i32;
    let (s, o) = cpu.mem_operand(op);
    let lo = cpu.read32(s, o)? as i32;
    let mask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let hi = cpu.read32(s, o.wrapping_add(4) & mask)? as i32;
    if idx < lo || idx > hi {
        return Err(Exception::bound_range());
    }
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set_all(
        t,
        &[Jmp_rel8_16, Jmp_rel8_32, Jmp_rel16, Jmp_rel32_32],
        jmp_rel,
    );
    set(t, Jmp_rm16, jmp_rm16);
    set(t, Jmp_rm32, jmp_rm32);
    set_all(t, &[Jmp_ptr1616, Jmp_ptr1632], jmp_far_ptr);
    set(t, Jmp_m1616, jmp_far_m16);
    set(t, Jmp_m1632, jmp_far_m32);
    for code in Code::values() {
        let name = super::code_name(code);
        let is_jcc = name.starts_with('J')
            && !name.starts_with("Jmp")
            && !name.starts_with("Jcxz")
            && !name.starts_with("Jecxz")
            && !name.starts_with("Jrcxz")
            && (name.contains("_rel8_") || name.contains("_rel16") || name.contains("_rel32_"))
            && !name.contains("64");
        if is_jcc {
            set(t, code, jcc);
        }
    }
    set(t, Call_rel16, call_rel16);
    set(t, Call_rel32_32, call_rel32);
    set(t, Call_rm16, call_rm16);
    set(t, Call_rm32, call_rm32);
    set_all(t, &[Call_ptr1616, Call_ptr1632], call_far_ptr);
    set(t, Call_m1616, call_far_m16);
    set(t, Call_m1632, call_far_m32);
    set_all(t, &[Retnw, Retnw_imm16], ret_near16);
    set_all(t, &[Retnd, Retnd_imm16], ret_near32);
    set_all(t, &[Retfw, Retfw_imm16], ret_far16);
    set_all(t, &[Retfd, Retfd_imm16], ret_far32);
    set_all(
        t,
        &[
            Loop_rel8_16_CX,
            Loop_rel8_32_CX,
            Loop_rel8_16_ECX,
            Loop_rel8_32_ECX,
        ],
        loop_cc::<0>,
    );
    set_all(
        t,
        &[
            Loope_rel8_16_CX,
            Loope_rel8_32_CX,
            Loope_rel8_16_ECX,
            Loope_rel8_32_ECX,
        ],
        loop_cc::<1>,
    );
    set_all(
        t,
        &[
            Loopne_rel8_16_CX,
            Loopne_rel8_32_CX,
            Loopne_rel8_16_ECX,
            Loopne_rel8_32_ECX,
        ],
        loop_cc::<2>,
    );
    set_all(
        t,
        &[Jcxz_rel8_16, Jcxz_rel8_32, Jecxz_rel8_16, Jecxz_rel8_32],
        jcxz,
    );
    set(t, Int_imm8, int_imm);
    set(t, Int3, int3);
    set(t, Int1, int1);
    set(t, Into, into);
    set_all(t, &[Iretw, Iretd], iret);
    set(t, Bound_r16_m1616, bound16);
    set(t, Bound_r32_m3232, bound32);
}
