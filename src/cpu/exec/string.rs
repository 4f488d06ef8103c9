//! String instructions: MOVS, CMPS, SCAS, LODS, STOS, INS, OUTS with REP/REPE/REPNE.
//!
//! A REP instruction runs its iterations inside one handler call, at most `CHUNK` of them:
//! when more remain, EIP stays on the instruction so the run loop can service events and
//! re-execute it, as the hardware does between iterations. A fault in iteration k leaves
//! (E)SI/(E)DI/(E)CX as after k-1 iterations, with EIP on the instruction.

use iced_x86::{Code, Mnemonic};

use super::fast_mem::{host_store, host_value, slow};
use super::io::check_io_permission;
use super::{set, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{FlagOp, MASK16, MASK32, MASK8};
use crate::cpu::state::{Seg, EAX, ECX, EDI, EDX, ESI};
use crate::cpu::{Cpu, CpuModel};

/// Most iterations of one REP instruction per handler call.
const CHUNK: u32 = 1 << 12;

/// Which string operation a handler performs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Movs,
    Cmps,
    Scas,
    Lods,
    Stos,
    Ins,
    Outs,
}

#[inline(always)]
fn size_mask(size: u32) -> u32 {
    match size {
        1 => MASK8,
        2 => MASK16,
        _ => MASK32,
    }
}

#[inline(always)]
fn read_n(cpu: &mut Cpu, size: u32, seg: Seg, off: u32) -> Result<u32, Exception> {
    Ok(match size {
        1 => cpu.read8(seg, off)? as u32,
        2 => cpu.read16(seg, off)? as u32,
        _ => cpu.read32(seg, off)?,
    })
}

#[inline(always)]
fn write_n(cpu: &mut Cpu, size: u32, seg: Seg, off: u32, v: u32) -> Exec {
    match size {
        1 => cpu.write8(seg, off, v as u8),
        2 => cpu.write16(seg, off, v as u16),
        _ => cpu.write32(seg, off, v),
    }
}

/// Index registers and count as one iteration sees them.
struct Regs {
    si: u32,
    di: u32,
    count: u32,
    /// How many iterations the 286 has counted in CX when the access being made faults:
    /// its count runs ahead of its bus cycles (from the 286 test data: 2 for a faulting
    /// write, 1 for a faulting read, 0 when CMPS faults on its first operand).
    counted: u32,
}

