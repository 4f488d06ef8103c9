//! The 8086's own decoding: opcodes that later CPUs redefined are aliases on the 8086
//! (60-6F = Jcc, C0/C1/C8/C9 = RET forms, F1 = LOCK, FF /7 = PUSH), POP CS and MOV CS work,
//! segment register fields are two bits wide, and D0-D3 /6 is the undocumented SETMO.
//! `fixup` rewrites the code bytes into the equivalent modern encoding before iced-x86 decodes
//! them, and returns a handler when the behaviour has no modern equivalent.

use iced_x86::OpKind;

use super::{Handler, Op};
use crate::cpu::exception::Exec;
use crate::cpu::flags::{FlagOp, MASK16, MASK8};
use crate::cpu::state::{Seg, ECX};
use crate::cpu::Cpu;

/// Rewrites `buf` (the code bytes at EIP) for the 8086 and returns a forced handler, if any.
pub fn fixup(buf: &mut [u8; 16]) -> Option<Handler> {
    let mut i = 0;
    while i < 14 {
        match buf[i] {
            0x26 | 0x2E | 0x36 | 0x3E | 0xF0 | 0xF2 | 0xF3 => i += 1,
            0xF1 => {
                buf[i] = 0xF0;
                i += 1;
            }
            _ => break,
        }
    }
    let opcode = buf[i];
    let modrm = buf[i + 1];
    let reg = (modrm >> 3) & 7;
    match opcode {
        0x60..=0x6F => buf[i] = opcode + 0x10,
        0xC0 => buf[i] = 0xC2,
        0xC1 => buf[i] = 0xC3,
        0xC8 => buf[i] = 0xCA,
        0xC9 => buf[i] = 0xCB,
        0x0F => {
            buf[i] = 0x07;
            return Some(pop_cs);
        }
        0x8C => buf[i + 1] = modrm & !0x20,
        0x8E => {
            let r = reg & 3;
            buf[i + 1] = (modrm & !0x38) | (r << 3);
            if r == 1 {
                buf[i + 1] = modrm & !0x38;
                return Some(mov_cs);
            }
        }
        0xFF if reg == 7 => buf[i + 1] = modrm & !0x08,
        0xD0..=0xD3 if reg == 6 => return Some(setmo),
        0xD8..=0xDF => {
            buf[i] = 0xD8;
            return Some(super::fpu_stub::esc_no_fpu);
        }
        _ => {}
    }
    None
}

fn pop_cs(cpu: &mut Cpu, _op: &Op) -> Exec {
    let v = cpu.pop16()?;
    cpu.load_seg_real(Seg::Cs, v);
    Ok(())
}

fn mov_cs(cpu: &mut Cpu, op: &Op) -> Exec {
    let l = cpu.loc(op, 1);
    let v = cpu.get16(l)?;
    cpu.load_seg_real(Seg::Cs, v);
    Ok(())
}

/// SETMO/SETMOC: sets the operand to all ones (by CL: only when CL != 0); flags as for OR.
fn setmo(cpu: &mut Cpu, op: &Op) -> Exec {
    let by_cl = op.op_count() > 1 && op.op1_kind() == OpKind::Register;
    if by_cl && cpu.gpr[ECX] & 0xFF == 0 {
        return Ok(());
    }
    let d = cpu.loc(op, 0);
    let byte = op.op0_kind() == OpKind::Register && op.op0_register().is_gpr8()
        || op.op0_kind() == OpKind::Memory && op.memory_size().size() == 1;
    if byte {
        cpu.get8(d)?;
        cpu.put8(d, 0xFF)?;
        cpu.set_lazy(FlagOp::Logic, MASK8, 0, 0, 0xFF);
    } else {
        cpu.get16(d)?;
        cpu.put16(d, 0xFFFF)?;
        cpu.set_lazy(FlagOp::Logic, MASK16, 0, 0, 0xFFFF);
    }
    Ok(())
}
