//! The interpreter: CPU state, the decoded-block cache, instruction handlers, and the run loop.

pub mod access;
pub mod debug;
pub mod decode;
pub mod exception;
pub mod exec;
pub mod flags;
pub mod fpu;
pub mod interrupt;
pub mod mmu;
pub mod model;
pub mod protected;
pub mod state;
pub mod task;
#[cfg(test)]
mod tests_chain;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_protected;
#[cfg(test)]
pub mod testutil;
pub mod v86;

pub use exception::{Exception, Exec};
pub use model::CpuModel;
pub use state::{Flags, Seg, Segment};

use crate::io::{debug::DebugPorts, PortBus};
use crate::mem::{CodeWrite, Memory};
use decode::{Block, BlockCache};
use flags::LazyFlags;
use state::{ControlRegs, TableReg};

/// Why `Cpu::run` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The instruction budget ran out.
    Budget,
    /// HLT with interrupts that cannot wake it in this run (the caller may deliver one).
    Halted,
    /// The guest asked to exit (isa-debug-exit) with this exit code.
    Exit(i32),
    /// An exception could not be delivered (triple fault): the machine must reset.
    TripleFault,
    /// The guest asked for a system reset (port 0x92, the keyboard controller).
    Reset,
    /// A built-in BIOS stub asked for a service (the machine performs it and resumes).
    BiosCall,
}

use debug::{DR6_BS, DR6_BT};

/// Everything that decides which block a CS:EIP reaches: CS (base, limit, size, CPL), the
/// mode and paging bits, the TLB's flush epoch and the A20 mask. While it is unchanged, a
/// block's remembered successor is still the block the full lookup would find.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct FetchKey {
    cs: Segment,
    cr0: u32,
    vm: u32,
    epoch: u32,
    mask: u32,
}

pub struct Cpu {
    pub model: CpuModel,
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    pub gpr: [u32; 8],
    /// Address of the instruction being executed (its first prefix byte).
    pub eip: u32,
    /// Where execution continues after the current instruction; branches overwrite it.
    pub next_eip: u32,
    /// EFLAGS; the status flags in it are stale while `lazy.op` is not `None`.
    pub(crate) eflags: u32,
    pub(crate) lazy: LazyFlags,
    /// While `lazy` is an INC/DEC record: the last record before it that was not, whose CF
    /// INC/DEC keep (copied, not evaluated: CF after INC/DEC is rarely read).
    pub(crate) cf_source: LazyFlags,
    /// Bit `n` set: segment register `n` holds a flat 32-bit data segment (base 0, limit
    /// 4 GiB, expand-up, writable, B set), so a specialised handler's access through it needs
    /// only the wrap-around check (`fast_read_at`). Derived from `seg` by
    /// `refresh_flat_data`/`refresh_flat_bit` (see there for when); only the specialised
    /// handlers' fast paths read it, and none of them loads a segment.
    pub(crate) flat_data: u8,
    pub seg: [Segment; 6],
    pub cr: ControlRegs,
    pub gdtr: TableReg,
    pub idtr: TableReg,
    pub ldtr: Segment,
    pub tr: Segment,
    pub dr: [u32; 8],
    pub mem: Memory,
    pub io: Box<dyn PortBus>,
    pub halted: bool,
    /// Interrupts are held off until after the next instruction (MOV SS, POP SS, STI).
    pub inhibit_interrupts: bool,
    /// Instructions retired since reset.
    pub icount: u64,
    /// Extra time-stamp counter offset (RDTSC returns icount + this).
    pub tsc_offset: u64,
    /// A task switch into a TSS with the T bit set: #DB is raised once the switching
    /// instruction completes.
    pub pending_task_trap: bool,
    /// Some DR7 breakpoint is enabled: execution goes through the single-step path.
    pub debug_active: bool,
    /// Data breakpoints (DR6 B0–B3) hit by the current instruction.
    pub pending_data_breakpoints: u32,
    /// MOV SS / POP SS: the single-step trap waits for the next instruction.
    pub inhibit_debug: bool,
    /// A handler asked for a decode-cache flush while the run loop held the cache.
    cache_flush_pending: bool,
    /// SYSENTER_CS, SYSENTER_ESP, SYSENTER_EIP MSRs.
    pub sysenter: [u32; 3],
    /// Set by handlers to end the run (e.g. a write to the debug-exit port).
    pub stop: Option<Stop>,
    /// The last instruction that hit a missing handler (reported by suite runners).
    pub last_unimplemented: Option<iced_x86::Code>,
    /// The x87 FPU (used by the 386 and later models; the 8086 and 286 have none).
    pub fpu: fpu::Fpu,
    /// FERR#: an unmasked FPU exception met a waiting instruction with CR0.NE clear. The
    /// machine turns it into IRQ 13; a write to port F0h clears it.
    pub ferr: bool,
    cache: BlockCache,
    /// After a block's chain of body instructions stopped on an `Err`: the address of the
    /// op that failed (see `exec::Chained`).
    pub(crate) chain_stop: usize,
    /// The instruction count at which the current run's budget ends (set by `run_block`;
    /// a block looping inside its chain stops there, see `exec::end_or_loop`).
    pub(crate) run_end: u64,
    /// The fetch context the block links were made in (see `run_blocks`).
    fetch_key: FetchKey,
    code_writes: Vec<CodeWrite>,
    pub(crate) tlb: mmu::Tlb,
}

