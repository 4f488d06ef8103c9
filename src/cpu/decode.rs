//! The decoded-block cache: guest code is decoded with iced-x86 once, into straight-line
//! blocks of [`Op`]s that carry their handler, and reused until the code bytes change.
//!
//! Blocks are found through a direct-mapped table keyed by the physical address of their
//! first byte (plus EIP and the code size), so a lookup is a multiply, a load and three
//! compares. Pages that hold decoded code are marked in [`Memory`]; a write to such a page is
//! logged there and the blocks it overlaps are dropped (self-modifying code).

use std::collections::HashMap;

use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, OpKind, Register};

use super::exception::Exception;
use super::exec::{self, Handler, Op};
use super::mmu::Access;
use super::model::CpuModel;
use super::state::Seg;
use super::Cpu;
use crate::mem::{Memory, PAGE_SHIFT, PAGE_SIZE};

/// Log2 of the number of entries of the direct-mapped lookup table.
const TABLE_BITS: u32 = 16;
/// Above this many blocks the whole cache is flushed (bounds memory use).
const MAX_BLOCKS: usize = 1 << 16;
/// Above this many decoded instructions in all blocks the cache is flushed too: with
/// `Op` near 100 bytes this keeps the cache under about 25 MiB whatever the block lengths.
const MAX_OPS: usize = 1 << 18;
/// Longest block, in instructions.
const MAX_BLOCK_LEN: usize = 32;
const EMPTY: u32 = u32::MAX;

pub struct Block {
    /// With paging, the last instruction may continue on another page: its linear and
    /// physical page, re-checked on every lookup so a changed mapping is noticed.
    pub second_page: Option<(u32, u32)>,
    pub phys_start: u32,
    /// One past the last byte of the block's first run of instructions (from
    /// `phys_start`).
    pub phys_end: u32,
    /// Where the block continues after a direct JMP or CALL it follows (see
    /// `followable`): the physical byte ranges of the further runs, all on the first page.
    /// Empty (no allocation) for most blocks.
    pub more_spans: Vec<(u32, u32)>,
    pub eip: u32,
    pub code32: bool,
    pub valid: bool,
    /// The block ends with a near branch or runs into the next one: completing it cannot
    /// change CS, the mode or the TLB, so the next lookup may skip re-checking them.
    pub keeps_context: bool,
    /// Guest instructions in the block: `ops.len()`, plus one when the last op is a fused
    /// compare-and-branch.
    pub guest_len: u32,
    pub ops: exec::Chain,
    /// Up to two successors (fall-through and taken branch, or the latest indirect
    /// target), so the common path skips translation and the table.
    links: [Link; 2],
}

impl Block {
    /// Whether the block's code bytes meet physical bytes `start..end`: those on its first
    /// page, and the tail of a last instruction that straddles into another page (up to 15
    /// bytes from that page's start).
    pub fn overlaps(&self, start: u32, end: u32) -> bool {
        let meets = |&(lo, hi): &(u32, u32)| lo < end && hi > start;
        meets(&(self.phys_start, self.phys_end))
            || self.more_spans.iter().any(meets)
            || self
                .second_page
                .is_some_and(|(_, p2)| meets(&(p2, p2 + 15)))
    }
}

/// A remembered successor of a block: execution continued at `eip` with block `id` in link
/// generation `gen`. Such a link states a fact about `eip` alone (whatever block came
/// before), true for as long as the generation lasts.
#[derive(Clone, Copy)]
struct Link {
    eip: u32,
    id: u32,
    gen: u64,
}

/// Generation 0 is never current, so an unused link never matches.
const NO_LINK: Link = Link {
    eip: 0,
    id: EMPTY,
    gen: 0,
};

