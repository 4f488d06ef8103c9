//! INT 10h: set mode (programming the VGA, vga_modes.rs), cursor shape and position,
//! scrolling, character and attribute reads and writes, teletype output, pixels, palette
//! and font functions, state queries, and VBE (vbe.rs). Text modes work through the regen
//! buffer (B800:0000, B000:0000 in mode 7) as guest memory, which reaches the VGA's planes;
//! graphics modes draw glyphs on the planes (vga_gfx.rs). The cursor lives in the BIOS data
//! area and is mirrored into the CRTC.

use super::{ah, al, bx, cx, dx, rd16, rd8, set_al, set_ax, set_reg16, wr16, wr8, Bios};
use crate::cpu::state::{EBX, ECX, EDX};
use crate::cpu::Cpu;
use crate::devices::vga;
use crate::devices::PcBus;

use super::vga_gfx;
use super::vga_modes::{self, Kind, ModeParams};

/// The regen buffer segment of the current text mode.
fn text_seg(cpu: &Cpu) -> u16 {
    if rd8(cpu, 0x40, 0x49) == 7 {
        0xB000
    } else {
        0xB800
    }
}

/// The parameters of the current mode when it is a graphics mode and a VGA is attached.
fn graphics(cpu: &Cpu) -> Option<(vga::SharedVga, ModeParams)> {
    let p = vga_modes::params(rd8(cpu, 0x40, 0x49))?;
    if p.kind == Kind::Text {
        return None;
    }
    Some((cpu.mem.vga()?.clone(), p))
}

// The geometry comes from the BIOS data area, which the guest may scribble on: keep it
// within what a VGA text mode can be.
fn columns(cpu: &Cpu) -> u16 {
    rd16(cpu, 0x40, 0x4A).clamp(1, 132)
}

fn rows(cpu: &Cpu) -> u16 {
    (rd8(cpu, 0x40, 0x84) as u16 + 1).min(60)
}

fn page_offset(cpu: &Cpu, page: u8) -> u16 {
    rd16(cpu, 0x40, 0x4C).wrapping_mul(page as u16)
}

fn cursor(cpu: &Cpu, page: u8) -> (u16, u16) {
    let v = rd16(cpu, 0x40, 0x50 + 2 * (page as u16 & 7));
    ((v >> 8) & 0xFF, v & 0xFF)
}

fn set_cursor(cpu: &mut Cpu, page: u8, row: u16, col: u16) {
    wr16(cpu, 0x40, 0x50 + 2 * (page as u16 & 7), row << 8 | col);
    if page == rd8(cpu, 0x40, 0x62) {
        sync_crtc(cpu);
    }
}

/// Mirrors the BDA's active page start, cursor position and shape into the CRTC.
fn sync_crtc(cpu: &Cpu) {
    let Some(shared) = cpu.mem.vga() else {
        return;
    };
    let page = rd8(cpu, 0x40, 0x62);
    let (row, col) = cursor(cpu, page);
    let start = rd16(cpu, 0x40, 0x4E) / 2;
    let pos = start.wrapping_add(row.wrapping_mul(columns(cpu)).wrapping_add(col));
    let shape = rd16(cpu, 0x40, 0x60);
    let mut v = vga::lock(shared);
    if v.graphics_mode() {
        return;
    }
    v.crtc[0x0C] = (start >> 8) as u8;
    v.crtc[0x0D] = start as u8;
    v.crtc[0x0E] = (pos >> 8) as u8;
    v.crtc[0x0F] = pos as u8;
    v.crtc[0x0A] = (shape >> 8) as u8 & 0x3F;
    v.crtc[0x0B] = shape as u8 & 0x1F;
}

/// Makes the text screen use `height`-line characters (INT 10h AX=1110h-1114h with a font
/// loaded): CRTC maximum scan line, as many rows as the vertical display end holds (400
/// lines: 50 of 8, 28 of 14, 25 of 16), the BDA rows, character height and page size, and
/// the cursor shape (lines 6-7 for 8-line characters, else the third- and second-last
/// line). Nothing happens in graphics modes.
pub fn set_char_height(cpu: &mut Cpu, height: u8) {
    let height = height.clamp(1, 32);
    if graphics(cpu).is_some() || vga_modes::params(rd8(cpu, 0x40, 0x49)).is_none() {
        return;
    }
    let Some(shared) = cpu.mem.vga().cloned() else {
        return;
    };
    let lines = {
        let mut v = vga::lock(&shared);
        v.crtc[0x09] = (v.crtc[0x09] & 0xE0) | (height - 1);
        v.display_lines() as u16
    };
    let rows = (lines / height as u16).clamp(1, 60);
    wr8(cpu, 0x40, 0x84, (rows - 1) as u8);
    wr16(cpu, 0x40, 0x85, height as u16);
    // Page size: the screen's bytes rounded up to 2 KiB (SeaBIOS does the same; 80x25 is
    // 1000h as after the mode set).
    wr16(
        cpu,
        0x40,
        0x4C,
        (rows * columns(cpu) * 2).next_multiple_of(0x800),
    );
    let shape = if height <= 8 {
        0x0607
    } else {
        ((height as u16 - 3) << 8) | (height as u16 - 2)
    };
    wr16(cpu, 0x40, 0x60, shape);
    sync_crtc(cpu);
}

