//! x87 instruction handlers for CPUs with a floating-point unit (386 + 387, 486, P6).
//! One entry point checks #NM and pending exceptions, records the instruction and operand
//! pointers, then dispatches on the mnemonic. Memory operands are read, and destinations
//! probed, before any FPU state changes, so faults are precise.

use std::cmp::Ordering;

use iced_x86::{CpuidFeature, Instruction, MemorySize, Mnemonic, OpKind, Register};

use super::{fpu_ctl, fpu_stub, invalid_opcode, Handler, Op};
use crate::cpu::exception::{self, Exception, Exec};
use crate::cpu::fpu::arith;
use crate::cpu::fpu::convert::{self, DOUBLE, SINGLE};
use crate::cpu::fpu::float80::{Ctx, DE, F80, IE, OE, PE, UE, ZE};
use crate::cpu::fpu::special::{self, compare};
use crate::cpu::fpu::state::{SW_C0, SW_C2, SW_C3, SW_ES};
use crate::cpu::fpu::transcend;
use crate::cpu::model::CpuModel;
use crate::cpu::state::{Cr0, Flags, Seg};
use crate::cpu::{Cpu, Stop};

/// The handler for an x87 instruction on `model`.
pub fn handler_for(model: CpuModel, instr: &Instruction) -> Handler {
    if model < CpuModel::I386 {
        return fpu_stub::esc_no_fpu;
    }
    for f in instr.cpuid_features() {
        match f {
            // FCMOVcc, FCOMI and FUCOMI came with the P6.
            CpuidFeature::CMOV if model < CpuModel::P6 => return invalid_opcode,
            CpuidFeature::FPU
            | CpuidFeature::FPU287
            | CpuidFeature::FPU387
            | CpuidFeature::CMOV => {}
            // 287XL/387SL-only instructions, FISTTP (SSE3), 3DNow! FEMMS...
            _ => return invalid_opcode,
        }
    }
    exec
}

/// ST(i) number of an `ST0..ST7` register operand.
fn sti(r: Register) -> usize {
    (r as usize).wrapping_sub(Register::ST0 as usize) & 7
}

/// Instructions that do not wait for pending exceptions and do not record pointers.
fn is_control(m: Mnemonic) -> bool {
    use Mnemonic as M;
    matches!(
        m,
        M::Fninit
            | M::Fnclex
            | M::Fnstsw
            | M::Fnstcw
            | M::Fnstenv
            | M::Fnsave
            | M::Fneni
            | M::Fndisi
            | M::Fnsetpm
            | M::Finit
            | M::Fclex
            | M::Fstsw
            | M::Fstcw
            | M::Fstenv
            | M::Fsave
            | M::Feni
            | M::Fdisi
            | M::Fsetpm
            | M::Fldcw
            | M::Fldenv
            | M::Frstor
    )
}

/// Whether the instruction waits for pending unmasked exceptions first.
fn waits(m: Mnemonic) -> bool {
    use Mnemonic as M;
    !matches!(
        m,
        M::Fninit
            | M::Fnclex
            | M::Fnstsw
            | M::Fnstcw
            | M::Fnstenv
            | M::Fnsave
            | M::Fneni
            | M::Fndisi
            | M::Fnsetpm
    )
}

/// A pending unmasked exception at a waiting instruction: #MF with CR0.NE, otherwise the
/// FERR# line (IRQ 13 through the PIC) and the instruction goes on. The run ends after this
/// block so that the machine raises the IRQ without waiting for the end of its slice.
pub fn check_pending(cpu: &mut Cpu) -> Exec {
    if cpu.fpu.sw & SW_ES != 0 {
        if cpu.cr.cr0 & Cr0::NE.bits() != 0 {
            return Err(Exception::new(exception::MF));
        }
        if !cpu.ferr {
            cpu.ferr = true;
            cpu.stop.get_or_insert(Stop::Budget);
        }
    }
    Ok(())
}

fn has_mem(op: &Op) -> bool {
    (0..op.op_count()).any(|n| op.op_kind(n) == OpKind::Memory)
}

