//! Turns video memory into pictures at the mode's native resolution: text (8/9-dot cells,
//! blink or intensity, CRTC cursor), CGA 4-colour (shift interleave), planar 16- and
//! 2-colour, 256-colour, and the VBE depths. Follows the start address, line offset, word
//! or byte addressing, CGA line interleave (CR17 bit 0), double scanning, the attribute
//! palette and the DAC with its PEL mask. Also the text view for terminal frontends.

use super::vbe::bytes_per_pixel;
use super::Vga;
use crate::frontend::{Frame, TextView};

/// Virtual nanoseconds per displayed frame at 70 Hz, for the blink phases.
const FRAME_NS: u64 = 1_000_000_000 / 70;

/// 6-bit DAC component to 8 bits (the top bits repeat into the low ones).
fn dac8(v: u8) -> u32 {
    let v = (v & 0x3F) as u32;
    (v << 2) | (v >> 4)
}

impl Vga {
    /// DAC colour of palette index `i` after the PEL mask, as 0x00RRGGBB.
    pub fn dac_rgb(&self, i: u8) -> u32 {
        let i = (i & self.pel_mask) as usize * 3;
        dac8(self.dac[i]) << 16 | dac8(self.dac[i + 1]) << 8 | dac8(self.dac[i + 2])
    }

    /// A 4-bit attribute colour through the palette registers and colour select.
    fn attr_rgb(&self, v: u8) -> u32 {
        let v = v & self.attr[0x12] & 0x0F;
        let pal = self.attr[v as usize];
        let sel = self.attr[0x14];
        let idx = if self.attr[0x10] & 0x80 != 0 {
            (pal & 0x0F) | (sel & 3) << 4
        } else {
            pal & 0x3F
        } | (sel & 0x0C) << 4;
        self.dac_rgb(idx)
    }

    /// Plane offset of address-counter value `ma` on scan `scan` of its row: the counter
    /// shifted left by 2 in doubleword mode (CR14 bit 6: mode 13h, whose chain-4 bytes lie
    /// at every fourth plane offset), by 1 in word mode (CR17 bit 6 clear), as is in byte
    /// mode (CR17 bit 6 set: mode X).
    fn memory_offset(&self, ma: u32, scan: u32) -> usize {
        let c17 = self.crtc[0x17];
        let mut a = if self.crtc[0x14] & 0x40 != 0 {
            ma << 2
        } else if c17 & 0x40 == 0 {
            ma << 1
        } else {
            ma
        };
        if c17 & 1 == 0 {
            a = (a & !0x2000) | (scan & 1) << 13;
        }
        if c17 & 2 == 0 {
            a = (a & !0x4000) | (scan & 2) << 13;
        }
        a as usize & 0xFFFF
    }

    pub fn render(&self, frame: &mut Frame) {
        if self.vbe.enabled() {
            self.render_vbe(frame);
        } else if !self.graphics_mode() {
            self.render_text(frame);
        } else {
            self.render_graphics(frame);
        }
        if self.seq[1] & 0x20 != 0 && !self.vbe.enabled() {
            // Screen off.
            frame.pixels.fill(0);
        }
    }

    fn render_vbe(&self, frame: &mut Frame) {
        let d = &self.vbe;
        let (w, h) = (d.xres as u32, d.yres as u32);
        frame.resize(w, h);
        let bpp = bytes_per_pixel(d.bpp) as u64;
        let start = self.vbe_start();
        let pitch = d.pitch() as u64;
        let byte = |o: u64| self.vram.get(o as usize).copied().unwrap_or(0) as u32;
        for y in 0..h {
            for x in 0..w {
                let o = start + y as u64 * pitch + x as u64 * bpp;
                let px = match d.bpp {
                    15 | 16 => {
                        let v = byte(o) | byte(o + 1) << 8;
                        let (r, g, b) = if d.bpp == 15 {
                            ((v >> 10) & 31, ((v >> 5) & 31) << 1 | (v >> 9) & 1, v & 31)
                        } else {
                            ((v >> 11) & 31, (v >> 5) & 63, v & 31)
                        };
                        let five = |c: u32| (c << 3) | (c >> 2);
                        five(r) << 16 | ((g << 2) | (g >> 4)) << 8 | five(b)
                    }
                    24 | 32 => byte(o + 2) << 16 | byte(o + 1) << 8 | byte(o),
                    _ => self.dac_rgb(byte(o) as u8),
                };
                frame.pixels[(y * w + x) as usize] = px;
            }
        }
    }

    fn render_graphics(&self, frame: &mut Frame) {
        let chars = self.display_chars();
        let c9 = self.crtc[9] as u32;
        let double = c9 >> 7;
        let row_lines = (c9 & 0x1F) + 1;
        // Physical scan lines that repeat one line of memory.
        let divisor = if self.crtc[0x17] & 1 == 0 {
            1 << double
        } else {
            row_lines << double
        };
        let height = (self.display_lines() / divisor).max(1);
        let mode256 = self.gc[5] & 0x40 != 0;
        let cga = !mode256 && self.gc[5] & 0x20 != 0;
        let width = if mode256 { chars * 4 } else { chars * 8 };
        frame.resize(width, height);
        let start = self.start_address() as u32;
        let offset = self.line_offset();
        for y in 0..height {
            let phys = (y * divisor) >> double;
            let (row, scan) = (phys / row_lines, phys % row_lines);
            let ma = start + row * offset;
            let line = &mut frame.pixels[(y * width) as usize..((y + 1) * width) as usize];
            if mode256 {
                for (x, px) in line.iter_mut().enumerate() {
                    let o = self.memory_offset(ma + x as u32 / 4, scan);
                    *px = self.dac_rgb(self.plane(x & 3, o));
                }
            } else if cga {
                for (x, px) in line.iter_mut().enumerate() {
                    let o = self.memory_offset(ma + x as u32 / 8, scan);
                    let b = self.plane((x / 4) & 1, o);
                    let shift = 6 - 2 * (x & 3);
                    *px = self.attr_rgb((b >> shift) & 3);
                }
            } else {
                for (x, px) in line.iter_mut().enumerate() {
                    let o = self.memory_offset(ma + x as u32 / 8, scan);
                    let bit = 7 - (x & 7);
                    let mut v = 0;
                    for p in 0..4 {
                        v |= (self.plane(p, o) >> bit & 1) << p;
                    }
                    *px = self.attr_rgb(v);
                }
            }
        }
    }

