//! The physical address space: RAM, the address mask (8086 1 MiB wrap, A20 gate), and
//! tracking of pages that hold decoded code so that writes to them invalidate the decode cache.

use crate::devices::vga::{self, SharedVga};

/// Log2 of the code-tracking page size.
pub const PAGE_SHIFT: u32 = 12;
pub const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;

/// Page flag: decoded code lives on this page.
const PAGE_CODE: u8 = 1;
/// Page flag: firmware ROM; writes are dropped.
const PAGE_ROM: u8 = 2;
/// VGA MMIO: the legacy video window the device serves instead of RAM.
const VGA_WINDOW: u32 = 0xA0000;

/// Page flag: device memory (e.g. a video window); reads and writes must reach the device,
/// so the page never enters the CPU's fast path.
pub const PAGE_MMIO: u8 = 4;

/// At most this many code writes are remembered between two checks; past that, the whole
/// pages are invalidated (the log only overflows with pathological self-modifying code).
const SMC_LOG_CAP: usize = 64;

/// The 128-byte lines of its page that `len` bytes at physical offset `a` touch, as bits.
#[inline]
fn line_bits(a: usize, len: usize) -> u32 {
    let first = (a & (PAGE_SIZE as usize - 1)) >> 7;
    let last = ((a + len - 1).min(a | (PAGE_SIZE as usize - 1)) & (PAGE_SIZE as usize - 1)) >> 7;
    let upto = if last == 31 {
        u32::MAX
    } else {
        (1u32 << (last + 1)) - 1
    };
    upto & !((1u32 << first) - 1)
}

/// What writes through the CPU's fast-path TLB may do on a RAM page (`Memory::fast_page`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FastWrites {
    /// Plain RAM: straight to RAM.
    Plain,
    /// The page holds decoded code: straight to RAM, then `note_code_page_write`.
    Code,
    /// ROM and the like: every write takes the checked path.
    Never,
}

/// A write that landed on a page holding decoded code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeWrite {
    pub addr: u32,
    pub len: u32,
}

pub struct Memory {
    ram: Vec<u8>,
    /// Physical address mask: CPU address lines and the A20 gate.
    mask: u32,
    cpu_mask: u32,
    a20: bool,
    /// Per physical page: PAGE_CODE and PAGE_ROM bits; pages with any bit set take the slow
    /// write path.
    page_flags: Vec<u8>,
    /// Per physical page: which 128-byte lines hold decoded code (bit n = line n). Writes
    /// to a code page elsewhere (a stack or variables beside the code) are not logged.
    code_lines: Vec<u32>,
    /// Size of the firmware image mapped below 1 MiB and at the top of the address space.
    rom_len: u32,
    smc_log: Vec<CodeWrite>,
    smc_overflow: bool,
    /// VGA MMIO: the video device that serves A0000-BFFFF and its linear framebuffer.
    vga: Option<SharedVga>,
    /// VGA MMIO: size of the window at A0000 sent to `vga` (0 while none is attached, so
    /// the read check costs one compare).
    vga_window: u32,
}

/// VGA MMIO: true inside the linear framebuffer.
fn in_lfb(addr: u32) -> bool {
    addr.wrapping_sub(vga::LFB_BASE) < vga::VRAM_SIZE as u32
}

impl Memory {
    /// RAM of `size` bytes starting at physical address 0. `cpu_mask` is the mask of the
    /// address lines the CPU drives (e.g. 0xFFFFF on an 8086).
    pub fn new(size: usize, cpu_mask: u32) -> Memory {
        let pages = (size as u64).div_ceil(PAGE_SIZE as u64) as usize + 1;
        Memory {
            ram: vec![0; size],
            mask: cpu_mask,
            cpu_mask,
            a20: true,
            page_flags: vec![0; pages],
            code_lines: vec![0; pages],
            rom_len: 0,
            smc_log: Vec::with_capacity(SMC_LOG_CAP),
            smc_overflow: false,
            vga: None,
            vga_window: 0,
        }
    }

