//! Interrupt and exception delivery: the real-mode vector table, protected-mode gates
//! (protected.rs, task.rs, v86.rs), and the double/triple fault rules.

use super::exception::{self, Exception};
use super::model::CpuModel;
use super::state::{Flags, Seg};
use super::Cpu;

/// The double-fault rule: contributory then contributory, or #PF then contributory or
/// #PF. Anything else is delivered as the second exception alone.
fn makes_double_fault(first: u8, second: u8) -> bool {
    let contributory = |v: u8| {
        matches!(
            v,
            exception::DE | exception::TS | exception::NP | exception::SS | exception::GP
        )
    };
    let pf = |v: u8| v == exception::PF;
    (contributory(first) && contributory(second))
        || (pf(first) && (contributory(second) || pf(second)))
}

impl Cpu {
    /// Delivers interrupt `vector` with `ret_eip` as the return address. On return CS:EIP
    /// (and `next_eip`) point at the handler. Faults during delivery escalate to a double
    /// fault and then a triple fault (`Err`).
    pub fn deliver_interrupt(
        &mut self,
        vector: u8,
        ret_eip: u32,
        error_code: Option<u32>,
    ) -> Result<(), Exception> {
        match self.deliver_once(vector, ret_eip, error_code) {
            Ok(()) => Ok(()),
            Err(e) if vector == exception::DF => Err(e),
            Err(e) if makes_double_fault(vector, e.vector()) => {
                self.deliver_once(exception::DF, ret_eip, Some(0))
            }
            // A benign first event: the fault of its delivery is handled on its own
            // (delivery faults are contributory or #PF, so this recursion is shallow).
            Err(e) => self.deliver_interrupt(e.vector(), ret_eip, e.error_code()),
        }
    }

    fn deliver_once(
        &mut self,
        vector: u8,
        ret_eip: u32,
        error_code: Option<u32>,
    ) -> Result<(), Exception> {
        if self.protected_mode() {
            return self.deliver_protected(vector, ret_eip, error_code);
        }
        self.deliver_real(vector, ret_eip)
    }

    fn deliver_real(&mut self, vector: u8, ret_eip: u32) -> Result<(), Exception> {
        let entry = vector as u32 * 4;
        if self.model >= CpuModel::I286 && entry + 3 > self.idtr.limit as u32 {
            return Err(Exception::gp(entry | 2));
        }
        let addr = self.idtr.base.wrapping_add(entry);
        // Real mode: paging is off, the IVT is read at its linear (= physical) address.
        let new_ip = self.mem.read_u16(addr);
        let new_cs = self.mem.read_u16(addr.wrapping_add(2));
        let flags = self.eflags();
        let cs = self.seg[Seg::Cs as usize].selector;
        self.push16(flags as u16)?;
        self.push16(cs)?;
        self.push16(ret_eip as u16)?;
        let mut clear = Flags::IF.bits() | Flags::TF.bits();
        if self.model >= CpuModel::I486 {
            clear |= Flags::AC.bits();
        }
        self.eflags &= !clear;
        self.load_seg_real(Seg::Cs, new_cs);
        self.eip = new_ip as u32;
        self.next_eip = self.eip;
        Ok(())
    }

    fn deliver_protected(
        &mut self,
        vector: u8,
        ret: u32,
        code: Option<u32>,
    ) -> Result<(), Exception> {
        self.deliver_through_idt(vector, ret, code, false)
    }

    /// INT n, INT3 and INTO: in protected mode the gate's DPL must allow the current CPL.
    pub fn deliver_software_interrupt(&mut self, vector: u8, ret: u32) -> Result<(), Exception> {
        if self.protected_mode() {
            match self.deliver_through_idt(vector, ret, None, true) {
                Ok(()) => return Ok(()),
                // A fault of the delivery itself is reported for the INT instruction.
                Err(e) => return Err(e),
            }
        }
        self.deliver_interrupt(vector, ret, None)
    }
}
