//! Specialised handlers for the hottest instruction forms: ALU operations, MOV, INC and DEC
//! with register and immediate operands. The generic handlers decode operand kinds on every
//! execution; these read the register numbers and immediate precomputed in [`Op`], so the
//! choice between forms is made once, at decode time.

use iced_x86::{Code, Mnemonic, OpKind};

use super::{Handler, Op};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{FlagOp, MASK16, MASK32};
use crate::cpu::model::CpuModel;
use crate::cpu::state::Seg;
use crate::cpu::Cpu;

use super::alu::{compute as alu, ADC, ADD, AND, CMP, OR, SBB, SUB, TEST, XOR};

fn alu32_rr<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let (d, s) = (op.r0 as usize, op.r1 as usize);
    let r = alu::<OP>(cpu, MASK32, cpu.gpr[d], cpu.gpr[s]);
    if OP != CMP && OP != TEST {
        cpu.gpr[d] = r;
    }
    Ok(())
}

fn alu32_ri<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize;
    let r = alu::<OP>(cpu, MASK32, cpu.gpr[d], op.imm);
    if OP != CMP && OP != TEST {
        cpu.gpr[d] = r;
    }
    Ok(())
}

fn alu16_rr<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let (d, s) = (op.r0 as usize, op.r1 as usize);
    let r = alu::<OP>(cpu, MASK16, cpu.gpr[d] & MASK16, cpu.gpr[s] & MASK16);
    if OP != CMP && OP != TEST {
        cpu.set_reg16(d, r as u16);
    }
    Ok(())
}

fn alu16_ri<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize;
    let r = alu::<OP>(cpu, MASK16, cpu.gpr[d] & MASK16, op.imm & MASK16);
    if OP != CMP && OP != TEST {
        cpu.set_reg16(d, r as u16);
    }
    Ok(())
}

fn mov32_rr(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gpr[op.r0 as usize] = cpu.gpr[op.r1 as usize];
    Ok(())
}

fn mov32_ri(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gpr[op.r0 as usize] = op.imm;
    Ok(())
}

fn mov16_rr(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.gpr[op.r1 as usize] as u16;
    cpu.set_reg16(op.r0 as usize, v);
    Ok(())
}

fn mov16_ri(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.set_reg16(op.r0 as usize, op.imm as u16);
    Ok(())
}

fn inc_dec32<const DEC: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize;
    let a = cpu.gpr[d];
    let r = if DEC {
        a.wrapping_sub(1)
    } else {
        a.wrapping_add(1)
    };
    cpu.gpr[d] = r;
    cpu.set_lazy(if DEC { FlagOp::Dec } else { FlagOp::Inc }, MASK32, a, 1, r);
    Ok(())
}

fn inc_dec16<const DEC: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize;
    let a = cpu.gpr[d] & MASK16;
    let r = if DEC {
        a.wrapping_sub(1)
    } else {
        a.wrapping_add(1)
    } & MASK16;
    cpu.set_reg16(d, r as u16);
    cpu.set_lazy(if DEC { FlagOp::Dec } else { FlagOp::Inc }, MASK16, a, 1, r);
    Ok(())
}

/// Jcc with the condition number `CC` and the target in `imm` (set by `Op::new`): one
/// handler per condition, so the condition is decided at decode time.
fn jcc<const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.condition(CC) {
        if cpu.model != CpuModel::I8086 && op.imm > cpu.seg[Seg::Cs as usize].limit {
            return Err(Exception::gp(0));
        }
        cpu.next_eip = op.imm;
    }
    Ok(())
}

fn mov_m8_r8(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    cpu.write8(seg, off, cpu.reg8(op.r1 as usize))
}

fn mov_m8_imm(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    cpu.write8(seg, off, op.imm as u8)
}

fn mov_r8_m8(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    let v = cpu.read8(seg, off)?;
    cpu.set_reg8(op.r0 as usize, v);
    Ok(())
}

fn movzx_r32_m8(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    cpu.gpr[op.r0 as usize] = cpu.read8(seg, off)? as u32;
    Ok(())
}

fn mov_m32_r32(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    cpu.write32(seg, off, cpu.gpr[op.r1 as usize])
}

