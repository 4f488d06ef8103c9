//! Protected-mode segmentation: descriptors, selector checks and segment register loads,
//! control transfers to code segments, and interrupt delivery through IDT gates.
//!
//! What is here: data/stack segment loads with every type, privilege and presence check;
//! far JMP/CALL/RET to code segments (conforming and non-conforming) and RETF to an outer
//! ring; interrupt and trap gates (286 and 386) with the stack switch from the TSS;
//! IRET to the same or an outer ring; call gates. Task switches live in `task.rs`, V86
//! mode in `v86.rs`, paging in `mmu.rs`.

use super::exception::{Exception, Exec};
use super::state::{Flags, Seg, Segment, ATTR_PRESENT, ESP};
use super::task::TaskSwitch;
use super::Cpu;

/// An 8-byte segment or gate descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub lo: u32,
    pub hi: u32,
}

impl Descriptor {
    pub fn base(&self) -> u32 {
        (self.lo >> 16) | (self.hi & 0xFF) << 16 | (self.hi & 0xFF00_0000)
    }
    /// Limit in bytes, scaled by the granularity bit.
    pub fn limit(&self) -> u32 {
        let raw = (self.lo & 0xFFFF) | (self.hi & 0x000F_0000);
        if self.hi & (1 << 23) != 0 {
            raw << 12 | 0xFFF
        } else {
            raw
        }
    }
    /// Access byte and flags nibble in `Segment::attrs` layout.
    pub fn attrs(&self) -> u16 {
        ((self.hi >> 8) & 0xF0FF) as u16
    }
    pub fn present(&self) -> bool {
        self.hi & (1 << 15) != 0
    }
    pub fn dpl(&self) -> u8 {
        ((self.hi >> 13) & 3) as u8
    }
    /// Code or data (S bit), as opposed to system descriptors and gates.
    pub fn is_segment(&self) -> bool {
        self.hi & (1 << 12) != 0
    }
    pub fn typ(&self) -> u8 {
        ((self.hi >> 8) & 0xF) as u8
    }
    pub fn is_code(&self) -> bool {
        self.is_segment() && self.typ() & 8 != 0
    }
    pub fn is_data(&self) -> bool {
        self.is_segment() && self.typ() & 8 == 0
    }
    pub fn conforming(&self) -> bool {
        self.is_code() && self.typ() & 4 != 0
    }
    pub fn readable(&self) -> bool {
        self.is_data() || self.typ() & 2 != 0
    }
    pub fn writable_data(&self) -> bool {
        self.is_data() && self.typ() & 2 != 0
    }
    /// Gate target selector and offset (16-bit gates use the low offset word only).
    pub fn gate_selector(&self) -> u16 {
        (self.lo >> 16) as u16
    }
    pub fn gate_offset(&self) -> u32 {
        let low = self.lo & 0xFFFF;
        if self.typ() & 8 != 0 {
            low | (self.hi & 0xFFFF_0000)
        } else {
            low
        }
    }

    /// The hidden descriptor cache for this descriptor.
    pub fn to_segment(self, selector: u16) -> Segment {
        Segment {
            selector,
            base: self.base(),
            limit: self.limit(),
            attrs: self.attrs(),
        }
    }
}

/// The cache contents of a null data segment: every access through it faults (an
/// expand-down segment whose valid range is empty), so the fast path needs no extra test.
pub fn null_segment(selector: u16) -> Segment {
    Segment {
        selector,
        base: 0,
        limit: u32::MAX,
        attrs: 0x14 | super::state::ATTR_DB,
    }
}

fn sel_error(sel: u16) -> u32 {
    sel as u32 & 0xFFFC
}

impl Cpu {
    /// Current privilege level.
    pub fn cpl(&self) -> u8 {
        super::exec::system::cpl(self)
    }

