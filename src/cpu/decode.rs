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
use super::model::CpuModel;
use super::state::Seg;
use super::Cpu;
use crate::mem::{Memory, PAGE_SHIFT, PAGE_SIZE};

/// Log2 of the number of entries of the direct-mapped lookup table.
const TABLE_BITS: u32 = 16;
/// Above this many blocks the whole cache is flushed (bounds memory use).
const MAX_BLOCKS: usize = 1 << 16;
/// Longest block, in instructions.
const MAX_BLOCK_LEN: usize = 32;
const EMPTY: u32 = u32::MAX;

pub struct Block {
    pub phys_start: u32,
    /// One past the last byte of the last instruction.
    pub phys_end: u32,
    pub eip: u32,
    pub code32: bool,
    pub valid: bool,
    pub ops: Box<[Op]>,
}

pub struct BlockCache {
    table: Vec<u32>,
    blocks: Vec<Block>,
    /// Physical page → blocks with bytes on it (consulted on code writes only).
    pages: HashMap<u32, Vec<u32>>,
    live: usize,
}

impl Default for BlockCache {
    fn default() -> Self {
        BlockCache::new()
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
            pages: HashMap::new(),
            live: 0,
        }
    }

    #[inline]
    pub fn block(&self, id: u32) -> &Block {
        &self.blocks[id as usize]
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
        let phys = cpu.translate(cs.base.wrapping_add(cpu.eip)) & cpu.mem.mask();
        let s = slot(phys);
        let id = self.table[s];
        if id != EMPTY {
            let b = &self.blocks[id as usize];
            if b.phys_start == phys && b.eip == cpu.eip && b.code32 == code32 && b.valid {
                return Ok(id);
            }
        }
        Ok(self.insert(cpu, phys, s))
    }

    #[cold]
    fn insert(&mut self, cpu: &mut Cpu, phys: u32, s: usize) -> u32 {
        if self.blocks.len() >= MAX_BLOCKS {
            self.flush(&mut cpu.mem);
        }
        let block = decode_block(cpu, phys);
        let id = self.blocks.len() as u32;
        let first = block.phys_start >> PAGE_SHIFT;
        let last = block.phys_end.wrapping_sub(1) >> PAGE_SHIFT;
        for page in [first, last] {
            let list = self.pages.entry(page).or_default();
            if list.last() != Some(&id) {
                list.push(id);
            }
            cpu.mem.set_code_page(page, true);
        }
        if let Some(old) = self.table.get(s).copied().filter(|&o| o != EMPTY) {
            // The slot's previous block stays reachable through its pages until invalidated;
            // it no longer counts as live for lookups.
            let _ = old;
        }
        self.table[s] = id;
        self.blocks.push(block);
        self.live += 1;
        id
    }

    /// Drops all blocks.
    pub fn flush(&mut self, mem: &mut Memory) {
        self.table.iter_mut().for_each(|e| *e = EMPTY);
        self.blocks.clear();
        self.pages.clear();
        self.live = 0;
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
                if b.phys_start < end && b.phys_end > addr {
                    b.valid = false;
                    dropped += 1;
                    return false;
                }
                true
            });
            self.live = self.live.saturating_sub(dropped);
            if list.is_empty() {
                self.pages.remove(&page);
                mem.set_code_page(page, false);
            }
        }
    }
}

/// Decodes the block starting at CS:EIP (physical address `phys`).
fn decode_block(cpu: &mut Cpu, phys: u32) -> Block {
    let cs = cpu.seg[Seg::Cs as usize];
    let code32 = cs.is_32();
    let ip_mask = if code32 { u32::MAX } else { 0xFFFF };
    let start_eip = cpu.eip;
    let mut ops = Vec::with_capacity(8);
    let mut ip = start_eip;
    let mut phys_end;
    let start_page = phys >> PAGE_SHIFT;
    loop {
        let mut buf = [0u8; 16];
        for (k, b) in buf.iter_mut().take(15).enumerate() {
            let lin = cs.base.wrapping_add(ip.wrapping_add(k as u32) & ip_mask);
            *b = cpu.mem.read_u8(cpu.translate(lin));
        }
        let (instr, handler) = decode_one(cpu.model, code32, &mut buf, ip);
        let len = instr.len() as u32;
        let next = ip.wrapping_add(len) & ip_mask;
        let op = Op::new(instr, handler, next, address_size_32(&instr, code32));
        let ends = ends_block(&op.instr);
        ops.push(op);
        let offset = ip.wrapping_sub(start_eip) & ip_mask;
        phys_end = phys.wrapping_add(offset).wrapping_add(len);
        let wrapped = next < ip || (next == 0 && len > 0);
        let next_phys = phys.wrapping_add(next.wrapping_sub(start_eip) & ip_mask);
        if ends
            || wrapped
            || ops.len() >= MAX_BLOCK_LEN
            || next_phys >> PAGE_SHIFT != start_page
            || next_phys & (PAGE_SIZE - 1) == 0
        {
            break;
        }
        ip = next;
    }
    Block {
        phys_start: phys,
        phys_end,
        eip: start_eip,
        code32,
        valid: true,
        ops: ops.into_boxed_slice(),
    }
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

/// Whether decoding must stop after this instruction: control transfers, and instructions
/// that change how code is decoded or when interrupts may be taken.
fn ends_block(i: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    if i.flow_control() != FlowControl::Next {
        return true;
    }
    match i.mnemonic() {
        Sti | Cli | Popf | Popfd | Hlt | Lss | Lmsw | Clts | Lgdt | Lidt | Lldt | Ltr | Invlpg
        | Wrmsr | Out | Outsb | Outsw | Outsd | Wait | Rsm | Loadall => true,
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
    let mut decoder = Decoder::with_ip(bitness, &buf[..15], ip as u64, options);
    let instr = decoder.decode();
    let handler = match forced {
        Some(h) => h,
        // The 286 limits instructions to 10 bytes (prefixes included): #GP beyond that.
        None if model == CpuModel::I286 && instr.len() > 10 => exec::general_protection,
        None => exec::handler_for(model, &instr),
    };
    (instr, handler)
}
