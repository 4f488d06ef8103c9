//! Specialised handlers for near control flow and the stack: PUSH/POP of a register, near
//! CALL/JMP to a precomputed target and near RET. The generic handlers read operands through
//! iced-x86's accessors; these use the register number and target `Op::new` stored.

use iced_x86::Code;

use super::{Handler, Op};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Seg, ESP};
use crate::cpu::Cpu;

/// A near branch target must lie inside CS (the 8086 has no limit).
#[inline(always)]
fn check_target(cpu: &Cpu, target: u32) -> Exec {
    if cpu.model != CpuModel::I8086 && target > cpu.seg[Seg::Cs as usize].limit {
        return Err(Exception::gp(0));
    }
    Ok(())
}

fn push_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.push32(cpu.gpr[op.r0 as usize & 7])
}

fn pop_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    // POP ESP: the popped value replaces the incremented ESP.
    let v = cpu.pop32()?;
    cpu.gpr[op.r0 as usize & 7] = v;
    Ok(())
}

fn push_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let r = op.r0 as usize & 7;
    let v = if r == ESP && cpu.model == CpuModel::I8086 {
        // The 8086 pushes SP as it is after the decrement.
        cpu.sp().wrapping_sub(2) as u16
    } else {
        cpu.gpr[r] as u16
    };
    cpu.push16(v)
}

fn pop_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.pop16()?;
    cpu.set_reg16(op.r0 as usize & 7, v);
    Ok(())
}

fn jmp_near(cpu: &mut Cpu, op: &Op) -> Exec {
    check_target(cpu, op.imm)?;
    cpu.next_eip = op.imm;
    Ok(())
}

fn call_rel32(cpu: &mut Cpu, op: &Op) -> Exec {
    check_target(cpu, op.imm)?;
    cpu.push32(cpu.next_eip)?;
    cpu.next_eip = op.imm;
    Ok(())
}

fn call_rel16(cpu: &mut Cpu, op: &Op) -> Exec {
    check_target(cpu, op.imm)?;
    cpu.push16(cpu.next_eip as u16)?;
    cpu.next_eip = op.imm;
    Ok(())
}

/// RET and RET imm16 (`imm` holds the byte count, 0 without one).
fn ret_near32(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let t = cpu.read32(Seg::Ss, esp & m)?;
    check_target(cpu, t)?;
    cpu.next_eip = t;
    cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(4).wrapping_add(op.imm) & m);
    Ok(())
}

fn ret_near16(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let t = cpu.read16(Seg::Ss, esp & m)? as u32;
    check_target(cpu, t)?;
    cpu.next_eip = t;
    cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(2).wrapping_add(op.imm) & m);
    Ok(())
}

/// A faster handler for `op`'s form, if there is one.
pub fn specialize(op: &Op) -> Option<Handler> {
    Some(match op.code() {
        Code::Push_r32 => push_r32,
        Code::Pop_r32 => pop_r32,
        Code::Push_r16 => push_r16,
        Code::Pop_r16 => pop_r16,
        Code::Jmp_rel8_16 | Code::Jmp_rel16 | Code::Jmp_rel8_32 | Code::Jmp_rel32_32 => jmp_near,
        Code::Call_rel32_32 => call_rel32,
        Code::Call_rel16 => call_rel16,
        Code::Retnd | Code::Retnd_imm16 => ret_near32,
        Code::Retnw | Code::Retnw_imm16 => ret_near16,
        _ => return None,
    })
}