    /// Reads the descriptor `sel` selects from the GDT or LDT; #GP(sel) outside the table.
    pub fn read_descriptor(&mut self, sel: u16) -> Result<Descriptor, Exception> {
        let (base, limit) = if sel & 4 != 0 {
            if self.ldtr.attrs & ATTR_PRESENT == 0 {
                return Err(Exception::gp(sel_error(sel)));
            }
            (self.ldtr.base, self.ldtr.limit)
        } else {
            (self.gdtr.base, self.gdtr.limit as u32)
        };
        let index = (sel & !7) as u32;
        if index + 7 > limit {
            return Err(Exception::gp(sel_error(sel)));
        }
        self.read_system64(base.wrapping_add(index))
    }

    /// Sets the accessed bit of a segment descriptor, as loads do.
    fn set_accessed(&mut self, sel: u16, d: &Descriptor) {
        if d.hi & (1 << 8) != 0 {
            return;
        }
        let base = if sel & 4 != 0 {
            self.ldtr.base
        } else {
            self.gdtr.base
        };
        let addr = base.wrapping_add((sel & !7) as u32 + 5);
        if let Ok(phys) = self.translate_system(addr, true) {
            let b = self.mem.read_u8(phys);
            self.mem.write_u8(phys, b | 1);
        }
    }

    /// Reads a dword of a system structure (descriptor tables, TSS) at a linear address.
    pub(crate) fn read_system32(&mut self, addr: u32) -> Result<u32, Exception> {
        let mut v = 0;
        if addr & 0xFFF <= 0xFFC {
            let phys = self.translate_system(addr, false)?;
            return Ok(self.mem.read_u32_in_page(phys));
        }
        for k in 0..4 {
            let phys = self.translate_system(addr.wrapping_add(k), false)?;
            v |= (self.mem.read_u8(phys) as u32) << (8 * k);
        }
        Ok(v)
    }

    /// Reads the 8 bytes of a descriptor or gate (or a TSS stack pair) at a linear address:
    /// one translation when they share a page.
    pub(crate) fn read_system64(&mut self, addr: u32) -> Result<Descriptor, Exception> {
        if addr & 0xFFF <= 0xFF8 {
            let phys = self.translate_system(addr, false)?;
            return Ok(Descriptor {
                lo: self.mem.read_u32_in_page(phys),
                hi: self.mem.read_u32_in_page(phys.wrapping_add(4)),
            });
        }
        Ok(Descriptor {
            lo: self.read_system32(addr)?,
            hi: self.read_system32(addr.wrapping_add(4))?,
        })
    }

    /// MOV/POP/LxS to a data or stack segment register in protected mode.
    pub(crate) fn load_data_segment(&mut self, seg: Seg, sel: u16) -> Exec {
        let cpl = self.cpl();
        let rpl = (sel & 3) as u8;
        if sel & !3 == 0 {
            if seg == Seg::Ss {
                return Err(Exception::gp(0));
            }
            self.seg[seg as usize] = null_segment(sel);
            return Ok(());
        }
        let d = self.read_descriptor(sel)?;
        if seg == Seg::Ss {
            if rpl != cpl || !d.writable_data() || d.dpl() != cpl {
                return Err(Exception::gp(sel_error(sel)));
            }
            if !d.present() {
                return Err(Exception::ss(sel_error(sel)));
            }
        } else {
            if !d.readable() || !d.is_segment() {
                return Err(Exception::gp(sel_error(sel)));
            }
            let privileged = d.is_data() || !d.conforming();
            if privileged && (rpl > d.dpl() || cpl > d.dpl()) {
                return Err(Exception::gp(sel_error(sel)));
            }
            if !d.present() {
                return Err(Exception::np(sel_error(sel)));
            }
        }
        self.set_accessed(sel, &d);
        self.seg[seg as usize] = d.to_segment(sel);
        Ok(())
    }