/// One iteration. `early` selects the 286 behaviour: each index register advances as its
/// access is made, even when that access faults (the 286 test data shows SI/DI moved past
/// a faulting word at offset 0xFFFF); later CPUs leave them unchanged on a fault.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn iterate(
    cpu: &mut Cpu,
    kind: Kind,
    size: u32,
    src: Seg,
    r: &mut Regs,
    amask: u32,
    delta: u32,
    early: bool,
) -> Exec {
    let si = r.si & amask;
    let di = r.di & amask;
    r.counted = 1;
    // Advances SI/DI for an access made, now (early) or once the iteration completed.
    macro_rules! access {
        ($reg:ident, $e:expr) => {{
            let result = $e;
            if early || result.is_ok() {
                r.$reg = r.$reg.wrapping_add(delta);
            }
            result?
        }};
    }
    match kind {
        Kind::Movs => {
            let v = access!(si, read_n(cpu, size, src, si));
            if !early {
                // Precise CPUs: nothing moves unless the whole iteration succeeds.
                if let Err(e) = write_n(cpu, size, Seg::Es, di, v) {
                    r.si = r.si.wrapping_sub(delta);
                    return Err(e);
                }
                r.di = r.di.wrapping_add(delta);
            } else {
                r.counted = 2;
                access!(di, write_n(cpu, size, Seg::Es, di, v));
            }
        }
        Kind::Cmps if early => {
            // The 286 fetches the ES:DI operand first.
            r.counted = 0;
            let b = access!(di, read_n(cpu, size, Seg::Es, di));
            r.counted = 1;
            let a = access!(si, read_n(cpu, size, src, si));
            let m = size_mask(size);
            cpu.set_lazy(FlagOp::Sub, m, a, b, a.wrapping_sub(b));
        }
        Kind::Cmps => {
            let a = access!(si, read_n(cpu, size, src, si));
            let b = match read_n(cpu, size, Seg::Es, di) {
                Ok(b) => b,
                Err(e) => {
                    if early {
                        r.di = r.di.wrapping_add(delta);
                    } else {
                        r.si = r.si.wrapping_sub(delta);
                    }
                    return Err(e);
                }
            };
            r.di = r.di.wrapping_add(delta);
            let m = size_mask(size);
            cpu.set_lazy(FlagOp::Sub, m, a, b, a.wrapping_sub(b));
        }
        Kind::Scas => {
            let b = access!(di, read_n(cpu, size, Seg::Es, di));
            let m = size_mask(size);
            let a = cpu.gpr[EAX] & m;
            cpu.set_lazy(FlagOp::Sub, m, a, b, a.wrapping_sub(b));
        }
        Kind::Lods => {
            let v = access!(si, read_n(cpu, size, src, si));
            match size {
                1 => cpu.set_reg8(0, v as u8),
                2 => cpu.set_reg16(EAX, v as u16),
                _ => cpu.gpr[EAX] = v,
            }
        }
        Kind::Stos => {
            let v = cpu.gpr[EAX];
            r.counted = 2;
            access!(di, write_n(cpu, size, Seg::Es, di, v));
        }
        Kind::Ins => {
            let port = cpu.gpr[EDX] as u16;
            // The destination is checked before the port is read (a read can have effects).
            r.counted = 2;
            access!(di, read_n(cpu, size, Seg::Es, di).map(|_| ()));
            r.di = r.di.wrapping_sub(delta);
            cpu.io.tick(cpu.icount);
            let v = cpu.io.read(port, size as u8);
            r.counted = 2;
            access!(di, write_n(cpu, size, Seg::Es, di, v));
        }
        Kind::Outs => {
            let port = cpu.gpr[EDX] as u16;
            let v = access!(si, read_n(cpu, size, src, si));
            cpu.io.tick(cpu.icount);
            cpu.io.write(port, size as u8, v);
            super::io::after_port_write(cpu);
        }
    }
    Ok(())
}

/// REP MOVS/STOS in bulk: as many iterations as stay inside one page on each side, inside
/// the segment limits, without wrapping the index registers, and on pages the fast-path TLB
/// already allows (plain RAM, no code, no breakpoints), done as one host copy or fill.
/// Returns how many iterations were done (0: take the element-by-element path).
#[inline(always)]
fn bulk(cpu: &mut Cpu, kind: Kind, size: u32, src: Seg, r: &mut Regs, amask: u32, max: u32) -> u32 {
    let di = r.di & amask;
    let room = |off: u32, lin: u32| {
        let to_page = (0x1000 - (lin & 0xFFF)) / size;
        // Whole elements before the index register wraps.
        let to_wrap = ((amask as u64 - off as u64 + 1) / size as u64).min(u32::MAX as u64) as u32;
        to_page.min(to_wrap)
    };
    let Ok(dlin) = cpu.seg_check::<true>(Seg::Es, di, size) else {
        return 0;
    };
    let mut n = r.count.min(max).min(room(di, dlin));
    if kind == Kind::Movs {
        let si = r.si & amask;
        let Ok(slin) = cpu.seg_check::<false>(src, si, size) else {
            return 0;
        };
        n = n.min(room(si, slin));
        if n == 0 || cpu.seg_check::<false>(src, si, n * size).is_err() {
            return 0;
        }
        let (Some(s), Some(d)) = (
            cpu.fast_offset::<false>(slin, n * size),
            cpu.fast_offset::<true>(dlin, n * size),
        ) else {
            return 0;
        };
        if d > s && d < s + n * size {
            // A forward copy onto itself repeats a pattern: leave it to the element path.
            return 0;
        }
        if cpu.seg_check::<true>(Seg::Es, di, n * size).is_err() {
            return 0;
        }
        cpu.mem.host_copy(s, d, n * size);
        r.si = r.si.wrapping_add(n * size);
    } else {
        if n == 0 || cpu.seg_check::<true>(Seg::Es, di, n * size).is_err() {
            return 0;
        }
        let Some(d) = cpu.fast_offset::<true>(dlin, n * size) else {
            return 0;
        };
        let v = cpu.gpr[EAX].to_le_bytes();
        cpu.mem.host_fill(d, n, &v[..size as usize]);
    }
    r.di = r.di.wrapping_add(n * size);
    r.count = r.count.wrapping_sub(n) & amask;
    n
}