/// The 11-bit opcode of the last instruction (low 3 bits of the escape byte, ModRM),
/// read back from the instruction bytes.
fn opcode_of(cpu: &mut Cpu, op: &Op) -> u16 {
    let base = cpu.seg[Seg::Cs as usize].base.wrapping_add(op.ip() as u32);
    let mut byte = |k: u32| -> u8 {
        match cpu.translate_access(base.wrapping_add(k), crate::cpu::mmu::Access::Fetch) {
            Ok(p) => cpu.mem.read_u8(p),
            Err(_) => 0,
        }
    };
    for k in 0..op.len() as u32 {
        let b = byte(k);
        if (0xD8..=0xDF).contains(&b) {
            return ((b as u16 & 7) << 8) | byte(k + 1) as u16;
        }
    }
    0
}

fn exec(cpu: &mut Cpu, op: &Op) -> Exec {
    let m = op.mnemonic();
    if cpu.cr.cr0 & (Cr0::EM.bits() | Cr0::TS.bits()) != 0 {
        return Err(Exception::new(exception::NM));
    }
    if waits(m) {
        check_pending(cpu)?;
    }
    if is_control(m) {
        return fpu_ctl::exec(cpu, op);
    }
    compute(cpu, op, m)?;
    // Record the pointers of this instruction (the 387 and later keep them for every
    // non-control instruction); a faulting instruction leaves the old ones.
    cpu.fpu.fip = op.ip() as u32;
    cpu.fpu.fcs = cpu.seg[Seg::Cs as usize].selector;
    cpu.fpu.fop = opcode_of(cpu, op);
    if has_mem(op) {
        let (s, o) = cpu.mem_operand(op);
        cpu.fpu.fdp = o;
        cpu.fpu.fds = cpu.seg[s as usize].selector;
    }
    Ok(())
}

/// Reads a memory operand as an extended value (conversion flags into `ctx`).
fn load_mem(cpu: &mut Cpu, op: &Op, ctx: &mut Ctx) -> Result<F80, Exception> {
    let (s, o) = cpu.mem_operand(op);
    let rd64 = |cpu: &mut Cpu| -> Result<u64, Exception> {
        let lo = cpu.read32(s, o)? as u64;
        Ok(lo | (cpu.read32(s, o.wrapping_add(4))? as u64) << 32)
    };
    Ok(match op.memory_size() {
        MemorySize::Float32 => convert::from_ieee(ctx, cpu.read32(s, o)? as u64, SINGLE),
        MemorySize::Float64 => convert::from_ieee(ctx, rd64(cpu)?, DOUBLE),
        MemorySize::Float80 => {
            let sig = rd64(cpu)?;
            F80 {
                sig,
                se: cpu.read16(s, o.wrapping_add(8))?,
            }
        }
        MemorySize::Int16 => convert::from_i64(cpu.read16(s, o)? as i16 as i64),
        MemorySize::Int32 => convert::from_i64(cpu.read32(s, o)? as i32 as i64),
        MemorySize::Int64 => convert::from_i64(rd64(cpu)? as i64),
        MemorySize::Bcd => {
            let mut b = [0u8; 10];
            for (k, byte) in b.iter_mut().enumerate() {
                *byte = cpu.read8(s, o.wrapping_add(k as u32))?;
            }
            convert::from_bcd(&b)
        }
        _ => return Err(Exception::invalid_opcode()),
    })
}

/// Writes `bytes` to the memory operand after checking the whole destination.
fn store_bytes(cpu: &mut Cpu, op: &Op, bytes: &[u8]) -> Exec {
    let (s, o) = cpu.mem_operand(op);
    cpu.probe_write(s, o, bytes.len() as u32)?;
    let mut k = 0;
    while k + 4 <= bytes.len() {
        let v = u32::from_le_bytes([bytes[k], bytes[k + 1], bytes[k + 2], bytes[k + 3]]);
        cpu.write32(s, o.wrapping_add(k as u32), v)?;
        k += 4;
    }
    while k < bytes.len() {
        cpu.write8(s, o.wrapping_add(k as u32), bytes[k])?;
        k += 1;
    }
    Ok(())
}

