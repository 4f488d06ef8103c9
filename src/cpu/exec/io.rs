//! Port I/O: IN and OUT (INS/OUTS live with the string instructions).

use iced_x86::{Code, OpKind};

use super::{set_all, Op, Table};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::state::{EAX, EDX};
use crate::cpu::{Cpu, Stop};

/// I/O permission: always granted in real mode. In protected mode CPL > IOPL (and V86 mode)
/// consults the TSS I/O bitmap; until the TSS exists, such accesses fault.
pub fn check_io_permission(cpu: &Cpu, _port: u16, _size: u32) -> Exec {
    if !cpu.protected_mode() {
        return Ok(());
    }
    let iopl = (cpu.eflags >> 12) & 3;
    let v86 = cpu.eflags & crate::cpu::Flags::VM.bits() != 0;
    if !v86 && super::system::cpl(cpu) as u32 <= iopl {
        return Ok(());
    }
    Err(Exception::gp(0))
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
    cpu.io.write(port, SIZE as u8, cpu.gpr[EAX] & mask);
    if let Some(code) = cpu.io.exit_request() {
        cpu.stop = Some(Stop::Exit(code));
    }
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
