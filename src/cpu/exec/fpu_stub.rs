//! The x87 escape opcodes (D8-DF) while no FPU is attached: the machine behaves like a PC
//! with an empty coprocessor socket. The instructions decode (so lengths and memory operands
//! are right) and change nothing; FNSTSW/FNSTCW leave their destination alone, which is how
//! software detects the missing FPU. CR0.EM or CR0.TS raise #NM as on real hardware.

use iced_x86::OpKind;

use super::{Op, Table};
use crate::cpu::exception::{self, Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::Cr0;
use crate::cpu::Cpu;

pub fn register(_t: &mut Table) {}

/// An escape opcode with no coprocessor present.
pub fn esc_no_fpu(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.model >= CpuModel::I286 && cpu.cr.cr0 & (Cr0::EM.bits() | Cr0::TS.bits()) != 0 {
        return Err(Exception::new(exception::NM));
    }
    // The CPU still computes the memory operand's address and checks it against the
    // segment limit (286+): a word or larger operand at offset 0xFFFF faults.
    if cpu.model >= CpuModel::I286 && (0..op.op_count()).any(|n| op.op_kind(n) == OpKind::Memory) {
        {
            let (seg, off) = cpu.mem_operand(op);
            let size = op.memory_size().size().max(1) as u32;
            cpu.read8(seg, off)?;
            cpu.read8(seg, off.wrapping_add(size - 1))?;
        }
    }
    Ok(())
}
