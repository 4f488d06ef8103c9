//! Instruction handlers, grouped by family, and the table that maps every
//! `iced_x86::Code` to its handler. The table is built once; decoding stores the handler in
//! each [`Op`], so execution never looks at the opcode again.
//!
//! A block's ops run as a [`Chain`]: each op's chained handler runs the instruction and
//! then the next op's by a tail call, so the run loop dispatches once per block, not once
//! per instruction.

/// The [`Spec`] of a specialised handler `$f`: `$f` itself and its chained form, in which
/// `$f` is inlined before the tail call to the next body op.
macro_rules! spec {
    ($f:expr) => {
        $crate::cpu::exec::Spec {
            run: $f,
            chained: (|cpu, op| {
                // SAFETY: the contract of `Chained`, passed on.
                unsafe {
                    let result = $f(cpu, &*op);
                    $crate::cpu::exec::then_next(cpu, op, result)
                }
            }) as $crate::cpu::exec::ChainedBody,
            ends_block: false,
        }
    };
}

/// The [`Spec`] of a handler that always ends its block (a branch): its chained form is
/// the one for the last op of a block, with `$f` inlined (see `run_last`).
macro_rules! spec_last {
    ($f:expr) => {
        $crate::cpu::exec::Spec {
            run: $f,
            chained: (|cpu, op| {
                // SAFETY: the contract of `Chained`, passed on.
                unsafe {
                    let result =
                        $crate::cpu::exec::enter_branch(cpu, &*op).and_then(|()| $f(cpu, &*op));
                    $crate::cpu::exec::end_or_loop(cpu, op, result)
                }
            }) as $crate::cpu::exec::ChainedBody,
            ends_block: true,
        }
    };
}

/// `spec!` for a handler whose memory access has a fast path (its last const parameter
/// is `CHAIN`, see `fast_mem`): the chained form inlines the fast path only and leaves the
/// rest to the plain handler (`then_next_or_slow`).
macro_rules! spec_mem {
    ($f:ident $(:: < $($g:tt),* >)?) => {
        $crate::cpu::exec::Spec {
            run: $f::<$($($g,)*)? false>,
            chained: (|cpu, op| {
                // SAFETY: the contract of `Chained`, passed on.
                unsafe {
                    let result = $f::<$($($g,)*)? true>(cpu, &*op);
                    $crate::cpu::exec::then_next_or_slow(cpu, op, result)
                }
            }) as $crate::cpu::exec::ChainedBody,
            ends_block: false,
        }
    };
}

pub mod alu;
pub mod bcd;
pub mod bit;
mod chain;
pub mod control;
pub mod fast;
pub mod fast_flow;
mod fast_mem;
pub mod fpu;
pub mod fpu_ctl;
pub mod fpu_stub;
pub mod fused;
pub mod io;
pub mod misc;
pub mod model8086;
pub mod mov;
pub mod muldiv;
pub mod operand;
pub mod shift;
pub mod stack;
pub mod string;
pub mod system;

use std::ops::Deref;
use std::sync::OnceLock;

use iced_x86::{Code, CpuidFeature, Instruction, OpKind};

pub use chain::{
    chain_generic, end_or_loop, enter_branch, then_next, then_next_or_slow, Chain, Chained,
    ChainedBody,
};

use super::exception::{Exception, Exec};
use super::model::CpuModel;
use super::state::Seg;
use super::Cpu;

/// An instruction handler. It reads operands through `op`, may fault with `Err`, and commits
/// state only when nothing can fault any more.
pub type Handler = fn(&mut Cpu, &Op) -> Exec;

/// A specialised handler and its chained form (built by `spec!`, `spec_mem!` or
/// `spec_last!`).
#[derive(Clone, Copy)]
pub struct Spec {
    run: Handler,
    chained: Chained,
    /// `chained` is the form for a block's last op (see `Op::last_form`).
    ends_block: bool,
}

/// A decoded instruction with everything execution needs.
#[derive(Clone)]
pub struct Op {
    pub instr: Instruction,
    pub handler: Handler,
    /// The handler in a block's chain (see [`Chained`]): the body form, or with
    /// `last_form` the form for the block's last op. Private: a [`Chain`] relies on the
    /// two agreeing.
    chained: Chained,
    /// `chained` is a last form: it runs the op and ends the chain.
    last_form: bool,
    /// The op's position in its block's chain (set by `Chain::new`).
    index: u8,
    /// EIP of the instruction (`instr.ip()`, kept at hand for the last form's `enter_last`).
    eip: u32,
    /// For a block's last op whose taken branch leads back to the block's start: the
    /// block's guest instruction count (else 0), for `end_or_loop`.
    loop_len: u8,
    /// EIP of the next instruction (wrapped to 16 bits in 16-bit code).
    pub next_eip: u32,
    /// The memory operand uses 32-bit addressing.
    pub addr32: bool,
    /// Register numbers (0-7) of operands 0 and 1 when they are general registers (else 0;
    /// handlers index with `& 7`, which the compiler then knows needs no bounds check), and
    /// the immediate sign-extended to the operand size: precomputed for the fast handlers.
    pub r0: u8,
    pub r1: u8,
    /// A compare (or other register ALU operation) fused with the conditional branch after
    /// it, run by one handler at the end of a block (see `fused.rs`): `instr` and the
    /// operand fields are the compare's, `next_eip` the branch's fall-through.
    pub fused: bool,
    /// The handler is a specialised one (chosen for this form on a model that has it).
    pub specialised: bool,
    pub imm: u32,
    /// For a fused op: the branch's EIP (the compare's next EIP) and its target.
    pub branch_eip: u32,
    pub branch_target: u32,
    /// The memory operand's address, precomputed so that the effective address is
    /// `(disp + (gpr[base] & base_mask) + ((gpr[index] & index_mask) << shift)) & addr_mask`
    /// (absent registers have a zero mask), and its segment register number.
    pub mem: MemForm,
}

