//! Virtual-8086 mode: entering it through IRET, leaving it through interrupts, the
//! IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) and the virtual
//! interrupt flag extensions (CR4.VME in V86 mode, CR4.PVI at CPL 3).
//!
//! In V86 mode the segment registers hold real-mode style caches (base = selector * 16,
//! limit 0xFFFF, DPL 3 read/write data), CPL is 3 and paging applies user-mode checks.

use super::exception::{Exception, Exec};
use super::state::{Flags, Seg, Segment, ESP};
use super::Cpu;

/// CR4 bits this module reads.
pub const CR4_VME: u32 = 1 << 0;
pub const CR4_PVI: u32 = 1 << 1;

/// The descriptor cache every V86 segment register holds: present, DPL 3, read/write data,
/// accessed, 16-bit, 64 KiB.
pub fn v86_segment(selector: u16) -> Segment {
    Segment {
        selector,
        base: (selector as u32) << 4,
        limit: 0xFFFF,
        attrs: 0xF3,
    }
}

/// How an IOPL-sensitive flag instruction behaves in the current mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagAccess {
    /// Operates on the real IF.
    Real,
    /// Operates on VIF instead (VME in V86 mode, PVI at CPL 3).
    Virtual,
    /// Raises #GP(0).
    Fault,
}

impl Cpu {
    pub fn in_v86(&self) -> bool {
        self.eflags & Flags::VM.bits() != 0
    }

    fn iopl(&self) -> u8 {
        ((self.eflags >> 12) & 3) as u8
    }

    /// CLI and STI: allowed when CPL <= IOPL; otherwise VME (V86) or PVI (CPL 3, protected)
    /// redirect them to VIF, and everything else faults.
    pub fn cli_sti_access(&self) -> FlagAccess {
        if !self.protected_mode() {
            return FlagAccess::Real;
        }
        let iopl = self.iopl();
        if self.in_v86() {
            if iopl == 3 {
                FlagAccess::Real
            } else if self.cr.cr4 & CR4_VME != 0 {
                FlagAccess::Virtual
            } else {
                FlagAccess::Fault
            }
        } else {
            let cpl = self.cpl();
            if cpl <= iopl {
                FlagAccess::Real
            } else if cpl == 3 && self.cr.cr4 & CR4_PVI != 0 {
                FlagAccess::Virtual
            } else {
                FlagAccess::Fault
            }
        }
    }

    /// PUSHF/POPF/IRET in V86 mode: real with IOPL 3, virtual for the 16-bit forms under
    /// VME, faulting otherwise. Outside V86 mode they are never IOPL-sensitive.
    pub fn v86_flags_access(&self, size32: bool) -> FlagAccess {
        if !self.in_v86() || self.iopl() == 3 {
            FlagAccess::Real
        } else if !size32 && self.cr.cr4 & CR4_VME != 0 {
            FlagAccess::Virtual
        } else {
            FlagAccess::Fault
        }
    }

    /// The FLAGS image PUSHF stores under VME: IF replaced by VIF, IOPL reading as 3.
    pub fn virtual_flags_image(&self) -> u16 {
        let f = self.eflags();
        let vif = f & Flags::VIF.bits() != 0;
        let mut img = (f & 0xFFFF & !Flags::IF.bits()) | Flags::IOPL.bits();
        if vif {
            img |= Flags::IF.bits();
        }
        img as u16
    }

    /// POPF/IRET under VME: the popped IF goes to VIF; IF and IOPL stay. Setting TF, or
    /// enabling interrupts while one is pending (VIP), faults.
    pub fn load_virtual_flags(&mut self, value: u16) -> Exec {
        let value = value as u32;
        let sets_if = value & Flags::IF.bits() != 0;
        if value & Flags::TF.bits() != 0 || (sets_if && self.eflags & Flags::VIP.bits() != 0) {
            return Err(Exception::gp(0));
        }
        let keep = Flags::IF.bits() | Flags::IOPL.bits();
        let writable = self.model.flags_writable() & 0xFFFF & !keep;
        crate::cpu::exec::stack::write_flags(self, value, writable);
        self.set_flag(Flags::VIF, sets_if);
        Ok(())
    }

