//! Specialised handlers for near control flow and the stack: PUSH/POP of a register, near
//! CALL/JMP to a precomputed target and near RET. The generic handlers read operands through
//! iced-x86's accessors; these use the register number and target `Op::new` stored.

use iced_x86::Code;

use super::fast_mem::{pop, push};
use super::{Op, Spec};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Seg, ECX, ESP};
use crate::cpu::Cpu;

/// A near branch target must lie inside CS (the 8086 has no limit).
#[inline(always)]
pub(super) fn check_target(cpu: &Cpu, target: u32) -> Exec {
    if cpu.model != CpuModel::I8086 && target > cpu.seg[Seg::Cs as usize].limit {
        return Err(Exception::gp(0));
    }
    Ok(())
}

// The stack handlers keep only the fast path inline (see `fast_mem.rs`).

#[inline(always)]
fn push_r32<const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    push::<4, C, _>(cpu, op, |cpu, op| cpu.gpr[op.r0 as usize & 7])
}

#[inline(always)]
fn pop_r32<const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    pop::<4, C, _>(cpu, op, |cpu, op, v| cpu.gpr[op.r0 as usize & 7] = v)
}

#[inline(always)]
fn push_r16<const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let r = op.r0 as usize & 7;
    if r == ESP && cpu.model == CpuModel::I8086 {
        if C {
            return Err(Exception::SLOW_PATH);
        }
        // The 8086 pushes SP as it is after the decrement.
        let v = cpu.sp().wrapping_sub(2) as u16;
        cpu.push16(v)?;
        return cpu.report_code_writes();
    }
    push::<2, C, _>(cpu, op, |cpu, op| cpu.gpr[op.r0 as usize & 7])
}

#[inline(always)]
fn pop_r16<const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    pop::<2, C, _>(cpu, op, |cpu, op, v| {
        cpu.set_reg16(op.r0 as usize & 7, v as u16)
    })
}

#[inline(always)]
fn jmp_near(cpu: &mut Cpu, op: &Op) -> Exec {
    check_target(cpu, op.imm)?;
    cpu.next_eip = op.imm;
    Ok(())
}

#[inline(always)]
fn call_rel32(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let sp = esp.wrapping_sub(4) & m;
    let Some(h) = cpu.fast_write_at(Seg::Ss, sp, 4) else {
        return call_checked::<4>(cpu, op);
    };
    check_target(cpu, op.imm)?;
    cpu.mem.host_write(h, cpu.next_eip.to_le_bytes());
    cpu.gpr[ESP] = (esp & !m) | sp;
    cpu.next_eip = op.imm;
    Ok(())
}

#[inline(always)]
fn call_rel16(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let sp = esp.wrapping_sub(2) & m;
    let Some(h) = cpu.fast_write_at(Seg::Ss, sp, 2) else {
        return call_checked::<2>(cpu, op);
    };
    check_target(cpu, op.imm)?;
    cpu.mem.host_write(h, (cpu.next_eip as u16).to_le_bytes());
    cpu.gpr[ESP] = (esp & !m) | sp;
    cpu.next_eip = op.imm;
    Ok(())
}

/// A near CALL whose push the fast path did not take.
#[inline(never)]
fn call_checked<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    check_target(cpu, op.imm)?;
    if SIZE == 2 {
        cpu.push16(cpu.next_eip as u16)?;
    } else {
        cpu.push32(cpu.next_eip)?;
    }
    cpu.next_eip = op.imm;
    cpu.report_code_writes()
}

/// RET and RET imm16 (`imm` holds the byte count, 0 without one).
#[inline(always)]
fn ret_near32(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let Some(h) = cpu.fast_read_at(Seg::Ss, esp & m, 4) else {
        return ret_checked::<4>(cpu, op);
    };
    let t = u32::from_le_bytes(cpu.mem.host_read(h));
    check_target(cpu, t)?;
    cpu.next_eip = t;
    cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(4).wrapping_add(op.imm) & m);
    Ok(())
}

#[inline(always)]
fn ret_near16(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let Some(h) = cpu.fast_read_at(Seg::Ss, esp & m, 2) else {
        return ret_checked::<2>(cpu, op);
    };
    let t = u16::from_le_bytes(cpu.mem.host_read(h)) as u32;
    check_target(cpu, t)?;
    cpu.next_eip = t;
    cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(2).wrapping_add(op.imm) & m);
    Ok(())
}

/// A near RET whose stack read the fast path did not take.
#[inline(never)]
fn ret_checked<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = cpu.sp_mask();
    let esp = cpu.gpr[ESP];
    let t = cpu.read_slow(Seg::Ss, esp & m, SIZE)?;
    check_target(cpu, t)?;
    cpu.next_eip = t;
    cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(SIZE).wrapping_add(op.imm) & m);
    cpu.report_code_writes()
}

/// LOOP with the count in CX (`ECX`: in ECX) and the target in `imm`: decrement the count
/// (no flags), branch while it is not zero.
#[inline(always)]
fn loop_near<const ECX_COUNT: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let mask = if ECX_COUNT { u32::MAX } else { 0xFFFF };
    let count = cpu.gpr[ECX].wrapping_sub(1) & mask;
    if count != 0 {
        check_target(cpu, op.imm)?;
        cpu.next_eip = op.imm;
    }
    cpu.gpr[ECX] = (cpu.gpr[ECX] & !mask) | count;
    Ok(())
}

/// A faster handler for `op`'s form, if there is one.
pub fn specialize(op: &Op) -> Option<Spec> {
    Some(match op.code() {
        Code::Push_r32 => spec_mem!(push_r32),
        Code::Pop_r32 => spec_mem!(pop_r32),
        Code::Push_r16 => spec_mem!(push_r16),
        Code::Pop_r16 => spec_mem!(pop_r16),
        Code::Jmp_rel8_16 | Code::Jmp_rel16 | Code::Jmp_rel8_32 | Code::Jmp_rel32_32 => {
            spec_last!(jmp_near)
        }
        Code::Call_rel32_32 => spec_last!(call_rel32),
        Code::Call_rel16 => spec_last!(call_rel16),
        Code::Retnd | Code::Retnd_imm16 => spec_last!(ret_near32),
        Code::Retnw | Code::Retnw_imm16 => spec_last!(ret_near16),
        Code::Loop_rel8_16_CX | Code::Loop_rel8_32_CX => spec_last!(loop_near::<false>),
        Code::Loop_rel8_16_ECX | Code::Loop_rel8_32_ECX => spec_last!(loop_near::<true>),
        _ => return None,
    })
}
