//! A block's ops as one chain of tail calls. Each [`Op`] carries a chained handler: its
//! body form runs the instruction and then the next op's chained handler (a tail call, so
//! the run loop dispatches once per block), its last form runs the instruction as the
//! block's last (setting the next EIP first, and EIP: before the instruction in
//! `run_last`, only on a fault in the specialised branches' forms) and ends the chain.
//! Specialised handlers have their own forms with the handler inlined (`spec!`,
//! `spec_mem!`, `spec_last!`); the rest run through `chain_generic` and `run_last`.
//!
//! The step from one op to the next is a pointer increment inside the block's op slice: the
//! one place with `unsafe`. A [`Chain`] is built only by [`Chain::new`], which gives its last
//! op a last form and every other op a body form, and is never changed afterwards, so a
//! body form always has a next op to step to.

use std::ops::Deref;

use iced_x86::Code;

use super::fast_flow::check_target;
use super::fast_mem::push;
use super::Op;
use crate::cpu::exception::{Exception, Exec};
use crate::cpu::Cpu;

/// A body instruction's handler in a block's chain: runs the op `op` points to, then the
/// next op in the same block by a tail call. On an `Err` it stops the chain and leaves the
/// failed op's address in `Cpu::chain_stop`. The last op of every block has a last form
/// (`run_last` or one built by `spec_last!`) that runs it and does not go on, so a chain
/// never runs past its block.
///
/// # Safety
/// `op` points into a block's `ops` (derived from the whole slice, so the next element
/// may be reached from it), the slice lives and is not changed while the chain runs, and
/// the slice's last op has a last form as its chained handler (what [`Chain`] guarantees).
pub type Chained = unsafe fn(&mut Cpu, *const Op) -> Exec;

/// What `spec!` builds before it becomes a `Chained`.
pub type ChainedBody = fn(&mut Cpu, *const Op) -> Exec;

/// The end of a chained handler: after `result` of the op at `op`, the next op.
///
/// # Safety
/// As for [`Chained`].
#[inline(always)]
pub unsafe fn then_next(cpu: &mut Cpu, op: *const Op, result: Exec) -> Exec {
    if let Err(e) = result {
        return chain_stopped(cpu, op, e);
    }
    // SAFETY: `op` is not its block's last op (that one's chained handler is a last form,
    // which does not get here), so the next element of the same slice exists.
    let next = unsafe { op.add(1) };
    unsafe { ((*next).chained)(cpu, next) }
}

/// `then_next` for a chained form that may decline with `SLOW_PATH` (having changed
/// nothing): then the plain handler runs the instruction.
///
/// # Safety
/// As for [`Chained`].
#[inline(always)]
pub unsafe fn then_next_or_slow(cpu: &mut Cpu, op: *const Op, result: Exec) -> Exec {
    if result == Err(Exception::SLOW_PATH) {
        return unsafe { chain_generic(cpu, op) };
    }
    unsafe { then_next(cpu, op, result) }
}

#[cold]
#[inline(never)]
pub(super) fn chain_stopped(cpu: &mut Cpu, op: *const Op, e: Exception) -> Exec {
    cpu.chain_stop = op as usize;
    Err(e)
}

/// The start of a block's last op in the chain (`run_last`): EIP and the next EIP are set
/// only by the last op (the body ops leave the block only by a fault, which knows its own
/// EIP, or by a write to the block's code, and none of them reads `next_eip`). Always `Ok`;
/// a `Result` only to chain with the handler.
#[inline(always)]
pub fn enter_last(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.eip = op.eip;
    cpu.next_eip = op.next_eip;
    Ok(())
}

/// `enter_last` for the specialised branch handlers (`spec_last!`): they read EIP only
/// when they fault, so it is set then (`branch_stopped`), not on every run.
#[inline(always)]
pub fn enter_branch(cpu: &mut Cpu, op: &Op) -> Exec {
    cpu.next_eip = op.next_eip;
    Ok(())
}

/// A specialised branch stopped the chain: EIP is its own (a fused op's branch half has
/// set the branch's already).
///
/// # Safety
/// `op` points to a live op.
#[cold]
#[inline(never)]
unsafe fn branch_stopped(cpu: &mut Cpu, op: *const Op, e: Exception) -> Exec {
    let o = unsafe { &*op };
    if !o.fused {
        cpu.eip = o.eip;
    }
    chain_stopped(cpu, op, e)
}