    /// STI through VIF: a pending virtual interrupt makes it fault so the monitor can
    /// deliver it.
    pub fn set_virtual_if(&mut self, on: bool) -> Exec {
        if on && self.eflags & Flags::VIP.bits() != 0 {
            return Err(Exception::gp(0));
        }
        self.set_flag(Flags::VIF, on);
        Ok(())
    }

    /// IRETD from ring 0 with VM set in the popped EFLAGS: pops EIP, CS, EFLAGS, ESP, SS,
    /// ES, DS, FS, GS and continues in virtual-8086 mode at CPL 3.
    pub(crate) fn iret_to_v86(&mut self) -> Exec {
        let mut v = [0u32; 9];
        for (i, slot) in v.iter_mut().enumerate() {
            *slot = self.peek32(i as u32 * 4)?;
        }
        let [eip, cs, flags, esp, ss, es, ds, fs, gs] = v;
        if eip & 0xFFFF_0000 != 0 {
            return Err(Exception::gp(0));
        }
        let writable = self.model.flags_writable()
            | Flags::VM.bits()
            | Flags::RF.bits()
            | Flags::VIF.bits()
            | Flags::VIP.bits();
        crate::cpu::exec::stack::write_flags(self, flags | Flags::VM.bits(), writable);
        for (seg, sel) in [
            (Seg::Cs, cs),
            (Seg::Ss, ss),
            (Seg::Es, es),
            (Seg::Ds, ds),
            (Seg::Fs, fs),
            (Seg::Gs, gs),
        ] {
            self.seg[seg as usize] = v86_segment(sel as u16);
        }
        self.gpr[ESP] = esp;
        self.eip = eip;
        self.next_eip = eip;
        Ok(())
    }

    /// INT n in V86 mode. Without VME it is IOPL-sensitive; with VME the TSS interrupt
    /// redirection bitmap decides whether the vector is handled by the guest's own IVT
    /// (virtual-8086 style, IF virtualised when IOPL < 3) or by the protected-mode IDT.
    pub(crate) fn v86_software_interrupt(&mut self, vector: u8, ret: u32) -> Exec {
        let iopl3 = self.iopl() == 3;
        if self.cr.cr4 & CR4_VME != 0 && !self.redirection_bit(vector)? {
            return self.v86_redirect_interrupt(vector, ret, iopl3);
        }
        if !iopl3 {
            return Err(Exception::gp(0));
        }
        self.deliver_through_idt(vector, ret, None, true)
    }

    /// Bit `vector` of the 32-byte interrupt redirection bitmap just below the I/O bitmap
    /// of the (32-bit) TSS: set means "not redirected".
    fn redirection_bit(&mut self, vector: u8) -> Result<bool, Exception> {
        let tss32 = self.tr.attrs & 0x8 != 0;
        if !tss32 || self.tr.limit < 0x67 {
            return Err(Exception::gp(0));
        }
        let io_base = self.read_system32(self.tr.base.wrapping_add(0x64))? >> 16;
        let off = io_base.wrapping_sub(32).wrapping_add(vector as u32 / 8);
        if off > self.tr.limit {
            return Err(Exception::gp(0));
        }
        let byte = self.read_system32(self.tr.base.wrapping_add(off & !3))? >> ((off & 3) * 8);
        Ok(byte >> (vector % 8) & 1 != 0)
    }