fn cell_offset(cpu: &Cpu, page: u8, row: u16, col: u16) -> u16 {
    page_offset(cpu, page).wrapping_add(
        row.wrapping_mul(columns(cpu))
            .wrapping_add(col)
            .wrapping_mul(2),
    )
}

/// Sets a standard mode (bit 7: keep video memory). Unknown modes are ignored.
pub fn set_mode(cpu: &mut Cpu, mode: u8) {
    let m = mode & 0x7F;
    let Some(p) = vga_modes::params(m) else {
        return;
    };
    if let Some(shared) = cpu.mem.vga().cloned() {
        vga_modes::program(&mut vga::lock(&shared), m, &p, mode & 0x80 != 0);
    } else if p.kind == Kind::Text && mode & 0x80 == 0 {
        for i in 0..0x4000u16 {
            wr16(cpu, 0xB800, i * 2, 0x0720);
        }
    }
    wr8(cpu, 0x40, 0x49, m);
    wr16(cpu, 0x40, 0x4A, p.cols);
    let page_size = if p.kind == Kind::Text {
        p.page_size
    } else {
        p.page_size.max(0x2000)
    };
    wr16(cpu, 0x40, 0x4C, page_size);
    wr16(cpu, 0x40, 0x4E, 0);
    wr8(cpu, 0x40, 0x62, 0);
    let shape = if p.char_height == 14 { 0x0B0C } else { 0x0D0E };
    wr16(
        cpu,
        0x40,
        0x60,
        if p.kind == Kind::Text { shape } else { 0 },
    );
    wr16(cpu, 0x40, 0x63, if m == 7 { 0x3B4 } else { 0x3D4 });
    wr8(
        cpu,
        0x40,
        0x65,
        if p.kind == Kind::Text { 0x29 } else { 0x1E },
    );
    wr8(cpu, 0x40, 0x66, if m == 6 { 0x3F } else { 0x30 });
    wr8(cpu, 0x40, 0x84, (p.rows - 1) as u8);
    wr16(cpu, 0x40, 0x85, p.char_height as u16);
    wr8(cpu, 0x40, 0x87, 0x60 | (mode & 0x80));
    wr8(cpu, 0x40, 0x88, 0x09);
    wr8(cpu, 0x40, 0x89, 0x11);
    for pg in 0..8 {
        set_cursor(cpu, pg, 0, 0);
    }
    sync_crtc(cpu);
}

/// Scrolls the window (top,left)-(bottom,right) of the active page up (or down) by `n`
/// lines (0 = clear), filling with `attr`. Works on guest memory a row at a time.
fn scroll(cpu: &mut Cpu, up: bool, n: u16, attr: u8, window: (u16, u16, u16, u16)) {
    if let Some((shared, p)) = graphics(cpu) {
        let fill = if p.kind == Kind::Linear8 {
            attr
        } else {
            attr & 0x0F
        };
        vga_gfx::scroll(&mut vga::lock(&shared), &p, up, n, fill, window);
        return;
    }
    let (top, left, bottom, right) = window;
    let page = rd8(cpu, 0x40, 0x62);
    let (cols, rows) = (columns(cpu), rows(cpu));
    let bottom = bottom.min(rows - 1);
    let right = right.min(cols - 1);
    if top > bottom || left > right {
        return;
    }
    let height = bottom - top + 1;
    let n = if n == 0 || n > height { height } else { n };
    let base = ((text_seg(cpu) as u32) << 4) + page_offset(cpu, page) as u32;
    let width = (right - left + 1) as usize * 2;
    let row_addr = |row: u16| base + (row as u32 * cols as u32 + left as u32) * 2;
    let mut line = vec![0u8; width];
    // Charge the guest roughly what a ROM scroll loop would take (a move per cell), so
    // budgets and virtual time see the work.
    cpu.icount += height as u64 * width as u64 / 2;
    for i in 0..height {
        let row = if up { top + i } else { bottom - i };
        let from_inside = i + n < height;
        if from_inside {
            let src = if up { row + n } else { row - n };
            let a = row_addr(src);
            for (k, b) in line.iter_mut().enumerate() {
                *b = cpu.mem.read_u8(super::phys(cpu, a + k as u32));
            }
        } else {
            for pair in line.chunks_mut(2) {
                pair[0] = b' ';
                pair[1] = attr;
            }
        }
        let a = row_addr(row);
        for (k, &b) in line.iter().enumerate() {
            let p = super::phys(cpu, a + k as u32);
            cpu.mem.write_u8(p, b);
        }
    }
}

