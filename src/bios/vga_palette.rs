//! INT 10h AH=10h (palette registers and DAC), AH=11h (fonts) and AH=1Bh (functionality
//! state) on the VGA.

use super::{al, bx, cx, dx, rd16, rd8, read_block, set_al, set_reg16, write_block};
use crate::cpu::state::{Seg, EBP, EBX, ECX, EDI, EDX};
use crate::cpu::Cpu;
use crate::devices::vga;

fn es(cpu: &Cpu) -> u16 {
    cpu.seg[Seg::Es as usize].selector
}

fn set_byte_reg(cpu: &mut Cpu, reg: usize, high: bool, v: u8) {
    let shift = if high { 8 } else { 0 };
    cpu.gpr[reg] = (cpu.gpr[reg] & !(0xFF << shift)) | (v as u32) << shift;
}

pub fn int10_10(cpu: &mut Cpu) {
    let Some(shared) = cpu.mem.vga().cloned() else {
        return;
    };
    let (bl, bh) = (bx(cpu) as u8, (bx(cpu) >> 8) as u8);
    match al(cpu) {
        0x00 => {
            if let Some(r) = vga::lock(&shared).attr.get_mut(bl as usize & 0x1F) {
                *r = bh;
            }
        }
        0x01 => vga::lock(&shared).attr[0x11] = bh,
        0x02 => {
            let mut regs = [0u8; 17];
            read_block(cpu, es(cpu), dx(cpu), &mut regs);
            let mut v = vga::lock(&shared);
            v.attr[..16].copy_from_slice(&regs[..16]);
            v.attr[0x11] = regs[16];
        }
        0x03 => {
            let mut v = vga::lock(&shared);
            v.attr[0x10] = (v.attr[0x10] & !0x08) | (bl & 1) << 3;
        }
        0x07 => {
            let r = vga::lock(&shared)
                .attr
                .get(bl as usize & 0x1F)
                .copied()
                .unwrap_or(0);
            set_byte_reg(cpu, EBX, true, r);
        }
        0x08 => {
            let r = vga::lock(&shared).attr[0x11];
            set_byte_reg(cpu, EBX, true, r);
        }
        0x09 => {
            let mut regs = [0u8; 17];
            {
                let v = vga::lock(&shared);
                regs[..16].copy_from_slice(&v.attr[..16]);
                regs[16] = v.attr[0x11];
            }
            write_block(cpu, es(cpu), dx(cpu), &regs);
        }
        0x10 => {
            let (c, d) = (cx(cpu), dx(cpu));
            vga::lock(&shared).set_dac(bl, [(d >> 8) as u8, (c >> 8) as u8, c as u8]);
        }
        0x12 => {
            let (first, count) = (bx(cpu) as usize, cx(cpu) as usize);
            let mut buf = vec![0u8; count.min(256) * 3];
            read_block(cpu, es(cpu), dx(cpu), &mut buf);
            let mut v = vga::lock(&shared);
            for (i, rgb) in buf.chunks(3).enumerate() {
                if first + i < 256 {
                    v.set_dac((first + i) as u8, [rgb[0], rgb[1], rgb[2]]);
                }
            }
        }
        0x15 => {
            let i = bl as usize * 3;
            let rgb = {
                let v = vga::lock(&shared);
                [v.dac[i], v.dac[i + 1], v.dac[i + 2]]
            };
            set_byte_reg(cpu, EDX, true, rgb[0]);
            set_reg16(cpu, ECX, (rgb[1] as u16) << 8 | rgb[2] as u16);
        }
        0x17 => {
            let (first, count) = (bx(cpu) as usize, cx(cpu) as usize);
            let buf: Vec<u8> = {
                let v = vga::lock(&shared);
                (first..(first + count).min(256))
                    .flat_map(|i| v.dac[i * 3..i * 3 + 3].to_vec())
                    .collect()
            };
            write_block(cpu, es(cpu), dx(cpu), &buf);
        }
        0x18 => vga::lock(&shared).pel_mask = bl,
        0x19 => {
            let m = vga::lock(&shared).pel_mask;
            set_byte_reg(cpu, EBX, false, m);
        }
        0x1A => {
            let (mode, sel) = {
                let v = vga::lock(&shared);
                (v.attr[0x10] >> 7, v.attr[0x14])
            };
            set_reg16(cpu, EBX, (sel as u16) << 8 | mode as u16);
        }
        _ => {}
    }
}