pub struct BlockCache {
    table: Vec<u32>,
    blocks: Vec<Block>,
    /// The generation of block links: a new one starts whenever a link could become false
    /// (blocks dropped or flushed, or a new fetch context: CS, paging, mode, A20), so a
    /// link of the current generation leads to a valid block. 64 bits: never wraps.
    link_gen: u64,
    /// Physical page → blocks with bytes on it (consulted on code writes only).
    pages: HashMap<u32, Vec<u32>>,
    live: usize,
    /// Decoded instructions in `blocks` (valid or not).
    ops: usize,
}

/// An empty stand-in with no table: what `Cpu` holds while the run loop has taken the real
/// cache out (so taking it costs nothing).
impl Default for BlockCache {
    fn default() -> Self {
        BlockCache {
            table: Vec::new(),
            blocks: Vec::new(),
            link_gen: 1,
            pages: HashMap::new(),
            live: 0,
            ops: 0,
        }
    }
}

#[inline]
fn slot(phys: u32) -> usize {
    (phys.wrapping_mul(0x9E37_79B1) >> (32 - TABLE_BITS)) as usize
}

impl BlockCache {
    pub fn new() -> BlockCache {
        BlockCache {
            table: vec![EMPTY; 1 << TABLE_BITS],
            blocks: Vec::new(),
            link_gen: 1,
            pages: HashMap::new(),
            live: 0,
            ops: 0,
        }
    }

    #[inline]
    pub fn block(&self, id: u32) -> &Block {
        &self.blocks[id as usize]
    }

    /// The block remembered after `from` for `eip`, if its link is of the current
    /// generation. `from` may be stale (a block id from before a flush): its links are then
    /// of an old generation, or an unknown id.
    #[inline(always)]
    pub fn follow(&self, from: u32, eip: u32) -> Option<u32> {
        let b = self.blocks.get(from as usize)?;
        let gen = self.link_gen;
        let [a, c] = &b.links;
        if a.eip == eip && a.gen == gen {
            Some(a.id)
        } else if c.eip == eip && c.gen == gen {
            Some(c.id)
        } else {
            None
        }
    }

    /// Remembers that block `to` (at `eip`) followed `from`.
    #[inline]
    pub fn link(&mut self, from: u32, eip: u32, to: u32) {
        let gen = self.link_gen;
        let Some(b) = self.blocks.get_mut(from as usize) else {
            return;
        };
        let links = &mut b.links;
        let k = if links[0].gen != gen || links[0].eip == eip {
            0
        } else {
            1
        };
        links[k] = Link { eip, id: to, gen };
    }

    /// Ends the current link generation: the fetch context changed.
    #[inline]
    pub fn new_link_generation(&mut self) {
        self.link_gen += 1;
    }

    /// Whether this is the stand-in `Default` gives, not a usable cache.
    pub fn is_placeholder(&self) -> bool {
        self.table.is_empty()
    }

    pub fn live_blocks(&self) -> usize {
        self.live
    }

    /// Finds (or decodes) the block at CS:EIP.
    #[inline]
    pub fn lookup(&mut self, cpu: &mut Cpu) -> Result<u32, Exception> {
        let cs = &cpu.seg[Seg::Cs as usize];
        let code32 = cs.is_32();
        if cpu.model != CpuModel::I8086 && cpu.eip > cs.limit {
            return Err(Exception::gp(0));
        }
        let lin = cs.base.wrapping_add(cpu.eip);
        let phys = cpu.translate_access(lin, Access::Fetch)? & cpu.mem.mask();
        let s = slot(phys);
        let id = self.table[s];
        if id != EMPTY {
            let b = &self.blocks[id as usize];
            if b.phys_start == phys && b.eip == cpu.eip && b.code32 == code32 && b.valid {
                match b.second_page {
                    None => return Ok(id),
                    Some((lin2, phys2)) => {
                        if cpu.translate_access(lin2, Access::Fetch).ok() == Some(phys2) {
                            return Ok(id);
                        }
                    }
                }
            }
        }
        self.insert(cpu, phys, s)
    }

