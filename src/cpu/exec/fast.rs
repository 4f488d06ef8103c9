//! Specialised handlers for the hottest instruction forms: ALU operations, MOV, INC and DEC
//! with register and immediate operands. The generic handlers decode operand kinds on every
//! execution; these read the register numbers and immediate precomputed in [`Op`], so the
//! choice between forms is made once, at decode time.

use iced_x86::{Code, Mnemonic, OpKind};

use super::fast_mem::{alu_modify, effective_address, is_simple, load, store};
use super::{Op, Spec};
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::flags::{FlagOp, MASK16, MASK32, MASK8};
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Seg, ECX};
use crate::cpu::Cpu;

use super::alu::{compute as alu, ADC, ADD, AND, CMP, OR, SBB, SUB, TEST, XOR};

#[inline(always)]
pub(super) fn alu32_rr<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let (d, s) = (op.r0 as usize & 7, op.r1 as usize & 7);
    let r = alu::<OP>(cpu, MASK32, cpu.gpr[d], cpu.gpr[s]);
    if OP != CMP && OP != TEST {
        cpu.gpr[d] = r;
    }
    Ok(())
}

#[inline(always)]
pub(super) fn alu32_ri<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize & 7;
    let r = alu::<OP>(cpu, MASK32, cpu.gpr[d], op.imm);
    if OP != CMP && OP != TEST {
        cpu.gpr[d] = r;
    }
    Ok(())
}

#[inline(always)]
fn alu16_rr<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let (d, s) = (op.r0 as usize & 7, op.r1 as usize & 7);
    let r = alu::<OP>(cpu, MASK16, cpu.gpr[d] & MASK16, cpu.gpr[s] & MASK16);
    if OP != CMP && OP != TEST {
        cpu.set_reg16(d, r as u16);
    }
    Ok(())
}

#[inline(always)]
fn alu16_ri<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize & 7;
    let r = alu::<OP>(cpu, MASK16, cpu.gpr[d] & MASK16, op.imm & MASK16);
    if OP != CMP && OP != TEST {
        cpu.set_reg16(d, r as u16);
    }
    Ok(())
}

#[inline(always)]
fn alu8_rr<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let (d, s) = (op.r0 as usize & 7, op.r1 as usize & 7);
    let r = alu::<OP>(cpu, MASK8, cpu.reg8(d) as u32, cpu.reg8(s) as u32);
    if OP != CMP && OP != TEST {
        cpu.set_reg8(d, r as u8);
    }
    Ok(())
}

#[inline(always)]
fn alu8_ri<const OP: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize & 7;
    let r = alu::<OP>(cpu, MASK8, cpu.reg8(d) as u32, op.imm & MASK8);
    if OP != CMP && OP != TEST {
        cpu.set_reg8(d, r as u8);
    }
    Ok(())
}

#[inline(always)]
fn mov8_rr(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.reg8(op.r1 as usize & 7);
    cpu.set_reg8(op.r0 as usize & 7, v);
    Ok(())
}

#[inline(always)]
fn mov8_ri(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.set_reg8(op.r0 as usize & 7, op.imm as u8);
    Ok(())
}

#[inline(always)]
fn mov32_rr(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gpr[op.r0 as usize & 7] = cpu.gpr[op.r1 as usize & 7];
    Ok(())
}

#[inline(always)]
fn mov32_ri(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gpr[op.r0 as usize & 7] = op.imm;
    Ok(())
}

#[inline(always)]
fn mov16_rr(cpu: &mut Cpu, op: &Op) -> Exec {
    let v = cpu.gpr[op.r1 as usize & 7] as u16;
    cpu.set_reg16(op.r0 as usize & 7, v);
    Ok(())
}

#[inline(always)]
fn mov16_ri(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.set_reg16(op.r0 as usize & 7, op.imm as u16);
    Ok(())
}

#[inline(always)]
pub(super) fn inc_dec32<const DEC: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize & 7;
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

#[inline(always)]
fn inc_dec16<const DEC: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let d = op.r0 as usize & 7;
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
#[inline(always)]
fn jcc<const CC: u8>(cpu: &mut Cpu, op: &Op) -> Exec {
    if cpu.condition(CC) {
        if cpu.model != CpuModel::I8086 && op.imm > cpu.seg[Seg::Cs as usize].limit {
            return Err(Exception::gp(0));
        }
        cpu.next_eip = op.imm;
    }
    Ok(())
}

// The memory handlers keep only the fast path inline (see `fast_mem.rs`); `S`: the memory
// operand has the simple address form (`fast_mem::is_simple`).

#[inline(always)]
fn mov_m8_r8<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    store::<1, S, C, _>(cpu, op, |cpu, op| cpu.reg8(op.r1 as usize & 7) as u32)
}