impl Cpu {
    /// A CPU of `model` with `ram_size` bytes of RAM and the debug ports as its I/O bus,
    /// in the reset state.
    pub fn new(model: CpuModel, ram_size: usize) -> Cpu {
        Cpu::with_bus(model, ram_size, Box::new(DebugPorts::new()))
    }

    pub fn with_bus(model: CpuModel, ram_size: usize, io: Box<dyn PortBus>) -> Cpu {
        let mut cpu = Cpu {
            model,
            gpr: [0; 8],
            eip: 0,
            next_eip: 0,
            eflags: 0,
            lazy: LazyFlags::default(),
            cf_source: LazyFlags::default(),
            flat_data: 0,
            seg: [Segment::default(); 6],
            cr: ControlRegs::default(),
            gdtr: TableReg::default(),
            idtr: TableReg {
                base: 0,
                limit: 0x3FF,
            },
            ldtr: Segment::default(),
            tr: Segment::default(),
            dr: [0; 8],
            mem: Memory::new(ram_size, model.address_mask()),
            io,
            halted: false,
            inhibit_interrupts: false,
            icount: 0,
            tsc_offset: 0,
            pending_task_trap: false,
            debug_active: false,
            pending_data_breakpoints: 0,
            inhibit_debug: false,
            cache_flush_pending: false,
            sysenter: [0; 3],
            stop: None,
            last_unimplemented: None,
            fpu: fpu::Fpu::default(),
            ferr: false,
            cache: BlockCache::new(),
            chain_stop: 0,
            run_end: 0,
            fetch_key: FetchKey::default(),
            code_writes: Vec::with_capacity(64),
            tlb: mmu::Tlb::default(),
        };
        cpu.reset();
        cpu
    }

    /// The state after RESET: CS:IP = F000:FFF0 (base FFFF0000 on 386+), flags cleared.
    pub fn reset(&mut self) {
        self.gpr = [0; 8];
        if self.model >= CpuModel::I386 {
            // EDX holds the processor signature after reset.
            self.gpr[state::EDX] = match self.model {
                CpuModel::I386 => 0x0303,
                CpuModel::I486 => 0x0421,
                _ => 0x0611,
            };
        }
        self.load_eflags_raw(self.model.flags_fixed_ones());
        for s in Seg::ALL {
            self.seg[s as usize] = Segment::real(0);
        }
        let cs = &mut self.seg[Seg::Cs as usize];
        cs.selector = 0xF000;
        cs.base = match self.model {
            CpuModel::I8086 => 0xF_0000,
            CpuModel::I286 => 0xFF_0000,
            _ => 0xFFFF_0000,
        };
        self.eip = 0xFFF0;
        self.next_eip = self.eip;
        self.cr = ControlRegs::default();
        if self.model >= CpuModel::I386 {
            self.cr.cr0 = if self.model >= CpuModel::I486 {
                0x6000_0010
            } else {
                0x10
            };
        } else if self.model == CpuModel::I286 {
            self.cr.cr0 = 0xFFF0;
        }
        self.gdtr = TableReg::default();
        self.idtr = TableReg {
            base: 0,
            limit: 0x3FF,
        };
        self.ldtr = Segment::default();
        self.tr = Segment::default();
        self.dr = [0; 8];
        self.dr[6] = 0xFFFF_0FF0;
        self.refresh_fast_key();
        self.dr[7] = 0x400;
        self.debug_active = false;
        self.pending_data_breakpoints = 0;
        self.pending_task_trap = false;
        self.halted = false;
        self.inhibit_interrupts = false;
        self.stop = None;
        self.fpu.reset();
        self.ferr = false;
        self.tlb.flush(false);
        self.flush_decode_cache();
    }