    #[cold]
    fn insert(&mut self, cpu: &mut Cpu, phys: u32, s: usize) -> Result<u32, Exception> {
        if self.blocks.len() >= MAX_BLOCKS || self.ops >= MAX_OPS {
            self.flush(&mut cpu.mem);
        }
        let block = decode_block(cpu, phys)?;
        let id = self.blocks.len() as u32;
        let first = block.phys_start >> PAGE_SHIFT;
        // The bytes on each page: the block's own, and the tail of a straddling last
        // instruction at the start of the next page (at most 15 bytes).
        let (last, spans) = match block.second_page {
            Some((_, p2)) => (
                p2 >> PAGE_SHIFT,
                [(block.phys_start, block.phys_end), (p2, p2 + 15)],
            ),
            None => {
                let end = block.phys_end;
                (
                    end.wrapping_sub(1) >> PAGE_SHIFT,
                    [(block.phys_start, end), (end.wrapping_sub(1), end)],
                )
            }
        };
        let more = block.more_spans.iter().map(|&span| (first, span));
        for (page, (start, end)) in [first, last].into_iter().zip(spans).chain(more) {
            let list = self.pages.entry(page).or_default();
            if list.last() != Some(&id) {
                list.push(id);
            }
            let page_end = (page << PAGE_SHIFT).wrapping_add(PAGE_SIZE);
            let start = start.max(page << PAGE_SHIFT);
            let end = if page_end == 0 {
                end
            } else {
                end.min(page_end)
            };
            if cpu.mem.mark_code(start, end) {
                cpu.tlb.drop_fast_writes();
            }
        }
        if let Some(old) = self.table.get(s).copied().filter(|&o| o != EMPTY) {
            // The slot's previous block stays reachable through its pages until invalidated;
            // it no longer counts as live for lookups.
            let _ = old;
        }
        self.table[s] = id;
        self.ops += block.ops.len();
        self.blocks.push(block);
        self.live += 1;
        Ok(id)
    }

    /// Drops all blocks.
    pub fn flush(&mut self, mem: &mut Memory) {
        self.table.iter_mut().for_each(|e| *e = EMPTY);
        self.blocks.clear();
        self.link_gen += 1;
        self.pages.clear();
        self.live = 0;
        self.ops = 0;
        mem.clear_code_pages();
    }

    /// Drops the blocks that overlap physical bytes `addr .. addr + len`.
    pub fn invalidate_range(&mut self, mem: &mut Memory, addr: u32, len: u32) {
        let end = addr.wrapping_add(len);
        for page in [addr >> PAGE_SHIFT, end.wrapping_sub(1) >> PAGE_SHIFT] {
            let Some(list) = self.pages.get_mut(&page) else {
                continue;
            };
            let blocks = &mut self.blocks;
            let mut dropped = 0;
            list.retain(|&id| {
                let b = &mut blocks[id as usize];
                if !b.valid {
                    return false;
                }
                if b.overlaps(addr, end) {
                    b.valid = false;
                    dropped += 1;
                    return false;
                }
                true
            });
            self.live = self.live.saturating_sub(dropped);
            if dropped != 0 {
                self.link_gen += 1;
            }
            if list.is_empty() {
                self.pages.remove(&page);
                let _ = mem.set_code_page(page, false);
            }
        }
    }
}