/// The end of a specialised last form: a taken branch back to the block's start (a tight
/// loop; `Op::loop_len` is set) runs the block again at once while the run's budget
/// (`Cpu::run_end`) lasts and no code was written, counting its instructions as the run
/// loop would; anything else ends the chain (with EIP set on an `Err`).
///
/// # Safety
/// As for [`Chained`].
#[inline(always)]
pub unsafe fn end_or_loop(cpu: &mut Cpu, op: *const Op, result: Exec) -> Exec {
    let o = unsafe { &*op };
    if o.loop_len != 0
        && result.is_ok()
        && cpu.next_eip != o.next_eip
        && cpu.icount < cpu.run_end
        && !cpu.mem.code_written()
    {
        cpu.icount += o.loop_len as u64;
        // SAFETY: `index` is the op's position in its chain (`Chain::new`), so the first op
        // is `index` elements back in the same slice.
        let first = unsafe { op.sub(o.index as usize) };
        return unsafe { ((*first).chained)(cpu, first) };
    }
    match result {
        Ok(()) => Ok(()),
        Err(e) => unsafe { branch_stopped(cpu, op, e) },
    }
}

/// The end of a last op's chained form: stops the chain, recording where on an `Err`.
#[inline(always)]
pub fn stop_on_err(cpu: &mut Cpu, op: *const Op, result: Exec) -> Exec {
    match result {
        Ok(()) => Ok(()),
        Err(e) => chain_stopped(cpu, op, e),
    }
}

/// The chained form of a block's last op without one of its own: runs `op.handler`, and
/// the chain ends.
///
/// # Safety
/// As for [`Chained`].
pub(super) unsafe fn run_last(cpu: &mut Cpu, op: *const Op) -> Exec {
    unsafe {
        let result = enter_last(cpu, &*op).and_then(|()| ((*op).handler)(cpu, &*op));
        stop_on_err(cpu, op, result)
    }
}

/// The chained form of a handler without one of its own: calls `op.handler`. Never
/// inlined: the chained forms reach it by a tail call, and stay leaf functions.
///
/// # Safety
/// As for [`Chained`].
#[inline(never)]
pub unsafe fn chain_generic(cpu: &mut Cpu, op: *const Op) -> Exec {
    unsafe {
        let result = ((*op).handler)(cpu, &*op);
        then_next(cpu, op, result)
    }
}

/// The chained form of a generic handler that may touch memory, as a body instruction:
/// reports code-page writes as `Exception::CODE_WRITTEN`. The run loop looks for writes to
/// a block's own code only when an instruction reports them; the specialised handlers
/// report from their checked paths themselves (their fast paths never write pages that
/// hold code).
///
/// # Safety
/// As for [`Chained`].
#[inline(never)]
pub(super) unsafe fn chain_generic_reporting(cpu: &mut Cpu, op: *const Op) -> Exec {
    unsafe {
        let result = ((*op).handler)(cpu, &*op).and_then(|()| cpu.report_code_writes());
        then_next(cpu, op, result)
    }
}

/// The body form of a direct near JMP the block follows: the next op is the target, which
/// must still lie inside CS (checked when the block was decoded, but a block is found
/// again by its address, whatever CS's limit is then).
///
/// # Safety
/// As for [`Chained`].
unsafe fn followed_jmp(cpu: &mut Cpu, op: *const Op) -> Exec {
    let result = check_target(cpu, unsafe { (*op).imm });
    unsafe { then_next(cpu, op, result) }
}

/// The body form of a direct near CALL the block follows: checks the target as
/// `followed_jmp` does and pushes the return address (`SIZE` bytes, through the stack
/// skeleton the PUSH handlers use, which reports writes to pages holding code); the next
/// op is the target.
///
/// # Safety
/// As for [`Chained`].
unsafe fn followed_call<const SIZE: u32>(cpu: &mut Cpu, op: *const Op) -> Exec {
    let o = unsafe { &*op };
    let result =
        check_target(cpu, o.imm).and_then(|()| push::<SIZE, false, _>(cpu, o, |_, op| op.next_eip));
    unsafe { then_next(cpu, op, result) }
}

