//! Memory access through segments: limit checks, linear → physical translation, and the
//! stack primitives every push and pop goes through.

use super::exception::{Exception, Exec};
use super::mmu::{Access, Tlb};
use super::model::CpuModel;
use super::state::{Seg, ESP};
use super::Cpu;

impl Cpu {
    /// Checks `size` bytes at `off` against the segment's type and limit and returns the
    /// linear address of the first byte. The fast path takes expand-up data segments
    /// (writable ones for writes); everything else goes to the slow path.
    #[inline(always)]
    pub(crate) fn seg_check<const WRITE: bool>(
        &self,
        seg: Seg,
        off: u32,
        size: u32,
    ) -> Result<u32, Exception> {
        let s = &self.seg[seg as usize];
        let last = off.wrapping_add(size - 1);
        let (mask, want) = if WRITE { (0x1E, 0x12) } else { (0x1C, 0x10) };
        if last >= off && last <= s.limit && s.attrs & mask == want {
            return Ok(s.base.wrapping_add(off));
        }
        self.seg_check_slow(seg, off, size, WRITE)
    }

    #[inline(always)]
    fn is_expand_down(&self, attrs: u16) -> bool {
        // Data segment (S=1, code bit clear) with the expand-down bit.
        attrs & 0x1C == 0x14
    }

    #[cold]
    fn seg_check_slow(&self, seg: Seg, off: u32, size: u32, write: bool) -> Result<u32, Exception> {
        let s = &self.seg[seg as usize];
        let last = off.wrapping_add(size - 1);
        // The 286 reports a real-mode segment overrun as interrupt 13 for every segment.
        let real_286 = self.model == CpuModel::I286 && !self.protected_mode();
        let fault = || {
            if seg == Seg::Ss && !real_286 {
                Exception::ss(0)
            } else {
                Exception::gp(0)
            }
        };
        // Type rules apply in protected mode: no writes to code or read-only data, no reads
        // of execute-only code. Real and V86 mode use whatever the cache holds.
        let checked_types = self.protected_mode() && !self.in_v86();
        if checked_types && s.attrs & 0x10 != 0 {
            let code = s.attrs & 0x08 != 0;
            let denied = if write {
                code || s.attrs & 0x02 == 0
            } else {
                code && s.attrs & 0x02 == 0
            };
            if denied {
                return Err(Exception::gp(0));
            }
        }
        if self.is_expand_down(s.attrs) {
            let upper = if s.is_32() { 0xFFFF_FFFF } else { 0xFFFF };
            if off > s.limit && last >= off && last <= upper {
                return Ok(s.base.wrapping_add(off));
            }
            return Err(fault());
        }
        if last >= off && last <= s.limit {
            return Ok(s.base.wrapping_add(off));
        }
        Err(fault())
    }

    /// Whether an access of `size` bytes at `lin` must be split because paging is on and it
    /// crosses into the next page.
    #[inline(always)]
    fn crosses_page(&self, lin: u32, size: u32) -> bool {
        lin & 0xFFF > 0x1000 - size && self.paging()
    }

    /// Reads `size` bytes that cross a page boundary: both pages are translated (and may
    /// fault) before anything is read.
    #[cold]
    fn read_split(&mut self, lin: u32, size: u32) -> Result<u32, Exception> {
        let first = self.translate_access(lin, Access::Read)?;
        let second_lin = (lin | 0xFFF).wrapping_add(1);
        let second = self.translate_access(second_lin, Access::Read)?;
        let first_len = 0x1000 - (lin & 0xFFF);
        let mut v = 0u32;
        for k in 0..size {
            let l = lin.wrapping_add(k);
            let phys = if k < first_len {
                first + k
            } else {
                second + (l.wrapping_sub(second_lin))
            };
            v |= (self.mem.read_u8(phys) as u32) << (8 * k);
        }
        Ok(v)
    }

    /// Writes `size` bytes that cross a page boundary, after both pages allowed the write.
    #[cold]
    fn write_split(&mut self, lin: u32, size: u32, v: u32) -> Exec {
        let first = self.translate_access(lin, Access::Write)?;
        let second_lin = (lin | 0xFFF).wrapping_add(1);
        let second = self.translate_access(second_lin, Access::Write)?;
        let first_len = 0x1000 - (lin & 0xFFF);
        for k in 0..size {
            let l = lin.wrapping_add(k);
            let phys = if k < first_len {
                first + k
            } else {
                second + (l.wrapping_sub(second_lin))
            };
            self.mem.write_u8(phys, (v >> (8 * k)) as u8);
        }
        Ok(())
    }