    /// Drops every decoded block (after loading memory behind the CPU's back, or a mode change
    /// the cache key does not cover).
    pub fn flush_decode_cache(&mut self) {
        if self.cache.is_placeholder() {
            // Called from a handler while the run loop holds the cache: it flushes at the
            // end of the block.
            self.cache_flush_pending = true;
        } else {
            self.cache.flush(&mut self.mem);
        }
    }

    /// Gives every segment a 4 GiB limit and CS/SS 32-bit default sizes while staying in
    /// real mode ("unreal" mode). Tests and benchmarks use it to run 32-bit code before any
    /// protected-mode setup.
    pub fn set_flat32(&mut self) {
        for s in self.seg.iter_mut() {
            s.limit = 0xFFFF_FFFF;
        }
        self.seg[Seg::Cs as usize].attrs |= state::ATTR_DB;
        self.seg[Seg::Ss as usize].attrs |= state::ATTR_DB;
        self.refresh_flat_data();
        self.flush_decode_cache();
    }

    /// Whether protected mode is on (CR0.PE).
    #[inline]
    pub fn protected_mode(&self) -> bool {
        self.cr.cr0 & 1 != 0
    }

    /// Whether IF is set.
    #[inline]
    pub fn interrupts_enabled(&self) -> bool {
        self.eflags & Flags::IF.bits() != 0
    }

    /// Whether an external interrupt may be delivered now.
    pub fn can_take_interrupt(&self) -> bool {
        self.interrupts_enabled() && !self.inhibit_interrupts
    }

    /// Delivers external interrupt `vector` (from the PIC): wakes a halted CPU.
    pub fn external_interrupt(&mut self, vector: u8) {
        self.halted = false;
        self.next_eip = self.eip;
        if self.deliver_interrupt(vector, self.eip, None).is_err() {
            self.stop = Some(Stop::TripleFault);
        }
    }

    /// Runs up to `budget` instructions (a block may overshoot by less than one block).
    pub fn run(&mut self, budget: u64) -> Stop {
        let mut cache = std::mem::take(&mut self.cache);
        let stop = self.run_blocks(&mut cache, budget);
        self.cache = cache;
        stop
    }

    /// Executes exactly one instruction (or delivers one pending exception).
    pub fn step(&mut self) -> Stop {
        let mut cache = std::mem::take(&mut self.cache);
        let stop = self.run_single(&mut cache);
        self.cache = cache;
        stop
    }