/// Teletype output of one character on `page` (BEL, BS, CR, LF handled; scrolls at the
/// bottom).
pub fn teletype(cpu: &mut Cpu, page: u8, ch: u8, attr: Option<u8>) {
    let (mut row, mut col) = cursor(cpu, page);
    let (cols, rows) = (columns(cpu), rows(cpu));
    match ch {
        0x07 => return,
        0x08 => col = col.saturating_sub(1),
        b'\r' => col = 0,
        b'\n' => row = row.wrapping_add(1),
        _ => {
            if let Some((shared, p)) = graphics(cpu) {
                let color = attr.unwrap_or(bx(cpu) as u8);
                vga_gfx::draw_char(&mut vga::lock(&shared), &p, col, row, ch, color);
            } else {
                let o = cell_offset(cpu, page, row, col);
                let seg = text_seg(cpu);
                wr8(cpu, seg, o, ch);
                if let Some(a) = attr {
                    wr8(cpu, seg, o.wrapping_add(1), a);
                }
            }
            col = col.wrapping_add(1);
            if col >= cols {
                col = 0;
                row = row.wrapping_add(1);
            }
        }
    }
    if row >= rows {
        let attr = if graphics(cpu).is_some() {
            0
        } else {
            let seg = text_seg(cpu);
            rd8(
                cpu,
                seg,
                cell_offset(cpu, page, rows - 1, 0).wrapping_add(1),
            )
        };
        scroll(cpu, true, 1, attr, (0, 0, rows - 1, cols - 1));
        row = rows - 1;
    }
    set_cursor(cpu, page, row, col);
}

/// Prints a BIOS message on the screen (and the host's stderr).
pub fn print(cpu: &mut Cpu, msg: &str) {
    eprintln!("emu BIOS: {msg}");
    for b in msg.bytes().chain(*b"\r\n") {
        teletype(cpu, 0, b, Some(0x07));
    }
}

