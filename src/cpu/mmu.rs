//! Paging: the two-level page walk (4 KiB pages, PSE 4 MiB pages, global pages, CR0.WP),
//! accessed/dirty bits, #PF error codes and CR2, and a software TLB that turns a hit into a
//! compare and an add.
//!
//! The TLB is direct-mapped by linear page number. An entry keeps the physical page and what
//! the walk allowed (user access, supervisor write, user write, dirty already set), so every
//! access decides its permission from the entry and the current CPL without walking again.

use super::exception::{self, Exception};
use super::state::{Cr0, Seg, ATTR_DB};
use super::Cpu;
use crate::mem::FastWrites;

const TLB_SIZE: usize = 1024;
const VALID: u32 = 1;

const PTE_P: u32 = 1;
const PTE_RW: u32 = 2;
const PTE_US: u32 = 4;
const PTE_A: u32 = 0x20;
const PTE_D: u32 = 0x40;
const PDE_PS: u32 = 0x80;
const PTE_G: u32 = 0x100;

const CR4_PSE: u32 = 1 << 4;
const CR4_PGE: u32 = 1 << 7;

/// Permission bits of a TLB entry.
const USER: u8 = 1;
const WRITE_USER: u8 = 2;
const WRITE_SUPERVISOR: u8 = 4;
const DIRTY: u8 = 8;
const GLOBAL: u8 = 16;

#[derive(Clone, Copy, Default)]
struct Entry {
    /// Linear page number << 12 | the flush generation (`Tlb::gen`) | VALID.
    tag: u32,
    /// Physical page base.
    phys: u32,
    perms: u8,
}

/// A host fast-path entry: for linear page `page`, RAM offset `host` may be read when the
/// access's tag (page | 1 | user << 1) equals `rtag`, written when it equals `wtag`. Only
/// plain RAM is ever entered (see `Memory::fast_page`), so a hit is a compare and an add.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fast {
    page: u32,
    pub(crate) rtag: u32,
    pub(crate) wtag: u32,
    /// Write tag for a page that holds decoded code: writes skip the walk but go through
    /// `Memory::note_code_page_write`, which notices writes to decoded lines.
    pub(crate) ctag: u32,
    pub(crate) host: u32,
}

pub struct Tlb {
    entries: Box<[Entry; TLB_SIZE]>,
    pub(crate) fast: Box<[Fast; TLB_SIZE]>,
    /// The tag bits every fast-path access compares against, cached: `gen | user << 1 |
    /// 1`, where `user` is whether CPL was 3 when it was last refreshed. Refreshed wherever
    /// CS, CR0 or EFLAGS.VM change and whenever the run loop re-checks the fetch context. A
    /// stale user bit after entering ring 0 only makes fewer accesses hit (user-tagged pages
    /// are also open to the supervisor); entries are always filled with the true CPL.
    pub(crate) fast_key: u32,
    /// Flush generation of all entries, in tag bits 2-11: a flush bumps it instead of
    /// clearing the arrays (cleared only when it wraps).
    pub(crate) gen: u32,
    /// Bumped by every flush and invalidation: chained blocks (which skip the fetch
    /// translation) are followed only while it is unchanged.
    pub(crate) epoch: u32,
}

impl Default for Tlb {
    fn default() -> Self {
        Tlb {
            entries: Box::new([Entry::default(); TLB_SIZE]),
            fast: Box::new([Fast::default(); TLB_SIZE]),
            fast_key: VALID,
            gen: 0,
            epoch: 0,
        }
    }
}

