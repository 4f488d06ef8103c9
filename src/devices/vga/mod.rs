//! The VGA: sequencer, graphics controller, CRTC, attribute controller, DAC, misc output and
//! input status registers, 256 KiB of planar video memory, and the Bochs "dispi" VBE
//! extension with a linear framebuffer.
//!
//! Sharing between the port side and the memory side: the device is one `Vga` behind an
//! `Arc<Mutex<..>>` ([`SharedVga`]). `PcBus` holds a clone and routes ports 0x3B0-0x3DF and
//! 0x1CE/0x1CF to it (it knows virtual time, which the retrace bits need); `Memory` holds
//! another clone in its MMIO slot and sends the A0000-BFFFF window and the LFB to it. The
//! lock is uncontended (one CPU thread) and only taken on those cold paths; a display
//! thread may take it to render a frame. Everything stays `Send`.
//!
//! Files: regs (port side), memory (CPU accesses: planes, latches, write modes), vbe
//! (dispi registers), render (frames for the frontends).

mod memory;
mod regs;
mod render;
pub mod vbe;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

/// Bytes of video memory: the first 256 KiB double as the four VGA planes (interleaved: plane
/// p of offset o is byte o*4+p), the whole is the VBE linear framebuffer.
pub const VRAM_SIZE: usize = 16 << 20;
/// Physical address of the VBE linear framebuffer.
pub const LFB_BASE: u32 = 0xE000_0000;

/// The VGA as shared by the port bus, the memory and the frontends.
pub type SharedVga = Arc<Mutex<Vga>>;

/// Locks a shared VGA; a poisoned lock (a panic elsewhere) still yields the state.
pub fn lock(vga: &SharedVga) -> MutexGuard<'_, Vga> {
    vga.lock().unwrap_or_else(|e| e.into_inner())
}

pub struct Vga {
    pub vram: Vec<u8>,
    pub misc: u8,
    pub seq_index: u8,
    pub seq: [u8; 8],
    pub gc_index: u8,
    pub gc: [u8; 16],
    pub crtc_index: u8,
    pub crtc: [u8; 0x20],
    pub attr_index: u8,
    /// False: the next write to 0x3C0 is an index; true: data.
    attr_flip: bool,
    pub attr: [u8; 0x15],
    /// 256 entries of 6-bit red, green, blue.
    pub dac: [u8; 768],
    pub pel_mask: u8,
    dac_write: u8,
    dac_read: u8,
    dac_sub: u8,
    /// 0x3C7 read: 3 after a read index was set, 0 after a write index.
    dac_state: u8,
    feature: u8,
    latch: [u8; 4],
    pub vbe: vbe::Dispi,
    /// Virtual time of the last port access (for the cursor and blink phases when rendering).
    pub now_ns: u64,
}

impl Default for Vga {
    fn default() -> Self {
        Vga::new()
    }
}

impl Vga {
    pub fn new() -> Vga {
        let mut v = Vga {
            vram: vec![0; VRAM_SIZE],
            misc: 0x67,
            seq_index: 0,
            seq: [0; 8],
            gc_index: 0,
            gc: [0; 16],
            crtc_index: 0,
            crtc: [0; 0x20],
            attr_index: 0x20,
            attr_flip: false,
            attr: [0; 0x15],
            dac: [0; 768],
            pel_mask: 0xFF,
            dac_write: 0,
            dac_read: 0,
            dac_sub: 0,
            dac_state: 0,
            feature: 0,
            latch: [0; 4],
            vbe: vbe::Dispi::default(),
            now_ns: 0,
        };
        // Power-on: mode 3-like memory mapping so text writes land somewhere sensible
        // before the BIOS programs the registers.
        v.seq[2] = 0x03;
        v.seq[4] = 0x02;
        v.gc[5] = 0x10;
        v.gc[6] = 0x0E;
        v.gc[8] = 0xFF;
        v
    }

    pub fn shared() -> SharedVga {
        Arc::new(Mutex::new(Vga::new()))
    }

    /// Sets one DAC entry (6-bit components), as the BIOS does.
    pub fn set_dac(&mut self, index: u8, rgb: [u8; 3]) {
        let i = index as usize * 3;
        for (d, c) in self.dac[i..i + 3].iter_mut().zip(rgb) {
            *d = c & 0x3F;
        }
    }

    /// True when the attribute controller shows graphics (not text).
    pub fn graphics_mode(&self) -> bool {
        self.vbe.enabled() || self.attr[0x10] & 1 != 0
    }

    /// CRTC start address (in character/address-counter units).
    pub fn start_address(&self) -> u16 {
        (self.crtc[0x0C] as u16) << 8 | self.crtc[0x0D] as u16
    }

    /// Cursor location register.
    pub fn cursor_address(&self) -> u16 {
        (self.crtc[0x0E] as u16) << 8 | self.crtc[0x0F] as u16
    }

    /// Vertical display end: visible scan lines.
    pub fn display_lines(&self) -> u32 {
        let c7 = self.crtc[7] as u32;
        (self.crtc[0x12] as u32 | (c7 & 2) << 7 | (c7 & 0x40) << 3) + 1
    }

    /// Visible character clocks per line.
    pub fn display_chars(&self) -> u32 {
        self.crtc[1] as u32 + 1
    }

    /// Address-counter units per line (CRTC offset register, in words).
    pub fn line_offset(&self) -> u32 {
        self.crtc[0x13] as u32 * 2
    }

    /// Scan lines per character row (text) or per pixel row (graphics).
    pub fn scan_lines_per_row(&self) -> u32 {
        let c9 = self.crtc[9] as u32;
        ((c9 & 0x1F) + 1) << (c9 >> 7)
    }

    /// Reads plane `p` at plane offset `off` (wrapping at 64 KiB).
    #[inline]
    pub fn plane(&self, p: usize, off: usize) -> u8 {
        self.vram[((off & 0xFFFF) << 2) | (p & 3)]
    }

    /// Writes plane `p` at plane offset `off`.
    #[inline]
    pub fn set_plane(&mut self, p: usize, off: usize, v: u8) {
        self.vram[((off & 0xFFFF) << 2) | (p & 3)] = v;
    }
}
