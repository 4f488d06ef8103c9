//! INT 10h for the colour text modes (the VGA device and its graphics modes come with the
//! display work): set mode, cursor shape and position, scrolling, character and attribute
//! reads and writes, teletype output, and the state queries DOS software makes. The text
//! buffer is guest memory at B800:0000; the cursor lives in the BIOS data area.

use super::{ah, al, bx, cx, dx, rd16, rd8, set_al, set_ax, set_reg16, wr16, wr8, Bios};
use crate::cpu::state::{EBX, ECX, EDX};
use crate::cpu::Cpu;
use crate::devices::PcBus;

const TEXT_SEG: u16 = 0xB800;

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
}

fn cell_offset(cpu: &Cpu, page: u8, row: u16, col: u16) -> u16 {
    page_offset(cpu, page).wrapping_add(
        row.wrapping_mul(columns(cpu))
            .wrapping_add(col)
            .wrapping_mul(2),
    )
}

/// Sets a text mode: clears the screen and resets the cursors.
pub fn set_mode(cpu: &mut Cpu, mode: u8) {
    let (cols, rows) = match mode & 0x7F {
        0 | 1 => (40u16, 25u16),
        _ => (80, 25),
    };
    wr8(cpu, 0x40, 0x49, mode & 0x7F);
    wr16(cpu, 0x40, 0x4A, cols);
    wr16(cpu, 0x40, 0x4C, if cols == 40 { 0x800 } else { 0x1000 });
    wr16(cpu, 0x40, 0x4E, 0);
    wr8(cpu, 0x40, 0x62, 0);
    wr16(cpu, 0x40, 0x60, 0x0607);
    wr16(cpu, 0x40, 0x63, 0x3D4);
    wr8(cpu, 0x40, 0x84, (rows - 1) as u8);
    wr16(cpu, 0x40, 0x85, 16);
    wr8(cpu, 0x40, 0x87, 0x60);
    wr8(cpu, 0x40, 0x88, 0x09);
    wr8(cpu, 0x40, 0x89, 0x11);
    for p in 0..8 {
        set_cursor(cpu, p, 0, 0);
    }
    if mode & 0x80 == 0 {
        for i in 0..0x4000u16 {
            wr16(cpu, TEXT_SEG, i * 2, 0x0720);
        }
    }
}

/// Scrolls the window (top,left)-(bottom,right) of the active page up (or down) by `n`
/// lines (0 = clear), filling with `attr`. Works on guest memory a row at a time.
fn scroll(cpu: &mut Cpu, up: bool, n: u16, attr: u8, window: (u16, u16, u16, u16)) {
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
    let base = ((TEXT_SEG as u32) << 4) + page_offset(cpu, page) as u32;
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
            let o = cell_offset(cpu, page, row, col);
            wr8(cpu, TEXT_SEG, o, ch);
            if let Some(a) = attr {
                wr8(cpu, TEXT_SEG, o.wrapping_add(1), a);
            }
            col = col.wrapping_add(1);
            if col >= cols {
                col = 0;
                row = row.wrapping_add(1);
            }
        }
    }
    if row >= rows {
        let attr = rd8(
            cpu,
            TEXT_SEG,
            cell_offset(cpu, page, rows - 1, 0).wrapping_add(1),
        );
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
        0x01 => wr16(cpu, 0x40, 0x60, cx(cpu)),
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
        }
        0x06 | 0x07 => {
            let (c, d) = (cx(cpu), dx(cpu));
            let attr = (bx(cpu) >> 8) as u8;
            let window = (c >> 8, c & 0xFF, d >> 8, d & 0xFF);
            scroll(cpu, ah(cpu) == 6, al(cpu) as u16, attr, window);
        }
        0x08 => {
            let (r, c) = cursor(cpu, page_bh);
            let v = rd16(cpu, TEXT_SEG, cell_offset(cpu, page_bh, r, c));
            set_ax(cpu, v);
        }
        0x09 | 0x0A => {
            let (r, c) = cursor(cpu, page_bh);
            let cols = columns(cpu);
            let total = rows(cpu).wrapping_mul(cols);
            let start = r.wrapping_mul(cols).wrapping_add(c);
            let attr = bx(cpu) as u8;
            for i in 0..cx(cpu) {
                let pos = start.wrapping_add(i);
                if pos >= total {
                    break;
                }
                let o = cell_offset(cpu, page_bh, pos / cols, pos % cols);
                wr8(cpu, TEXT_SEG, o, al(cpu));
                if ah(cpu) == 0x09 {
                    wr8(cpu, TEXT_SEG, o.wrapping_add(1), attr);
                }
            }
        }
        0x11 if al(cpu) == 0x30 => {
            // Font information: rows and character height.
            set_reg16(cpu, ECX, 16);
            let r = rows(cpu) as u8 - 1;
            cpu.gpr[EDX] = (cpu.gpr[EDX] & !0xFF) | r as u32;
        }
        0x0B | 0x10 | 0x11 => {} // palette and font loading: no visible effect in text mode
        0x0E => teletype(cpu, rd8(cpu, 0x40, 0x62), al(cpu), None),
        0x0F => {
            let mode = rd8(cpu, 0x40, 0x49);
            let cols = columns(cpu) as u8;
            set_ax(cpu, (cols as u16) << 8 | mode as u16);
            let page = rd8(cpu, 0x40, 0x62);
            cpu.gpr[EBX] = (cpu.gpr[EBX] & !0xFF00) | (page as u32) << 8;
        }
        0x12 if bx(cpu) as u8 == 0x10 => {
            // EGA information: colour, 256 KiB.
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
        _ => bios.unimplemented(cpu, 0x10),
    }
}