#[inline(always)]
fn mov_m8_imm<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    store::<1, S, C, _>(cpu, op, |_, op| op.imm)
}

#[inline(always)]
fn mov_r8_m8<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    load::<1, S, C, _>(cpu, op, |cpu, op, v| {
        cpu.set_reg8(op.r0 as usize & 7, v as u8)
    })
}

#[inline(always)]
fn movzx_r32_m8<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    load::<1, S, C, _>(cpu, op, |cpu, op, v| cpu.gpr[op.r0 as usize & 7] = v)
}

#[inline(always)]
fn mov_m32_r32<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    store::<4, S, C, _>(cpu, op, |cpu, op| cpu.gpr[op.r1 as usize & 7])
}

#[inline(always)]
fn mov_r32_m32<const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    load::<4, S, C, _>(cpu, op, |cpu, op, v| cpu.gpr[op.r0 as usize & 7] = v)
}

/// `r32 OP= [mem]`.
#[inline(always)]
fn alu32_r_m<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    load::<4, S, C, _>(cpu, op, |cpu, op, b| {
        let d = op.r0 as usize & 7;
        let r = alu::<OP>(cpu, MASK32, cpu.gpr[d], b);
        if OP != CMP && OP != TEST {
            cpu.gpr[d] = r;
        }
    })
}

/// `[mem32] OP= r32`.
#[inline(always)]
fn alu32_m_r<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    alu_modify::<OP, 4, S, C, _>(cpu, op, |cpu, op| cpu.gpr[op.r1 as usize & 7])
}

/// `[mem32] OP= imm`.
#[inline(always)]
fn alu32_m_i<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    alu_modify::<OP, 4, S, C, _>(cpu, op, |_, op| op.imm)
}

/// `r8 OP= [mem8]`.
#[inline(always)]
fn alu8_r_m<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    load::<1, S, C, _>(cpu, op, |cpu, op, b| {
        let d = op.r0 as usize & 7;
        let r = alu::<OP>(cpu, MASK8, cpu.reg8(d) as u32, b);
        if OP != CMP && OP != TEST {
            cpu.set_reg8(d, r as u8);
        }
    })
}

/// `[mem8] OP= r8`.
#[inline(always)]
fn alu8_m_r<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    alu_modify::<OP, 1, S, C, _>(cpu, op, |cpu, op| cpu.reg8(op.r1 as usize & 7) as u32)
}

/// `[mem8] OP= imm8`.
#[inline(always)]
fn alu8_m_i<const OP: u8, const S: bool, const C: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    alu_modify::<OP, 1, S, C, _>(cpu, op, |_, op| op.imm & MASK8)
}

/// Handlers for one ALU operation with a memory operand: [r32,m; m32,r; m32,imm; r8,m;
/// m8,r; m8,imm], for the simple and the full address form (see `fast_mem::is_simple`).
fn alu_mem_set<const OP: u8>(simple: bool) -> [Spec; 6] {
    if simple {
        [
            spec_mem!(alu32_r_m::<OP, true>),
            spec_mem!(alu32_m_r::<OP, true>),
            spec_mem!(alu32_m_i::<OP, true>),
            spec_mem!(alu8_r_m::<OP, true>),
            spec_mem!(alu8_m_r::<OP, true>),
            spec_mem!(alu8_m_i::<OP, true>),
        ]
    } else {
        [
            spec_mem!(alu32_r_m::<OP, false>),
            spec_mem!(alu32_m_r::<OP, false>),
            spec_mem!(alu32_m_i::<OP, false>),
            spec_mem!(alu8_r_m::<OP, false>),
            spec_mem!(alu8_m_r::<OP, false>),
            spec_mem!(alu8_m_i::<OP, false>),
        ]
    }
}

/// LEA r32 (`S`: the simple address form): the effective address, no memory access.
#[inline(always)]
fn lea_r32<const S: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.gpr[op.r0 as usize & 7] = effective_address::<S>(cpu, op);
    Ok(())
}

/// LEA r16: the effective address (already wrapped to the address size), truncated.
#[inline(always)]
fn lea_r16(cpu: &mut Cpu, op: &Op) -> Exec {
    let ea = cpu.ea(op);
    cpu.set_reg16(op.r0 as usize & 7, ea as u16);
    Ok(())
}

