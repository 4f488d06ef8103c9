//! Hardware task switching: JMP/CALL to a TSS descriptor or task gate, interrupts and
//! exceptions through IDT task gates, and IRET with NT set (return to the previous task).
//!
//! The switch follows the order the manuals give: check the new TSS, read its whole state,
//! save the current state into the old TSS, update busy bits, back link and NT, load TR,
//! set CR0.TS, then load CR3, EFLAGS, EIP, the general registers, LDTR and the segment
//! registers. Faults while loading segments happen in the context of the new task (they
//! are raised after the switch has been committed), as on the hardware.

use super::exception::{Exception, Exec};
use super::protected::Descriptor;
use super::state::{Cr0, Flags, Seg, Segment};
use super::Cpu;

/// What started a task switch: it decides busy bits, back link and NT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskSwitch {
    Jump,
    Call,
    /// An interrupt or exception through a task gate: like CALL.
    Interrupt,
    Iret,
}

/// The state a TSS holds for a task, in 32-bit form.
struct TaskState {
    cr3: u32,
    eip: u32,
    eflags: u32,
    gpr: [u32; 8],
    /// ES, CS, SS, DS, FS, GS in `Seg` order.
    sel: [u16; 6],
    ldt: u16,
    trap: bool,
}

/// Whether a TSS descriptor type is a 32-bit (386) TSS.
fn is_tss32(typ: u8) -> bool {
    typ & 8 != 0
}

fn sel_error(sel: u16) -> u32 {
    sel as u32 & 0xFFFC
}

impl Cpu {
    fn write_system16(&mut self, addr: u32, v: u16) -> Exec {
        for k in 0..2 {
            let phys = self.translate_system(addr.wrapping_add(k), true)?;
            self.mem.write_u8(phys, (v >> (8 * k)) as u8);
        }
        Ok(())
    }

    fn write_system32(&mut self, addr: u32, v: u32) -> Exec {
        self.write_system16(addr, v as u16)?;
        self.write_system16(addr.wrapping_add(2), (v >> 16) as u16)
    }

    fn read_system16(&mut self, addr: u32) -> Result<u16, Exception> {
        let mut v = 0u16;
        for k in 0..2 {
            let phys = self.translate_system(addr.wrapping_add(k), false)?;
            v |= (self.mem.read_u8(phys) as u16) << (8 * k);
        }
        Ok(v)
    }

    /// Sets or clears the busy bit of the TSS descriptor `sel` in the GDT.
    fn set_tss_busy(&mut self, sel: u16, busy: bool) -> Exec {
        let addr = self.gdtr.base.wrapping_add((sel & !7) as u32 + 5);
        let phys = self.translate_system(addr, true)?;
        let b = self.mem.read_u8(phys);
        self.mem.write_u8(phys, if busy { b | 2 } else { b & !2 });
        Ok(())
    }

    /// The TSS descriptor a task gate or a direct JMP/CALL names: global, an available
    /// TSS of a type this CPU has, present.
    pub(crate) fn read_tss_descriptor(
        &mut self,
        sel: u16,
        source: TaskSwitch,
    ) -> Result<Descriptor, Exception> {
        let bad = |s: u16| {
            if source == TaskSwitch::Iret {
                Exception::ts(sel_error(s))
            } else {
                Exception::gp(sel_error(s))
            }
        };
        if sel & 4 != 0 || sel & !3 == 0 {
            return Err(bad(sel));
        }
        let d = self.read_descriptor(sel).map_err(|_| bad(sel))?;
        let want_busy = source == TaskSwitch::Iret;
        let typ = d.typ();
        let is_tss = !d.is_segment()
            && (typ & 7 == 1 || typ & 7 == 3)
            && (typ & 8 == 0 || self.model >= super::model::CpuModel::I386);
        if !is_tss || (typ & 2 != 0) != want_busy {
            return Err(bad(sel));
        }
        if !d.present() {
            return Err(Exception::np(sel_error(sel)));
        }
        Ok(d)
    }