impl Tlb {
    /// Drops all entries, or all but the global ones.
    pub fn flush(&mut self, keep_global: bool) {
        self.epoch = self.epoch.wrapping_add(1);
        let old = self.gen;
        self.gen = (old + 4) & 0xFFC;
        self.fast_key = self.gen | (self.fast_key & 2) | VALID;
        let wrapped = self.gen == 0;
        if wrapped {
            self.drop_fast();
        }
        if !(keep_global || wrapped) {
            return;
        }
        // Global entries of the old generation move to the new one; on a wrap, everything
        // else is cleared (its generation would come back).
        for e in self.entries.iter_mut() {
            let live = e.tag & 0xFFF == old | VALID;
            if keep_global && live && e.perms & GLOBAL != 0 {
                e.tag = (e.tag & !0xFFF) | self.gen | VALID;
            } else if wrapped {
                e.tag = 0;
            }
        }
    }

    pub fn invalidate(&mut self, linear: u32) {
        self.epoch = self.epoch.wrapping_add(1);
        self.fast[(linear >> 12) as usize % TLB_SIZE] = Fast::default();
        let e = &mut self.entries[(linear >> 12) as usize % TLB_SIZE];
        if e.tag & !0xFFF == linear & !0xFFF {
            e.tag = 0;
        }
    }
}

impl Tlb {
    /// Index of the fast-path entry for `linear`.
    #[inline(always)]
    pub(crate) fn fast_index(linear: u32) -> usize {
        (linear >> 12) as usize % TLB_SIZE
    }

    /// Withdraws every fast-path write permission (a page just started holding code, so
    /// writes to it must be seen by the decode cache).
    pub fn drop_fast_writes(&mut self) {
        self.fast.iter_mut().for_each(|f| f.wtag = 0);
    }

    /// Drops all fast-path entries (breakpoints need every access on the checked path).
    pub fn drop_fast(&mut self) {
        self.fast.iter_mut().for_each(|f| *f = Fast::default());
    }
}

/// What kind of access is being translated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Fetch,
}

impl Cpu {
    #[inline(always)]
    pub fn paging(&self) -> bool {
        self.cr.cr0 & Cr0::PG.bits() != 0
    }

    /// Translates a linear address for an access at the current privilege level.
    #[inline(always)]
    pub fn translate_access(&mut self, linear: u32, access: Access) -> Result<u32, Exception> {
        if !self.paging() {
            return Ok(linear);
        }
        let user = self.cpl() == 3;
        self.translate_paged(linear, access, user)
    }

    /// Recomputes the cached fast-path key from the current privilege level (see
    /// `Tlb::fast_key`).
    #[inline]
    pub(crate) fn refresh_fast_key(&mut self) {
        self.tlb.fast_key = self.tlb.gen | ((self.cpl() == 3) as u32) << 1 | VALID;
        self.refresh_flat_data();
    }

    /// Recomputes `flat_data` from the segment caches. Called with `refresh_fast_key`: on
    /// every pass of the run loop that re-checks the fetch context (after every fault,
    /// interrupt and far transfer, the instructions that load segments as a side effect,
    /// which all end their block); segment register loads of their own refresh their bit.
    pub(crate) fn refresh_flat_data(&mut self) {
        // CS's bit stays clear (see `refresh_flat_bit`); skipping it saves a refresh on
        // every far transfer and interrupt.
        for seg in [Seg::Es, Seg::Ss, Seg::Ds, Seg::Fs, Seg::Gs] {
            self.refresh_flat_bit(seg);
        }
    }

    /// Recomputes the `flat_data` bit of `seg`. CS's bit stays clear: CS is reached through
    /// the checked paths only, and far transfers change it without a refresh.
    #[inline]
    pub(crate) fn refresh_flat_bit(&mut self, seg: Seg) {
        let s = &self.seg[seg as usize];
        let flat = seg != Seg::Cs
            && s.base == 0
            && s.limit == u32::MAX
            && s.attrs & (ATTR_DB | 0x1E) == ATTR_DB | 0x12;
        let bit = 1 << seg as u8;
        self.flat_data = (self.flat_data & !bit) | if flat { bit } else { 0 };
    }