/// A block's ops, ready to run as one chain (see the module documentation).
pub struct Chain(Box<[Op]>);

impl Chain {
    /// Makes `ops` a chain: the last op in its last form, the others in their body forms
    /// (the generic one for a branch that is not last, which cannot happen in a decoded
    /// block; the reporting one for those `reports_code_writes` picks). The block starts at
    /// `start_eip` and holds `guest_len` instructions; `keeps_context`: see `Block`. A last
    /// op whose static branch target is the block's start loops inside the chain (see
    /// `end_or_loop`).
    pub fn new(
        mut ops: Vec<Op>,
        start_eip: u32,
        guest_len: u32,
        keeps_context: bool,
        reports_code_writes: impl Fn(&Op) -> bool,
    ) -> Chain {
        assert!(ops.len() <= u8::MAX as usize, "blocks are short");
        let body = ops.len().saturating_sub(1);
        for (i, op) in ops.iter_mut().enumerate() {
            op.index = i as u8;
            op.loop_len = 0;
        }
        for op in &mut ops[..body] {
            if op.last_form {
                // A branch in the body: a direct JMP or CALL the block follows (the next
                // op is at its target), nothing else.
                op.chained = match op.code() {
                    Code::Call_rel32_32 => followed_call::<4>,
                    Code::Call_rel16 => followed_call::<2>,
                    Code::Jmp_rel8_16
                    | Code::Jmp_rel16
                    | Code::Jmp_rel8_32
                    | Code::Jmp_rel32_32 => followed_jmp,
                    other => {
                        debug_assert!(false, "a {other:?} cannot go on inside a block");
                        chain_generic
                    }
                };
            } else if reports_code_writes(op) {
                op.chained = chain_generic_reporting;
            }
            op.last_form = false;
        }
        if let Some(last) = ops.last_mut() {
            if !last.last_form {
                last.chained = run_last;
                last.last_form = true;
            }
            let target = if last.fused {
                Some(last.branch_target)
            } else if last.specialised
                && (last.is_jcc_short_or_near() || last.is_jmp_short_or_near() || last.is_loop())
            {
                Some(last.imm)
            } else {
                None
            };
            if keeps_context && target == Some(start_eip) && guest_len <= u8::MAX as u32 {
                last.loop_len = guest_len as u8;
            }
        }
        Chain(ops.into_boxed_slice())
    }

    /// The chain's ops, to run (see [`Ops::run`]).
    #[inline(always)]
    pub fn ops(&self) -> Ops<'_> {
        Ops(&self.0)
    }
}

/// A [`Chain`]'s ops as a plain slice (copied into registers once per block, not looked up
/// through the chain's box on every run).
#[derive(Clone, Copy)]
pub struct Ops<'a>(&'a [Op]);

impl Ops<'_> {
    #[inline(always)]
    pub fn len(self) -> usize {
        self.0.len()
    }

    /// Runs the ops from `start` to the end, or to the first that fails: its index and
    /// error. (`Exception::CODE_WRITTEN` is such a stop too, after a body op that completed
    /// and reported code writes.)
    #[inline(always)]
    pub fn run(self, cpu: &mut Cpu, start: usize) -> Result<(), (usize, Exception)> {
        let Some(first) = self.0.get(start) else {
            return Ok(());
        };
        // SAFETY: the pointer comes from the whole slice of a `Chain`, which is borrowed
        // (unchanged) while the chain runs, and whose last op has a last form.
        match unsafe { (first.chained)(cpu, self.0.as_ptr().add(start)) } {
            Ok(()) => Ok(()),
            Err(e) => Err((self.stopped_at(cpu), e)),
        }
    }

    /// The index of the op whose failure stopped the chain.
    #[cold]
    fn stopped_at(self, cpu: &Cpu) -> usize {
        (cpu.chain_stop - self.0.as_ptr() as usize) / std::mem::size_of::<Op>()
    }
}

impl Deref for Chain {
    type Target = [Op];

    fn deref(&self) -> &[Op] {
        &self.0
    }
}