    /// JMP/CALL through a task gate: the gate's DPL must allow CPL and RPL.
    pub(crate) fn through_task_gate(
        &mut self,
        gate_sel: u16,
        gate: Descriptor,
        source: TaskSwitch,
    ) -> Exec {
        let cpl = self.cpl();
        if gate.dpl() < cpl || gate.dpl() < (gate_sel & 3) as u8 {
            return Err(Exception::gp(sel_error(gate_sel)));
        }
        if !gate.present() {
            return Err(Exception::np(sel_error(gate_sel)));
        }
        let tss_sel = gate.gate_selector();
        let d = self.read_tss_descriptor(tss_sel, source)?;
        let ret = self.next_eip;
        self.switch_task(tss_sel, d, source, ret, None)
    }

    /// JMP/CALL naming a TSS descriptor directly: its DPL must allow CPL and RPL.
    pub(crate) fn switch_to_tss_directly(
        &mut self,
        sel: u16,
        d: Descriptor,
        source: TaskSwitch,
    ) -> Exec {
        let cpl = self.cpl();
        if d.dpl() < cpl || d.dpl() < (sel & 3) as u8 {
            return Err(Exception::gp(sel_error(sel)));
        }
        let d = self.read_tss_descriptor(sel, source)?;
        let ret = self.next_eip;
        self.switch_task(sel, d, source, ret, None)
    }

    /// IRET with NT set: back to the task named by the current TSS's back link.
    pub(crate) fn iret_to_previous_task(&mut self) -> Exec {
        let link = self.read_system16(self.tr.base)?;
        let d = self.read_tss_descriptor(link, TaskSwitch::Iret)?;
        let ret = self.next_eip;
        self.switch_task(link, d, TaskSwitch::Iret, ret, None)
    }

    /// Reads the complete state of the task whose TSS is described by `d`.
    fn read_task_state(&mut self, d: &Descriptor) -> Result<TaskState, Exception> {
        let base = d.base();
        if is_tss32(d.typ()) {
            let mut gpr = [0u32; 8];
            for (i, r) in gpr.iter_mut().enumerate() {
                *r = self.read_system32(base.wrapping_add(0x28 + 4 * i as u32))?;
            }
            let mut sel = [0u16; 6];
            for (i, s) in sel.iter_mut().enumerate() {
                *s = self.read_system16(base.wrapping_add(0x48 + 4 * i as u32))?;
            }
            Ok(TaskState {
                cr3: self.read_system32(base.wrapping_add(0x1C))?,
                eip: self.read_system32(base.wrapping_add(0x20))?,
                eflags: self.read_system32(base.wrapping_add(0x24))?,
                gpr,
                sel,
                ldt: self.read_system16(base.wrapping_add(0x60))?,
                trap: self.read_system16(base.wrapping_add(0x64))? & 1 != 0,
            })
        } else {
            // A 16-bit TSS leaves the upper register halves at 0xFFFF and FS/GS null,
            // as the 386 does.
            let mut gpr = [0u32; 8];
            for (i, r) in gpr.iter_mut().enumerate() {
                *r = 0xFFFF_0000
                    | self.read_system16(base.wrapping_add(0x12 + 2 * i as u32))? as u32;
            }
            let mut sel = [0u16; 6];
            for (i, s) in sel.iter_mut().take(4).enumerate() {
                *s = self.read_system16(base.wrapping_add(0x22 + 2 * i as u32))?;
            }
            Ok(TaskState {
                cr3: self.cr.cr3,
                eip: self.read_system16(base.wrapping_add(0x0E))? as u32,
                eflags: self.read_system16(base.wrapping_add(0x10))? as u32,
                gpr,
                sel,
                ldt: self.read_system16(base.wrapping_add(0x2A))?,
                trap: false,
            })
        }
    }