/// Decodes the block starting at CS:EIP (physical address `phys`). Fails only when the
/// first instruction cannot be fetched (a #PF on the page its tail lies on).
fn decode_block(cpu: &mut Cpu, phys: u32) -> Result<Block, Exception> {
    let cs = cpu.seg[Seg::Cs as usize];
    let code32 = cs.is_32();
    let ip_mask = if code32 { u32::MAX } else { 0xFFFF };
    let start_eip = cpu.eip;
    let mut ops = Vec::with_capacity(8);
    let mut ip = start_eip;
    let mut second_page = None;
    let page_base = phys & !(PAGE_SIZE - 1);
    let start_page = cs.base.wrapping_add(start_eip) >> PAGE_SHIFT;
    // The physical byte ranges of the runs of instructions (more than one when the block
    // follows a JMP or CALL).
    let mut spans: Vec<(u32, u32)> = Vec::new();
    let mut span = (phys, phys);
    loop {
        // Every instruction starts on the block's first (linear) page.
        let lin_ip = cs.base.wrapping_add(ip);
        let phys_ip = page_base | (lin_ip & (PAGE_SIZE - 1));
        // Bytes on the block's page come from `phys`; the rest of a straddling instruction
        // from the next page, translated only if the instruction really reaches it.
        let mut buf = [0u8; 16];
        let mut avail = 15usize;
        let mut next_page: Option<(u32, u32)> = None;
        for (k, b) in buf.iter_mut().take(15).enumerate() {
            let lin = cs.base.wrapping_add(ip.wrapping_add(k as u32) & ip_mask);
            if lin >> PAGE_SHIFT == lin_ip >> PAGE_SHIFT {
                *b = cpu
                    .mem
                    .read_u8(phys_ip.wrapping_add(lin.wrapping_sub(lin_ip)));
                continue;
            }
            let page_lin = lin & !(PAGE_SIZE - 1);
            let page_phys = match next_page {
                Some((l, p)) if l == page_lin => p,
                _ => match cpu.translate_access(page_lin, Access::Fetch) {
                    Ok(p) => {
                        next_page = Some((page_lin, p));
                        p
                    }
                    Err(_) => {
                        avail = k;
                        break;
                    }
                },
            };
            *b = cpu.mem.read_u8(page_phys | (lin & (PAGE_SIZE - 1)));
        }
        let (instr, handler) = decode_one(cpu.model, code32, &mut buf, ip, avail);
        let len = instr.len() as u32;
        if instr.is_invalid() && len == 0 {
            // Ran out of fetchable bytes: the tail of this instruction is on a page that
            // faults. Raise that fault if it is the block's first instruction; otherwise end
            // the block here so the fault comes when execution gets there.
            if ops.is_empty() {
                let tail = cs
                    .base
                    .wrapping_add(ip.wrapping_add(avail as u32) & ip_mask);
                cpu.translate_access(tail, Access::Fetch)?;
            }
            break;
        }
        let lin_last = cs
            .base
            .wrapping_add(ip.wrapping_add(len.saturating_sub(1)) & ip_mask);
        let straddles = cpu.paging() && lin_last >> PAGE_SHIFT != lin_ip >> PAGE_SHIFT;
        let next = ip.wrapping_add(len) & ip_mask;
        let op = Op::new(instr, handler, next, address_size_32(&instr, code32));
        let ends = ends_block(&op.instr);
        let follow = ends
            && !straddles
            && ops.len() + 2 < MAX_BLOCK_LEN
            && followable(cpu, &op, start_eip, start_page);
        let target = op.imm;
        ops.push(op);
        span.1 = phys_ip.wrapping_add(len);
        if straddles {
            second_page = next_page;
            break;
        }
        if follow {
            // The block goes on at the branch target, on the same page.
            spans.push(span);
            let lin = cs.base.wrapping_add(target);
            let at = page_base | (lin & (PAGE_SIZE - 1));
            span = (at, at);
            ip = target;
            continue;
        }
        let wrapped = next < ip || (next == 0 && len > 0);
        let next_lin = cs.base.wrapping_add(next);
        if ends
            || wrapped
            || ops.len() >= MAX_BLOCK_LEN
            || next_lin >> PAGE_SHIFT != start_page
            || next_lin & (PAGE_SIZE - 1) == 0
        {
            break;
        }
        ip = next;
    }
    if span.1 != span.0 || spans.is_empty() {
        spans.push(span);
    }
    if ops.is_empty() {
        // Only reachable when the first instruction's bytes could not all be fetched and
        // yet the fetch did not fault: decode what there is as an invalid opcode.
        let mut buf = [0u8; 16];
        let (instr, _) = decode_one(cpu.model, code32, &mut buf, start_eip, 15);
        ops.push(Op::new(
            instr,
            exec::invalid_opcode,
            start_eip.wrapping_add(1) & ip_mask,
            code32,
        ));
    }
    let (_, mut phys_end) = spans[0];
    if phys_end == phys {
        // Nothing decoded from the first page (see above): one byte stands for the block.
        phys_end = phys.wrapping_add(1);
    }
    let more_spans = spans.split_off(1);
    let keeps_context = ops.last().is_some_and(|op| keeps_fetch_context(&op.instr));
    let guest_len = ops.len() as u32;
    if let [.., first, jcc] = &ops[..] {
        if let Some(fused) = exec::fused::fuse(first, jcc) {
            ops.pop();
            ops.pop();
            ops.push(fused);
        }
    }
    // Body instructions that may touch memory through a generic handler report code
    // writes (the run loop checks for writes to the block only when told). The 8086's
    // own handlers do not always match what iced-x86 decodes (aliases), so there every
    // generic handler reports.
    let model = cpu.model;
    let ops = exec::Chain::new(ops, start_eip, guest_len, keeps_context, |op| {
        !op.specialised && (model == CpuModel::I8086 || exec::may_touch_memory(&op.instr))
    });
    Ok(Block {
        keeps_context,
        guest_len,
        links: [NO_LINK; 2],
        second_page,
        phys_start: phys,
        phys_end,
        more_spans,
        eip: start_eip,
        code32,
        valid: true,
        ops,
    })
}