    fn run_blocks(&mut self, cache: &mut BlockCache, budget: u64) -> Stop {
        // Faults on instruction fetch retire nothing but must still use up the budget (the
        // end moves closer), or a guest whose handlers fault on fetch forever would never
        // return.
        let mut end = self.icount.saturating_add(budget);
        // The block just run, for following its remembered successors (possibly stale after
        // a flush: `follow` and `link` cope).
        let mut prev = u32::MAX;
        // Whether the fetch context may have changed since it was last compared: at entry,
        // after faults and single steps, and after blocks that end in a far transfer or a
        // mode change.
        let mut check_key = true;
        loop {
            if self.icount >= end {
                if let Some(stop) = self.stop.take() {
                    return stop;
                }
                return if self.halted {
                    Stop::Halted
                } else {
                    Stop::Budget
                };
            }
            // A block that ends in a near branch or runs into the next one (`check_key`
            // false) cannot have stopped or halted the CPU, set TF/RF, armed breakpoints or
            // opened an interrupt shadow: the instructions that do all end blocks that do not
            // keep the fetch context, and faults set `check_key` too.
            if check_key {
                if let Some(stop) = self.stop.take() {
                    return stop;
                }
                if self.halted {
                    return Stop::Halted;
                }
                if self.eflags & (Flags::TF.bits() | Flags::RF.bits()) != 0 || self.debug_active {
                    // Single-step, breakpoints or a resume flag to clear: one instruction at a
                    // time through the checking path.
                    let before = self.icount;
                    let stop = self.run_single(cache);
                    if self.icount == before {
                        end = end.saturating_sub(1);
                    }
                    if stop != Stop::Budget {
                        return stop;
                    }
                    continue;
                }
                self.inhibit_interrupts = false;
                self.refresh_fast_key();
                let key = FetchKey {
                    cs: self.seg[Seg::Cs as usize],
                    cr0: self.cr.cr0,
                    vm: self.eflags & Flags::VM.bits(),
                    epoch: self.tlb.epoch,
                    mask: self.mem.mask(),
                };
                if key != self.fetch_key {
                    // Links made in another context are never followed again.
                    self.fetch_key = key;
                    cache.new_link_generation();
                }
            }
            let id = match cache.follow(prev, self.eip) {
                Some(id) => id,
                None => match cache.lookup(self) {
                    Ok(id) => {
                        cache.link(prev, self.eip, id);
                        id
                    }
                    Err(e) => {
                        end = end.saturating_sub(1);
                        prev = u32::MAX;
                        check_key = true;
                        self.raise(e);
                        continue;
                    }
                },
            };
            prev = id;
            let block = cache.block(id);
            check_key = self.run_block(block, end);
            if self.mem.code_written() {
                self.apply_code_writes(cache);
            }
            // A pending flush (I/O handlers, resets) or a task switch's debug trap comes
            // from a block that does not keep the fetch context.
            if check_key {
                if self.cache_flush_pending {
                    self.cache_flush_pending = false;
                    cache.flush(&mut self.mem);
                }
                if self.pending_task_trap {
                    self.debug_trap(DR6_BT);
                }
            }
        }
    }

    /// Runs one decoded block; returns whether the fetch context must be compared again
    /// (a fault, or a block that may change it).
    ///
    /// The block's instructions are counted when it starts (the handlers that read the count
    /// all end blocks) and uncounted if it stops early. EIP and the next EIP are set only
    /// by the last instruction's chained form (`exec::enter_last`; the specialised branches
    /// set EIP only when they fault, `exec::enter_branch`), the one that may
    /// transfer control: the others leave the block only by a fault (whose EIP is their
    /// own) or by a write to the block's own code (which changes no context), and none of
    /// them reads `next_eip` (a fault sets it).
    ///
    /// A block that jumps back to its own start (a tight loop) runs again at once, with the
    /// loop's invariants kept: same EIP in the same fetch context is the same block, valid
    /// while no code was written and the budget (`end`) lasts.
    #[inline(always)]
    fn run_block(&mut self, block: &Block, end: u64) -> bool {
        let ops = block.ops.ops();
        let Some(last_index) = ops.len().checked_sub(1) else {
            return true;
        };
        self.run_end = end;
        loop {
            self.icount += block.guest_len as u64;
            // The block runs as one chain (see `exec::Chained`), restarted after a body
            // instruction that wrote code pages but not this block's.
            let mut start = 0;
            while let Err((i, e)) = ops.run(self, start) {
                if i == last_index {
                    // The last op (EIP set): a fault is delivered with everything counted;
                    // code writes are looked at by the run loop.
                    if e != Exception::CODE_WRITTEN {
                        self.raise(e);
                        return true;
                    }
                    break;
                }
                if e != Exception::CODE_WRITTEN {
                    self.fault_in_body(block, i, e);
                    return true;
                }
                // The instruction completed and wrote code pages (the instructions that
                // can report so; see `exec::chain_generic_reporting`).
                if self.code_write_hits(block) {
                    // The rest of the block must be decoded again, from the next op (the
                    // target, after a JMP or CALL the block follows).
                    self.stop_in_body(block, i, block.ops[i + 1].ip() as u32);
                    return false;
                }
                start = i + 1;
            }
            self.eip = self.next_eip;
            if !block.keeps_context {
                return true;
            }
            if self.eip != block.eip || self.icount >= end || self.mem.code_written() {
                return false;
            }
        }
    }

