//! VBE 2.0 (INT 10h AX=4Fxx) on the VGA's dispi interface: controller and mode information,
//! mode set with the linear framebuffer, bank window, scan line length, display start and
//! DAC width.

use super::{bx, cx, dx, set_ax, set_reg16, write_block};
use crate::cpu::state::{Seg, EBX, ECX, EDI, EDX};
use crate::cpu::Cpu;
use crate::devices::vga::{self, vbe, Vga, LFB_BASE, VRAM_SIZE};

/// Mode number, width, height, bits per pixel.
pub const MODES: [(u16, u16, u16, u16); 16] = [
    (0x100, 640, 400, 8),
    (0x101, 640, 480, 8),
    (0x103, 800, 600, 8),
    (0x105, 1024, 768, 8),
    (0x110, 640, 480, 15),
    (0x111, 640, 480, 16),
    (0x112, 640, 480, 24),
    (0x113, 800, 600, 15),
    (0x114, 800, 600, 16),
    (0x115, 800, 600, 24),
    (0x116, 1024, 768, 15),
    (0x117, 1024, 768, 16),
    (0x118, 1024, 768, 24),
    (0x140, 320, 200, 32),
    (0x142, 640, 480, 32),
    (0x143, 800, 600, 32),
];

const OK: u16 = 0x004F;
const FAIL: u16 = 0x014F;

fn es_di(cpu: &Cpu) -> (u16, u16) {
    (cpu.seg[Seg::Es as usize].selector, cpu.gpr[EDI] as u16)
}

fn find(mode: u16) -> Option<(u16, u16, u16, u16)> {
    MODES.iter().copied().find(|m| m.0 == mode & 0x1FF)
}