    /// Translates the linear address of a checked data access at the current privilege
    /// level and lets later accesses to the page take the fast path: reads, and writes too
    /// when the TLB entry already allows them without a walk (writable at this privilege
    /// level, dirty bit set), so a read-modify-write of a fresh page walks only once.
    #[inline(always)]
    pub(crate) fn translate_data(&mut self, linear: u32, write: bool) -> Result<u32, Exception> {
        let user = self.cpl() == 3;
        if !self.paging() {
            self.fill_fast(linear, linear, user, true);
            return Ok(linear);
        }
        let access = if write { Access::Write } else { Access::Read };
        let phys = self.translate_paged(linear, access, user)?;
        // `translate_paged` left the entry for `linear` in the TLB.
        let perms = self.tlb.entries[Tlb::fast_index(linear)].perms;
        let write_bit = if user { WRITE_USER } else { WRITE_SUPERVISOR };
        let writable = perms & DIRTY != 0 && perms & write_bit != 0;
        self.fill_fast(linear, phys, user, writable);
        Ok(phys)
    }

    /// Enters page `linear` → `phys` in the fast path for privilege `user`: for reads when
    /// the page is RAM, for writes too when `writable` and the page takes them (plain RAM,
    /// or a page holding code through the code-write tag).
    #[inline]
    fn fill_fast(&mut self, linear: u32, phys: u32, user: bool, writable: bool) {
        if self.debug_active || self.model == super::model::CpuModel::I8086 {
            return;
        }
        let Some((host, writes)) = self.mem.fast_page(phys) else {
            return;
        };
        let tag = (linear & !0xFFF) | self.tlb.gen | (user as u32) << 1 | VALID;
        let f = &mut self.tlb.fast[Tlb::fast_index(linear)];
        let page = (linear & !0xFFF) | 1;
        if f.page != page || f.host != host {
            *f = Fast {
                page,
                rtag: 0,
                wtag: 0,
                ctag: 0,
                host,
            };
        }
        f.rtag = tag;
        if writable {
            match writes {
                FastWrites::Plain => f.wtag = tag,
                FastWrites::Code => f.ctag = tag,
                FastWrites::Never => {}
            }
        }
    }

    /// Translates an access to a system structure (GDT, LDT, IDT, TSS): always supervisor.
    #[inline(always)]
    pub fn translate_system(&mut self, linear: u32, write: bool) -> Result<u32, Exception> {
        if !self.paging() {
            return Ok(linear);
        }
        let access = if write { Access::Write } else { Access::Read };
        self.translate_paged(linear, access, false)
    }

    #[inline(always)]
    fn translate_paged(
        &mut self,
        linear: u32,
        access: Access,
        user: bool,
    ) -> Result<u32, Exception> {
        let e = self.tlb.entries[(linear >> 12) as usize % TLB_SIZE];
        if e.tag == (linear & !0xFFF) | self.tlb.gen | VALID {
            let allowed = match access {
                Access::Read | Access::Fetch => !user || e.perms & USER != 0,
                Access::Write => {
                    e.perms & DIRTY != 0
                        && if user {
                            e.perms & WRITE_USER != 0
                        } else {
                            e.perms & WRITE_SUPERVISOR != 0
                        }
                }
            };
            if allowed {
                return Ok(e.phys | (linear & 0xFFF));
            }
        }
        self.walk(linear, access, user)
    }

