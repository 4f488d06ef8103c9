//! INT 10h drawing in the graphics modes: pixels (AH=0Ch/0Dh), characters drawn as glyphs
//! (AH=09h/0Ah/0Eh) and scrolling, working on the VGA's planes directly.

use super::vga_modes::{Kind, ModeParams};
use crate::devices::vga::Vga;

/// Plane offset and bit of pixel (x, y) in a CGA mode (odd/even storage of B8000).
fn cga_byte(p: &ModeParams, x: u32, y: u32) -> (usize, u8) {
    let per_byte = if p.kind == Kind::Cga4 { 4 } else { 8 };
    let addr = (y as usize & 1) * 0x2000 + (y as usize / 2) * 80 + x as usize / per_byte;
    (addr, (x as usize % per_byte) as u8)
}

pub fn get_pixel(vga: &Vga, p: &ModeParams, x: u32, y: u32) -> u8 {
    if x >= p.width as u32 || y >= p.height as u32 {
        return 0;
    }
    match p.kind {
        Kind::Linear8 => {
            let a = (y * 320 + x) as usize;
            vga.plane(a & 3, a & !3)
        }
        Kind::Planar => {
            let off = (y * p.width as u32 / 8 + x / 8) as usize;
            let bit = 7 - (x & 7);
            (0..4).fold(0, |c, pl| c | (vga.plane(pl, off) >> bit & 1) << pl)
        }
        Kind::Cga4 => {
            let (a, i) = cga_byte(p, x, y);
            vga.plane(a & 1, a & !1) >> (6 - 2 * i) & 3
        }
        Kind::Cga2 => {
            let (a, i) = cga_byte(p, x, y);
            vga.plane(0, a) >> (7 - i) & 1
        }
        Kind::Text => 0,
    }
}

/// Sets a pixel; colour bit 7 XORs (except in mode 13h).
pub fn put_pixel(vga: &mut Vga, p: &ModeParams, x: u32, y: u32, color: u8) {
    if x >= p.width as u32 || y >= p.height as u32 {
        return;
    }
    let xor = color & 0x80 != 0 && p.kind != Kind::Linear8;
    let old = get_pixel(vga, p, x, y);
    let c = if xor { old ^ (color & 0x7F) } else { color };
    match p.kind {
        Kind::Linear8 => {
            // Chain-4: plane a & 3, offset a & !3 (as the VGA stores CPU writes).
            let a = (y * 320 + x) as usize;
            vga.set_plane(a & 3, a & !3, c);
        }
        Kind::Planar => {
            let off = (y * p.width as u32 / 8 + x / 8) as usize;
            let bit = 1u8 << (7 - (x & 7));
            for pl in 0..4 {
                let v = vga.plane(pl, off);
                vga.set_plane(pl, off, if c >> pl & 1 != 0 { v | bit } else { v & !bit });
            }
        }
        Kind::Cga4 => {
            let (a, i) = cga_byte(p, x, y);
            let shift = 6 - 2 * i;
            let v = vga.plane(a & 1, a & !1) & !(3 << shift);
            vga.set_plane(a & 1, a & !1, v | (c & 3) << shift);
        }
        Kind::Cga2 => {
            let (a, i) = cga_byte(p, x, y);
            let bit = 0x80u8 >> i;
            let v = vga.plane(0, a);
            vga.set_plane(0, a, if c & 1 != 0 { v | bit } else { v & !bit });
        }
        Kind::Text => {}
    }
}

/// Draws character `ch` in cell (col, row): foreground `color` (bit 7 XOR), background 0.
pub fn draw_char(vga: &mut Vga, p: &ModeParams, col: u16, row: u16, ch: u8, color: u8) {
    let h = p.char_height as usize;
    let font = match h {
        8 => crate::bios::font::font_8x8(),
        14 => crate::bios::font::font_8x14(),
        _ => crate::bios::font::font_8x16(),
    };
    let glyph = &font[ch as usize * h..(ch as usize + 1) * h];
    let (x0, y0) = (col as u32 * 8, row as u32 * h as u32);
    let xor = color & 0x80 != 0;
    for (r, &bits) in glyph.iter().enumerate() {
        for b in 0..8 {
            let on = bits >> (7 - b) & 1 != 0;
            let (x, y) = (x0 + b, y0 + r as u32);
            if xor {
                if on {
                    put_pixel(vga, p, x, y, color);
                }
            } else {
                put_pixel(vga, p, x, y, if on { color } else { 0 });
            }
        }
    }
}

/// Scrolls the character window up (or down) by `n` rows (0 = clear), filling with `fill`.
pub fn scroll(
    vga: &mut Vga,
    p: &ModeParams,
    up: bool,
    n: u16,
    fill: u8,
    win: (u16, u16, u16, u16),
) {
    let (top, left, bottom, right) = win;
    let bottom = bottom.min(p.rows - 1);
    let right = right.min(p.cols - 1);
    if top > bottom || left > right {
        return;
    }
    let height = bottom - top + 1;
    let n = if n == 0 || n > height { height } else { n };
    let ch = p.char_height as u32;
    let (x0, x1) = (left as u32 * 8, (right as u32 + 1) * 8);
    for i in 0..height {
        let row = if up { top + i } else { bottom - i };
        for line in 0..ch {
            let y = row as u32 * ch + line;
            for x in x0..x1 {
                let c = if i + n < height {
                    let src = if up { row + n } else { row - n };
                    get_pixel(vga, p, x, src as u32 * ch + line)
                } else {
                    fill
                };
                put_pixel(vga, p, x, y, c);
            }
        }
    }
}