/// Writes back the index registers and count (only the address-size part changes).
#[inline(always)]
fn commit(cpu: &mut Cpu, r: &Regs, amask: u32, rep: bool) {
    cpu.gpr[ESI] = (cpu.gpr[ESI] & !amask) | (r.si & amask);
    cpu.gpr[EDI] = (cpu.gpr[EDI] & !amask) | (r.di & amask);
    if rep {
        cpu.gpr[ECX] = (cpu.gpr[ECX] & !amask) | (r.count & amask);
    }
}

/// The operation of a string handler, as a const parameter (see `KINDS`).
const KINDS: [Kind; 7] = [
    Kind::Movs,
    Kind::Cmps,
    Kind::Scas,
    Kind::Lods,
    Kind::Stos,
    Kind::Ins,
    Kind::Outs,
];

/// One handler per operation and size, each with its own copy of this code (the kind and
/// size are constants in it).
#[inline(always)]
fn string_op<const SIZE: u32, const KIND: usize>(cpu: &mut Cpu, op: &Op) -> Exec {
    let kind = KINDS[KIND];
    if matches!(kind, Kind::Ins | Kind::Outs) {
        check_io_permission(cpu, cpu.gpr[EDX] as u16, SIZE)?;
    }
    let amask = if op.addr32 { u32::MAX } else { 0xFFFF };
    // The source segment (DS or the override), precomputed at decode.
    let src = op.mem.seg;
    let delta = step::<SIZE>(cpu);
    let rep = op.has_rep_prefix() || op.has_repne_prefix();
    let mut r = Regs {
        si: cpu.gpr[ESI] & amask,
        di: cpu.gpr[EDI] & amask,
        count: cpu.gpr[ECX] & amask,
        counted: 1,
    };
    let early = cpu.model == CpuModel::I286;
    if !rep {
        let result = iterate(cpu, kind, SIZE, src, &mut r, amask, delta, early);
        if result.is_ok() || early {
            commit(cpu, &r, amask, false);
        }
        return result;
    }
    // REPE (F3) / REPNE (F2) conditions apply to CMPS and SCAS only.
    let conditional = matches!(kind, Kind::Cmps | Kind::Scas);
    let stop_on_zf = op.has_repne_prefix();
    let mut budget = CHUNK;
    // Forward REP MOVS/STOS on a 386 or later may move whole runs at once.
    let bulk_ok = matches!(kind, Kind::Movs | Kind::Stos)
        && delta == SIZE
        && !early
        && cpu.model >= CpuModel::I386;
    while r.count != 0 {
        if budget == 0 {
            // More to do: run this instruction again after the loop has looked at events.
            cpu.next_eip = cpu.eip;
            break;
        }
        if bulk_ok {
            let n = bulk(cpu, kind, SIZE, src, &mut r, amask, budget);
            if n != 0 {
                budget -= n;
                continue;
            }
        }
        budget -= 1;
        if let Err(e) = iterate(cpu, kind, SIZE, src, &mut r, amask, delta, early) {
            if early {
                r.count = r.count.saturating_sub(r.counted);
            }
            commit(cpu, &r, amask, true);
            return Err(e);
        }
        r.count = r.count.wrapping_sub(1) & amask;
        if conditional && cpu.zf() == stop_on_zf {
            break;
        }
    }
    commit(cpu, &r, amask, true);
    Ok(())
}