    /// Walks the page tables, sets accessed/dirty bits, fills the TLB, or raises #PF.
    #[cold]
    fn walk(&mut self, linear: u32, access: Access, user: bool) -> Result<u32, Exception> {
        let write = access == Access::Write;
        let pde_addr = (self.cr.cr3 & !0xFFF) | (linear >> 20 & 0xFFC);
        let pde = self.mem.read_u32_in_page(pde_addr);
        if pde & PTE_P == 0 {
            return Err(self.page_fault(linear, false, write, user));
        }
        let big = pde & PDE_PS != 0 && self.cr.cr4 & CR4_PSE != 0;
        let (pte_addr, pte) = if big {
            (pde_addr, pde)
        } else {
            let a = (pde & !0xFFF) | (linear >> 10 & 0xFFC);
            (a, self.mem.read_u32_in_page(a))
        };
        if pte & PTE_P == 0 {
            return Err(self.page_fault(linear, false, write, user));
        }
        // Both levels must allow user access / writes; CR0.WP makes read-only pages
        // read-only for the supervisor too.
        let both = pde & pte;
        let user_ok = both & PTE_US != 0;
        let rw = both & PTE_RW != 0;
        let wp = self.cr.cr0 & Cr0::WP.bits() != 0;
        let mut perms = 0;
        if user_ok {
            perms |= USER;
            if rw {
                perms |= WRITE_USER;
            }
        }
        if rw || !wp {
            perms |= WRITE_SUPERVISOR;
        }
        let allowed = if write {
            perms & if user { WRITE_USER } else { WRITE_SUPERVISOR } != 0
        } else {
            !user || user_ok
        };
        if !allowed {
            return Err(self.page_fault(linear, true, write, user));
        }
        // Accessed bits on both levels, dirty on the final level for writes (each entry
        // written once with all its new bits).
        if !big && pde & PTE_A == 0 {
            self.mem.write_u32(pde_addr, pde | PTE_A);
        }
        let set = if write { PTE_A | PTE_D } else { PTE_A };
        if pte & set != set {
            self.mem.write_u32(pte_addr, pte | set);
        }
        let pte = pte | set;
        let phys_page = if big {
            (pte & 0xFFC0_0000) | (linear & 0x003F_F000)
        } else {
            pte & !0xFFF
        };
        if pte & PTE_D != 0 {
            perms |= DIRTY;
        }
        if pte & PTE_G != 0 && self.cr.cr4 & CR4_PGE != 0 {
            perms |= GLOBAL;
        }
        self.tlb.entries[Tlb::fast_index(linear)] = Entry {
            tag: (linear & !0xFFF) | self.tlb.gen | VALID,
            phys: phys_page,
            perms,
        };
        Ok(phys_page | (linear & 0xFFF))
    }

    /// Records a page fault at `linear` in CR2 and builds its exception with the error code
    /// (present, write, user).
    #[cold]
    fn page_fault(&mut self, linear: u32, present: bool, write: bool, user: bool) -> Exception {
        self.cr.cr2 = linear;
        let code = present as u32 | (write as u32) << 1 | (user as u32) << 2;
        Exception::with_code(exception::PF, code)
    }

    /// Translates a linear address for a debugger or tracer: no permission checks, no
    /// accessed bits, no TLB fill, no fault (`None` for a page that is not present).
    pub fn peek_linear(&self, linear: u32) -> Option<u32> {
        if !self.paging() {
            return Some(linear);
        }
        let pde = self
            .mem
            .read_u32((self.cr.cr3 & !0xFFF) | (linear >> 20 & 0xFFC));
        if pde & PTE_P == 0 {
            return None;
        }
        if pde & PDE_PS != 0 && self.cr.cr4 & CR4_PSE != 0 {
            return Some((pde & 0xFFC0_0000) | (linear & 0x003F_FFFF));
        }
        let pte = self.mem.read_u32((pde & !0xFFF) | (linear >> 10 & 0xFFC));
        if pte & PTE_P == 0 {
            return None;
        }
        Some((pte & !0xFFF) | (linear & 0xFFF))
    }

    /// A byte of guest memory at a linear address, read without side effects.
    pub fn peek_code_byte(&self, linear: u32) -> Option<u8> {
        self.peek_linear(linear).map(|p| self.mem.read_u8(p))
    }

    /// Flushes the TLB (keeping global pages when `keep_global`).
    pub fn flush_tlb(&mut self, keep_global: bool) {
        self.tlb.flush(keep_global);
    }

    pub fn invlpg(&mut self, linear: u32) {
        self.tlb.invalidate(linear);
    }
}