    /// VGA MMIO: attaches the video device; its window at A0000-BFFFF stops being RAM and
    /// its linear framebuffer appears at `vga::LFB_BASE`.
    pub fn attach_vga(&mut self, vga: SharedVga) {
        self.set_mmio_pages(VGA_WINDOW, 0xC0000, true);
        self.vga = Some(vga);
        self.vga_window = 0x20000;
    }

    pub fn vga(&self) -> Option<&SharedVga> {
        self.vga.as_ref()
    }

    /// VGA MMIO: true when physical address `a` lies in the device's window.
    #[inline(always)]
    fn in_vga_window(&self, a: usize) -> bool {
        (a as u32).wrapping_sub(VGA_WINDOW) < self.vga_window
    }

    /// VGA MMIO: a read from the video window.
    #[cold]
    fn read_vga(&self, a: u32) -> u8 {
        match &self.vga {
            Some(v) => vga::lock(v).mem_read(a),
            None => 0xFF,
        }
    }

    pub fn size(&self) -> usize {
        self.ram.len()
    }

    pub fn ram(&self) -> &[u8] {
        &self.ram
    }

    /// The physical address mask currently in force.
    #[inline]
    pub fn mask(&self) -> u32 {
        self.mask
    }

    /// Opens or closes the A20 gate (closed: address line 20 forced to zero).
    pub fn set_a20(&mut self, enabled: bool) {
        self.a20 = enabled;
        self.mask = if enabled {
            self.cpu_mask
        } else {
            self.cpu_mask & !(1 << 20)
        };
    }

    pub fn a20(&self) -> bool {
        self.a20
    }

    #[inline]
    pub fn read_u8(&self, addr: u32) -> u8 {
        let a = (addr & self.mask) as usize;
        if self.in_vga_window(a) {
            return self.read_vga(a as u32);
        }
        match self.ram.get(a) {
            Some(&b) => b,
            None => self.read_unmapped(addr & self.mask),
        }
    }

    #[inline]
    pub fn read_u16(&self, addr: u32) -> u16 {
        let a = (addr & self.mask) as usize;
        if addr & 0xFFF != 0xFFF && !self.in_vga_window(a) {
            if let Some(s) = self.ram.get(a..a + 2) {
                return u16::from_le_bytes([s[0], s[1]]);
            }
        }
        self.read_u8(addr) as u16 | (self.read_u8(addr.wrapping_add(1)) as u16) << 8
    }