    /// Far JMP in protected mode: to a code segment, or through a call gate (no privilege
    /// change). Task gates and TSS targets are not supported yet (#GP).
    pub(crate) fn jmp_far_protected(&mut self, sel: u16, off: u32) -> Exec {
        let d = self.read_far_descriptor(sel)?;
        let cpl = self.cpl();
        if d.is_code() {
            let d = self.check_far_target(sel, d)?;
            return self.enter_code_segment(sel, d, cpl, off);
        }
        if let Some(r) = self.far_to_task(sel, d, TaskSwitch::Jump) {
            return r;
        }
        let (target_sel, target, offset) = self.through_call_gate(sel, d)?;
        if !target.conforming() && target.dpl() != cpl {
            return Err(Exception::gp(sel_error(target_sel)));
        }
        self.enter_code_segment(target_sel, target, cpl, offset)
    }

    /// Far CALL in protected mode: to a code segment at the same privilege, or through a
    /// call gate, switching to the inner stack from the TSS and copying the gate's
    /// parameters when the target is more privileged.
    pub(crate) fn call_far_protected(&mut self, sel: u16, off: u32, size32: bool) -> Exec {
        let d = self.read_far_descriptor(sel)?;
        let cpl = self.cpl();
        let ret = self.next_eip;
        let old_cs = self.seg[Seg::Cs as usize].selector as u32;
        let saved_ss = self.seg[Seg::Ss as usize];
        let saved_esp = self.gpr[ESP];
        let restore = |cpu: &mut Cpu| {
            cpu.seg[Seg::Ss as usize] = saved_ss;
            cpu.gpr[ESP] = saved_esp;
        };
        if d.is_code() {
            let d = self.check_far_target(sel, d)?;
            if let Err(e) = self.push_frame(size32, &[old_cs, ret]) {
                restore(self);
                return Err(e);
            }
            if let Err(e) = self.enter_code_segment(sel, d, cpl, off) {
                restore(self);
                return Err(e);
            }
            return Ok(());
        }
        if let Some(r) = self.far_to_task(sel, d, TaskSwitch::Call) {
            return r;
        }
        let (target_sel, target, offset) = self.through_call_gate(sel, d)?;
        let gate32 = d.typ() & 8 != 0;
        if !target.conforming() && target.dpl() < cpl {
            let new_cpl = target.dpl();
            let (ss, esp) = self.tss_stack(new_cpl)?;
            let ssd = self.check_stack_segment(ss, new_cpl)?;
            // Parameters are read from the old stack before switching.
            let count = d.hi & 0x1F;
            let width = if gate32 { 4 } else { 2 };
            let mut params = [0u32; 31];
            for (i, p) in params.iter_mut().enumerate().take(count as usize) {
                *p = if gate32 {
                    self.peek32(i as u32 * width)?
                } else {
                    self.peek16(i as u32 * width)? as u32
                };
            }
            self.seg[Seg::Ss as usize] = ssd.to_segment(ss);
            self.gpr[ESP] = esp;
            // SS, ESP, the parameters (last first), CS, EIP.
            let count = count as usize;
            let mut frame = [0u32; 35];
            frame[0] = saved_ss.selector as u32;
            frame[1] = saved_esp;
            for (slot, &p) in frame[2..2 + count]
                .iter_mut()
                .zip(params[..count].iter().rev())
            {
                *slot = p;
            }
            frame[2 + count] = old_cs;
            frame[3 + count] = ret;
            if let Err(e) = self.push_frame_at_cpl(gate32, &frame[..4 + count], new_cpl) {
                restore(self);
                return Err(e);
            }
            if let Err(e) = self.enter_code_segment(target_sel, target, new_cpl, offset) {
                restore(self);
                return Err(e);
            }
            return Ok(());
        }
        if let Err(e) = self.push_frame(gate32, &[old_cs, ret]) {
            restore(self);
            return Err(e);
        }
        if let Err(e) = self.enter_code_segment(target_sel, target, cpl, offset) {
            restore(self);
            return Err(e);
        }
        Ok(())
    }