pub fn int10(bios: &mut Bios, cpu: &mut Cpu, _bus: &mut PcBus) {
    let page_bh = (bx(cpu) >> 8) as u8;
    match ah(cpu) {
        0x00 => set_mode(cpu, al(cpu)),
        0x01 => {
            wr16(cpu, 0x40, 0x60, cx(cpu));
            sync_crtc(cpu);
        }
        0x02 => {
            let d = dx(cpu);
            set_cursor(cpu, page_bh, d >> 8, d & 0xFF);
        }
        0x03 => {
            let (r, c) = cursor(cpu, page_bh);
            set_reg16(cpu, EDX, r << 8 | c);
            let shape = rd16(cpu, 0x40, 0x60);
            set_reg16(cpu, ECX, shape);
        }
        0x05 => {
            let p = al(cpu) & 7;
            wr8(cpu, 0x40, 0x62, p);
            let start = page_offset(cpu, p);
            wr16(cpu, 0x40, 0x4E, start);
            sync_crtc(cpu);
        }
        0x06 | 0x07 => {
            let (c, d) = (cx(cpu), dx(cpu));
            let attr = (bx(cpu) >> 8) as u8;
            let window = (c >> 8, c & 0xFF, d >> 8, d & 0xFF);
            scroll(cpu, ah(cpu) == 6, al(cpu) as u16, attr, window);
        }
        0x08 => {
            if graphics(cpu).is_some() {
                set_ax(cpu, 0); // reading glyphs back from graphics is not supported
                return;
            }
            let (r, c) = cursor(cpu, page_bh);
            let v = rd16(cpu, text_seg(cpu), cell_offset(cpu, page_bh, r, c));
            set_ax(cpu, v);
        }
        0x09 | 0x0A => {
            let (r, c) = cursor(cpu, page_bh);
            let cols = columns(cpu);
            let total = rows(cpu).wrapping_mul(cols);
            let start = r.wrapping_mul(cols).wrapping_add(c);
            let attr = bx(cpu) as u8;
            let gfx = graphics(cpu);
            let seg = text_seg(cpu);
            for i in 0..cx(cpu) {
                let pos = start.wrapping_add(i);
                if pos >= total {
                    break;
                }
                if let Some((shared, p)) = &gfx {
                    let (row, col) = (pos / cols, pos % cols);
                    vga_gfx::draw_char(&mut vga::lock(shared), p, col, row, al(cpu), attr);
                    continue;
                }
                let o = cell_offset(cpu, page_bh, pos / cols, pos % cols);
                wr8(cpu, seg, o, al(cpu));
                if ah(cpu) == 0x09 {
                    wr8(cpu, seg, o.wrapping_add(1), attr);
                }
            }
        }
        0x0B => palette_cga(cpu),
        0x0C | 0x0D => {
            if let Some((shared, p)) = graphics(cpu) {
                let (x, y) = (cx(cpu) as u32, dx(cpu) as u32);
                let mut v = vga::lock(&shared);
                if ah(cpu) == 0x0C {
                    vga_gfx::put_pixel(&mut v, &p, x, y, al(cpu));
                } else {
                    let c = vga_gfx::get_pixel(&v, &p, x, y);
                    drop(v);
                    set_al(cpu, c);
                }
            }
        }
        0x0E => teletype(cpu, rd8(cpu, 0x40, 0x62), al(cpu), None),
        0x0F => {
            let mode = rd8(cpu, 0x40, 0x49) | (rd8(cpu, 0x40, 0x87) & 0x80);
            let cols = columns(cpu) as u8;
            set_ax(cpu, (cols as u16) << 8 | mode as u16);
            let page = rd8(cpu, 0x40, 0x62);
            cpu.gpr[EBX] = (cpu.gpr[EBX] & !0xFF00) | (page as u32) << 8;
        }
        0x10 => super::vga_palette::int10_10(cpu),
        0x11 => super::vga_palette::int10_11(cpu),
        0x12 if bx(cpu) as u8 == 0x10 => {
            // EGA information: colour, 256 KiB, switches of a VGA colour display.
            set_reg16(cpu, EBX, 0x0003);
            set_reg16(cpu, ECX, 0x0009);
        }
        0x12 => set_al(cpu, 0x12),
        0x13 => {
            // Write string: ES:BP, CX chars, at DH,DL, attribute BL.
            let (row, col) = (dx(cpu) >> 8, dx(cpu) & 0xFF);
            let mode = al(cpu);
            let saved = cursor(cpu, page_bh);
            set_cursor(cpu, page_bh, row, col);
            let es = cpu.seg[crate::cpu::Seg::Es as usize].selector;
            let mut off = cpu.gpr[crate::cpu::state::EBP] as u16;
            let mut attr = bx(cpu) as u8;
            for _ in 0..cx(cpu) {
                let ch = super::rd8(cpu, es, off);
                off = off.wrapping_add(1);
                if mode & 2 != 0 {
                    attr = super::rd8(cpu, es, off);
                    off = off.wrapping_add(1);
                }
                teletype(cpu, page_bh, ch, Some(attr));
            }
            if mode & 1 == 0 {
                set_cursor(cpu, page_bh, saved.0, saved.1);
            }
        }
        0x1A if al(cpu) == 0 => {
            // Display combination: VGA with colour analogue display.
            set_al(cpu, 0x1A);
            set_reg16(cpu, EBX, 0x0008);
        }
        0x1B if bx(cpu) == 0 => super::vga_palette::functionality(cpu),
        0x4F => {
            if let Some(mode) = super::vbe::int10_4f(cpu, al(cpu)) {
                set_mode(cpu, mode);
            }
        }
        _ => bios.unimplemented(cpu, 0x10),
    }
}

/// AH=0Bh: CGA border/background colour (BH=0) and palette select (BH=1).
fn palette_cga(cpu: &mut Cpu) {
    let Some(shared) = cpu.mem.vga().cloned() else {
        return;
    };
    let (sel, val) = ((bx(cpu) >> 8) as u8, bx(cpu) as u8);
    let mut v = vga::lock(&shared);
    let graphics = v.graphics_mode();
    match sel {
        0 => {
            let c = (val & 7) | (val & 0x10) >> 1;
            let c = if c & 8 != 0 { c | 0x10 } else { c };
            v.attr[0x11] = c;
            if graphics {
                v.attr[0] = c;
            }
        }
        _ => {
            if graphics {
                let intense = v.attr[0] & 0x10;
                for i in 1..4 {
                    v.attr[i] = (2 * i as u8 + (val & 1)) | intense;
                }
            }
        }
    }
}