    /// The RAM offset for a `size`-byte access at `lin` when the fast-path TLB allows it:
    /// the access stays inside one page and the page's entry carries this access's tag.
    #[inline(always)]
    pub(crate) fn fast_offset<const WRITE: bool>(&self, lin: u32, size: u32) -> Option<u32> {
        if lin & 0xFFF > 0x1000 - size {
            return None;
        }
        let f = &self.tlb.fast[Tlb::fast_index(lin)];
        let tag = if WRITE { f.wtag } else { f.rtag };
        if tag == (lin & !0xFFF) | self.tlb.fast_key {
            Some(f.host | (lin & 0xFFF))
        } else {
            None
        }
    }

    /// Where a write of `size` bytes at linear `lin` may go without the page walk: the RAM
    /// offset when the fast-path TLB has the page's write tag, with `true` when it is the
    /// code-write tag (`Fast::ctag`: the page holds decoded code, so the write must be
    /// reported with `Memory::note_code_page_write`).
    #[inline(always)]
    fn write_target(&self, lin: u32, size: u32) -> Option<(u32, bool)> {
        if lin & 0xFFF > 0x1000 - size {
            return None;
        }
        let f = &self.tlb.fast[Tlb::fast_index(lin)];
        let tag = (lin & !0xFFF) | self.tlb.fast_key;
        let host = f.host | (lin & 0xFFF);
        if f.wtag == tag {
            Some((host, false))
        } else if f.ctag == tag {
            Some((host, true))
        } else {
            None
        }
    }

    /// Writes `size` bytes of `v` at RAM offset `h` (a `write_target`), reporting writes to
    /// pages that hold code.
    #[inline(always)]
    fn write_ram(&mut self, h: u32, code: bool, size: u32, v: u32) {
        match size {
            1 => self.mem.host_write(h, [v as u8]),
            2 => self.mem.host_write(h, (v as u16).to_le_bytes()),
            _ => self.mem.host_write(h, v.to_le_bytes()),
        }
        if code {
            self.mem.note_code_page_write(h, size);
        }
    }

    /// The whole fast path of a data access, inlined into every handler: an expand-up
    /// segment whose limit holds the access, then a fast-path TLB hit. `None` sends the
    /// access to the checked path (which also serves the 8086, whose pages are never
    /// entered in the fast path).
    #[inline(always)]
    fn fast_access<const WRITE: bool>(&self, seg: Seg, off: u32, size: u32) -> Option<u32> {
        let s = &self.seg[seg as usize];
        let last = off.wrapping_add(size - 1);
        let (mask, want) = if WRITE { (0x1E, 0x12) } else { (0x1C, 0x10) };
        if last >= off && last <= s.limit && s.attrs & mask == want {
            self.fast_offset::<WRITE>(s.base.wrapping_add(off), size)
        } else {
            None
        }
    }

    /// The fast path of a data write: the segment check of `fast_access`, then
    /// `write_target`.
    #[inline(always)]
    fn fast_write(&self, seg: Seg, off: u32, size: u32) -> Option<(u32, bool)> {
        let s = &self.seg[seg as usize];
        let last = off.wrapping_add(size - 1);
        if !(last >= off && last <= s.limit && s.attrs & 0x1E == 0x12) {
            return None;
        }
        self.write_target(s.base.wrapping_add(off), size)
    }

    /// The RAM offset of a `size`-byte data read at `seg:off` when the fast path takes it
    /// (for handlers that keep the fast path inline and call `read_slow` otherwise).
    #[inline(always)]
    pub(crate) fn fast_read_at(&self, seg: Seg, off: u32, size: u32) -> Option<u32> {
        if self.is_flat(seg) {
            return self.flat_offset::<false>(off, size);
        }
        self.fast_access::<false>(seg, off, size)
    }

    /// Whether `seg` holds a flat 32-bit data segment (see `Cpu::flat_data`).
    #[inline(always)]
    pub(crate) fn is_flat(&self, seg: Seg) -> bool {
        self.flat_data & (1 << seg as u8) != 0
    }

