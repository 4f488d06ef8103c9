//! Compare-and-branch fusion: a block that ends in a register ALU operation (CMP, TEST,
//! SUB, ...) or INC/DEC followed by a conditional jump runs both in one handler. The pair
//! is the commonest block ending in compiled loops; fused, it costs one dispatch instead of
//! two, and with the operation and the condition both known at compile time the condition
//! comes straight from the operands the lazy-flags record was just given.
//!
//! The fused op stands last in its block in place of the two; the block still counts two
//! instructions. Single-stepping runs the compare alone through its generic handler
//! (`Op::fused` tells the run loop), so a trap comes between the two as on hardware.

use iced_x86::{Mnemonic, OpKind};

use super::alu::{ADD, AND, CMP, OR, SUB, TEST, XOR};
use super::{fast, Op, Spec};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::model::CpuModel;
use crate::cpu::state::Seg;
use crate::cpu::Cpu;

/// The branch half: jump if condition `CC` holds (after the first half recorded flags).
#[inline(always)]
fn branch<const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.condition(CC) {
        if cpu.model != CpuModel::I8086 && op.branch_target > cpu.seg[Seg::Cs as usize].limit {
            // The compare is done; the branch faults, at its own address.
            cpu.eip = op.branch_eip;
            cpu.next_eip = op.branch_eip;
            return Err(Exception::gp(0));
        }
        cpu.next_eip = op.branch_target;
    }
    Ok(())
}

// The first halves are the specialised handlers themselves (register operands only, so
// they cannot fault), inlined here.
#[inline(always)]
fn alu32_rr_jcc<const OP: u8, const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    fast::alu32_rr::<OP>(cpu, op)?;
    branch::<CC>(cpu, op)
}

#[inline(always)]
fn alu32_ri_jcc<const OP: u8, const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    fast::alu32_ri::<OP>(cpu, op)?;
    branch::<CC>(cpu, op)
}

#[inline(always)]
fn inc_dec32_jcc<const DEC: bool, const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    fast::inc_dec32::<DEC>(cpu, op)?;
    branch::<CC>(cpu, op)
}

/// The sixteen conditions of one first half, as handlers.
macro_rules! by_condition {
    ($f:ident, $first:expr) => {
        [
            spec_last!($f::<$first, 0>),
            spec_last!($f::<$first, 1>),
            spec_last!($f::<$first, 2>),
            spec_last!($f::<$first, 3>),
            spec_last!($f::<$first, 4>),
            spec_last!($f::<$first, 5>),
            spec_last!($f::<$first, 6>),
            spec_last!($f::<$first, 7>),
            spec_last!($f::<$first, 8>),
            spec_last!($f::<$first, 9>),
            spec_last!($f::<$first, 10>),
            spec_last!($f::<$first, 11>),
            spec_last!($f::<$first, 12>),
            spec_last!($f::<$first, 13>),
            spec_last!($f::<$first, 14>),
            spec_last!($f::<$first, 15>),
        ]
    };
}

/// The fused op for `first` followed by the conditional jump `jcc`, when `first` is a
/// 32-bit register ALU operation (with a register or immediate source) or INC/DEC of a
/// 32-bit register, and both ops carry specialised handlers: the 8086's and 286's own
/// forms and #UD stand-ins are never fused.
pub fn fuse(first: &Op, jcc: &Op) -> Option<Op> {
    if !(first.specialised && jcc.specialised && jcc.is_jcc_short_or_near()) {
        return None;
    }
    if first.has_lock_prefix() {
        return None;
    }
    if first.op_count() == 0 || first.op0_kind() != OpKind::Register {
        return None;
    }
    if !first.op0_register().is_gpr32() {
        return None;
    }
    let cc = jcc.r0 as usize & 15;
    let spec: Spec = match first.mnemonic() {
        Mnemonic::Inc if first.op_count() == 1 => by_condition!(inc_dec32_jcc, false)[cc],
        Mnemonic::Dec if first.op_count() == 1 => by_condition!(inc_dec32_jcc, true)[cc],
        m if first.op_count() == 2 => {
            let k1 = first.op1_kind();
            let reg = k1 == OpKind::Register && first.op1_register().is_gpr32();
            let imm = matches!(k1, OpKind::Immediate32 | OpKind::Immediate8to32);
            if !reg && !imm {
                return None;
            }
            let [rr, ri] = match m {
                Mnemonic::Cmp => [
                    by_condition!(alu32_rr_jcc, CMP),
                    by_condition!(alu32_ri_jcc, CMP),
                ],
                Mnemonic::Test => [
                    by_condition!(alu32_rr_jcc, TEST),
                    by_condition!(alu32_ri_jcc, TEST),
                ],
                Mnemonic::Sub => [
                    by_condition!(alu32_rr_jcc, SUB),
                    by_condition!(alu32_ri_jcc, SUB),
                ],
                Mnemonic::Add => [
                    by_condition!(alu32_rr_jcc, ADD),
                    by_condition!(alu32_ri_jcc, ADD),
                ],
                Mnemonic::And => [
                    by_condition!(alu32_rr_jcc, AND),
                    by_condition!(alu32_ri_jcc, AND),
                ],
                Mnemonic::Or => [
                    by_condition!(alu32_rr_jcc, OR),
                    by_condition!(alu32_ri_jcc, OR),
                ],
                Mnemonic::Xor => [
                    by_condition!(alu32_rr_jcc, XOR),
                    by_condition!(alu32_ri_jcc, XOR),
                ],
                _ => return None,
            };
            if reg {
                rr[cc]
            } else {
                ri[cc]
            }
        }
        _ => return None,
    };
    let mut op = first.clone();
    op.handler = spec.run;
    op.chained = spec.chained;
    op.last_form = true;
    op.fused = true;
    op.branch_eip = first.next_eip;
    op.branch_target = jcc.imm;
    op.next_eip = jcc.next_eip;
    Some(op)
}
