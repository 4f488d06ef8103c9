//! System instructions: HLT, and (with protected mode) descriptor-table and control-register
//! instructions.

use iced_x86::Code;

use super::{set, Op, Table};
use crate::cpu::exception::Exec;
use crate::cpu::Cpu;

fn hlt(cpu: &mut Cpu, _op: &Op) -> Exec {
    cpu.halted = true;
    Ok(())
}

pub fn register(t: &mut Table) {
    set(t, Code::Hlt, hlt);
}