/// Whether the memory operand (if any) uses 32-bit addressing.
fn address_size_32(i: &Instruction, code32: bool) -> bool {
    for n in 0..i.op_count() {
        match i.op_kind(n) {
            OpKind::Memory => {
                let r = if i.memory_base() != Register::None {
                    i.memory_base()
                } else {
                    i.memory_index()
                };
                if r != Register::None {
                    return r.is_gpr32();
                }
                return match i.memory_displ_size() {
                    4 => true,
                    2 => false,
                    _ => code32,
                };
            }
            OpKind::MemorySegSI | OpKind::MemorySegDI | OpKind::MemoryESDI => return false,
            OpKind::MemorySegESI | OpKind::MemorySegEDI | OpKind::MemoryESEDI => return true,
            _ => {}
        }
    }
    // No memory operand (LOOP/JCXZ handlers read the count register from their Code).
    code32
}

/// Whether the block may go on at the target of `op`, a direct near JMP or CALL, instead
/// of ending with it: the target is on the block's first page (so its bytes are where the
/// block's are; code writes there are seen like the block's own), inside CS, and not the
/// block's start (a loop stays a loop, see `exec::end_or_loop`). The branch then runs as
/// a body instruction that goes on with the next op (see `exec::Chain::new`).
fn followable(cpu: &Cpu, op: &Op, start_eip: u32, start_page: u32) -> bool {
    use iced_x86::Code::*;
    let cs = &cpu.seg[Seg::Cs as usize];
    let target = op.imm;
    op.specialised
        && matches!(
            op.code(),
            Jmp_rel8_16 | Jmp_rel16 | Jmp_rel8_32 | Jmp_rel32_32 | Call_rel16 | Call_rel32_32
        )
        && target != start_eip
        && cs.base.wrapping_add(target) >> PAGE_SHIFT == start_page
        && (cpu.model == CpuModel::I8086 || target <= cs.limit)
}