/// ALU operations with one memory operand, 8 or 32 bits wide.
fn specialize_alu_mem(op: &Op) -> Option<Spec> {
    if op.op_count() != 2 || op.has_lock_prefix() {
        return None;
    }
    let (k0, k1) = (op.op0_kind(), op.op1_kind());
    let reg_of = |n: u32| op.op_register(n);
    let idx = match (k0, k1) {
        (OpKind::Register, OpKind::Memory) if reg_of(0).is_gpr32() => 0,
        (OpKind::Memory, OpKind::Register) if reg_of(1).is_gpr32() => 1,
        (OpKind::Memory, k) if is_imm(k) && op.memory_size().size() == 4 => 2,
        (OpKind::Register, OpKind::Memory) if reg_of(0).is_gpr8() => 3,
        (OpKind::Memory, OpKind::Register) if reg_of(1).is_gpr8() => 4,
        (OpKind::Memory, k) if is_imm(k) && op.memory_size().size() == 1 => 5,
        _ => return None,
    };
    let simple = is_simple(op);
    let set = match op.mnemonic() {
        Mnemonic::Add => alu_mem_set::<ADD>(simple),
        Mnemonic::Or => alu_mem_set::<OR>(simple),
        Mnemonic::Adc => alu_mem_set::<ADC>(simple),
        Mnemonic::Sbb => alu_mem_set::<SBB>(simple),
        Mnemonic::And => alu_mem_set::<AND>(simple),
        Mnemonic::Sub => alu_mem_set::<SUB>(simple),
        Mnemonic::Xor => alu_mem_set::<XOR>(simple),
        Mnemonic::Cmp => alu_mem_set::<CMP>(simple),
        Mnemonic::Test => alu_mem_set::<TEST>(simple),
        _ => return None,
    };
    Some(set[idx])
}

/// SHL/SHR/SAR of a 32-bit register by imm8, 1 or CL (`KIND`: 0 SHL, 1 SHR, 2 SAR; `CL`:
/// the count is in CL, else in `imm`). 32-bit operands exist from the 386 on, so the count
/// is always masked to 5 bits; a zero count changes nothing, flags included.
#[inline(always)]
fn shift32<const KIND: u8, const CL: bool>(cpu: &mut Cpu, op: &Op) -> Exec {
    let c = if CL { cpu.gpr[ECX] } else { op.imm } & 31;
    if c == 0 {
        return Ok(());
    }
    let d = op.r0 as usize & 7;
    let v = cpu.gpr[d];
    let (r, cf, of) = match KIND {
        0 => {
            let r = v << c;
            let cf = (v >> (32 - c)) & 1 != 0;
            (r, cf, (r >> 31 != 0) != cf)
        }
        1 => {
            let r = v >> c;
            // The top two result bits differ (for a count of 1: the original sign).
            (r, (v >> (c - 1)) & 1 != 0, (r >> 31) ^ ((r >> 30) & 1) != 0)
        }
        _ => {
            let r = ((v as i32) >> c) as u32;
            (r, ((v as i32) >> (c - 1)) & 1 != 0, false)
        }
    };
    cpu.gpr[d] = r;
    cpu.set_lazy_carry(FlagOp::Shift, MASK32, 0, of as u32, r, cf);
    Ok(())
}

fn specialize_shift(op: &Op) -> Option<Spec> {
    if op.op0_kind() != OpKind::Register {
        return None;
    }
    Some(match op.code() {
        Code::Shl_rm32_imm8 | Code::Shl_rm32_1 => spec!(shift32::<0, false>),
        Code::Shr_rm32_imm8 | Code::Shr_rm32_1 => spec!(shift32::<1, false>),
        Code::Sar_rm32_imm8 | Code::Sar_rm32_1 => spec!(shift32::<2, false>),
        Code::Shl_rm32_CL => spec!(shift32::<0, true>),
        Code::Shr_rm32_CL => spec!(shift32::<1, true>),
        Code::Sar_rm32_CL => spec!(shift32::<2, true>),
        _ => return None,
    })
}

/// Plain loads and stores with a memory operand.
fn specialize_mem(op: &Op) -> Option<Spec> {
    if op.has_lock_prefix() {
        return None;
    }
    let m0 = op.op0_kind() == OpKind::Memory;
    let m1 = op.op_count() > 1 && op.op1_kind() == OpKind::Memory;
    // [simple address form, full form]
    let [simple, full]: [Spec; 2] = match op.code() {
        Code::Mov_rm8_r8 if m0 => [spec_mem!(mov_m8_r8::<true>), spec_mem!(mov_m8_r8::<false>)],
        Code::Mov_rm8_imm8 if m0 => [
            spec_mem!(mov_m8_imm::<true>),
            spec_mem!(mov_m8_imm::<false>),
        ],
        Code::Mov_r8_rm8 if m1 => [spec_mem!(mov_r8_m8::<true>), spec_mem!(mov_r8_m8::<false>)],
        Code::Movzx_r32_rm8 if m1 => [
            spec_mem!(movzx_r32_m8::<true>),
            spec_mem!(movzx_r32_m8::<false>),
        ],
        Code::Mov_rm32_r32 if m0 => [
            spec_mem!(mov_m32_r32::<true>),
            spec_mem!(mov_m32_r32::<false>),
        ],
        Code::Mov_r32_rm32 if m1 => [
            spec_mem!(mov_r32_m32::<true>),
            spec_mem!(mov_r32_m32::<false>),
        ],
        Code::Lea_r32_m if m1 => [spec!(lea_r32::<true>), spec!(lea_r32::<false>)],
        Code::Lea_r16_m if m1 => [spec!(lea_r16), spec!(lea_r16)],
        _ => return None,
    };
    Some(if is_simple(op) { simple } else { full })
}