    /// Far JMP/CALL to a TSS descriptor or a task gate: a task switch. `None` for other
    /// descriptors.
    fn far_to_task(&mut self, sel: u16, d: Descriptor, source: TaskSwitch) -> Option<Exec> {
        if d.is_segment() {
            return None;
        }
        match d.typ() {
            0x5 => Some(self.through_task_gate(sel, d, source)),
            0x1 | 0x3 | 0x9 | 0xB => Some(self.switch_to_tss_directly(sel, d, source)),
            _ => None,
        }
    }

    /// The descriptor a far JMP/CALL selector names (#GP for null).
    fn read_far_descriptor(&mut self, sel: u16) -> Result<Descriptor, Exception> {
        if sel & !3 == 0 {
            return Err(Exception::gp(0));
        }
        self.read_descriptor(sel)
    }

    /// Checks a call gate and its target code segment; returns (selector, descriptor,
    /// offset) of the target.
    fn through_call_gate(
        &mut self,
        sel: u16,
        gate: Descriptor,
    ) -> Result<(u16, Descriptor, u32), Exception> {
        if gate.is_segment() || !matches!(gate.typ(), 0x4 | 0xC) {
            // Task gates and TSS descriptors (task switches) are not implemented yet.
            return Err(Exception::gp(sel_error(sel)));
        }
        let cpl = self.cpl();
        if gate.dpl() < cpl || gate.dpl() < (sel & 3) as u8 {
            return Err(Exception::gp(sel_error(sel)));
        }
        if !gate.present() {
            return Err(Exception::np(sel_error(sel)));
        }
        let target_sel = gate.gate_selector();
        if target_sel & !3 == 0 {
            return Err(Exception::gp(0));
        }
        let target = self.read_descriptor(target_sel)?;
        if !target.is_code() || target.dpl() > cpl {
            return Err(Exception::gp(sel_error(target_sel)));
        }
        if !target.present() {
            return Err(Exception::np(sel_error(target_sel)));
        }
        Ok((target_sel, target, gate.gate_offset()))
    }

    /// Checks a code segment as the target of a direct far JMP/CALL.
    fn check_far_target(&mut self, sel: u16, d: Descriptor) -> Result<Descriptor, Exception> {
        let cpl = self.cpl();
        let rpl = (sel & 3) as u8;
        let ok = if d.conforming() {
            d.dpl() <= cpl
        } else {
            d.dpl() == cpl && rpl <= cpl
        };
        if !ok {
            return Err(Exception::gp(sel_error(sel)));
        }
        if !d.present() {
            return Err(Exception::np(sel_error(sel)));
        }
        Ok(d)
    }

    /// Loads CS from a checked code descriptor at privilege `cpl` and jumps to `eip`.
    pub(crate) fn enter_code_segment(
        &mut self,
        sel: u16,
        d: Descriptor,
        cpl: u8,
        eip: u32,
    ) -> Exec {
        let cache = d.to_segment((sel & !3) | cpl as u16);
        if eip > cache.limit {
            return Err(Exception::gp(0));
        }
        self.set_accessed(sel, &d);
        self.seg[Seg::Cs as usize] = cache;
        self.refresh_fast_key();
        self.next_eip = eip;
        self.eip = eip;
        Ok(())
    }

    /// Reads the inner stack pointer for privilege `dpl` from the current TSS.
    pub(super) fn tss_stack(&mut self, dpl: u8) -> Result<(u16, u32), Exception> {
        let tss32 = self.tr.attrs & 0x8 != 0;
        let (off, size) = if tss32 {
            (4 + dpl as u32 * 8, 8)
        } else {
            (2 + dpl as u32 * 4, 4)
        };
        if off + size - 1 > self.tr.limit {
            return Err(Exception::ts(sel_error(self.tr.selector)));
        }
        let a = self.tr.base.wrapping_add(off);
        if tss32 {
            let pair = self.read_system64(a)?;
            Ok((pair.hi as u16, pair.lo))
        } else {
            let v = self.read_system32(a)?;
            Ok(((v >> 16) as u16, v & 0xFFFF))
        }
    }