/// LODS without a REP prefix: the fast path inline (see `fast_mem.rs`), the rest in
/// `lods_checked`.
#[inline(always)]
fn lods_once<const SIZE: u32, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let amask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let si = cpu.gpr[ESI] & amask;
    let Some(h) = cpu.fast_read_at(op.mem.seg, si, SIZE) else {
        return slow::<C>(|| lods_checked::<SIZE>(cpu, op));
    };
    let v = host_value::<SIZE>(cpu, h);
    set_accumulator::<SIZE>(cpu, v);
    cpu.gpr[ESI] = (cpu.gpr[ESI] & !amask) | (si.wrapping_add(step::<SIZE>(cpu)) & amask);
    Ok(())
}

/// STOS without a REP prefix (see `lods_once`).
#[inline(always)]
fn stos_once<const SIZE: u32, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let amask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let di = cpu.gpr[EDI] & amask;
    let Some(h) = cpu.fast_write_at(Seg::Es, di, SIZE) else {
        return slow::<C>(|| stos_checked::<SIZE>(cpu, op));
    };
    host_store::<SIZE>(cpu, h, cpu.gpr[EAX]);
    cpu.gpr[EDI] = (cpu.gpr[EDI] & !amask) | (di.wrapping_add(step::<SIZE>(cpu)) & amask);
    Ok(())
}

/// How far one iteration moves SI or DI: `SIZE` bytes up, or down with DF set.
#[inline(always)]
fn step<const SIZE: u32>(cpu: &Cpu) -> u32 {
    if cpu.df() {
        0u32.wrapping_sub(SIZE)
    } else {
        SIZE
    }
}

#[inline(always)]
fn set_accumulator<const SIZE: u32>(cpu: &mut Cpu, v: u32) {
    match SIZE {
        1 => cpu.set_reg8(0, v as u8),
        2 => cpu.set_reg16(EAX, v as u16),
        _ => cpu.gpr[EAX] = v,
    }
}

/// LODS the fast path did not take: on every CPU but the 286 (whose SI moves even when the
/// read faults: the generic path), one checked read and an index update.
#[inline(never)]
fn lods_checked<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.model == CpuModel::I286 {
        string_op::<SIZE, { Kind::Lods as usize }>(cpu, op)?;
        return cpu.report_code_writes();
    }
    let amask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let si = cpu.gpr[ESI] & amask;
    let v = read_n(cpu, SIZE, op.mem.seg, si)?;
    set_accumulator::<SIZE>(cpu, v);
    cpu.gpr[ESI] = (cpu.gpr[ESI] & !amask) | (si.wrapping_add(step::<SIZE>(cpu)) & amask);
    cpu.report_code_writes()
}

/// STOS the fast path did not take (see `lods_checked`).
#[inline(never)]
fn stos_checked<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.model == CpuModel::I286 {
        string_op::<SIZE, { Kind::Stos as usize }>(cpu, op)?;
        return cpu.report_code_writes();
    }
    let amask = if op.addr32 { u32::MAX } else { 0xFFFF };
    let di = cpu.gpr[EDI] & amask;
    write_n(cpu, SIZE, Seg::Es, di, cpu.gpr[EAX])?;
    cpu.gpr[EDI] = (cpu.gpr[EDI] & !amask) | (di.wrapping_add(step::<SIZE>(cpu)) & amask);
    cpu.report_code_writes()
}