/// ALU operations and MOV between 8-bit registers or with an immediate.
fn specialize_reg8(op: &Op) -> Option<Spec> {
    if op.op_count() != 2 {
        return None;
    }
    let k1 = op.op1_kind();
    let imm = is_imm(k1);
    let reg = k1 == OpKind::Register && op.op1_register().is_gpr8();
    if !(imm || reg) {
        return None;
    }
    let [rr, ri]: [Spec; 2] = match op.mnemonic() {
        Mnemonic::Add => [spec!(alu8_rr::<ADD>), spec!(alu8_ri::<ADD>)],
        Mnemonic::Or => [spec!(alu8_rr::<OR>), spec!(alu8_ri::<OR>)],
        Mnemonic::Adc => [spec!(alu8_rr::<ADC>), spec!(alu8_ri::<ADC>)],
        Mnemonic::Sbb => [spec!(alu8_rr::<SBB>), spec!(alu8_ri::<SBB>)],
        Mnemonic::And => [spec!(alu8_rr::<AND>), spec!(alu8_ri::<AND>)],
        Mnemonic::Sub => [spec!(alu8_rr::<SUB>), spec!(alu8_ri::<SUB>)],
        Mnemonic::Xor => [spec!(alu8_rr::<XOR>), spec!(alu8_ri::<XOR>)],
        Mnemonic::Cmp => [spec!(alu8_rr::<CMP>), spec!(alu8_ri::<CMP>)],
        Mnemonic::Test => [spec!(alu8_rr::<TEST>), spec!(alu8_ri::<TEST>)],
        Mnemonic::Mov => [spec!(mov8_rr), spec!(mov8_ri)],
        _ => return None,
    };
    Some(if imm { ri } else { rr })
}

/// Handlers for one ALU operation: [16-bit r,r; 16-bit r,imm; 32-bit r,r; 32-bit r,imm].
fn alu_set<const OP: u8>() -> [Spec; 4] {
    [
        spec!(alu16_rr::<OP>),
        spec!(alu16_ri::<OP>),
        spec!(alu32_rr::<OP>),
        spec!(alu32_ri::<OP>),
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
pub fn specialize(op: &Op) -> Option<Spec> {
    if op.is_jcc_short_or_near() {
        let jcc = [
            spec_last!(jcc::<0>),
            spec_last!(jcc::<1>),
            spec_last!(jcc::<2>),
            spec_last!(jcc::<3>),
            spec_last!(jcc::<4>),
            spec_last!(jcc::<5>),
            spec_last!(jcc::<6>),
            spec_last!(jcc::<7>),
            spec_last!(jcc::<8>),
            spec_last!(jcc::<9>),
            spec_last!(jcc::<10>),
            spec_last!(jcc::<11>),
            spec_last!(jcc::<12>),
            spec_last!(jcc::<13>),
            spec_last!(jcc::<14>),
            spec_last!(jcc::<15>),
        ];
        return Some(jcc[op.r0 as usize & 15]);
    }
    if let Some(h) = specialize_mem(op)
        .or_else(|| specialize_alu_mem(op))
        .or_else(|| specialize_shift(op))
    {
        return Some(h);
    }
    if op.op_count() != 2 && !matches!(op.mnemonic(), Mnemonic::Inc | Mnemonic::Dec) {
        return None;
    }
    if op.op0_kind() != OpKind::Register || op.has_lock_prefix() {
        return None;
    }
    let r0 = op.op0_register();
    if r0.is_gpr8() {
        return specialize_reg8(op);
    }
    let size32 = r0.is_gpr32();
    if !(size32 || r0.is_gpr16()) {
        return None;
    }
    if matches!(op.mnemonic(), Mnemonic::Inc | Mnemonic::Dec) {
        let dec = op.mnemonic() == Mnemonic::Dec;
        return Some(match (size32, dec) {
            (true, false) => spec!(inc_dec32::<false>),
            (true, true) => spec!(inc_dec32::<true>),
            (false, false) => spec!(inc_dec16::<false>),
            (false, true) => spec!(inc_dec16::<true>),
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
        Mnemonic::Mov if !matches!(op.code(), Code::Mov_rm16_Sreg | Code::Mov_r32m16_Sreg) => [
            spec!(mov16_rr),
            spec!(mov16_ri),
            spec!(mov32_rr),
            spec!(mov32_ri),
        ],
        _ => return None,
    };
    Some(set[idx])
}