    /// Checks a stack segment for privilege `dpl` (stack switches); #TS on failure.
    pub(super) fn check_stack_segment(
        &mut self,
        ss: u16,
        dpl: u8,
    ) -> Result<Descriptor, Exception> {
        if ss & !3 == 0 {
            return Err(Exception::ts(0));
        }
        let d = self
            .read_descriptor(ss)
            .map_err(|_| Exception::ts(sel_error(ss)))?;
        if (ss & 3) as u8 != dpl || d.dpl() != dpl || !d.writable_data() {
            return Err(Exception::ts(sel_error(ss)));
        }
        if !d.present() {
            return Err(Exception::ss(sel_error(ss)));
        }
        Ok(d)
    }

    /// Interrupt delivery through an IDT interrupt or trap gate.
    pub(crate) fn deliver_through_idt(
        &mut self,
        vector: u8,
        ret: u32,
        error_code: Option<u32>,
        software: bool,
    ) -> Result<(), Exception> {
        let idt_err = vector as u32 * 8 + 2;
        if vector as u32 * 8 + 7 > self.idtr.limit as u32 {
            return Err(Exception::gp(idt_err));
        }
        let a = self.idtr.base.wrapping_add(vector as u32 * 8);
        let gate = self.read_system64(a)?;
        let kind = gate.typ();
        if gate.is_segment() || !matches!(kind, 0x5 | 0x6 | 0x7 | 0xE | 0xF) {
            return Err(Exception::gp(idt_err));
        }
        let cpl = self.cpl();
        if software && gate.dpl() < cpl {
            return Err(Exception::gp(idt_err));
        }
        if !gate.present() {
            return Err(Exception::np(idt_err));
        }
        if kind == 0x5 {
            let tss_sel = gate.gate_selector();
            let d = self.read_tss_descriptor(tss_sel, TaskSwitch::Interrupt)?;
            return self.switch_task(tss_sel, d, TaskSwitch::Interrupt, ret, error_code);
        }
        let sel = gate.gate_selector();
        if sel & !3 == 0 {
            return Err(Exception::gp(0));
        }
        let target = self.read_descriptor(sel)?;
        if !target.is_code() || target.dpl() > cpl {
            return Err(Exception::gp(sel_error(sel)));
        }
        if !target.present() {
            return Err(Exception::np(sel_error(sel)));
        }
        let gate32 = kind & 8 != 0;
        if self.in_v86() {
            return self.deliver_from_v86(gate, sel, target, ret, error_code);
        }
        let flags = self.eflags();
        let old_cs = self.seg[Seg::Cs as usize].selector;
        let new_cpl = if target.conforming() {
            cpl
        } else {
            target.dpl()
        };
        let saved_ss = self.seg[Seg::Ss as usize];
        let saved_esp = self.gpr[ESP];
        let mut frame = [0u32; 6];
        let mut n = 0;
        if new_cpl < cpl {
            // Inner privilege: switch to the stack the TSS names for the new ring.
            let (ss, esp) = self.tss_stack(new_cpl)?;
            let ssd = self.check_stack_segment(ss, new_cpl)?;
            self.seg[Seg::Ss as usize] = ssd.to_segment(ss);
            self.gpr[ESP] = esp;
            frame[..2].copy_from_slice(&[saved_ss.selector as u32, saved_esp]);
            n = 2;
        }
        frame[n..n + 3].copy_from_slice(&[flags, old_cs as u32, ret]);
        n += 3;
        if let Some(code) = error_code {
            frame[n] = code;
            n += 1;
        }
        if let Err(e) = self.push_frame_at_cpl(gate32, &frame[..n], new_cpl) {
            self.seg[Seg::Ss as usize] = saved_ss;
            self.gpr[ESP] = saved_esp;
            return Err(e);
        }
        let offset = gate.gate_offset();
        self.enter_code_segment(sel, target, new_cpl, offset)?;
        let mut clear = Flags::TF.bits() | Flags::NT.bits() | Flags::RF.bits() | Flags::VM.bits();
        if kind & 1 == 0 {
            clear |= Flags::IF.bits();
        }
        self.eflags &= !clear;
        Ok(())
    }