fn controller_info(cpu: &mut Cpu) {
    let (es, di) = es_di(cpu);
    let mut b = [0u8; 256];
    b[0..4].copy_from_slice(b"VESA");
    b[4..6].copy_from_slice(&0x0200u16.to_le_bytes());
    // The OEM string and the mode list live in the buffer's reserved area.
    let far = |off: u16| ((es as u32) << 16 | di.wrapping_add(off) as u32).to_le_bytes();
    b[6..10].copy_from_slice(&far(0xC0));
    b[10..14].copy_from_slice(&0u32.to_le_bytes()); // DAC fixed at 6 bits, VGA compatible
    b[14..18].copy_from_slice(&far(0x22));
    b[18..20].copy_from_slice(&((VRAM_SIZE >> 16) as u16).to_le_bytes());
    for (i, m) in MODES.iter().enumerate() {
        b[0x22 + 2 * i..0x24 + 2 * i].copy_from_slice(&m.0.to_le_bytes());
    }
    let end = 0x22 + 2 * MODES.len();
    b[end..end + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
    b[0xC0..0xC0 + 8].copy_from_slice(b"emu VBE\0");
    write_block(cpu, es, di, &b);
    set_ax(cpu, OK);
}

fn mode_info(cpu: &mut Cpu, mode: u16) {
    let Some((_, w, h, bpp)) = find(mode) else {
        set_ax(cpu, FAIL);
        return;
    };
    let (es, di) = es_di(cpu);
    let mut b = [0u8; 256];
    let pitch = w as u32 * vbe::bytes_per_pixel(bpp);
    b[0..2].copy_from_slice(&0x009Bu16.to_le_bytes()); // supported, colour, graphics, LFB
    b[2] = 0x07; // window A: exists, readable, writable
    b[4..6].copy_from_slice(&64u16.to_le_bytes());
    b[6..8].copy_from_slice(&64u16.to_le_bytes());
    b[8..10].copy_from_slice(&0xA000u16.to_le_bytes());
    b[0x10..0x12].copy_from_slice(&(pitch as u16).to_le_bytes());
    b[0x12..0x14].copy_from_slice(&w.to_le_bytes());
    b[0x14..0x16].copy_from_slice(&h.to_le_bytes());
    b[0x16] = 8;
    b[0x17] = 16;
    b[0x18] = 1;
    b[0x19] = bpp as u8;
    b[0x1A] = 1;
    b[0x1B] = if bpp == 8 { 4 } else { 6 };
    b[0x1D] = ((VRAM_SIZE as u32 / (pitch * h as u32)).clamp(1, 256) - 1) as u8;
    b[0x1E] = 1;
    let masks: [u8; 8] = match bpp {
        15 => [5, 10, 5, 5, 5, 0, 1, 15],
        16 => [5, 11, 6, 5, 5, 0, 0, 0],
        24 => [8, 16, 8, 8, 8, 0, 0, 0],
        32 => [8, 16, 8, 8, 8, 0, 8, 24],
        _ => [0; 8],
    };
    b[0x1F..0x27].copy_from_slice(&masks);
    b[0x28..0x2C].copy_from_slice(&LFB_BASE.to_le_bytes());
    b[0x32..0x34].copy_from_slice(&(pitch as u16).to_le_bytes());
    write_block(cpu, es, di, &b);
    set_ax(cpu, OK);
}

fn set_mode(vga: &mut Vga, mode: u16) -> bool {
    let Some((_, w, h, bpp)) = find(mode) else {
        return false;
    };
    vga.write_vbe(vbe::INDEX_ENABLE, 0);
    vga.write_vbe(vbe::INDEX_XRES, w);
    vga.write_vbe(vbe::INDEX_YRES, h);
    vga.write_vbe(vbe::INDEX_BPP, bpp);
    let mut en = vbe::ENABLED;
    if mode & 0x4000 != 0 {
        en |= vbe::LFB_ENABLED;
    }
    if mode & 0x8000 != 0 {
        en |= vbe::NOCLEARMEM;
    }
    vga.write_vbe(vbe::INDEX_ENABLE, en);
    // 8-bit modes take their colours from the DAC: give them the standard palette.
    for i in 0..=255u8 {
        vga.set_dac(i, super::vga_modes::default_256(i));
    }
    true
}

/// The VBE mode the dispi registers show, with the LFB bit.
fn current_mode(vga: &Vga) -> Option<u16> {
    let d = &vga.vbe;
    if !d.enabled() {
        return None;
    }
    let m = MODES
        .iter()
        .find(|m| (m.1, m.2, m.3) == (d.xres, d.yres, d.bpp))?;
    Some(
        m.0 | if d.enable & vbe::LFB_ENABLED != 0 {
            0x4000
        } else {
            0
        },
    )
}

/// AX=4Fxx. Returns true when the call set a standard VGA mode the caller must finish
/// (BDA and registers) through the ordinary mode set.
pub fn int10_4f(cpu: &mut Cpu, sub: u8) -> Option<u8> {
    let Some(shared) = cpu.mem.vga().cloned() else {
        set_ax(cpu, FAIL);
        return None;
    };
    match sub {
        0x00 => controller_info(cpu),
        0x01 => mode_info(cpu, cx(cpu)),
        0x02 => {
            let mode = bx(cpu);
            if mode & 0x1FF < 0x100 {
                set_ax(cpu, OK);
                return Some(mode as u8 | ((mode >> 8) as u8 & 0x80));
            }
            let ok = set_mode(&mut vga::lock(&shared), mode);
            set_ax(cpu, if ok { OK } else { FAIL });
        }
        0x03 => {
            let m = current_mode(&vga::lock(&shared));
            let m = m.unwrap_or(super::rd8(cpu, 0x40, 0x49) as u16);
            set_reg16(cpu, EBX, m);
            set_ax(cpu, OK);
        }
        0x05 => {
            let mut v = vga::lock(&shared);
            match bx(cpu) >> 8 {
                0 => v.write_vbe(vbe::INDEX_BANK, dx(cpu)),
                _ => {
                    let bank = v.vbe.bank;
                    drop(v);
                    set_reg16(cpu, EDX, bank);
                }
            }
            set_ax(cpu, OK);
        }
        0x06 => {
            let mut v = vga::lock(&shared);
            match bx(cpu) as u8 {
                0 => v.write_vbe(vbe::INDEX_VIRT_WIDTH, cx(cpu)),
                2 => {
                    let bpp = vbe::bytes_per_pixel(v.vbe.bpp) as u16;
                    v.write_vbe(vbe::INDEX_VIRT_WIDTH, cx(cpu) / bpp.max(1));
                }
                _ => {}
            }
            let (pitch, width, lines) = (v.vbe.pitch() as u16, v.vbe.virt_width, v.vbe.virt_height);
            drop(v);
            set_reg16(cpu, EBX, pitch);
            set_reg16(cpu, ECX, width);
            set_reg16(cpu, EDX, lines);
            set_ax(cpu, OK);
        }
        0x07 => {
            let mut v = vga::lock(&shared);
            match bx(cpu) as u8 {
                0 | 0x80 => {
                    v.write_vbe(vbe::INDEX_X_OFFSET, cx(cpu));
                    v.write_vbe(vbe::INDEX_Y_OFFSET, dx(cpu));
                }
                _ => {
                    let (x, y) = (v.vbe.x_offset, v.vbe.y_offset);
                    drop(v);
                    set_reg16(cpu, ECX, x);
                    set_reg16(cpu, EDX, y);
                }
            }
            set_ax(cpu, OK);
        }
        0x08 => {
            // The DAC stays 6 bits wide.
            set_reg16(cpu, EBX, 0x0600 | (bx(cpu) & 0xFF));
            set_ax(cpu, OK);
        }
        _ => set_ax(cpu, FAIL),
    }
    None
}