/// Precomputed effective-address form of an instruction's memory operand.
#[derive(Clone, Copy)]
pub struct MemForm {
    pub disp: u32,
    pub base_mask: u32,
    pub index_mask: u32,
    pub addr_mask: u32,
    pub base: u8,
    pub index: u8,
    pub shift: u8,
    pub seg: Seg,
}

impl MemForm {
    fn of(instr: &Instruction, addr32: bool) -> MemForm {
        use iced_x86::Register;
        let reg = |r: Register| {
            if r == Register::None {
                (0, 0)
            } else {
                (operand::reg_index(r) as u8, u32::MAX)
            }
        };
        let (base, base_mask) = reg(instr.memory_base());
        let (index, index_mask) = reg(instr.memory_index());
        MemForm {
            disp: instr.memory_displacement32(),
            base_mask,
            index_mask,
            addr_mask: if addr32 { u32::MAX } else { 0xFFFF },
            base,
            index,
            shift: instr.memory_index_scale().trailing_zeros() as u8,
            seg: Seg::from_index(operand::reg_index(instr.memory_segment())),
        }
    }
}

impl Op {
    /// Builds the decoded form of `instr`, choosing a specialised handler where one exists.
    pub fn new(instr: Instruction, handler: Handler, next_eip: u32, addr32: bool) -> Op {
        use iced_x86::OpKind;
        let reg = |n: u32| {
            if instr.op_count() > n && instr.op_kind(n) == OpKind::Register {
                operand::reg_index(instr.op_register(n)) as u8
            } else {
                0
            }
        };
        let imm = (0..instr.op_count())
            .find_map(|n| match instr.op_kind(n) {
                OpKind::Immediate8 => Some(instr.immediate8() as u32),
                OpKind::Immediate16 => Some(instr.immediate16() as u32),
                OpKind::Immediate32 => Some(instr.immediate32()),
                OpKind::Immediate8to16 => Some(instr.immediate8to16() as u16 as u32),
                OpKind::Immediate8to32 => Some(instr.immediate8to32() as u32),
                _ => None,
            })
            .unwrap_or(0);
        let mut op = Op {
            instr,
            handler,
            chained: chain_generic,
            last_form: false,
            index: 0,
            loop_len: 0,
            eip: instr.ip() as u32,
            next_eip,
            addr32,
            r0: reg(0),
            r1: reg(1),
            fused: false,
            specialised: false,
            imm,
            branch_eip: 0,
            branch_target: 0,
            mem: MemForm::of(&instr, addr32),
        };
        let near_target = || match instr.op0_kind() {
            OpKind::NearBranch16 => instr.near_branch_target() as u32 & 0xFFFF,
            _ => instr.near_branch_target() as u32,
        };
        if instr.is_jcc_short_or_near() {
            // Condition number and target, for the specialised Jcc handler.
            op.r0 = instr.condition_code() as u8 - 1;
            op.imm = near_target();
        } else if instr.is_jmp_short_or_near() || instr.is_call_near() || instr.is_loop() {
            op.imm = near_target();
        }
        // Only the ordinary handler of a Code is replaced: #UD for a model that lacks the
        // instruction, and the 8086's own handlers, stay as they are.
        let ordinary = table()[op.code() as usize] as usize == handler as usize;
        if ordinary {
            if let Some(fast) = fast::specialize(&op)
                .or_else(|| fast_flow::specialize(&op))
                .or_else(|| string::specialize(&op))
            {
                op.handler = fast.run;
                op.chained = fast.chained;
                op.last_form = fast.ends_block;
                op.specialised = true;
            }
        }
        op
    }
}

impl Deref for Op {
    type Target = Instruction;

    #[inline(always)]
    fn deref(&self) -> &Instruction {
        &self.instr
    }
}

/// Handler table indexed by `Code`.
pub type Table = Vec<Handler>;

/// Sets the handler of `code`.
#[inline]
pub fn set(t: &mut Table, code: Code, h: Handler) {
    t[code as usize] = h;
}

/// Sets the same handler for several codes.
pub fn set_all(t: &mut Table, codes: &[Code], h: Handler) {
    for &c in codes {
        set(t, c, h);
    }
}