    /// Pushes a frame with the privilege of the ring being entered (its pages may be
    /// supervisor-only), CS itself being loaded only afterwards.
    pub(super) fn push_frame_at_cpl(&mut self, size32: bool, values: &[u32], cpl: u8) -> Exec {
        let cs = self.seg[Seg::Cs as usize].selector;
        self.seg[Seg::Cs as usize].selector = (cs & !3) | cpl as u16;
        self.refresh_fast_key();
        let r = self.push_frame(size32, values);
        self.seg[Seg::Cs as usize].selector = cs;
        self.refresh_fast_key();
        r
    }

    fn push_frame(&mut self, size32: bool, values: &[u32]) -> Exec {
        if size32 && self.push_block32(values)? {
            return Ok(());
        }
        for &v in values {
            if size32 {
                self.push32(v)?;
            } else {
                self.push16(v as u16)?;
            }
        }
        Ok(())
    }

    /// Pushes dwords (the first one first) as one block when they fit in one page of plain
    /// RAM inside the stack segment; `false` when the slot-by-slot path must do it. A fault
    /// here is the one the first push would raise.
    fn push_block32(&mut self, values: &[u32]) -> Result<bool, Exception> {
        let len = values.len() as u32 * 4;
        let esp = self.gpr[ESP];
        if len == 0 || !self.seg[Seg::Ss as usize].is_32() || esp < len {
            return Ok(false);
        }
        let low = esp - len;
        let Some(h) = self.stack_block::<true>(low, len, esp - 4)? else {
            return Ok(false);
        };
        for (i, &v) in values.iter().enumerate() {
            self.mem
                .host_write(h + len - 4 * (i as u32 + 1), v.to_le_bytes());
        }
        self.gpr[ESP] = low;
        Ok(true)
    }

    /// Slot `i` of a return frame on the stack (not popped), read by itself.
    #[inline(never)]
    fn peek_slot(&mut self, size32: bool, i: u32) -> Result<u32, Exception> {
        if size32 {
            self.peek32(i * 4)
        } else {
            self.peek16(i * 2).map(|v| v as u32)
        }
    }

    /// The `N` dwords at SS:ESP (a return frame, not popped) read as one block when they lie
    /// in one page of RAM inside the stack segment; `None` when the slot-by-slot path must
    /// read them. A fault here is the one the first read would raise.
    fn peek_block32<const N: usize>(&mut self) -> Result<Option<[u32; N]>, Exception> {
        let len = N as u32 * 4;
        let esp = self.gpr[ESP];
        if !self.seg[Seg::Ss as usize].is_32() || esp.checked_add(len).is_none() {
            return Ok(None);
        }
        let Some(h) = self.stack_block::<false>(esp, len, esp)? else {
            return Ok(None);
        };
        let mut out = [0u32; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = u32::from_le_bytes(self.mem.host_read(h + 4 * i as u32));
        }
        Ok(Some(out))
    }