    /// The block stopped after body instruction `index` (a write to its own code): uncounts
    /// the instructions after it and sets EIP.
    #[cold]
    fn stop_in_body(&mut self, block: &Block, index: usize, eip: u32) {
        self.icount -= (block.guest_len as usize - index - 1) as u64;
        self.eip = eip;
    }

    /// Body instruction `index` faulted: uncounts the instructions after it and delivers
    /// the exception with EIP (and the next EIP, which the 8086's #DE pushes) set.
    #[cold]
    fn fault_in_body(&mut self, block: &Block, index: usize, e: Exception) {
        let op = &block.ops[index];
        self.stop_in_body(block, index, op.ip() as u32);
        self.next_eip = op.next_eip;
        self.raise(e);
    }

    /// Whether the last write to a code page hit `block`'s bytes.
    #[inline]
    fn code_write_hits(&self, block: &Block) -> bool {
        self.mem
            .last_code_write()
            .is_some_and(|w| block.overlaps(w.addr, w.addr + w.len))
    }

    /// Delivers a #DB trap after an instruction completed, recording why in DR6 (the
    /// breakpoint bits B0–B3 describe this event only).
    fn debug_trap(&mut self, dr6_bits: u32) {
        self.pending_task_trap = false;
        self.pending_data_breakpoints = 0;
        self.dr[6] = (self.dr[6] & !0xF) | dr6_bits;
        let eip = self.eip;
        if self.deliver_interrupt(exception::DB, eip, None).is_err() {
            self.stop = Some(Stop::TripleFault);
        }
    }

    fn run_single(&mut self, cache: &mut BlockCache) -> Stop {
        if let Some(s) = self.stop.take() {
            return s;
        }
        if self.halted {
            return Stop::Halted;
        }
        self.refresh_fast_key();
        let trap = self.eflags & Flags::TF.bits() != 0;
        let resume = self.eflags & Flags::RF.bits() != 0;
        if self.debug_active && !resume {
            let linear = self.seg[Seg::Cs as usize].base.wrapping_add(self.eip);
            let hits = self.instruction_breakpoints(linear);
            if hits != 0 {
                // An instruction breakpoint is a fault: nothing of the instruction ran.
                self.dr[6] = (self.dr[6] & !0xF) | hits;
                let eip = self.eip;
                if self.deliver_interrupt(exception::DB, eip, None).is_err() {
                    self.stop = Some(Stop::TripleFault);
                }
                return self.stop.take().unwrap_or(Stop::Budget);
            }
        }
        self.inhibit_debug = false;
        self.pending_data_breakpoints = 0;
        let op = match cache.lookup(self) {
            Ok(id) => {
                let mut op = cache.block(id).ops[0].clone();
                if op.fused {
                    // One instruction at a time: the compare alone, the branch next time.
                    op.handler = exec::generic_handler(op.code());
                    op.next_eip = op.branch_eip;
                }
                op
            }
            Err(e) => {
                self.raise(e);
                return Stop::Budget;
            }
        };
        self.next_eip = op.next_eip;
        self.icount += 1;
        let r = match (op.handler)(self, &op) {
            // Completed; code writes are applied below.
            Err(e) if e == Exception::CODE_WRITTEN => Ok(()),
            r => r,
        };
        match r {
            Ok(()) => {
                self.eip = self.next_eip;
                if resume {
                    // RF suppresses instruction breakpoints for one instruction only.
                    self.eflags &= !Flags::RF.bits();
                }
                let mut bits = self.pending_data_breakpoints;
                if trap && !self.halted && !self.inhibit_debug {
                    bits |= DR6_BS;
                }
                if self.pending_task_trap {
                    bits |= DR6_BT;
                }
                if bits != 0 {
                    self.debug_trap(bits);
                }
            }
            Err(e) => self.raise(e),
        }
        if self.mem.code_written() {
            self.apply_code_writes(cache);
        }
        if self.cache_flush_pending {
            self.cache_flush_pending = false;
            cache.flush(&mut self.mem);
        }
        self.stop.take().unwrap_or(Stop::Budget)
    }

