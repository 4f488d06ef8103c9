//! Port I/O: IN and OUT (INS/OUTS live with the string instructions).

use iced_x86::{Code, OpKind};

use super::{set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::state::{EAX, EDX};
use crate::cpu::{Cpu, Stop};
use crate::io::BusRequest;

/// I/O permission: always granted in real mode and when CPL <= IOPL. Otherwise (and always
/// in V86 mode) every bit of the TSS I/O permission bitmap covering the accessed ports must
/// be clear; a 16-bit TSS, a bitmap beyond the TSS limit or a set bit raise #GP(0).
pub fn check_io_permission(cpu: &mut Cpu, port: u16, size: u32) -> Exec {
    if !cpu.protected_mode() {
        return Ok(());
    }
    let iopl = (cpu.eflags >> 12) & 3;
    if !cpu.in_v86() && super::system::cpl(cpu) as u32 <= iopl {
        return Ok(());
    }
    io_bitmap_allows(cpu, port, size)
}

fn io_bitmap_allows(cpu: &mut Cpu, port: u16, size: u32) -> Exec {
    let tss32 = cpu.tr.attrs & 0x8 != 0 && cpu.tr.attrs & 0x10 == 0;
    if !tss32 || cpu.tr.limit < 0x67 {
        return Err(Exception::gp(0));
    }
    let io_base = cpu.read_system32(cpu.tr.base.wrapping_add(0x64))? >> 16;
    // The bits for `size` ports may straddle a byte: read two bytes.
    let off = io_base + port as u32 / 8;
    if off + 1 > cpu.tr.limit {
        return Err(Exception::gp(0));
    }
    let lo = read_system8(cpu, cpu.tr.base.wrapping_add(off))?;
    let hi = read_system8(cpu, cpu.tr.base.wrapping_add(off + 1))?;
    let bits = (lo as u32 | (hi as u32) << 8) >> (port % 8);
    if bits & ((1 << size) - 1) != 0 {
        return Err(Exception::gp(0));
    }
    Ok(())
}

fn read_system8(cpu: &mut Cpu, addr: u32) -> Result<u8, Exception> {
    let phys = cpu.translate_system(addr, false)?;
    Ok(cpu.mem.read_u8(phys))
}

/// Acts on what a port write asked for beyond the bus: exit, A20, reset, BIOS call.
pub fn after_port_write(cpu: &mut Cpu) {
    if let Some(code) = cpu.io.exit_request() {
        cpu.stop = Some(Stop::Exit(code));
    }
    match cpu.io.take_request() {
        None => {}
        Some(BusRequest::A20(on)) if cpu.mem.a20() != on => {
            cpu.mem.set_a20(on);
            // Decoded blocks are keyed by address; the alias they saw has changed.
            cpu.flush_decode_cache();
            cpu.flush_tlb(false);
        }
        Some(BusRequest::A20(_)) => {}
        Some(BusRequest::Reset) => cpu.stop = Some(Stop::Reset),
        Some(BusRequest::BiosCall) => cpu.stop = Some(Stop::BiosCall),
        Some(BusRequest::Interrupt) if cpu.stop.is_none() => cpu.stop = Some(Stop::Budget),
        Some(BusRequest::Interrupt) => {}
    }
}

fn port_of(cpu: &Cpu, op: &Op, n: u32) -> u16 {
    if op.op_kind(n) == OpKind::Immediate8 {
        op.immediate8() as u16
    } else {
        cpu.gpr[EDX] as u16
    }
}

fn in_<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    let port = port_of(cpu, op, 1);
    check_io_permission(cpu, port, SIZE)?;
    cpu.io.tick(cpu.icount);
    let v = cpu.io.read(port, SIZE as u8);
    match SIZE {
        1 => cpu.set_reg8(0, v as u8),
        2 => cpu.set_reg16(EAX, v as u16),
        _ => cpu.gpr[EAX] = v,
    }
    Ok(())
}

fn out<const SIZE: u32>(cpu: &mut Cpu, op: &Op) -> Exec {
    let port = port_of(cpu, op, 0);
    check_io_permission(cpu, port, SIZE)?;
    let mask = match SIZE {
        1 => 0xFF,
        2 => 0xFFFF,
        _ => u32::MAX,
    };
    cpu.io.tick(cpu.icount);
    cpu.io.write(port, SIZE as u8, cpu.gpr[EAX] & mask);
    after_port_write(cpu);
    Ok(())
}

pub fn register(t: &mut Table) {
    use Code::*;
    set_all(t, &[In_AL_imm8, In_AL_DX], in_::<1>);
    set_all(t, &[In_AX_imm8, In_AX_DX], in_::<2>);
    set_all(t, &[In_EAX_imm8, In_EAX_DX], in_::<4>);
    set_all(t, &[Out_imm8_AL, Out_DX_AL], out::<1>);
    set_all(t, &[Out_imm8_AX, Out_DX_AX], out::<2>);
    set_all(t, &[Out_imm8_EAX, Out_DX_EAX], out::<4>);
}