    /// The RAM offset of the `len` stack bytes at SS:`off` when the whole range passes the
    /// segment check and lies in one fast-path page (translating the page through the slot
    /// at SS:`first`, the one the slot-by-slot path would access first, on a miss). `None`
    /// leaves everything, faults included, to the slot-by-slot path.
    fn stack_block<const WRITE: bool>(
        &mut self,
        off: u32,
        len: u32,
        first: u32,
    ) -> Result<Option<u32>, Exception> {
        if self.debug_active {
            return Ok(None);
        }
        let Ok(lin) = self.seg_check::<WRITE>(Seg::Ss, off, len) else {
            return Ok(None);
        };
        if lin & 0xFFF > 0x1000 - len {
            return Ok(None);
        }
        if let Some(h) = self.fast_offset::<WRITE>(lin, len) {
            return Ok(Some(h));
        }
        let first_lin = lin.wrapping_add(first.wrapping_sub(off));
        self.translate_data(first_lin, WRITE)?;
        Ok(self.fast_offset::<WRITE>(lin, len))
    }

    /// The code segment a RETF/IRET returns to: not more privileged than the current one.
    fn check_return_cs(&mut self, cs: u16) -> Result<Descriptor, Exception> {
        let rpl = (cs & 3) as u8;
        if cs & !3 == 0 {
            return Err(Exception::gp(0));
        }
        if rpl < self.cpl() {
            return Err(Exception::gp(sel_error(cs)));
        }
        let d = self.read_descriptor(cs)?;
        let ok = d.is_code()
            && if d.conforming() {
                d.dpl() <= rpl
            } else {
                d.dpl() == rpl
            };
        if !ok {
            return Err(Exception::gp(sel_error(cs)));
        }
        if !d.present() {
            return Err(Exception::np(sel_error(cs)));
        }
        Ok(d)
    }

    /// The stack segment of a return to the outer ring `rpl`.
    fn check_return_ss(&mut self, ss: u16, rpl: u8) -> Result<Descriptor, Exception> {
        let d = self.read_descriptor(ss)?;
        if (ss & 3) as u8 != rpl || d.dpl() != rpl || !d.writable_data() {
            return Err(Exception::gp(sel_error(ss)));
        }
        if !d.present() {
            return Err(Exception::ss(sel_error(ss)));
        }
        Ok(d)
    }

    /// Protected-mode IRET to the same or an outer privilege level (no task return yet).
    pub(crate) fn iret_protected(&mut self, size32: bool) -> Exec {
        if self.eflags & Flags::NT.bits() != 0 {
            return self.iret_to_previous_task();
        }
        let w = if size32 { 4 } else { 2 };
        // EIP, CS, EFLAGS and, for a return to an outer ring, ESP and SS.
        let block = if size32 {
            self.peek_block32::<5>()?
        } else {
            None
        };
        let peek = |cpu: &mut Cpu, i: u32| -> Result<u32, Exception> {
            match block {
                Some(b) => Ok(b[i as usize]),
                None => cpu.peek_slot(size32, i),
            }
        };
        let eip = peek(self, 0)?;
        let cs = peek(self, 1)? as u16;
        let flags = peek(self, 2)?;
        if size32 && flags & Flags::VM.bits() != 0 && self.cpl() == 0 {
            return self.iret_to_v86();
        }
        let cpl = self.cpl();
        let rpl = (cs & 3) as u8;
        let d = self.check_return_cs(cs)?;
        let outer = if rpl > cpl {
            let esp = peek(self, 3)?;
            let ss = peek(self, 4)? as u16;
            let ssd = self.check_return_ss(ss, rpl)?;
            Some((ss, esp, ssd))
        } else {
            None
        };
        self.enter_code_segment(cs, d, rpl, eip)?;
        self.write_flags_checked(flags, size32, cpl);
        if cpl == 0 && size32 {
            // Only IRETD at CPL 0 loads the virtual interrupt flags.
            let virt = Flags::VIF.bits() | Flags::VIP.bits();
            self.eflags = (self.eflags & !virt) | (flags & virt);
        }
        match outer {
            Some((ss, esp, ssd)) => {
                self.seg[Seg::Ss as usize] = ssd.to_segment(ss);
                self.gpr[ESP] = esp;
                self.null_inaccessible_segments(rpl);
            }
            None => {
                let sp = self.sp().wrapping_add(3 * w);
                self.set_sp(sp);
            }
        }
        Ok(())
    }

