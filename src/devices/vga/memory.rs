//! The memory side: CPU reads and writes through the A0000-BFFFF window (per the graphics
//! controller's memory map select) and the VBE linear framebuffer. Planar accesses go
//! through the latches, the read modes (0: one plane, 1: colour compare) and the write
//! modes 0-3 with rotate, set/reset, logical function and bit mask; chain-4 (mode 13h)
//! and odd/even (text modes) address the planes directly.
//!
//! Chain-4 follows the hardware: the two low address bits select the plane and the byte is
//! stored at the plane offset with those bits cleared (CPU byte a at plane a & 3, offset
//! a & !3), so mode 13h uses every fourth byte of each plane and the CRTC's doubleword
//! mode fetches them (render.rs). Software that turns chain-4 off (mode X) finds the
//! pixels there.

use super::{Vga, LFB_BASE, VRAM_SIZE};

impl Vga {
    /// Offset into the window the graphics controller maps, None outside it.
    fn window_offset(&self, addr: u32) -> Option<usize> {
        let (base, size) = match (self.gc[6] >> 2) & 3 {
            0 => (0xA0000, 0x20000),
            1 => (0xA0000, 0x10000),
            2 => (0xB0000, 0x8000),
            _ => (0xB8000, 0x8000),
        };
        let off = addr.wrapping_sub(base);
        (off < size).then_some(off as usize)
    }

    /// Byte of the VBE memory a CPU address reaches: the LFB, or the bank at A0000 while
    /// dispi is enabled. None when the address is for the VGA planes.
    fn vbe_offset(&self, addr: u32) -> Option<Option<usize>> {
        if addr >= LFB_BASE {
            let o = (addr - LFB_BASE) as usize;
            return Some((o < VRAM_SIZE).then_some(o));
        }
        if self.vbe.enabled() {
            let off = addr.wrapping_sub(0xA0000);
            if off < 0x10000 {
                return Some(Some(self.vbe.bank as usize * 0x10000 + off as usize));
            }
            return Some(None);
        }
        None
    }

    fn chain4(&self) -> bool {
        self.seq[4] & 0x08 != 0
    }

    pub fn mem_read(&mut self, addr: u32) -> u8 {
        if let Some(o) = self.vbe_offset(addr) {
            return o.and_then(|o| self.vram.get(o).copied()).unwrap_or(0xFF);
        }
        let Some(off) = self.window_offset(addr) else {
            return 0xFF;
        };
        let (plane, off) = if self.chain4() {
            (off & 3, off & !3)
        } else if self.gc[5] & 0x10 != 0 {
            ((self.gc[4] as usize & 2) | (off & 1), off & !1)
        } else {
            (self.gc[4] as usize & 3, off)
        };
        let base = (off & 0xFFFF) << 2;
        self.latch.copy_from_slice(&self.vram[base..base + 4]);
        if self.gc[5] & 0x08 == 0 {
            return self.latch[plane];
        }
        // Read mode 1: a 1 bit for each pixel whose colour matches the compare colour in
        // the planes selected by "colour don't care".
        let mut diff = 0u8;
        for p in 0..4 {
            if self.gc[7] >> p & 1 != 0 {
                let want = if self.gc[2] >> p & 1 != 0 { 0xFF } else { 0 };
                diff |= self.latch[p] ^ want;
            }
        }
        !diff
    }

    pub fn mem_write(&mut self, addr: u32, v: u8) {
        if let Some(o) = self.vbe_offset(addr) {
            if let Some(b) = o.and_then(|o| self.vram.get_mut(o)) {
                *b = v;
            }
            return;
        }
        let Some(off) = self.window_offset(addr) else {
            return;
        };
        let map_mask = self.seq[2] & 0x0F;
        if self.chain4() {
            if map_mask >> (off & 3) & 1 != 0 {
                self.set_plane(off & 3, off & !3, v);
            }
            return;
        }
        if self.seq[4] & 0x04 == 0 {
            // Odd/even: even addresses reach planes 0 and 2, odd ones 1 and 3.
            let mask = map_mask & (0b0101 << (off & 1));
            let base = ((off & !1) & 0xFFFF) << 2;
            for p in 0..4 {
                if mask >> p & 1 != 0 {
                    self.vram[base | p] = v;
                }
            }
            return;
        }
        let values = self.write_values(v);
        let base = (off & 0xFFFF) << 2;
        for (p, &val) in values.iter().enumerate() {
            if map_mask >> p & 1 != 0 {
                self.vram[base | p] = val;
            }
        }
    }

    /// The bytes write modes 0-3 put in the four planes for a CPU byte `v`.
    fn write_values(&self, v: u8) -> [u8; 4] {
        let mode = self.gc[5] & 3;
        if mode == 1 {
            return self.latch;
        }
        let rotated = v.rotate_right(self.gc[3] as u32 & 7);
        let set_reset = |p: usize| {
            if self.gc[0] >> p & 1 != 0 {
                0xFF
            } else {
                0
            }
        };
        let mut bit_mask = self.gc[8];
        let mut out = [0u8; 4];
        for (p, o) in out.iter_mut().enumerate() {
            *o = match mode {
                0 if self.gc[1] >> p & 1 != 0 => set_reset(p),
                0 => rotated,
                2 => {
                    if v >> p & 1 != 0 {
                        0xFF
                    } else {
                        0
                    }
                }
                _ => set_reset(p),
            };
        }
        if mode == 3 {
            bit_mask &= rotated;
        }
        for (p, o) in out.iter_mut().enumerate() {
            let latch = self.latch[p];
            let val = match (self.gc[3] >> 3) & 3 {
                0 => *o,
                1 => *o & latch,
                2 => *o | latch,
                _ => *o ^ latch,
            };
            *o = (val & bit_mask) | (latch & !bit_mask);
        }
        out
    }
}