    /// Saves the current task's registers into its TSS.
    fn save_task_state(&mut self, eip: u32, eflags: u32) -> Exec {
        let base = self.tr.base;
        if is_tss32(self.tr.attrs as u8 & 0xF) {
            self.write_system32(base.wrapping_add(0x20), eip)?;
            self.write_system32(base.wrapping_add(0x24), eflags)?;
            for i in 0..8 {
                let v = self.gpr[i];
                self.write_system32(base.wrapping_add(0x28 + 4 * i as u32), v)?;
            }
            for i in 0..6 {
                let s = self.seg[i].selector;
                self.write_system16(base.wrapping_add(0x48 + 4 * i as u32), s)?;
            }
        } else {
            self.write_system16(base.wrapping_add(0x0E), eip as u16)?;
            self.write_system16(base.wrapping_add(0x10), eflags as u16)?;
            for i in 0..8 {
                let v = self.gpr[i] as u16;
                self.write_system16(base.wrapping_add(0x12 + 2 * i as u32), v)?;
            }
            for i in 0..4 {
                let s = self.seg[i].selector;
                self.write_system16(base.wrapping_add(0x22 + 2 * i as u32), s)?;
            }
        }
        Ok(())
    }

    /// Switches to the task whose TSS descriptor `d` was selected by `sel`. `ret` is the EIP
    /// saved for the outgoing task; `error_code` is pushed on the new task's stack (an
    /// exception through a task gate).
    pub(crate) fn switch_task(
        &mut self,
        sel: u16,
        d: Descriptor,
        source: TaskSwitch,
        ret: u32,
        error_code: Option<u32>,
    ) -> Exec {
        let new32 = is_tss32(d.typ());
        let min_limit = if new32 { 0x67 } else { 0x2B };
        if d.limit() < min_limit {
            return Err(Exception::ts(sel_error(sel)));
        }
        let new = self.read_task_state(&d)?;
        // Probe everything the switch writes (the old TSS's dynamic fields, the new TSS's
        // back link) so that a page fault there happens before any state changes.
        let (first, last) = if is_tss32(self.tr.attrs as u8 & 0xF) {
            (0x20, 0x5F)
        } else {
            (0x0E, 0x29)
        };
        self.translate_system(self.tr.base.wrapping_add(first), true)?;
        self.translate_system(self.tr.base.wrapping_add(last), true)?;
        if matches!(source, TaskSwitch::Call | TaskSwitch::Interrupt) {
            self.translate_system(d.base(), true)?;
            self.translate_system(d.base().wrapping_add(1), true)?;
        }

        // Save the outgoing task.
        let old_sel = self.tr.selector;
        let mut old_flags = self.eflags();
        if source == TaskSwitch::Iret {
            old_flags &= !Flags::NT.bits();
        }
        if matches!(source, TaskSwitch::Jump | TaskSwitch::Iret) {
            self.set_tss_busy(old_sel, false)?;
        }
        self.save_task_state(ret, old_flags)?;

        // Link the tasks and mark the new one busy.
        let mut new_flags = new.eflags;
        if matches!(source, TaskSwitch::Call | TaskSwitch::Interrupt) {
            self.write_system16(d.base(), old_sel)?;
            new_flags |= Flags::NT.bits();
        }
        if source != TaskSwitch::Iret {
            self.set_tss_busy(sel, true)?;
        }
        let mut tr = d.to_segment(sel);
        tr.attrs |= 2;
        self.tr = tr;
        self.cr.cr0 |= Cr0::TS.bits();
        // Local breakpoint enables belong to the old task.
        self.dr[7] &= !super::debug::DR7_LOCAL;
        self.update_debug_state();

        // Load the incoming task: from here on, faults belong to the new task.
        if new32 && self.paging() {
            self.cr.cr3 = new.cr3;
            let keep_global = self.cr.cr4 & (1 << 7) != 0;
            self.flush_tlb(keep_global);
        }
        // A 16-bit TSS holds FLAGS only: the upper EFLAGS bits (VM among them) are cleared.
        let flags = if new32 { new_flags } else { new_flags & 0xFFFF };
        self.load_eflags_raw(flags | self.model.flags_fixed_ones());
        self.gpr = new.gpr;
        self.eip = new.eip;
        self.next_eip = new.eip;
        // Selectors first (so the new task's state is visible even if a load faults),
        // with caches that fault on use until validated.
        for (i, &s) in new.sel.iter().enumerate() {
            self.seg[i] = super::protected::null_segment(s);
        }
        self.ldtr = Segment {
            selector: new.ldt,
            base: 0,
            limit: 0,
            attrs: 0,
        };
        self.load_task_segments(&new)?;
        if new.eip > self.seg[Seg::Cs as usize].limit {
            return Err(Exception::gp(0));
        }
        if let Some(code) = error_code {
            if new32 {
                self.push32(code)?;
            } else {
                self.push16(code as u16)?;
            }
        }
        if new.trap {
            self.pending_task_trap = true;
        }
        Ok(())
    }