/// Where the BIOS keeps copies of its fonts for software that asks (AX=1130h): segment
/// C000, the video BIOS area, offsets of the 8x8, 8x14 and 8x16 fonts.
const FONT_SEG: u16 = 0xC000;
const FONT_OFFSETS: [u16; 3] = [0x0000, 0x0800, 0x1600];

fn copy_fonts_to_memory(cpu: &mut Cpu) {
    let fonts = [
        crate::bios::font::font_8x8(),
        crate::bios::font::font_8x14(),
        crate::bios::font::font_8x16(),
    ];
    for (f, off) in fonts.iter().zip(FONT_OFFSETS) {
        write_block(cpu, FONT_SEG, off, f);
    }
}

pub fn int10_11(cpu: &mut Cpu) {
    let Some(shared) = cpu.mem.vga().cloned() else {
        return;
    };
    let block = bx(cpu) as usize & 7;
    match al(cpu) {
        0x00 | 0x10 => {
            let height = (bx(cpu) >> 8) as usize;
            let count = cx(cpu) as usize;
            let mut buf = vec![0u8; (count * height).min(256 * 32)];
            read_block(cpu, es(cpu), cpu.gpr[EBP] as u16, &mut buf);
            let first = dx(cpu) as usize;
            crate::bios::vga_modes::load_font(
                &mut vga::lock(&shared),
                &buf,
                height.max(1),
                block,
                first,
                count,
            );
            if al(cpu) == 0x10 && height > 0 {
                super::video::set_char_height(cpu, height as u8);
            }
        }
        0x01 | 0x11 | 0x02 | 0x12 | 0x04 | 0x14 => {
            let (font, h) = match al(cpu) & 0x0F {
                1 => (crate::bios::font::font_8x14(), 14),
                2 => (crate::bios::font::font_8x8(), 8),
                _ => (crate::bios::font::font_8x16(), 16),
            };
            crate::bios::vga_modes::load_font(&mut vga::lock(&shared), font, h, block, 0, 256);
            // AL=11h/12h/14h also program the screen for the font: 28, 50 or 25 rows.
            if al(cpu) & 0x10 != 0 {
                super::video::set_char_height(cpu, h as u8);
            }
        }
        0x03 => vga::lock(&shared).seq[3] = bx(cpu) as u8,
        0x30 => {
            copy_fonts_to_memory(cpu);
            let (seg, off) = match (bx(cpu) >> 8) as u8 {
                0 | 1 => (rd16(cpu, 0, 0x1F * 4 + 2), rd16(cpu, 0, 0x1F * 4)),
                2 => (FONT_SEG, FONT_OFFSETS[1]),
                3 => (FONT_SEG, FONT_OFFSETS[0]),
                4 => (FONT_SEG, FONT_OFFSETS[0] + 128 * 8),
                _ => (FONT_SEG, FONT_OFFSETS[2]),
            };
            cpu.seg[Seg::Es as usize].selector = seg;
            cpu.seg[Seg::Es as usize].base = (seg as u32) << 4;
            cpu.gpr[EBP] = (cpu.gpr[EBP] & !0xFFFF) | off as u32;
            let height = rd16(cpu, 0x40, 0x85);
            set_reg16(cpu, ECX, height);
            let rows = rd8(cpu, 0x40, 0x84);
            set_byte_reg(cpu, EDX, false, rows);
        }
        _ => {}
    }
}

/// AH=1Bh BX=0: the dynamic state table (basic fields) at ES:DI.
pub fn functionality(cpu: &mut Cpu) {
    let mut b = [0u8; 64];
    for (i, byte) in b[4..0x22].iter_mut().enumerate() {
        *byte = rd8(cpu, 0x40, 0x49 + i as u16);
    }
    b[0x22] = rd8(cpu, 0x40, 0x84).wrapping_add(1);
    b[0x23..0x25].copy_from_slice(&rd16(cpu, 0x40, 0x85).to_le_bytes());
    b[0x25] = 0x08;
    let mode = rd8(cpu, 0x40, 0x49);
    let colors: u16 = match mode {
        7 | 0x0F => 0,
        6 | 0x11 => 2,
        4 | 5 => 4,
        0x13 => 256,
        _ => 16,
    };
    b[0x27..0x29].copy_from_slice(&colors.to_le_bytes());
    b[0x29] = 8;
    b[0x2A] = 2;
    let (es, di) = (es(cpu), cpu.gpr[EDI] as u16);
    write_block(cpu, es, di, &b);
    set_al(cpu, 0x1B);
}