    /// The fast path of an access through a flat segment: the offset is the linear
    /// address, and only an access that wraps past 4 GiB breaks the limit.
    #[inline(always)]
    pub(crate) fn flat_offset<const WRITE: bool>(&self, off: u32, size: u32) -> Option<u32> {
        if off > u32::MAX - (size - 1) {
            return None;
        }
        self.fast_offset::<WRITE>(off, size)
    }

    /// Like `fast_read_at` for a write (and a read-modify-write: writable implies
    /// readable), to a page without decoded code: writes to code pages must be reported,
    /// which `write_slow` does.
    #[inline(always)]
    pub(crate) fn fast_write_at(&self, seg: Seg, off: u32, size: u32) -> Option<u32> {
        if self.is_flat(seg) {
            return self.flat_offset::<true>(off, size);
        }
        self.fast_access::<true>(seg, off, size)
    }

    #[inline(always)]
    pub fn read8(&mut self, seg: Seg, off: u32) -> Result<u8, Exception> {
        match self.fast_access::<false>(seg, off, 1) {
            Some(h) => Ok(self.mem.host_read::<1>(h)[0]),
            None => self.read_slow(seg, off, 1).map(|v| v as u8),
        }
    }

    #[inline(always)]
    pub fn read16(&mut self, seg: Seg, off: u32) -> Result<u16, Exception> {
        match self.fast_access::<false>(seg, off, 2) {
            Some(h) => Ok(u16::from_le_bytes(self.mem.host_read(h))),
            None => self.read_slow(seg, off, 2).map(|v| v as u16),
        }
    }

    #[inline(always)]
    pub fn read32(&mut self, seg: Seg, off: u32) -> Result<u32, Exception> {
        match self.fast_access::<false>(seg, off, 4) {
            Some(h) => Ok(u32::from_le_bytes(self.mem.host_read(h))),
            None => self.read_slow(seg, off, 4),
        }
    }

    #[inline(always)]
    pub fn write8(&mut self, seg: Seg, off: u32, v: u8) -> Exec {
        match self.fast_write(seg, off, 1) {
            Some((h, code)) => {
                self.write_ram(h, code, 1, v as u32);
                Ok(())
            }
            None => self.write_slow(seg, off, 1, v as u32),
        }
    }

    #[inline(always)]
    pub fn write16(&mut self, seg: Seg, off: u32, v: u16) -> Exec {
        match self.fast_write(seg, off, 2) {
            Some((h, code)) => {
                self.write_ram(h, code, 2, v as u32);
                Ok(())
            }
            None => self.write_slow(seg, off, 2, v as u32),
        }
    }

    #[inline(always)]
    pub fn write32(&mut self, seg: Seg, off: u32, v: u32) -> Exec {
        match self.fast_write(seg, off, 4) {
            Some((h, code)) => {
                self.write_ram(h, code, 4, v);
                Ok(())
            }
            None => self.write_slow(seg, off, 4, v),
        }
    }

    /// A read the fast path did not take: the 8086's wrapping segments, segment checks
    /// that need the full rules (or fault), and TLB misses.
    #[inline(never)]
    pub(crate) fn read_slow(&mut self, seg: Seg, off: u32, size: u32) -> Result<u32, Exception> {
        if self.model == CpuModel::I8086 {
            // Offsets wrap inside the 64 KiB segment, even between the bytes of a word.
            let base = self.seg[seg as usize].base;
            let mut v = 0;
            for k in 0..size {
                let a = base.wrapping_add(off.wrapping_add(k) & 0xFFFF);
                v |= (self.mem.read_u8(a) as u32) << (8 * k);
            }
            return Ok(v);
        }
        let lin = self.seg_check::<false>(seg, off, size)?;
        // An expand-up data segment passed the inline check, whose fast-path look-up just
        // missed; other segments get theirs here.
        if self.seg[seg as usize].attrs & 0x1C != 0x10 {
            if let Some(h) = self.fast_offset::<false>(lin, size) {
                return Ok(match size {
                    1 => self.mem.host_read::<1>(h)[0] as u32,
                    2 => u16::from_le_bytes(self.mem.host_read(h)) as u32,
                    _ => u32::from_le_bytes(self.mem.host_read(h)),
                });
            }
        }
        self.read_checked(lin, size)
    }