    /// Loads EFLAGS from IRET/POPF in protected mode: IOPL only at CPL 0, IF only when
    /// CPL <= IOPL; VM, VIF and VIP are left alone here.
    pub(crate) fn write_flags_checked(&mut self, value: u32, size32: bool, cpl: u8) {
        let iopl = (self.eflags >> 12) & 3;
        let mut writable = self.model.flags_writable();
        if cpl != 0 {
            writable &= !Flags::IOPL.bits();
        }
        if cpl as u32 > iopl {
            writable &= !Flags::IF.bits();
        }
        if !size32 {
            writable &= 0xFFFF;
        }
        writable |= Flags::RF.bits() & if size32 { u32::MAX } else { 0 };
        crate::cpu::exec::stack::write_flags(self, value, writable);
    }

    /// After a return to an outer ring, data segment registers the new ring may not use
    /// are loaded with null.
    fn null_inaccessible_segments(&mut self, cpl: u8) {
        for seg in [Seg::Es, Seg::Ds, Seg::Fs, Seg::Gs] {
            let s = self.seg[seg as usize];
            let dpl = ((s.attrs >> 5) & 3) as u8;
            let conforming_code = s.attrs & 0x1C == 0x1C;
            if !conforming_code && dpl < cpl {
                self.seg[seg as usize] = null_segment(0);
            }
        }
    }

    /// Far RET in protected mode: same privilege, or to an outer ring (popping SS:ESP).
    pub(crate) fn retf_protected(&mut self, size32: bool, imm: u32) -> Exec {
        let w = if size32 { 4 } else { 2 };
        let peek = |cpu: &mut Cpu, off: u32| -> Result<u32, Exception> {
            if size32 {
                cpu.peek32(off)
            } else {
                cpu.peek16(off).map(|v| v as u32)
            }
        };
        let eip = peek(self, 0)?;
        let cs = peek(self, w)? as u16;
        let cpl = self.cpl();
        let rpl = (cs & 3) as u8;
        let d = self.check_return_cs(cs)?;
        if rpl == cpl {
            self.enter_code_segment(cs, d, rpl, eip)?;
            let sp = self.sp().wrapping_add(2 * w).wrapping_add(imm);
            self.set_sp(sp);
            return Ok(());
        }
        let esp = peek(self, 2 * w + imm)?;
        let ss = peek(self, 3 * w + imm)? as u16;
        let ssd = self.check_return_ss(ss, rpl)?;
        self.enter_code_segment(cs, d, rpl, eip)?;
        self.seg[Seg::Ss as usize] = ssd.to_segment(ss);
        self.gpr[ESP] = esp;
        let sp = self.sp().wrapping_add(imm);
        self.set_sp(sp);
        self.null_inaccessible_segments(rpl);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_fields() {
        // Flat 4 GiB code segment, DPL 0, 32-bit: 0x00CF9A000000FFFF.
        let d = Descriptor {
            lo: 0x0000_FFFF,
            hi: 0x00CF_9A00,
        };
        assert_eq!(d.base(), 0);
        assert_eq!(d.limit(), 0xFFFF_FFFF);
        assert!(d.is_code() && d.readable() && !d.conforming() && d.present());
        assert_eq!(d.dpl(), 0);
        assert_ne!(d.attrs() & crate::cpu::state::ATTR_DB, 0);
        // Data segment at 0x12345678, limit 0xFFFFF bytes, DPL 3, writable.
        let d = Descriptor {
            lo: 0x5678_FFFF,
            hi: 0x120F_F234,
        };
        assert_eq!(d.base(), 0x1234_5678);
        assert_eq!(d.limit(), 0xF_FFFF);
        assert!(d.writable_data());
        assert_eq!(d.dpl(), 3);
    }
}