/// The value `v` in the memory operand's format, for a store; `None` if an unmasked
/// exception suppresses the store.
fn encode_store(cpu: &Cpu, op: &Op, ctx: &mut Ctx, v: F80) -> Vec<u8> {
    match op.memory_size() {
        MemorySize::Float32 => (convert::to_ieee(ctx, v, SINGLE) as u32)
            .to_le_bytes()
            .to_vec(),
        MemorySize::Float64 => convert::to_ieee(ctx, v, DOUBLE).to_le_bytes().to_vec(),
        MemorySize::Int16 => (convert::to_int(ctx, v, 16) as i16).to_le_bytes().to_vec(),
        MemorySize::Int32 => (convert::to_int(ctx, v, 32) as i32).to_le_bytes().to_vec(),
        MemorySize::Int64 => convert::to_int(ctx, v, 64).to_le_bytes().to_vec(),
        MemorySize::Bcd => convert::to_bcd(ctx, v).to_vec(),
        _ => {
            let _ = cpu;
            let mut b = v.sig.to_le_bytes().to_vec();
            b.extend_from_slice(&v.se.to_le_bytes());
            b
        }
    }
}

/// Result of an arithmetic operation goes to ST(dest) unless an unmasked invalid,
/// denormal or zero-divide exception suppresses it; returns whether it was written.
fn commit(cpu: &mut Cpu, dest: usize, v: F80, ctx: &Ctx) -> bool {
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.set_c1(false);
    if unmasked & (IE | DE | ZE) != 0 {
        cpu.fpu.raise(ctx.flags);
        return false;
    }
    cpu.fpu.set_st(dest, v);
    cpu.fpu.set_c1(ctx.flags & PE != 0 && ctx.up);
    cpu.fpu.raise(ctx.flags);
    true
}

/// Stack underflow on an operation writing ST(dest): masked, the destination becomes the
/// indefinite (and `pop` still happens); returns whether to go on popping.
fn underflow(cpu: &mut Cpu, dest: Option<usize>) -> bool {
    cpu.fpu.stack_fault(false);
    if cpu.fpu.im() {
        if let Some(d) = dest {
            cpu.fpu.set_st(d, F80::INDEFINITE);
        }
        true
    } else {
        false
    }
}

/// Pushes `v` with the overflow check (masked overflow pushes the indefinite).
fn push(cpu: &mut Cpu, v: F80, ctx: &Ctx) {
    if !cpu.fpu.is_empty(7) {
        cpu.fpu.stack_fault(true);
        if cpu.fpu.im() {
            cpu.fpu.push(F80::INDEFINITE);
        }
        return;
    }
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.set_c1(false);
    cpu.fpu.raise(ctx.flags);
    if unmasked & (IE | DE) == 0 {
        cpu.fpu.push(v);
    }
}

#[derive(Clone, Copy)]
enum Arith {
    Add,
    Mul,
    Sub,
    SubR,
    Div,
    DivR,
}

/// FADD & co in all forms: memory (ST0 op m), ST(0) op ST(i), ST(i) op ST(0), with pop.
fn arith_op(cpu: &mut Cpu, op: &Op, kind: Arith, pop: bool) -> Exec {
    let mut ctx = cpu.fpu.ctx();
    let (dest, src) = if op.op_count() == 1 && op.op0_kind() == OpKind::Memory {
        let v = load_mem(cpu, op, &mut ctx)?;
        if cpu.fpu.is_empty(0) {
            underflow(cpu, Some(0));
            return Ok(());
        }
        (0, v)
    } else {
        let (d, s) = if op.op_count() == 0 {
            (1, 0) // FADDP with no operands: ST(1) = ST(1) + ST(0), pop
        } else {
            (sti(op.op0_register()), sti(op.op1_register()))
        };
        if cpu.fpu.is_empty(d) || cpu.fpu.is_empty(s) {
            if underflow(cpu, Some(d)) && pop {
                cpu.fpu.pop();
            }
            return Ok(());
        }
        (d, cpu.fpu.st(s))
    };
    let a = cpu.fpu.st(dest);
    let r = match kind {
        Arith::Add => arith::add(&mut ctx, a, src),
        Arith::Mul => arith::mul(&mut ctx, a, src),
        Arith::Sub => arith::sub(&mut ctx, a, src),
        Arith::SubR => arith::sub(&mut ctx, src, a),
        Arith::Div => arith::div(&mut ctx, a, src),
        Arith::DivR => arith::div(&mut ctx, src, a),
    };
    if commit(cpu, dest, r, &ctx) && pop {
        cpu.fpu.pop();
    }
    Ok(())
}

