//! The memory skeletons of the specialised handlers. Each keeps only the fast path inline
//! (an expand-up segment that holds the access and a fast-path TLB hit, to a page without
//! decoded code for writes) and reaches everything else (segment rules, faults, page walks,
//! code-page writes, the 8086) through one out-of-line function that it tail-calls. The
//! handlers built on them are leaf functions: no registers to save, no stack frame.
//!
//! With `CHAIN` set (the instance inlined into a handler's chained form, see
//! `exec::then_next_or_slow`) the skeletons do not call the checked function: they return
//! `Exception::SLOW_PATH`, having changed nothing, so the chained form stays a leaf too.
//!
//! The `finish`/`value` closures capture nothing (they get `cpu` and `op`), so the
//! out-of-line call passes the same two arguments the handler got. The checked functions
//! end with `Cpu::report_code_writes`: a checked access may write a page that holds code
//! (or set accessed bits in one), and the run loop learns of it only from the handler.

use super::alu::{compute as alu, peek, CMP, TEST};
use super::Op;
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{MASK32, MASK8};
use crate::cpu::state::{Seg, ESP};
use crate::cpu::Cpu;

/// The fast path is closed: the checked path, or in a chained form `SLOW_PATH`.
#[inline(always)]
pub(super) fn slow<const CHAIN: bool>(checked: impl FnOnce() -> Exec) -> Exec {
    if CHAIN {
        Err(Exception::SLOW_PATH)
    } else {
        checked()
    }
}

/// The memory operand's segment and offset. `SIMPLE` is for the commonest form, 32-bit
/// addressing without an index register (`[base+disp]`, `[disp]`): no index, no scale, no
/// 16-bit wrap to compute.
#[inline(always)]
fn operand<const SIMPLE: bool>(cpu: &Cpu, op: &Op) -> (Seg, u32) {
    if SIMPLE {
        let m = &op.mem;
        let base = cpu.gpr[m.base as usize & 7] & m.base_mask;
        (m.seg, m.disp.wrapping_add(base))
    } else {
        cpu.mem_operand(op)
    }
}

/// The memory operand's offset (see `operand`).
#[inline(always)]
pub(super) fn effective_address<const SIMPLE: bool>(cpu: &Cpu, op: &Op) -> u32 {
    operand::<SIMPLE>(cpu, op).1
}

/// Whether `op`'s memory operand has the form `operand::<true>` computes.
pub(super) fn is_simple(op: &Op) -> bool {
    op.addr32 && op.mem.index_mask == 0
}

/// The `SIZE`-byte little-endian value at RAM offset `h`, zero-extended.
#[inline(always)]
pub(super) fn host_value<const SIZE: u32>(cpu: &Cpu, h: u32) -> u32 {
    match SIZE {
        1 => cpu.mem.host_read::<1>(h)[0] as u32,
        2 => u16::from_le_bytes(cpu.mem.host_read(h)) as u32,
        _ => u32::from_le_bytes(cpu.mem.host_read(h)),
    }
}

/// Stores the low `SIZE` bytes of `v` at RAM offset `h`.
#[inline(always)]
pub(super) fn host_store<const SIZE: u32>(cpu: &mut Cpu, h: u32, v: u32) {
    match SIZE {
        1 => cpu.mem.host_write(h, [v as u8]),
        2 => cpu.mem.host_write(h, (v as u16).to_le_bytes()),
        _ => cpu.mem.host_write(h, v.to_le_bytes()),
    }
}

/// Reads the `SIZE`-byte memory operand and hands it to `finish`.
#[inline(always)]
pub(super) fn load<const SIZE: u32, const SIMPLE: bool, const CHAIN: bool, F>(
    cpu: &mut Cpu,
    op: &Op,
    finish: F,
) -> Exec
where
    F: Fn(&mut Cpu, &Op, u32),
{
    let (seg, off) = operand::<SIMPLE>(cpu, op);
    match cpu.fast_read_at(seg, off, SIZE) {
        Some(h) => {
            let v = host_value::<SIZE>(cpu, h);
            finish(cpu, op, v);
            Ok(())
        }
        None => slow::<CHAIN>(|| load_checked::<SIZE, F>(cpu, op, finish)),
    }
}

#[inline(never)]
fn load_checked<const SIZE: u32, F>(cpu: &mut Cpu, op: &Op, finish: F) -> Exec
where
    F: Fn(&mut Cpu, &Op, u32),
{
    let (seg, off) = cpu.mem_operand(op);
    let v = cpu.read_slow(seg, off, SIZE)?;
    finish(cpu, op, v);
    cpu.report_code_writes()
}

/// Writes `value(cpu, op)` to the `SIZE`-byte memory operand.
#[inline(always)]
pub(super) fn store<const SIZE: u32, const SIMPLE: bool, const CHAIN: bool, F>(
    cpu: &mut Cpu,
    op: &Op,
    value: F,
) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let (seg, off) = operand::<SIMPLE>(cpu, op);
    match cpu.fast_write_at(seg, off, SIZE) {
        Some(h) => {
            let v = value(cpu, op);
            host_store::<SIZE>(cpu, h, v);
            Ok(())
        }
        None => slow::<CHAIN>(|| store_checked::<SIZE, F>(cpu, op, value)),
    }
}

#[inline(never)]
fn store_checked<const SIZE: u32, F>(cpu: &mut Cpu, op: &Op, value: F) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let (seg, off) = cpu.mem_operand(op);
    cpu.write_slow(seg, off, SIZE, value(cpu, op))?;
    cpu.report_code_writes()
}