    /// Validates and loads LDTR and the segment registers of the new task (#TS/#NP/#SS
    /// with the offending selector).
    fn load_task_segments(&mut self, new: &TaskState) -> Exec {
        // LDTR: null, or an LDT descriptor in the GDT.
        if new.ldt & !3 != 0 {
            if new.ldt & 4 != 0 {
                return Err(Exception::ts(sel_error(new.ldt)));
            }
            let d = self
                .read_descriptor(new.ldt)
                .map_err(|_| Exception::ts(sel_error(new.ldt)))?;
            if d.is_segment() || d.typ() != 2 {
                return Err(Exception::ts(sel_error(new.ldt)));
            }
            if !d.present() {
                return Err(Exception::ts(sel_error(new.ldt)));
            }
            self.ldtr = d.to_segment(new.ldt);
        }
        if self.in_v86() {
            for (i, &s) in new.sel.iter().enumerate() {
                self.seg[i] = super::v86::v86_segment(s);
            }
            self.refresh_fast_key();
            return Ok(());
        }
        let [es, cs, ss, ds, fs, gs] = new.sel;
        // CS decides the new CPL.
        if cs & !3 == 0 {
            return Err(Exception::ts(0));
        }
        let cd = self
            .read_descriptor(cs)
            .map_err(|_| Exception::ts(sel_error(cs)))?;
        let rpl = (cs & 3) as u8;
        let ok = cd.is_code()
            && if cd.conforming() {
                cd.dpl() <= rpl
            } else {
                cd.dpl() == rpl
            };
        if !ok {
            return Err(Exception::ts(sel_error(cs)));
        }
        if !cd.present() {
            return Err(Exception::np(sel_error(cs)));
        }
        self.seg[Seg::Cs as usize] = cd.to_segment(cs);
        self.refresh_fast_key();
        let cpl = rpl;
        // SS: a writable data segment at exactly the new CPL.
        if ss & !3 == 0 {
            return Err(Exception::ts(0));
        }
        let sd = self
            .read_descriptor(ss)
            .map_err(|_| Exception::ts(sel_error(ss)))?;
        if (ss & 3) as u8 != cpl || sd.dpl() != cpl || !sd.writable_data() {
            return Err(Exception::ts(sel_error(ss)));
        }
        if !sd.present() {
            return Err(Exception::ss(sel_error(ss)));
        }
        self.seg[Seg::Ss as usize] = sd.to_segment(ss);
        for (seg, s) in [(Seg::Ds, ds), (Seg::Es, es), (Seg::Fs, fs), (Seg::Gs, gs)] {
            if s & !3 == 0 {
                continue;
            }
            let dd = self
                .read_descriptor(s)
                .map_err(|_| Exception::ts(sel_error(s)))?;
            if !dd.readable() || !dd.is_segment() {
                return Err(Exception::ts(sel_error(s)));
            }
            let privileged = dd.is_data() || !dd.conforming();
            if privileged && (dd.dpl() < cpl || dd.dpl() < (s & 3) as u8) {
                return Err(Exception::ts(sel_error(s)));
            }
            if !dd.present() {
                return Err(Exception::np(sel_error(s)));
            }
            self.seg[seg as usize] = dd.to_segment(s);
        }
        Ok(())
    }
}