fn fld(cpu: &mut Cpu, op: &Op) -> Exec {
    let mut ctx = cpu.fpu.ctx();
    let v = if op.op0_kind() == OpKind::Memory {
        load_mem(cpu, op, &mut ctx)?
    } else {
        let i = sti(op.op0_register());
        if cpu.fpu.is_empty(i) {
            cpu.fpu.stack_fault(false);
            if cpu.fpu.im() {
                push(cpu, F80::INDEFINITE, &ctx);
            }
            return Ok(());
        }
        cpu.fpu.st(i)
    };
    push(cpu, v, &ctx);
    Ok(())
}

/// FST/FSTP/FIST/FISTP/FBSTP.
fn store(cpu: &mut Cpu, op: &Op, pop: bool) -> Exec {
    if op.op0_kind() != OpKind::Memory {
        let i = sti(op.op0_register());
        if cpu.fpu.is_empty(0) {
            if underflow(cpu, Some(i)) && pop {
                cpu.fpu.pop();
            }
            return Ok(());
        }
        cpu.fpu.set_c1(false);
        let v = cpu.fpu.st(0);
        cpu.fpu.set_st(i, v);
        if pop {
            cpu.fpu.pop();
        }
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let empty = cpu.fpu.is_empty(0);
    let v = if empty {
        ctx.flags |= IE;
        F80::INDEFINITE
    } else {
        cpu.fpu.st(0)
    };
    let bytes = encode_store(cpu, op, &mut ctx, v);
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    let suppressed = unmasked & (IE | DE | OE | UE) != 0;
    if !suppressed {
        store_bytes(cpu, op, &bytes)?;
    }
    if empty {
        cpu.fpu.stack_fault(false);
    } else {
        cpu.fpu.set_c1(ctx.flags & PE != 0 && ctx.up);
        cpu.fpu.raise(ctx.flags);
    }
    if pop && !(suppressed && unmasked & (IE | DE) != 0) {
        cpu.fpu.pop();
    }
    Ok(())
}

/// Sets C3/C2/C0 (or ZF/PF/CF for FCOMI) from a comparison.
fn set_compare(cpu: &mut Cpu, r: Option<Ordering>, eflags: bool) {
    let (c3, c2, c0) = match r {
        Some(Ordering::Greater) => (false, false, false),
        Some(Ordering::Less) => (false, false, true),
        Some(Ordering::Equal) => (true, false, false),
        None => (true, true, true),
    };
    if eflags {
        cpu.set_flag(Flags::ZF, c3);
        cpu.set_flag(Flags::PF, c2);
        cpu.set_flag(Flags::CF, c0);
        cpu.set_flag(Flags::OF, false);
        cpu.set_flag(Flags::SF, false);
        cpu.set_flag(Flags::AF, false);
    } else {
        cpu.fpu.set_c320(c3, c2, c0);
    }
}

/// FCOM/FCOMP/FCOMPP/FICOM/FICOMP/FUCOM*/FCOMI*/FUCOMI*/FTST.
fn compare_op(cpu: &mut Cpu, op: &Op, quiet: bool, pops: usize, eflags: bool) -> Exec {
    let mut ctx = cpu.fpu.ctx();
    let b = if op.mnemonic() == Mnemonic::Ftst {
        Some(F80::ZERO)
    } else if op.op_count() >= 1 && op.op0_kind() == OpKind::Memory {
        Some(load_mem(cpu, op, &mut ctx)?)
    } else {
        let i = match op.op_count() {
            0 => 1,
            1 => sti(op.op0_register()),
            _ => sti(op.op1_register()),
        };
        (!cpu.fpu.is_empty(i)).then(|| cpu.fpu.st(i))
    };
    let a = (!cpu.fpu.is_empty(0)).then(|| cpu.fpu.st(0));
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            cpu.fpu.stack_fault(false);
            if cpu.fpu.im() {
                set_compare(cpu, None, eflags);
                for _ in 0..pops {
                    cpu.fpu.pop();
                }
            }
            return Ok(());
        }
    };
    let r = compare(&mut ctx, a, b, quiet);
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.set_c1(false);
    cpu.fpu.raise(ctx.flags);
    if unmasked & (IE | DE) != 0 {
        return Ok(());
    }
    set_compare(cpu, r, eflags);
    for _ in 0..pops {
        cpu.fpu.pop();
    }
    Ok(())
}

