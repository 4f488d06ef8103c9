//! The port side: index/data register pairs, the attribute flip-flop, the DAC's
//! auto-incrementing read and write indices, and input status 1 with retrace timing taken
//! from virtual time.

use super::Vga;

/// One scan line at the VGA's 31.47 kHz horizontal rate, in nanoseconds.
const LINE_NS: u64 = 31_778;

impl Vga {
    /// Total and visible scan lines per frame, from the sync polarity bits.
    fn line_timing(&self) -> (u64, u64) {
        match self.misc >> 6 {
            3 => (525, 480),
            2 => (449, 350),
            _ => (449, 400),
        }
    }

    /// The vertical refresh rate, in Hz: 60 for 480-line timings, 70 for the others.
    pub fn refresh_hz(&self) -> f64 {
        1e9 / (LINE_NS * self.line_timing().0) as f64
    }

    /// True when the CRTC answers at 0x3Dx (colour), false for 0x3Bx (mono).
    fn color_ports(&self) -> bool {
        self.misc & 1 != 0
    }

    /// Input status 1 at virtual time `now`: bit 0 display disabled (blanking), bit 3
    /// vertical retrace. 480-line timings (sync polarity 0xC0) run at 60 Hz with 525 lines,
    /// the 400- and 350-line ones at 70 Hz with 449 lines.
    pub fn input_status1(&self, now: u64) -> u8 {
        let (total, visible) = self.line_timing();
        let frame = LINE_NS * total;
        let t = now % frame;
        let line = t / LINE_NS;
        let in_line = t % LINE_NS;
        let mut v = 0;
        // Horizontal blanking is the last ~20% of each line.
        if line >= visible || in_line >= LINE_NS * 4 / 5 {
            v |= 1;
        }
        if (visible + 10..visible + 12).contains(&line) {
            v |= 8;
        }
        v
    }

    pub fn read_port(&mut self, port: u16, now: u64) -> u8 {
        self.now_ns = now;
        match port {
            0x3C0 => self.attr_index,
            0x3C1 => self
                .attr
                .get(self.attr_index as usize & 0x1F)
                .copied()
                .unwrap_or(0),
            0x3C2 => 0x10, // input status 0: switch sense (a colour monitor is attached)
            0x3C4 => self.seq_index,
            0x3C5 => self.seq[self.seq_index as usize & 7],
            0x3C6 => self.pel_mask,
            0x3C7 => self.dac_state,
            0x3C8 => self.dac_write,
            0x3C9 => {
                let v = self.dac[self.dac_read as usize * 3 + self.dac_sub as usize];
                self.dac_sub += 1;
                if self.dac_sub == 3 {
                    self.dac_sub = 0;
                    self.dac_read = self.dac_read.wrapping_add(1);
                }
                v
            }
            0x3CA => self.feature,
            0x3CC => self.misc,
            0x3CE => self.gc_index,
            0x3CF => self.gc[self.gc_index as usize & 0xF],
            0x3B4 | 0x3D4 if self.crtc_port(port) => self.crtc_index,
            0x3B5 | 0x3D5 if self.crtc_port(port) => self
                .crtc
                .get(self.crtc_index as usize)
                .copied()
                .unwrap_or(0),
            0x3BA | 0x3DA if self.crtc_port(port) => {
                self.attr_flip = false;
                self.input_status1(now)
            }
            0x1CE => self.vbe.index as u8,
            0x1CF => self.vbe.read(self.vbe.index) as u8,
            _ => 0xFF,
        }
    }

    fn crtc_port(&self, port: u16) -> bool {
        (port & 0xF0 == 0xD0) == self.color_ports()
    }

    pub fn write_port(&mut self, port: u16, v: u8, now: u64) {
        self.now_ns = now;
        match port {
            0x3C0 => {
                if self.attr_flip {
                    if let Some(r) = self.attr.get_mut(self.attr_index as usize & 0x1F) {
                        *r = v;
                    }
                } else {
                    self.attr_index = v & 0x3F;
                }
                self.attr_flip = !self.attr_flip;
            }
            0x3C2 => self.misc = v,
            0x3C4 => self.seq_index = v,
            0x3C5 => self.seq[self.seq_index as usize & 7] = v,
            0x3C6 => self.pel_mask = v,
            0x3C7 => {
                self.dac_read = v;
                self.dac_sub = 0;
                self.dac_state = 3;
            }
            0x3C8 => {
                self.dac_write = v;
                self.dac_sub = 0;
                self.dac_state = 0;
            }
            0x3C9 => {
                self.dac[self.dac_write as usize * 3 + self.dac_sub as usize] = v & 0x3F;
                self.dac_sub += 1;
                if self.dac_sub == 3 {
                    self.dac_sub = 0;
                    self.dac_write = self.dac_write.wrapping_add(1);
                }
            }
            0x3CE => self.gc_index = v,
            0x3CF => self.gc[self.gc_index as usize & 0xF] = v,
            0x3B4 | 0x3D4 if self.crtc_port(port) => self.crtc_index = v,
            0x3B5 | 0x3D5 if self.crtc_port(port) => self.write_crtc(v),
            0x3BA | 0x3DA if self.crtc_port(port) => self.feature = v,
            0x1CE => self.vbe.index = v as u16,
            0x1CF => self.write_vbe(self.vbe.index, v as u16),
            _ => {}
        }
    }

    fn write_crtc(&mut self, v: u8) {
        let i = self.crtc_index as usize;
        if i >= self.crtc.len() {
            return;
        }
        // CR11 bit 7 write-protects registers 0-7 (except the line-compare bit of CR07).
        if self.crtc[0x11] & 0x80 != 0 && i <= 7 {
            if i == 7 {
                self.crtc[7] = (self.crtc[7] & !0x10) | (v & 0x10);
            }
            return;
        }
        self.crtc[i] = v;
    }

    /// 16-bit access to the dispi ports.
    pub fn read_port16(&mut self, port: u16, now: u64) -> u16 {
        match port {
            0x1CE => self.vbe.index,
            0x1CF => self.vbe.read(self.vbe.index),
            _ => self.read_port(port, now) as u16 | (self.read_port(port + 1, now) as u16) << 8,
        }
    }

    pub fn write_port16(&mut self, port: u16, v: u16, now: u64) {
        match port {
            0x1CE => self.vbe.index = v,
            0x1CF => self.write_vbe(self.vbe.index, v),
            _ => {
                self.write_port(port, v as u8, now);
                self.write_port(port + 1, (v >> 8) as u8, now);
            }
        }
    }
}