/// The name of `code` as iced-x86 spells it (`Add_rm8_r8`): the handler tables pick some
/// forms by name. Formatted once for all codes (start-up time).
pub(crate) fn code_name(code: Code) -> &'static str {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    &NAMES.get_or_init(|| Code::values().map(|c| format!("{c:?}")).collect())[code as usize]
}

/// Whether running `i` may write guest memory, or read it (a page walk sets accessed bits),
/// or touch descriptor tables: any operand that is not a register, immediate or branch
/// target, any stack use, segment register loads and the descriptor-reading instructions.
pub fn may_touch_memory(i: &Instruction) -> bool {
    use iced_x86::Mnemonic;
    let plain = |k: OpKind| {
        matches!(
            k,
            OpKind::Register
                | OpKind::NearBranch16
                | OpKind::NearBranch32
                | OpKind::NearBranch64
                | OpKind::FarBranch16
                | OpKind::FarBranch32
                | OpKind::Immediate8
                | OpKind::Immediate8_2nd
                | OpKind::Immediate16
                | OpKind::Immediate32
                | OpKind::Immediate64
                | OpKind::Immediate8to16
                | OpKind::Immediate8to32
                | OpKind::Immediate8to64
                | OpKind::Immediate32to64
        )
    };
    !(0..i.op_count()).all(|n| plain(i.op_kind(n)))
        || i.stack_pointer_increment() != 0
        || (0..i.op_count())
            .any(|n| i.op_kind(n) == OpKind::Register && i.op_register(n).is_segment_register())
        || matches!(
            i.mnemonic(),
            Mnemonic::Lar | Mnemonic::Lsl | Mnemonic::Verr | Mnemonic::Verw
        )
}

/// The generic handler of `code` (what an op ran before specialisation).
pub fn generic_handler(code: Code) -> Handler {
    table()[code as usize]
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: Table = vec![unimplemented as Handler; Code::values().count()];
        mov::register(&mut t);
        alu::register(&mut t);
        shift::register(&mut t);
        muldiv::register(&mut t);
        bcd::register(&mut t);
        bit::register(&mut t);
        string::register(&mut t);
        stack::register(&mut t);
        control::register(&mut t);
        io::register(&mut t);
        misc::register(&mut t);
        system::register(&mut t);
        fpu_stub::register(&mut t);
        set(&mut t, Code::INVALID, invalid_opcode);
        t
    })
}

/// Whether `code` has a handler (used by tests that check table coverage).
pub fn is_implemented(code: Code) -> bool {
    table()[code as usize] as usize != unimplemented as Handler as usize
}

/// The handler for `instr` on `model`: #UD where the model lacks the instruction.
pub fn handler_for(model: CpuModel, instr: &Instruction) -> Handler {
    if instr.is_invalid() {
        return invalid_opcode;
    }
    let features = instr.cpuid_features();
    if features.iter().any(|f| is_fpu_feature(*f)) {
        return fpu::handler_for(model, instr);
    }
    if !features.iter().all(|&f| model_has(model, f)) {
        return invalid_opcode;
    }
    table()[instr.code() as usize]
}

fn is_fpu_feature(f: CpuidFeature) -> bool {
    matches!(
        f,
        CpuidFeature::FPU
            | CpuidFeature::FPU287
            | CpuidFeature::FPU387
            | CpuidFeature::FPU287XL_ONLY
            | CpuidFeature::FPU387SL_ONLY
    )
}

/// Whether `model` implements instructions that need `f`.
pub(crate) fn model_has(model: CpuModel, f: CpuidFeature) -> bool {
    use CpuidFeature as F;
    match f {
        F::INTEL8086 | F::INTEL8086_ONLY => true,
        F::INTEL186 | F::INTEL286 => model >= CpuModel::I286,
        F::INTEL286_ONLY => model == CpuModel::I286,
        F::INTEL386 => model >= CpuModel::I386,
        F::INTEL486 | F::CPUID => model >= CpuModel::I486,
        F::TSC | F::CX8 | F::MSR | F::CMOV | F::PAUSE | F::MULTIBYTENOP | F::SEP => {
            model >= CpuModel::P6
        }
        _ => false,
    }
}

/// #UD for opcodes the model does not have.
pub fn invalid_opcode(_cpu: &mut Cpu, _op: &Op) -> Exec {
    Err(Exception::invalid_opcode())
}

/// #GP(0) for encodings the model rejects that way (e.g. over-long instructions on the 286).
pub fn general_protection(_cpu: &mut Cpu, _op: &Op) -> Exec {
    Err(Exception::gp(0))
}

/// Instructions the decoder knows but we have not implemented: #UD, and remembered so that
/// suite runners can name the cause of a failure.
pub fn unimplemented(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.last_unimplemented = Some(op.code());
    Err(Exception::invalid_opcode())
}
#[cfg(test)]
mod tests_core;
#[cfg(test)]
mod tests_families;
#[cfg(test)]
mod tests_fpu;
#[cfg(test)]
mod tests_specialized;