/// Faster handlers for LODS and STOS without a REP prefix (the common DOS loop forms).
pub fn specialize(op: &Op) -> Option<super::Spec> {
    if op.has_rep_prefix() || op.has_repne_prefix() {
        return None;
    }
    Some(match op.code() {
        Code::Lodsb_AL_m8 => spec_mem!(lods_once::<1>),
        Code::Lodsw_AX_m16 => spec_mem!(lods_once::<2>),
        Code::Lodsd_EAX_m32 => spec_mem!(lods_once::<4>),
        Code::Stosb_m8_AL => spec_mem!(stos_once::<1>),
        Code::Stosw_m16_AX => spec_mem!(stos_once::<2>),
        Code::Stosd_m32_EAX => spec_mem!(stos_once::<4>),
        _ => return None,
    })
}

fn handler(code: Code) -> Option<super::Handler> {
    let m = code.mnemonic();
    macro_rules! pick {
        ($kind:expr) => {{
            const K: usize = $kind as usize;
            fn h1(cpu: &mut Cpu, op: &Op) -> Exec {
                string_op::<1, K>(cpu, op)
            }
            fn h2(cpu: &mut Cpu, op: &Op) -> Exec {
                string_op::<2, K>(cpu, op)
            }
            fn h4(cpu: &mut Cpu, op: &Op) -> Exec {
                string_op::<4, K>(cpu, op)
            }
            [h1 as super::Handler, h2, h4]
        }};
    }
    let (set3, size) = match m {
        Mnemonic::Movsb => (pick!(Kind::Movs), 0),
        Mnemonic::Movsw => (pick!(Kind::Movs), 1),
        Mnemonic::Movsd if code == Code::Movsd_m32_m32 => (pick!(Kind::Movs), 2),
        Mnemonic::Cmpsb => (pick!(Kind::Cmps), 0),
        Mnemonic::Cmpsw => (pick!(Kind::Cmps), 1),
        Mnemonic::Cmpsd if code == Code::Cmpsd_m32_m32 => (pick!(Kind::Cmps), 2),
        Mnemonic::Scasb => (pick!(Kind::Scas), 0),
        Mnemonic::Scasw => (pick!(Kind::Scas), 1),
        Mnemonic::Scasd => (pick!(Kind::Scas), 2),
        Mnemonic::Lodsb => (pick!(Kind::Lods), 0),
        Mnemonic::Lodsw => (pick!(Kind::Lods), 1),
        Mnemonic::Lodsd => (pick!(Kind::Lods), 2),
        Mnemonic::Stosb => (pick!(Kind::Stos), 0),
        Mnemonic::Stosw => (pick!(Kind::Stos), 1),
        Mnemonic::Stosd => (pick!(Kind::Stos), 2),
        Mnemonic::Insb => (pick!(Kind::Ins), 0),
        Mnemonic::Insw => (pick!(Kind::Ins), 1),
        Mnemonic::Insd => (pick!(Kind::Ins), 2),
        Mnemonic::Outsb => (pick!(Kind::Outs), 0),
        Mnemonic::Outsw => (pick!(Kind::Outs), 1),
        Mnemonic::Outsd => (pick!(Kind::Outs), 2),
        _ => return None,
    };
    Some(set3[size])
}

pub fn register(t: &mut Table) {
    use Code::*;
    for code in [
        Movsb_m8_m8,
        Movsw_m16_m16,
        Movsd_m32_m32,
        Cmpsb_m8_m8,
        Cmpsw_m16_m16,
        Cmpsd_m32_m32,
        Scasb_AL_m8,
        Scasw_AX_m16,
        Scasd_EAX_m32,
        Lodsb_AL_m8,
        Lodsw_AX_m16,
        Lodsd_EAX_m32,
        Stosb_m8_AL,
        Stosw_m16_AX,
        Stosd_m32_EAX,
        Insb_m8_DX,
        Insw_m16_DX,
        Insd_m32_DX,
        Outsb_DX_m8,
        Outsw_DX_m16,
        Outsd_DX_m32,
    ] {
        if let Some(h) = handler(code) {
            set(t, code, h);
        }
    }
}