    /// A write the fast path did not take (see `read_slow`).
    #[inline(never)]
    pub(crate) fn write_slow(&mut self, seg: Seg, off: u32, size: u32, v: u32) -> Exec {
        if self.model == CpuModel::I8086 {
            let base = self.seg[seg as usize].base;
            for k in 0..size {
                let a = base.wrapping_add(off.wrapping_add(k) & 0xFFFF);
                self.mem.write_u8(a, (v >> (8 * k)) as u8);
            }
            return Ok(());
        }
        let lin = self.seg_check::<true>(seg, off, size)?;
        if let Some((h, code)) = self.write_target(lin, size) {
            // Segments the inline check leaves to `seg_check` (expand-down, ...).
            self.write_ram(h, code, size, v);
            return Ok(());
        }
        self.write_checked(lin, size, v)
    }

    /// The checked read of `size` bytes at linear `lin`: breakpoints, page splits, the page
    /// walk; fills the fast path for the next access.
    #[inline]
    fn read_checked(&mut self, lin: u32, size: u32) -> Result<u32, Exception> {
        if self.debug_active {
            self.watch(lin, size, false);
        }
        if self.crosses_page(lin, size) {
            return self.read_split(lin, size);
        }
        let phys = self.translate_data(lin, false)?;
        Ok(match size {
            1 => self.mem.read_u8(phys) as u32,
            2 => self.mem.read_u16(phys) as u32,
            // Only without paging may a dword still cross a page here.
            _ if lin & 0xFFF <= 0xFFC => self.mem.read_u32_in_page(phys),
            _ => self.mem.read_u32(phys),
        })
    }

    /// The checked write of `size` bytes at linear `lin` (see `read_checked`).
    #[inline(never)]
    fn write_checked(&mut self, lin: u32, size: u32, v: u32) -> Exec {
        if self.debug_active {
            self.watch(lin, size, true);
        }
        if self.crosses_page(lin, size) {
            return self.write_split(lin, size, v);
        }
        let phys = self.translate_data(lin, true)?;
        match size {
            1 => self.mem.write_u8(phys, v as u8),
            2 => self.mem.write_u16(phys, v as u16),
            _ => self.mem.write_u32(phys, v),
        }
        Ok(())
    }

    /// Checks that `size` bytes at `off` could be written (segment and paging), without
    /// writing them.
    pub fn probe_write(&mut self, seg: Seg, off: u32, size: u32) -> Exec {
        if self.model == CpuModel::I8086 {
            return Ok(());
        }
        let lin = self.seg_check::<true>(seg, off, size)?;
        self.translate_access(lin, Access::Write)?;
        if self.crosses_page(lin, size) {
            self.translate_access(lin.wrapping_add(size - 1), Access::Write)?;
        }
        Ok(())
    }

    /// Mask of the stack pointer: SP (16-bit stack) or ESP (32-bit stack, SS.B set).
    #[inline]
    pub fn sp_mask(&self) -> u32 {
        if self.seg[Seg::Ss as usize].is_32() {
            0xFFFF_FFFF
        } else {
            0xFFFF
        }
    }

    /// The stack pointer as an offset into SS.
    #[inline]
    pub fn sp(&self) -> u32 {
        self.gpr[ESP] & self.sp_mask()
    }

    /// Sets the stack pointer, keeping the upper half of ESP on a 16-bit stack.
    #[inline]
    pub fn set_sp(&mut self, v: u32) {
        let m = self.sp_mask();
        self.gpr[ESP] = (self.gpr[ESP] & !m) | (v & m);
    }

    // The stack helpers read SS's size once: the access in between cannot change it, and
    // the compiler cannot know that across the out-of-line slow path.
    #[inline]
    pub fn push16(&mut self, v: u16) -> Exec {
        let m = self.sp_mask();
        let esp = self.gpr[ESP];
        let sp = esp.wrapping_sub(2) & m;
        self.write16(Seg::Ss, sp, v)?;
        self.gpr[ESP] = (esp & !m) | sp;
        Ok(())
    }

    #[inline(always)]
    pub fn push32(&mut self, v: u32) -> Exec {
        let m = self.sp_mask();
        let esp = self.gpr[ESP];
        let sp = esp.wrapping_sub(4) & m;
        self.write32(Seg::Ss, sp, v)?;
        self.gpr[ESP] = (esp & !m) | sp;
        Ok(())
    }