    /// Text geometry: (columns, rows, character height, cell width).
    fn text_geometry(&self) -> (u32, u32, u32, u32) {
        let cols = self.display_chars();
        let ch = (self.crtc[9] as u32 & 0x1F) + 1;
        let lines = self.display_lines() >> (self.crtc[9] >> 7);
        let rows = (lines / ch).max(1);
        let cell = if self.seq[1] & 1 != 0 { 8 } else { 9 };
        (cols, rows, ch, cell)
    }

    /// Plane offset of text cell (col, row).
    fn cell_offset(&self, col: u32, row: u32) -> usize {
        let ma = self.start_address() as u32 + row * self.line_offset() + col;
        self.memory_offset(ma, 0)
    }

    /// Font bytes of `ch` in plane 2 for a cell with attribute `attr`.
    fn glyph_base(&self, ch: u8, attr: u8) -> usize {
        let s = self.seq[3];
        let a = ((s >> 3) & 4) | ((s >> 2) & 3);
        let b = ((s >> 2) & 4) | (s & 3);
        let map = if attr & 8 != 0 { a } else { b } as usize;
        // Maps 0-3 lie at 0, 16K, 32K, 48K; 4-7 at 8K, 24K, 40K, 56K.
        let base = (map & 3) * 0x4000 + (map >> 2) * 0x2000;
        base + ch as usize * 32
    }

    fn render_text(&self, frame: &mut Frame) {
        let (cols, rows, ch, cell) = self.text_geometry();
        let (w, h) = (cols * cell, rows * ch);
        frame.resize(w, h);
        let phase = self.now_ns / FRAME_NS;
        let blink_on = (phase / 16).is_multiple_of(2);
        let cursor_on = (phase / 8).is_multiple_of(2);
        let blink_mode = self.attr[0x10] & 0x08 != 0;
        let line_graphics = self.attr[0x10] & 0x04 != 0;
        let cursor = self.cursor_cell();
        let (cur_start, cur_end) = (self.crtc[0x0A] as u32 & 0x1F, self.crtc[0x0B] as u32 & 0x1F);
        for row in 0..rows {
            for col in 0..cols {
                let o = self.cell_offset(col, row);
                let (c, a) = (self.plane(0, o), self.plane(1, o));
                let mut fg = a & 0x0F;
                let mut bg = a >> 4;
                if blink_mode {
                    bg &= 7;
                    if a & 0x80 != 0 && !blink_on {
                        fg = bg;
                    }
                }
                let (fg, bg) = (self.attr_rgb(fg), self.attr_rgb(bg));
                let glyph = self.glyph_base(c, a);
                let with_cursor = cursor == Some((col, row)) && cursor_on;
                for y in 0..ch {
                    let mut bits = self.plane(2, glyph + y as usize) as u32;
                    if with_cursor && (cur_start..=cur_end).contains(&y) {
                        bits = 0xFF;
                    }
                    // The ninth column repeats the eighth for the line-drawing characters.
                    let ninth = line_graphics && (0xC0..=0xDF).contains(&c) && bits & 1 != 0;
                    let bits = bits << 1 | ninth as u32;
                    let p = ((row * ch + y) * w + col * cell) as usize;
                    for x in 0..cell {
                        let on = bits >> (8 - x) & 1 != 0;
                        frame.pixels[p + x as usize] = if on { fg } else { bg };
                    }
                }
            }
        }
    }

    /// Cursor cell (column, row) when the cursor is enabled and on screen.
    fn cursor_cell(&self) -> Option<(u32, u32)> {
        if self.crtc[0x0A] & 0x20 != 0 {
            return None;
        }
        let (cols, rows, _, _) = self.text_geometry();
        let rel = (self.cursor_address() as u32).wrapping_sub(self.start_address() as u32);
        let stride = self.line_offset().max(1);
        let (col, row) = (rel % stride, rel / stride);
        (col < cols && row < rows).then_some((col, row))
    }

    /// The text screen as cells, None in graphics modes.
    pub fn text_view(&self) -> Option<TextView> {
        if self.graphics_mode() {
            return None;
        }
        let (cols, rows, _, _) = self.text_geometry();
        let mut cells = Vec::with_capacity((cols * rows) as usize);
        for row in 0..rows {
            for col in 0..cols {
                let o = self.cell_offset(col, row);
                cells.push(self.plane(0, o) as u16 | (self.plane(1, o) as u16) << 8);
            }
        }
        Some(TextView {
            cols: cols as u16,
            rows: rows as u16,
            cells,
            cursor: self.cursor_cell().map(|(c, r)| (c as u16, r as u16)),
        })
    }
}