fn mov_r32_m32(cpu: &mut Cpu, op: &Op) -> Exec {
    let (seg, off) = cpu.mem_operand(op);
    cpu.gpr[op.r0 as usize] = cpu.read32(seg, off)?;
    Ok(())
}

/// Plain loads and stores with a memory operand.
fn specialize_mem(op: &Op) -> Option<Handler> {
    if op.has_lock_prefix() {
        return None;
    }
    let m0 = op.op0_kind() == OpKind::Memory;
    let m1 = op.op_count() > 1 && op.op1_kind() == OpKind::Memory;
    Some(match op.code() {
        Code::Mov_rm8_r8 if m0 => mov_m8_r8,
        Code::Mov_rm8_imm8 if m0 => mov_m8_imm,
        Code::Mov_r8_rm8 if m1 => mov_r8_m8,
        Code::Movzx_r32_rm8 if m1 => movzx_r32_m8,
        Code::Mov_rm32_r32 if m0 => mov_m32_r32,
        Code::Mov_r32_rm32 if m1 => mov_r32_m32,
        _ => return None,
    })
}

/// Handlers for one ALU operation: [16-bit r,r; 16-bit r,imm; 32-bit r,r; 32-bit r,imm].
fn alu_set<const OP: u8>() -> [Handler; 4] {
    [
        alu16_rr::<OP>,
        alu16_ri::<OP>,
        alu32_rr::<OP>,
        alu32_ri::<OP>,
    ]
}

fn is_imm(k: OpKind) -> bool {
    matches!(
        k,
        OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
    )
}

/// A faster handler for `op`'s form, if there is one.
pub fn specialize(op: &Op) -> Option<Handler> {
    if op.is_jcc_short_or_near() {
        const JCC: [Handler; 16] = [
            jcc::<0>, jcc::<1>, jcc::<2>, jcc::<3>, jcc::<4>, jcc::<5>, jcc::<6>, jcc::<7>,
            jcc::<8>, jcc::<9>, jcc::<10>, jcc::<11>, jcc::<12>, jcc::<13>, jcc::<14>, jcc::<15>,
        ];
        return Some(JCC[op.r0 as usize & 15]);
    }
    if let Some(h) = specialize_mem(op) {
        return Some(h);
    }
    if op.op_count() != 2 && !matches!(op.mnemonic(), Mnemonic::Inc | Mnemonic::Dec) {
        return None;
    }
    if op.op0_kind() != OpKind::Register || op.has_lock_prefix() {
        return None;
    }
    let r0 = op.op0_register();
    let size32 = r0.is_gpr32();
    if !(size32 || r0.is_gpr16()) {
        return None;
    }
    if matches!(op.mnemonic(), Mnemonic::Inc | Mnemonic::Dec) {
        let dec = op.mnemonic() == Mnemonic::Dec;
        return Some(match (size32, dec) {
            (true, false) => inc_dec32::<false>,
            (true, true) => inc_dec32::<true>,
            (false, false) => inc_dec16::<false>,
            (false, true) => inc_dec16::<true>,
        });
    }
    let k1 = op.op1_kind();
    let reg_src = k1 == OpKind::Register
        && op.op1_register().is_gpr32() == size32
        && (op.op1_register().is_gpr32() || op.op1_register().is_gpr16());
    let imm_src = is_imm(k1);
    if !reg_src && !imm_src {
        return None;
    }
    let idx = (size32 as usize) * 2 + imm_src as usize;
    let set = match op.mnemonic() {
        Mnemonic::Add => alu_set::<ADD>(),
        Mnemonic::Or => alu_set::<OR>(),
        Mnemonic::Adc => alu_set::<ADC>(),
        Mnemonic::Sbb => alu_set::<SBB>(),
        Mnemonic::And => alu_set::<AND>(),
        Mnemonic::Sub => alu_set::<SUB>(),
        Mnemonic::Xor => alu_set::<XOR>(),
        Mnemonic::Cmp => alu_set::<CMP>(),
        Mnemonic::Test => alu_set::<TEST>(),
        Mnemonic::Mov if !matches!(op.code(), Code::Mov_rm16_Sreg | Code::Mov_r32m16_Sreg) => {
            [mov16_rr, mov16_ri, mov32_rr, mov32_ri]
        }
        _ => return None,
    };
    Some(set[idx])
}