    #[inline]
    pub fn pop16(&mut self) -> Result<u16, Exception> {
        let m = self.sp_mask();
        let esp = self.gpr[ESP];
        let v = self.read16(Seg::Ss, esp & m)?;
        self.gpr[ESP] = (esp & !m) | (esp.wrapping_add(2) & m);
        Ok(v)
    }

    #[inline(always)]
    pub fn pop32(&mut self) -> Result<u32, Exception> {
        let m = self.sp_mask();
        let esp = self.gpr[ESP];
        let v = self.read32(Seg::Ss, esp & m)?;
        self.gpr[ESP] = (esp & !m) | (esp.wrapping_add(4) & m);
        Ok(v)
    }

    /// Reads the word at SS:[SP + `offset`] without popping (for instructions that must check
    /// everything before changing state, like RETF and IRET).
    #[inline]
    pub fn peek16(&mut self, offset: u32) -> Result<u16, Exception> {
        let sp = self.sp().wrapping_add(offset) & self.sp_mask();
        self.read16(Seg::Ss, sp)
    }

    #[inline]
    pub fn peek32(&mut self, offset: u32) -> Result<u32, Exception> {
        let sp = self.sp().wrapping_add(offset) & self.sp_mask();
        self.read32(Seg::Ss, sp)
    }

    /// Loads a segment register the real-mode way (base = selector << 4, cache kept).
    #[inline]
    pub fn load_seg_real(&mut self, seg: Seg, selector: u16) {
        let real = !self.protected_mode();
        let s = &mut self.seg[seg as usize];
        s.selector = selector;
        s.base = (selector as u32) << 4;
        if seg == Seg::Cs && real {
            // A real-mode far transfer gives CS 16-bit code attributes.
            s.attrs &= !super::state::ATTR_DB;
        }
        self.refresh_flat_bit(seg);
    }

    /// Loads a segment register from a selector in the current mode. Protected-mode
    /// descriptor loads live in the protected-mode module; real and V86 mode use the
    /// selector as a paragraph number.
    pub fn load_seg(&mut self, seg: Seg, selector: u16) -> Exec {
        let v86 = self.eflags & super::state::Flags::VM.bits() != 0;
        if self.protected_mode() && !v86 {
            if seg == Seg::Cs {
                // CS changes only through far transfers, which check their target.
                return Err(Exception::gp(selector as u32 & 0xFFFC));
            }
            let loaded = self.load_data_segment(seg, selector);
            self.refresh_flat_bit(seg);
            return loaded;
        }
        self.load_seg_real(seg, selector);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_mode_word_at_segment_end_faults_on_286() {
        let mut c = Cpu::new(CpuModel::I286, 1 << 20);
        assert_eq!(c.read16(Seg::Ds, 0xFFFF), Err(Exception::gp(0)));
        // The 286 raises interrupt 13 for a stack overrun in real mode too; the 386 uses #SS.
        assert_eq!(c.read16(Seg::Ss, 0xFFFF), Err(Exception::gp(0)));
        assert!(c.read16(Seg::Ds, 0xFFFE).is_ok());
        let mut c = Cpu::new(CpuModel::I386, 1 << 20);
        assert_eq!(c.read16(Seg::Ss, 0xFFFF), Err(Exception::ss(0)));
    }

    #[test]
    fn word_at_segment_end_wraps_on_8086() {
        let mut c = Cpu::new(CpuModel::I8086, 1 << 20);
        c.load_seg_real(Seg::Ds, 0x1000);
        c.write16(Seg::Ds, 0xFFFF, 0xBEEF).unwrap();
        assert_eq!(c.mem.read_u8(0x1FFFF), 0xEF);
        assert_eq!(c.mem.read_u8(0x10000), 0xBE);
        assert_eq!(c.read16(Seg::Ds, 0xFFFF), Ok(0xBEEF));
    }

    #[test]
    fn push_pop_16_bit_stack_wraps() {
        let mut c = Cpu::new(CpuModel::I386, 1 << 20);
        c.gpr[ESP] = 0xABCD_0000;
        c.push16(0x1234).unwrap();
        assert_eq!(c.gpr[ESP], 0xABCD_FFFE);
        assert_eq!(c.pop16(), Ok(0x1234));
        assert_eq!(c.gpr[ESP], 0xABCD_0000);
    }
}