/// `[mem] OP= source(cpu, op)` for a 1- or 4-byte memory operand; CMP and TEST only read.
#[inline(always)]
pub(super) fn alu_modify<const OP: u8, const SIZE: u32, const SIMPLE: bool, const CHAIN: bool, F>(
    cpu: &mut Cpu,
    op: &Op,
    source: F,
) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let mask = if SIZE == 1 { MASK8 } else { MASK32 };
    if OP == CMP || OP == TEST {
        // (The closure captures only `source`, which is empty.)
        return load::<SIZE, SIMPLE, CHAIN, _>(cpu, op, move |cpu, op, a| {
            let b = source(cpu, op);
            alu::<OP>(cpu, if SIZE == 1 { MASK8 } else { MASK32 }, a, b);
        });
    }
    let (seg, off) = operand::<SIMPLE>(cpu, op);
    match cpu.fast_write_at(seg, off, SIZE) {
        Some(h) => {
            let a = host_value::<SIZE>(cpu, h);
            let r = alu::<OP>(cpu, mask, a, source(cpu, op));
            host_store::<SIZE>(cpu, h, r);
            Ok(())
        }
        None => slow::<CHAIN>(|| alu_modify_checked::<OP, SIZE, F>(cpu, op, source)),
    }
}

/// The checked read-modify-write: the write comes before the flags, so a faulting write
/// leaves them untouched.
#[inline(never)]
fn alu_modify_checked<const OP: u8, const SIZE: u32, F>(cpu: &mut Cpu, op: &Op, source: F) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let mask = if SIZE == 1 { MASK8 } else { MASK32 };
    let (seg, off) = cpu.mem_operand(op);
    let a = cpu.read_slow(seg, off, SIZE)?;
    let b = source(cpu, op);
    cpu.write_slow(seg, off, SIZE, peek::<OP>(cpu, mask, a, b))?;
    alu::<OP>(cpu, mask, a, b);
    cpu.report_code_writes()
}

/// Pushes `value(cpu, op)` (`SIZE` 2 or 4 bytes).
#[inline(always)]
pub(super) fn push<const SIZE: u32, const CHAIN: bool, F>(cpu: &mut Cpu, op: &Op, value: F) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let esp = cpu.gpr[ESP];
    if cpu.is_flat(Seg::Ss) {
        // A flat stack is a 32-bit one: ESP moves whole.
        let sp = esp.wrapping_sub(SIZE);
        let Some(h) = cpu.flat_offset::<true>(sp, SIZE) else {
            return slow::<CHAIN>(|| push_checked::<SIZE, F>(cpu, op, value));
        };
        let v = value(cpu, op);
        host_store::<SIZE>(cpu, h, v);
        cpu.gpr[ESP] = sp;
        return Ok(());
    }
    let m = cpu.sp_mask();
    let sp = esp.wrapping_sub(SIZE) & m;
    match cpu.fast_write_at(Seg::Ss, sp, SIZE) {
        Some(h) => {
            // The value is taken before ESP changes (PUSH ESP pushes the old ESP).
            let v = value(cpu, op);
            host_store::<SIZE>(cpu, h, v);
            cpu.gpr[ESP] = (esp & !m) | sp;
            Ok(())
        }
        None => slow::<CHAIN>(|| push_checked::<SIZE, F>(cpu, op, value)),
    }
}

#[inline(never)]
fn push_checked<const SIZE: u32, F>(cpu: &mut Cpu, op: &Op, value: F) -> Exec
where
    F: Fn(&Cpu, &Op) -> u32,
{
    let v = value(cpu, op);
    if SIZE == 2 {
        cpu.push16(v as u16)?;
    } else {
        cpu.push32(v)?;
    }
    cpu.report_code_writes()
}

/// Pops `SIZE` (2 or 4) bytes and hands them to `finish` after ESP has moved (POP ESP
/// keeps the popped value).
#[inline(always)]
pub(super) fn pop<const SIZE: u32, const CHAIN: bool, F>(cpu: &mut Cpu, op: &Op, finish: F) -> Exec
where
    F: Fn(&mut Cpu, &Op, u32),
{
    let esp = cpu.gpr[ESP];
    if cpu.is_flat(Seg::Ss) {
        let Some(h) = cpu.flat_offset::<false>(esp, SIZE) else {
            return slow::<CHAIN>(|| pop_checked::<SIZE, F>(cpu, op, finish));
        };
        let v = host_value::<SIZE>(cpu, h);
        cpu.gpr[ESP] = esp.wrapping_add(SIZE);
        finish(cpu, op, v);
        return Ok(());
    }
    let m = cpu.sp_mask();
    match cpu.fast_read_at(Seg::Ss, esp & m, SIZE) {
        Some(h) => {
            let v = host_value::<SIZE>(cpu, h);
            cpu.gpr[ESP] = (esp & !m) | (esp.wrapping_add(SIZE) & m);
            finish(cpu, op, v);
            Ok(())
        }
        None => slow::<CHAIN>(|| pop_checked::<SIZE, F>(cpu, op, finish)),
    }
}

#[inline(never)]
fn pop_checked<const SIZE: u32, F>(cpu: &mut Cpu, op: &Op, finish: F) -> Exec
where
    F: Fn(&mut Cpu, &Op, u32),
{
    let v = if SIZE == 2 {
        cpu.pop16()? as u32
    } else {
        cpu.pop32()?
    };
    finish(cpu, op, v);
    cpu.report_code_writes()
}