    /// Drops decoded blocks that writes made outside the run loop (BIOS services, DMA)
    /// have overwritten. Cheap when nothing was written to code pages.
    pub fn sync_code_writes(&mut self) {
        if self.mem.code_written() {
            let mut cache = std::mem::take(&mut self.cache);
            self.apply_code_writes(&mut cache);
            self.cache = cache;
        }
    }

    fn apply_code_writes(&mut self, cache: &mut BlockCache) {
        let mut writes = std::mem::take(&mut self.code_writes);
        let overflow = self.mem.take_code_writes(&mut writes);
        if overflow {
            cache.flush(&mut self.mem);
        } else {
            for w in &writes {
                cache.invalidate_range(&mut self.mem, w.addr, w.len);
            }
        }
        self.code_writes = writes;
    }

    /// Reports that code pages were written since the running block began (as
    /// `Exception::CODE_WRITTEN`, which the run loop takes as "completed, look at the
    /// writes"): what a handler that may have written memory through a checked path
    /// returns when it is done.
    #[inline]
    pub(crate) fn report_code_writes(&self) -> exception::Exec {
        if self.mem.code_written() {
            Err(Exception::CODE_WRITTEN)
        } else {
            Ok(())
        }
    }

    /// Delivers exception `e` raised by the instruction at `self.eip`.
    pub fn raise(&mut self, e: Exception) {
        debug_assert!(e != Exception::CODE_WRITTEN, "not an exception");
        if e == Exception::CODE_WRITTEN {
            return;
        }
        // The 8086 pushes the address after the dividing instruction for #DE.
        let ret = if e.vector() == exception::DE && self.model == CpuModel::I8086 {
            self.next_eip
        } else {
            self.eip
        };
        if self
            .deliver_interrupt(e.vector(), ret, e.error_code())
            .is_err()
        {
            self.stop = Some(Stop::TripleFault);
        }
    }

    /// Number of blocks currently in the decode cache (for statistics and tests).
    pub fn cached_blocks(&self) -> usize {
        self.cache.live_blocks()
    }

    /// A multi-line dump of the registers, for `--dump-state` and debugging.
    pub fn state_dump(&self) -> String {
        let g = &self.gpr;
        let seg = |s: Seg| {
            let d = &self.seg[s as usize];
            format!(
                "{:04x} (base {:08x} limit {:08x} attrs {:04x})",
                d.selector, d.base, d.limit, d.attrs
            )
        };
        format!(
            "EAX={:08x} EBX={:08x} ECX={:08x} EDX={:08x}\n\
             ESI={:08x} EDI={:08x} EBP={:08x} ESP={:08x}\n\
             EIP={:08x} EFLAGS={:08x} CPL={} CR0={:08x} CR2={:08x} CR3={:08x} CR4={:08x}\n\
             CS={}\nSS={}\nDS={}\nES={}\nFS={}\nGS={}\n\
             GDTR={:08x}/{:04x} IDTR={:08x}/{:04x} TR={:04x} LDTR={:04x} instructions={}",
            g[0],
            g[3],
            g[1],
            g[2],
            g[6],
            g[7],
            g[5],
            g[4],
            self.eip,
            self.eflags(),
            self.cpl(),
            self.cr.cr0,
            self.cr.cr2,
            self.cr.cr3,
            self.cr.cr4,
            seg(Seg::Cs),
            seg(Seg::Ss),
            seg(Seg::Ds),
            seg(Seg::Es),
            seg(Seg::Fs),
            seg(Seg::Gs),
            self.gdtr.base,
            self.gdtr.limit,
            self.idtr.base,
            self.idtr.limit,
            self.tr.selector,
            self.ldtr.selector,
            self.icount
        )
    }

    /// The debug ports, when the CPU was built with them (tests, `emu run`).
    pub fn debug_ports(&self) -> Option<&DebugPorts> {
        self.io.as_any()?.downcast_ref::<DebugPorts>()
    }
}