/// Whether completing `i` leaves CS, the mode bits, paging and the A20 gate as they were,
/// and cannot stop or halt the CPU: near jumps, calls and returns, REP string instructions
/// without I/O, and ordinary instructions (those that do not end a block).
fn keeps_fetch_context(i: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    match i.flow_control() {
        FlowControl::Next => {
            !ends_block(i)
                || matches!(
                    i.mnemonic(),
                    Movsb
                        | Movsw
                        | Movsd
                        | Stosb
                        | Stosw
                        | Stosd
                        | Lodsb
                        | Lodsw
                        | Lodsd
                        | Cmpsb
                        | Cmpsw
                        | Cmpsd
                        | Scasb
                        | Scasw
                        | Scasd
                )
        }
        FlowControl::ConditionalBranch => true,
        FlowControl::UnconditionalBranch => i.is_jmp_short_or_near(),
        FlowControl::IndirectBranch => i.is_jmp_near_indirect(),
        FlowControl::Call => i.is_call_near(),
        FlowControl::IndirectCall => i.is_call_near_indirect(),
        FlowControl::Return => i.mnemonic() == iced_x86::Mnemonic::Ret,
        _ => false,
    }
}

/// Whether decoding must stop after this instruction: control transfers, instructions
/// that change how code is decoded or when interrupts may be taken, and those that read
/// the instruction count (I/O, which ticks the devices, and the time-stamp counter): the
/// run loop counts a block's instructions when it starts, so the count is exact only at
/// its last instruction.
fn ends_block(i: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    if i.flow_control() != FlowControl::Next {
        return true;
    }
    if i.has_rep_prefix() || i.has_repne_prefix() {
        // A long REP string instruction runs again (EIP stays on it) after a chunk of
        // iterations: nothing after it in the block may run before it has finished.
        return true;
    }
    match i.mnemonic() {
        Sti | Cli | Popf | Popfd | Hlt | Lss | Lmsw | Clts | Lgdt | Lidt | Lldt | Ltr | Invlpg
        | Wrmsr | Out | Outsb | Outsw | Outsd | Wait | Rsm | Loadall | Sysenter | Sysexit => true,
        In | Insb | Insw | Insd | Rdtsc | Rdtscp | Rdmsr | Rdpmc => true,
        Mov => {
            i.op0_kind() == OpKind::Register
                && (i.op0_register() == Register::SS
                    || i.op0_register() == Register::CS
                    || i.op0_register().is_cr()
                    || i.op0_register().is_dr())
        }
        Pop => i.op0_kind() == OpKind::Register && i.op0_register() == Register::SS,
        _ => false,
    }
}

/// Decodes one instruction from `buf` (15 code bytes) and picks its handler for `model`.
pub fn decode_one(
    model: CpuModel,
    code32: bool,
    buf: &mut [u8; 16],
    ip: u32,
    avail: usize,
) -> (Instruction, Handler) {
    let mut options = DecoderOptions::NONE;
    let mut forced: Option<Handler> = None;
    if model == CpuModel::I8086 {
        forced = exec::model8086::fixup(buf);
        options |= DecoderOptions::NO_INVALID_CHECK;
    } else if model == CpuModel::I286 {
        // The 286 accepts LOCK on any instruction (#UD for it came with the 386).
        options |= DecoderOptions::LOADALL286 | DecoderOptions::NO_INVALID_CHECK;
    }
    let bitness = if code32 { 32 } else { 16 };
    let mut decoder = Decoder::with_ip(bitness, &buf[..avail.min(15)], ip as u64, options);
    let mut instr = decoder.decode();
    if decoder.last_error() == iced_x86::DecoderError::NoMoreBytes {
        // The bytes ran out (the rest is on a page that cannot be fetched): length 0 tells
        // the block decoder so.
        instr.set_len(0);
    }
    let handler = match forced {
        Some(h) => h,
        // The 286 limits instructions to 10 bytes (prefixes included): #GP beyond that.
        None if model == CpuModel::I286 && instr.len() > 10 => exec::general_protection,
        None => exec::handler_for(model, &instr),
    };
    (instr, handler)
}