    #[inline]
    pub fn read_u32(&self, addr: u32) -> u32 {
        let a = (addr & self.mask) as usize;
        if addr & 0xFFF <= 0xFFC && !self.in_vga_window(a) {
            if let Some(s) = self.ram.get(a..a + 4) {
                return u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
        self.read_u16(addr) as u32 | (self.read_u16(addr.wrapping_add(2)) as u32) << 16
    }

    #[inline]
    pub fn write_u8(&mut self, addr: u32, v: u8) {
        let a = (addr & self.mask) as usize;
        if a < self.ram.len() {
            if self.page_flags[a >> PAGE_SHIFT] == 0 {
                self.ram[a] = v;
            } else {
                self.write_flagged(a, &[v]);
            }
        } else {
            self.write_unmapped(a as u32, v);
        }
    }

    #[inline]
    pub fn write_u16(&mut self, addr: u32, v: u16) {
        let a = (addr & self.mask) as usize;
        if addr & 0xFFF != 0xFFF && a + 2 <= self.ram.len() {
            if self.page_flags[a >> PAGE_SHIFT] == 0 {
                self.ram[a..a + 2].copy_from_slice(&v.to_le_bytes());
            } else {
                self.write_flagged(a, &v.to_le_bytes());
            }
            return;
        }
        self.write_u8(addr, v as u8);
        self.write_u8(addr.wrapping_add(1), (v >> 8) as u8);
    }

    #[inline]
    pub fn write_u32(&mut self, addr: u32, v: u32) {
        let a = (addr & self.mask) as usize;
        if addr & 0xFFF <= 0xFFC && a + 4 <= self.ram.len() {
            if self.page_flags[a >> PAGE_SHIFT] == 0 {
                self.ram[a..a + 4].copy_from_slice(&v.to_le_bytes());
            } else {
                self.write_flagged(a, &v.to_le_bytes());
            }
            return;
        }
        self.write_u16(addr, v as u16);
        self.write_u16(addr.wrapping_add(2), (v >> 16) as u16);
    }

    /// After the CPU wrote `len` bytes at RAM offset `a` (inside one page) of a page that
    /// holds decoded code: logs the write when it touched a decoded line.
    #[inline(never)]
    pub(crate) fn note_code_page_write(&mut self, a: u32, len: u32) {
        let a = a as usize;
        if self.code_lines[a >> PAGE_SHIFT] & line_bits(a, len as usize) != 0 {
            self.log_code_write(a as u32, len);
        }
    }

    /// A write inside one page that holds code or ROM.
    #[cold]
    fn write_flagged(&mut self, a: usize, bytes: &[u8]) {
        let flags = self.page_flags[a >> PAGE_SHIFT];
        if flags & PAGE_ROM != 0 {
            return;
        }
        if flags & PAGE_MMIO != 0 {
            if let Some(v) = &self.vga {
                let mut vga = vga::lock(v);
                for (i, &b) in bytes.iter().enumerate() {
                    vga.mem_write((a + i) as u32, b);
                }
                return;
            }
        }
        self.ram[a..a + bytes.len()].copy_from_slice(bytes);
        if flags & PAGE_CODE != 0
            && self.code_lines[a >> PAGE_SHIFT] & line_bits(a, bytes.len()) != 0
        {
            self.log_code_write(a as u32, bytes.len() as u32);
        }
    }

    /// Maps a firmware image so that it ends at 1 MiB (read-only there) and, aliased, at the
    /// top of the CPU's address space where the 386 and later start after reset.
    pub fn load_rom(&mut self, image: &[u8]) -> Result<(), String> {
        let len = image.len();
        if len == 0 || len > 0x2_0000 || !len.is_multiple_of(0x1000) {
            return Err(format!(
                "firmware image is {len} bytes; expected a multiple of 4 KiB up to 128 KiB"
            ));
        }
        if self.ram.len() < 0x10_0000 {
            return Err("firmware needs at least 1 MiB of RAM to be mapped below 1 MiB".into());
        }
        let base = 0x10_0000 - len;
        self.ram[base..base + len].copy_from_slice(image);
        for page in base >> PAGE_SHIFT..0x10_0000 >> PAGE_SHIFT {
            self.page_flags[page] |= PAGE_ROM;
        }
        self.rom_len = len as u32;
        Ok(())
    }

    /// Reads above RAM: the high alias of the firmware, or open bus (all ones).
    #[cold]
    fn read_unmapped(&self, addr: u32) -> u8 {
        if in_lfb(addr) && self.vga.is_some() {
            return self.read_vga(addr);
        }
        let top = addr | !self.cpu_mask;
        if self.rom_len != 0 && top >= 0u32.wrapping_sub(self.rom_len) {
            let below_1m = 0x10_0000 - (0u32.wrapping_sub(top)) as usize;
            return self.ram[below_1m];
        }
        0xFF
    }

    /// Writes above RAM: the VGA's linear framebuffer, or nothing.
    #[cold]
    fn write_unmapped(&mut self, addr: u32, v: u8) {
        if in_lfb(addr) {
            if let Some(d) = &self.vga {
                vga::lock(d).mem_write(addr, v);
            }
        }
    }

    /// Copies `data` into physical memory (loaders and tests; also tracked for code writes).
    pub fn load(&mut self, addr: u32, data: &[u8]) {
        for (i, &b) in data.iter().enumerate() {
            self.write_u8(addr.wrapping_add(i as u32), b);
        }
    }

    /// Reads `buf.len()` bytes starting at `addr` (each byte masked on its own).
    pub fn read_bytes(&self, addr: u32, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = self.read_u8(addr.wrapping_add(i as u32));
        }
    }

    #[cold]
    fn log_code_write(&mut self, addr: u32, len: u32) {
        if self.smc_log.len() < SMC_LOG_CAP {
            self.smc_log.push(CodeWrite { addr, len });
        } else {
            self.smc_overflow = true;
        }
    }

    /// True when code pages were written since the last `take_code_writes`.
    #[inline]
    pub fn code_written(&self) -> bool {
        !self.smc_log.is_empty()
    }

    /// Returns the logged code writes and whether the log overflowed, and clears the log.
    pub fn take_code_writes(&mut self, out: &mut Vec<CodeWrite>) -> bool {
        out.clear();
        out.extend_from_slice(&self.smc_log);
        self.smc_log.clear();
        std::mem::take(&mut self.smc_overflow)
    }

    /// The most recent code write (for checking whether the running block was hit).
    #[inline]
    pub fn last_code_write(&self) -> Option<CodeWrite> {
        self.smc_log.last().copied()
    }

    /// Marks or unmarks a physical page as holding decoded code (marking covers the whole
    /// page; `mark_code` marks only some lines). Returns true when the page was not marked
    /// before (its fast-path write permissions must then be withdrawn).
    pub fn set_code_page(&mut self, page: u32, has_code: bool) -> bool {
        if let Some(p) = self.page_flags.get_mut(page as usize) {
            let was = *p & PAGE_CODE != 0;
            if has_code {
                *p |= PAGE_CODE;
                self.code_lines[page as usize] = u32::MAX;
            } else {
                *p &= !PAGE_CODE;
                self.code_lines[page as usize] = 0;
            }
            return has_code && !was;
        }
        false
    }

    /// Marks physical bytes `start .. end` (inside one page) as holding decoded code.
    /// Returns true when their page was not marked before.
    pub fn mark_code(&mut self, start: u32, end: u32) -> bool {
        let page = (start >> PAGE_SHIFT) as usize;
        let Some(p) = self.page_flags.get_mut(page) else {
            return false;
        };
        let was = *p & PAGE_CODE != 0;
        *p |= PAGE_CODE;
        let len = end.saturating_sub(start).max(1) as usize;
        self.code_lines[page] |= line_bits(start as usize, len);
        !was
    }

    /// The RAM offset of the page holding physical address `phys` when reads may go straight
    /// to RAM (the whole page is RAM and no device's), with what writes may do there. This is
    /// consulted only when the CPU fills its fast-path TLB, so it costs nothing per access.
    #[inline]
    pub fn fast_page(&self, phys: u32) -> Option<(u32, FastWrites)> {
        let a = phys & self.mask & !(PAGE_SIZE - 1);
        if a as usize + PAGE_SIZE as usize > self.ram.len() {
            return None;
        }
        let writes = match self.page_flags[(a >> PAGE_SHIFT) as usize] {
            0 => FastWrites::Plain,
            PAGE_CODE => FastWrites::Code,
            f if f & PAGE_MMIO != 0 => return None,
            _ => FastWrites::Never,
        };
        Some((a, writes))
    }

    /// A dword that does not cross a page (page-table entries, descriptors): plain RAM is
    /// read without the page-crossing case of `read_u32`.
    #[inline(always)]
    pub fn read_u32_in_page(&self, addr: u32) -> u32 {
        debug_assert!(addr & 0xFFF <= 0xFFC);
        let a = (addr & self.mask) as usize;
        if !self.in_vga_window(a) {
            if let Some(s) = self.ram.get(a..a + 4) {
                return u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            }
        }
        self.read_u32(addr)
    }

    /// Sets or clears `PAGE_MMIO` on the pages of `start .. end` (physical).
    pub fn set_mmio_pages(&mut self, start: u32, end: u32, mmio: bool) {
        for page in start >> PAGE_SHIFT..end.div_ceil(PAGE_SIZE) {
            if let Some(p) = self.page_flags.get_mut(page as usize) {
                if mmio {
                    *p |= PAGE_MMIO;
                } else {
                    *p &= !PAGE_MMIO;
                }
            }
        }
    }

    /// Copies `len` bytes between RAM offsets; the caller makes sure a forward
    /// element-by-element copy would give the same result (no destination after the source
    /// inside it).
    pub(crate) fn host_copy(&mut self, src: u32, dst: u32, len: u32) {
        let s = src as usize;
        self.ram.copy_within(s..s + len as usize, dst as usize);
    }

    /// Fills `n` elements of `pattern` starting at RAM offset `dst`.
    pub(crate) fn host_fill(&mut self, dst: u32, n: u32, pattern: &[u8]) {
        let d = dst as usize;
        let len = n as usize * pattern.len();
        if pattern.iter().all(|&b| b == pattern[0]) {
            self.ram[d..d + len].fill(pattern[0]);
        } else {
            for chunk in self.ram[d..d + len].chunks_exact_mut(pattern.len()) {
                chunk.copy_from_slice(pattern);
            }
        }
    }

    #[inline(always)]
    pub(crate) fn host_read<const N: usize>(&self, off: u32) -> [u8; N] {
        let o = off as usize;
        let mut b = [0u8; N];
        b.copy_from_slice(&self.ram[o..o + N]);
        b
    }

    #[inline(always)]
    pub(crate) fn host_write<const N: usize>(&mut self, off: u32, v: [u8; N]) {
        let o = off as usize;
        self.ram[o..o + N].copy_from_slice(&v);
    }

    pub fn clear_code_pages(&mut self) {
        self.page_flags.iter_mut().for_each(|p| *p &= !PAGE_CODE);
        self.code_lines.iter_mut().for_each(|l| *l = 0);
        self.smc_log.clear();
        self.smc_overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_1mib_on_8086() {
        let mut m = Memory::new(1 << 20, 0xFFFFF);
        m.write_u16(0xFFFFF, 0x1234);
        assert_eq!(m.read_u8(0xFFFFF), 0x34);
        assert_eq!(m.read_u8(0), 0x12);
        assert_eq!(m.read_u16(0xFFFFF), 0x1234);
    }

    #[test]
    fn a20_gate_masks_line_20() {
        let mut m = Memory::new(2 << 20, 0xFFFF_FFFF);
        m.write_u8(0x10_0000, 0xAA);
        m.set_a20(false);
        assert_eq!(m.read_u8(0x10_0000), 0);
        m.write_u8(0x10_0000, 0x55);
        assert_eq!(m.read_u8(0), 0x55);
        m.set_a20(true);
        assert_eq!(m.read_u8(0x10_0000), 0xAA);
    }

    #[test]
    fn outside_ram_reads_ones_and_ignores_writes() {
        let mut m = Memory::new(4096, 0xFFFF_FFFF);
        m.write_u32(0x10000, 0);
        assert_eq!(m.read_u32(0x10000), 0xFFFF_FFFF);
        assert_eq!(m.read_u16(4095), 0xFF00);
    }

    #[test]
    fn rom_is_read_only_and_aliased_at_the_top() {
        let mut m = Memory::new(2 << 20, 0xFFFF_FFFF);
        let mut rom = vec![0u8; 0x1_0000];
        rom[0xFFF0] = 0xEA;
        m.load_rom(&rom).unwrap();
        assert_eq!(m.read_u8(0xFFFF0), 0xEA);
        assert_eq!(m.read_u8(0xFFFF_FFF0), 0xEA);
        m.write_u8(0xFFFF0, 0x90);
        m.write_u32(0xFFFF0, 0x9090_9090);
        assert_eq!(m.read_u8(0xFFFF0), 0xEA, "ROM ignores writes");
        assert!(m.load_rom(&[0u8; 100]).is_err());
    }

    #[test]
    fn code_page_writes_are_logged() {
        let mut m = Memory::new(1 << 16, 0xFFFF_FFFF);
        m.set_code_page(1, true);
        m.write_u8(0x10, 1);
        assert!(!m.code_written());
        m.write_u16(0x1002, 7);
        assert_eq!(
            m.last_code_write(),
            Some(CodeWrite {
                addr: 0x1002,
                len: 2
            })
        );
        let mut v = Vec::new();
        assert!(!m.take_code_writes(&mut v));
        assert_eq!(v.len(), 1);
        assert!(!m.code_written());
    }
}
