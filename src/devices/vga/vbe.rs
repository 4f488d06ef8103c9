//! The Bochs "dispi" VBE interface (index port 0x1CE, data port 0x1CF): resolution, depth,
//! enable with linear framebuffer, virtual width, display offset, and the 64 KiB bank shown
//! at A0000.

use super::{Vga, VRAM_SIZE};

pub const INDEX_ID: u16 = 0;
pub const INDEX_XRES: u16 = 1;
pub const INDEX_YRES: u16 = 2;
pub const INDEX_BPP: u16 = 3;
pub const INDEX_ENABLE: u16 = 4;
pub const INDEX_BANK: u16 = 5;
pub const INDEX_VIRT_WIDTH: u16 = 6;
pub const INDEX_VIRT_HEIGHT: u16 = 7;
pub const INDEX_X_OFFSET: u16 = 8;
pub const INDEX_Y_OFFSET: u16 = 9;
pub const INDEX_VIDEO_MEMORY_64K: u16 = 10;

pub const ENABLED: u16 = 0x01;
pub const GETCAPS: u16 = 0x02;
pub const LFB_ENABLED: u16 = 0x40;
pub const NOCLEARMEM: u16 = 0x80;

pub const MAX_XRES: u16 = 1600;
pub const MAX_YRES: u16 = 1200;

#[derive(Clone, Debug)]
pub struct Dispi {
    pub index: u16,
    pub id: u16,
    pub xres: u16,
    pub yres: u16,
    pub bpp: u16,
    pub enable: u16,
    pub bank: u16,
    pub virt_width: u16,
    pub virt_height: u16,
    pub x_offset: u16,
    pub y_offset: u16,
}

impl Default for Dispi {
    fn default() -> Self {
        Dispi {
            index: 0,
            id: 0xB0C5,
            xres: 640,
            yres: 480,
            bpp: 8,
            enable: 0,
            bank: 0,
            virt_width: 640,
            virt_height: 480,
            x_offset: 0,
            y_offset: 0,
        }
    }
}

/// Bytes per pixel of a dispi depth (15 bpp takes two bytes).
pub fn bytes_per_pixel(bpp: u16) -> u32 {
    (bpp as u32).div_ceil(8)
}

impl Dispi {
    pub fn enabled(&self) -> bool {
        self.enable & ENABLED != 0
    }

    /// Bytes per scan line of the virtual screen.
    pub fn pitch(&self) -> u32 {
        self.virt_width as u32 * bytes_per_pixel(self.bpp)
    }

    pub fn read(&self, index: u16) -> u16 {
        let caps = self.enable & GETCAPS != 0;
        match index {
            INDEX_ID => self.id,
            INDEX_XRES if caps => MAX_XRES,
            INDEX_YRES if caps => MAX_YRES,
            INDEX_BPP if caps => 32,
            INDEX_XRES => self.xres,
            INDEX_YRES => self.yres,
            INDEX_BPP => self.bpp,
            INDEX_ENABLE => self.enable,
            INDEX_BANK => self.bank,
            INDEX_VIRT_WIDTH => self.virt_width,
            INDEX_VIRT_HEIGHT => self.virt_height,
            INDEX_X_OFFSET => self.x_offset,
            INDEX_Y_OFFSET => self.y_offset,
            INDEX_VIDEO_MEMORY_64K => (VRAM_SIZE >> 16) as u16,
            _ => 0,
        }
    }

    /// Recomputes the virtual height that fits in video memory for the current pitch.
    fn fit_virtual(&mut self) {
        let pitch = self.pitch().max(1);
        self.virt_height = (VRAM_SIZE as u32 / pitch).min(u16::MAX as u32) as u16;
    }
}

impl Vga {
    pub fn write_vbe(&mut self, index: u16, v: u16) {
        let d = &mut self.vbe;
        match index {
            INDEX_ID if (0xB0C0..=0xB0C5).contains(&v) => d.id = v,
            // Geometry may only change while disabled (as in Bochs).
            INDEX_XRES if !d.enabled() => d.xres = v.clamp(1, MAX_XRES),
            INDEX_YRES if !d.enabled() => d.yres = v.clamp(1, MAX_YRES),
            INDEX_BPP if !d.enabled() => {
                d.bpp = match v {
                    4 | 8 | 15 | 16 | 24 | 32 => v,
                    _ => d.bpp,
                }
            }
            INDEX_ENABLE => {
                let was = d.enabled();
                d.enable = v & (ENABLED | GETCAPS | LFB_ENABLED | NOCLEARMEM);
                if v & ENABLED != 0 && !was {
                    d.virt_width = d.xres;
                    d.x_offset = 0;
                    d.y_offset = 0;
                    d.bank = 0;
                    d.fit_virtual();
                    // Bytes the mode shows, bounded by video memory.
                    if v & NOCLEARMEM == 0 {
                        let n = (d.pitch() as usize * d.yres as usize).min(VRAM_SIZE);
                        self.vram[..n].fill(0);
                    }
                }
            }
            INDEX_BANK => d.bank = v.min((VRAM_SIZE >> 16) as u16 - 1),
            INDEX_VIRT_WIDTH => {
                d.virt_width = v.max(d.xres).min(MAX_XRES * 4);
                d.fit_virtual();
            }
            INDEX_X_OFFSET => d.x_offset = v,
            INDEX_Y_OFFSET => d.y_offset = v,
            _ => {}
        }
    }

    /// Byte offset in video memory of the first visible pixel.
    pub fn vbe_start(&self) -> u64 {
        let d = &self.vbe;
        d.y_offset as u64 * d.pitch() as u64 + d.x_offset as u64 * bytes_per_pixel(d.bpp) as u64
    }
}