    /// Delivers a software interrupt through the real-mode style vector table at linear
    /// address 0 without leaving V86 mode.
    fn v86_redirect_interrupt(&mut self, vector: u8, ret: u32, iopl3: bool) -> Exec {
        let entry = vector as u32 * 4;
        let ip = self.read_linear_user16(entry)?;
        let cs = self.read_linear_user16(entry + 2)?;
        let image = if iopl3 {
            self.eflags() as u16
        } else {
            self.virtual_flags_image()
        };
        let old_cs = self.seg[Seg::Cs as usize].selector;
        let saved_esp = self.gpr[ESP];
        let frame = [image, old_cs, ret as u16];
        for v in frame {
            if let Err(e) = self.push16(v) {
                self.gpr[ESP] = saved_esp;
                return Err(e);
            }
        }
        if iopl3 {
            self.set_flag(Flags::IF, false);
        } else {
            self.set_flag(Flags::VIF, false);
        }
        self.set_flag(Flags::TF, false);
        self.set_flag(Flags::RF, false);
        self.seg[Seg::Cs as usize] = v86_segment(cs);
        self.refresh_fast_key();
        self.eip = ip as u32;
        self.next_eip = ip as u32;
        Ok(())
    }

    /// A word at a linear address read with user privilege (the V86 task's own IVT).
    fn read_linear_user16(&mut self, addr: u32) -> Result<u16, Exception> {
        let lo = self.translate_access(addr, super::mmu::Access::Read)?;
        let hi = self.translate_access(addr.wrapping_add(1), super::mmu::Access::Read)?;
        Ok(self.mem.read_u8(lo) as u16 | (self.mem.read_u8(hi) as u16) << 8)
    }

    /// Interrupt or exception from V86 mode through an IDT interrupt/trap gate: the
    /// handler must be a ring-0 non-conforming segment; the ring-0 stack comes from the
    /// TSS and receives GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP (and the error code);
    /// the data segment registers are then cleared.
    pub(crate) fn deliver_from_v86(
        &mut self,
        gate: super::protected::Descriptor,
        target_sel: u16,
        target: super::protected::Descriptor,
        ret: u32,
        error_code: Option<u32>,
    ) -> Exec {
        let gate32 = gate.typ() & 8 != 0;
        let trap_gate = gate.typ() & 1 != 0;
        let offset = gate.gate_offset();
        if target.conforming() || target.dpl() != 0 {
            return Err(Exception::gp(target_sel as u32 & 0xFFFC));
        }
        let flags = self.eflags();
        let (ss, esp) = self.tss_stack(0)?;
        let ssd = self.check_stack_segment(ss, 0)?;
        let saved = (self.seg, self.gpr[ESP], self.eflags);
        let old = self.seg;
        let mut frame = [0u32; 10];
        let mut n = 0;
        for v in [
            old[Seg::Gs as usize].selector as u32,
            old[Seg::Fs as usize].selector as u32,
            old[Seg::Ds as usize].selector as u32,
            old[Seg::Es as usize].selector as u32,
            old[Seg::Ss as usize].selector as u32,
            self.gpr[ESP],
            flags,
            old[Seg::Cs as usize].selector as u32,
            ret,
        ] {
            frame[n] = v;
            n += 1;
        }
        if let Some(code) = error_code {
            frame[n] = code;
            n += 1;
        }
        // Leave V86 mode first so the pushes are supervisor accesses at CPL 0.
        self.eflags &= !Flags::VM.bits();
        self.seg[Seg::Ss as usize] = ssd.to_segment(ss);
        self.gpr[ESP] = esp;
        let r = self
            .push_frame_at_cpl(gate32, &frame[..n], 0)
            .and_then(|_| self.enter_code_segment(target_sel, target, 0, offset));
        if let Err(e) = r {
            (self.seg, self.gpr[ESP], self.eflags) = saved;
            self.refresh_fast_key();
            return Err(e);
        }
        for seg in [Seg::Es, Seg::Ds, Seg::Fs, Seg::Gs] {
            self.seg[seg as usize] = super::protected::null_segment(0);
        }
        let mut clear = Flags::TF.bits() | Flags::NT.bits() | Flags::RF.bits();
        if !trap_gate {
            clear |= Flags::IF.bits();
        }
        self.eflags &= !clear;
        Ok(())
    }
}