/// One-operand operations on ST(0) that replace it.
fn unary(cpu: &mut Cpu, f: fn(&mut Ctx, F80) -> F80) -> Exec {
    if cpu.fpu.is_empty(0) {
        underflow(cpu, Some(0));
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let r = f(&mut ctx, cpu.fpu.st(0));
    commit(cpu, 0, r, &ctx);
    Ok(())
}

fn fxch(cpu: &mut Cpu, op: &Op) -> Exec {
    let i = if op.op_count() == 2 {
        sti(op.op1_register())
    } else {
        1
    };
    if cpu.fpu.is_empty(0) || cpu.fpu.is_empty(i) {
        cpu.fpu.stack_fault(false);
        if !cpu.fpu.im() {
            return Ok(());
        }
        for k in [0, i] {
            if cpu.fpu.is_empty(k) {
                cpu.fpu.set_st(k, F80::INDEFINITE);
            }
        }
    }
    let (a, b) = (cpu.fpu.st(0), cpu.fpu.st(i));
    cpu.fpu.set_st(0, b);
    cpu.fpu.set_st(i, a);
    cpu.fpu.set_c1(false);
    Ok(())
}

fn fcmov(cpu: &mut Cpu, op: &Op) -> Exec {
    use Mnemonic as M;
    let cond = match op.mnemonic() {
        M::Fcmovb => cpu.cf(),
        M::Fcmove => cpu.zf(),
        M::Fcmovbe => cpu.cf() || cpu.zf(),
        M::Fcmovu => cpu.pf(),
        M::Fcmovnb => !cpu.cf(),
        M::Fcmovne => !cpu.zf(),
        M::Fcmovnbe => !cpu.cf() && !cpu.zf(),
        _ => !cpu.pf(),
    };
    let i = sti(op.op1_register());
    if cpu.fpu.is_empty(0) || cpu.fpu.is_empty(i) {
        underflow(cpu, Some(0));
        return Ok(());
    }
    cpu.fpu.set_c1(false);
    if cond {
        let v = cpu.fpu.st(i);
        cpu.fpu.set_st(0, v);
    }
    Ok(())
}

fn fprem(cpu: &mut Cpu, nearest: bool) -> Exec {
    if cpu.fpu.is_empty(0) || cpu.fpu.is_empty(1) {
        underflow(cpu, Some(0));
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let (a, b) = (cpu.fpu.st(0), cpu.fpu.st(1));
    let Some(r) = special::remainder(&mut ctx, a, b, nearest) else {
        return Ok(());
    };
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.raise(ctx.flags);
    if unmasked & (IE | DE) != 0 {
        return Ok(());
    }
    cpu.fpu.set_st(0, r.value);
    if ctx.flags & IE != 0 {
        cpu.fpu.set_c320(false, false, false);
        cpu.fpu.set_c1(false);
        return Ok(());
    }
    let q = if r.partial { 0 } else { r.q };
    cpu.fpu.set_c320(q & 2 != 0, r.partial, q & 4 != 0);
    cpu.fpu.set_c1(q & 1 != 0);
    Ok(())
}

fn fscale(cpu: &mut Cpu) -> Exec {
    if cpu.fpu.is_empty(0) || cpu.fpu.is_empty(1) {
        underflow(cpu, Some(0));
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let r = special::scale(&mut ctx, cpu.fpu.st(0), cpu.fpu.st(1));
    commit(cpu, 0, r, &ctx);
    Ok(())
}

fn fxtract(cpu: &mut Cpu) -> Exec {
    if cpu.fpu.is_empty(0) {
        underflow(cpu, Some(0));
        return Ok(());
    }
    if !cpu.fpu.is_empty(7) {
        cpu.fpu.stack_fault(true);
        if cpu.fpu.im() {
            cpu.fpu.set_st(0, F80::INDEFINITE);
            cpu.fpu.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let (e, s) = special::extract(&mut ctx, cpu.fpu.st(0));
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.set_c1(false);
    cpu.fpu.raise(ctx.flags);
    if unmasked & (IE | DE | ZE) != 0 {
        return Ok(());
    }
    cpu.fpu.set_st(0, e);
    cpu.fpu.push(s);
    Ok(())
}

fn fxam(cpu: &mut Cpu) -> Exec {
    let v = cpu.fpu.st(0);
    let (c3, c2, c0) = if cpu.fpu.is_empty(0) {
        (true, false, true)
    } else {
        special::examine(v)
    };
    cpu.fpu.set_c320(c3, c2, c0);
    cpu.fpu.set_c1(v.sign());
    Ok(())
}

fn fld_const(cpu: &mut Cpu, c: Option<(i32, u128)>) -> Exec {
    let ctx = cpu.fpu.ctx();
    let v = match c {
        Some(c) => special::constant(&ctx, c),
        None => F80::ZERO,
    };
    push(cpu, v, &Ctx { flags: 0, ..ctx });
    Ok(())
}

fn compute(cpu: &mut Cpu, op: &Op, m: Mnemonic) -> Exec {
    use Mnemonic as M;
    match m {
        M::Fld | M::Fild | M::Fbld => fld(cpu, op),
        M::Fst | M::Fist => store(cpu, op, false),
        M::Fstp | M::Fistp | M::Fbstp | M::Fstpnce => store(cpu, op, true),
        M::Fadd | M::Fiadd => arith_op(cpu, op, Arith::Add, false),
        M::Faddp => arith_op(cpu, op, Arith::Add, true),
        M::Fmul | M::Fimul => arith_op(cpu, op, Arith::Mul, false),
        M::Fmulp => arith_op(cpu, op, Arith::Mul, true),
        M::Fsub | M::Fisub => arith_op(cpu, op, Arith::Sub, false),
        M::Fsubp => arith_op(cpu, op, Arith::Sub, true),
        M::Fsubr | M::Fisubr => arith_op(cpu, op, Arith::SubR, false),
        M::Fsubrp => arith_op(cpu, op, Arith::SubR, true),
        M::Fdiv | M::Fidiv => arith_op(cpu, op, Arith::Div, false),
        M::Fdivp => arith_op(cpu, op, Arith::Div, true),
        M::Fdivr | M::Fidivr => arith_op(cpu, op, Arith::DivR, false),
        M::Fdivrp => arith_op(cpu, op, Arith::DivR, true),
        M::Fcom | M::Ficom => compare_op(cpu, op, false, 0, false),
        M::Fcomp | M::Ficomp => compare_op(cpu, op, false, 1, false),
        M::Fcompp => compare_op(cpu, op, false, 2, false),
        M::Fucom => compare_op(cpu, op, true, 0, false),
        M::Fucomp => compare_op(cpu, op, true, 1, false),
        M::Fucompp => compare_op(cpu, op, true, 2, false),
        M::Fcomi => compare_op(cpu, op, false, 0, true),
        M::Fcomip => compare_op(cpu, op, false, 1, true),
        M::Fucomi => compare_op(cpu, op, true, 0, true),
        M::Fucomip => compare_op(cpu, op, true, 1, true),
        M::Ftst => compare_op(cpu, op, false, 0, false),
        M::Fxam => fxam(cpu),
        M::Fxch => fxch(cpu, op),
        M::Fchs => unary(cpu, |_, v| v.negated()),
        M::Fabs => unary(cpu, |_, v| v.abs()),
        M::Fsqrt => unary(cpu, arith::sqrt),
        M::Frndint => unary(cpu, convert::round_to_int),
        M::Fprem => fprem(cpu, false),
        M::Fprem1 => fprem(cpu, true),
        M::Fscale => fscale(cpu),
        M::Fxtract => fxtract(cpu),
        M::Fld1 => {
            let one = Some((crate::cpu::fpu::float80::BIAS, 1u128 << 127));
            fld_const(cpu, one)
        }
        M::Fldz => fld_const(cpu, None),
        M::Fldpi => fld_const(cpu, Some(special::PI)),
        M::Fldl2t => fld_const(cpu, Some(special::L2T)),
        M::Fldl2e => fld_const(cpu, Some(special::L2E)),
        M::Fldlg2 => fld_const(cpu, Some(special::LG2)),
        M::Fldln2 => fld_const(cpu, Some(special::LN2)),
        M::Fincstp | M::Fdecstp => {
            let t = cpu.fpu.top();
            cpu.fpu.set_top(if m == M::Fincstp { t + 1 } else { t + 7 });
            cpu.fpu.set_c1(false);
            Ok(())
        }
        M::Ffree | M::Ffreep => {
            let p = cpu.fpu.phys(sti(op.op0_register()));
            cpu.fpu.set_tag(p, crate::cpu::fpu::state::TAG_EMPTY);
            if m == M::Ffreep {
                cpu.fpu.pop();
            }
            Ok(())
        }
        M::Fnop => Ok(()),
        M::Fcmovb
        | M::Fcmove
        | M::Fcmovbe
        | M::Fcmovu
        | M::Fcmovnb
        | M::Fcmovne
        | M::Fcmovnbe
        | M::Fcmovnu => fcmov(cpu, op),
        M::Fsin
        | M::Fcos
        | M::Fsincos
        | M::Fptan
        | M::Fpatan
        | M::F2xm1
        | M::Fyl2x
        | M::Fyl2xp1 => transcend_op(cpu, m),
        _ => Err(Exception::invalid_opcode()),
    }
}

/// The transcendental instructions: operands from ST(0) (and ST(1)), results by
/// `transcend`, stack effects per instruction.
fn transcend_op(cpu: &mut Cpu, m: Mnemonic) -> Exec {
    use Mnemonic as M;
    let two = matches!(m, M::Fpatan | M::Fyl2x | M::Fyl2xp1);
    let pushes = matches!(m, M::Fsincos | M::Fptan);
    if cpu.fpu.is_empty(0) || (two && cpu.fpu.is_empty(1)) {
        let dest = if two { 1 } else { 0 };
        if underflow(cpu, Some(dest)) {
            if two {
                cpu.fpu.pop();
            } else if pushes && cpu.fpu.is_empty(7) {
                cpu.fpu.push(F80::INDEFINITE);
            }
        }
        return Ok(());
    }
    if pushes && !cpu.fpu.is_empty(7) {
        cpu.fpu.stack_fault(true);
        if cpu.fpu.im() {
            cpu.fpu.set_st(0, F80::INDEFINITE);
            cpu.fpu.push(F80::INDEFINITE);
        }
        return Ok(());
    }
    let mut ctx = cpu.fpu.ctx();
    let x = cpu.fpu.st(0);
    let out = match m {
        M::Fsin => transcend::sin(&mut ctx, x),
        M::Fcos => transcend::cos(&mut ctx, x),
        M::Fsincos => transcend::sincos(&mut ctx, x),
        M::Fptan => transcend::ptan(&mut ctx, x),
        M::F2xm1 => transcend::f2xm1(&mut ctx, x),
        M::Fpatan => transcend::patan(&mut ctx, cpu.fpu.st(1), x),
        M::Fyl2x => transcend::yl2x(&mut ctx, cpu.fpu.st(1), x),
        _ => transcend::yl2xp1(&mut ctx, cpu.fpu.st(1), x),
    };
    let unmasked = ctx.flags & !(cpu.fpu.cw as u8) & 0x3F;
    cpu.fpu.set_c1(false);
    cpu.fpu.sw &= !SW_C2;
    cpu.fpu.raise(ctx.flags);
    if out.out_of_range {
        // |x| >= 2^63: C2 set and the operand left alone.
        cpu.fpu.sw |= SW_C2;
        return Ok(());
    }
    if unmasked & (IE | DE | ZE) != 0 {
        return Ok(());
    }
    cpu.fpu.set_c1(ctx.flags & PE != 0 && ctx.up);
    if two {
        cpu.fpu.set_st(1, out.a);
        cpu.fpu.pop();
    } else {
        cpu.fpu.set_st(0, out.a);
        if let Some(b) = out.b {
            cpu.fpu.push(b);
        }
    }
    let _ = SW_C0 | SW_C3;
    Ok(())
}
