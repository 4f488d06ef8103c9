//! The standard VGA modes: register values per mode (from the IBM VGA technical reference
//! tables as published in the FreeVGA documentation, entered here by hand), the default
//! DAC palettes, and programming a mode into the device (registers, palette, font in plane
//! 2, cleared memory).

use crate::devices::vga::Vga;

/// How a mode lays out pixels, for the BIOS's drawing functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// CGA 4-colour, 2 bits per pixel, interleaved banks at B8000.
    Cga4,
    /// CGA 2-colour, 1 bit per pixel, interleaved banks at B8000.
    Cga2,
    /// 4 planes (16 colours; fewer for the 2-colour and mono modes) at A0000.
    Planar,
    /// One byte per pixel (mode 13h, chain-4).
    Linear8,
}

pub struct ModeParams {
    pub kind: Kind,
    /// Text columns and rows (graphics: character cells).
    pub cols: u16,
    pub rows: u16,
    /// Pixel size (text: the cell grid in pixels).
    pub width: u16,
    pub height: u16,
    pub char_height: u8,
    /// Regen buffer size of one page, in bytes.
    pub page_size: u16,
    pub misc: u8,
    /// Sequencer registers 1-4 (register 0 is the reset register).
    pub seq: [u8; 4],
    pub crtc: [u8; 25],
    pub gc: [u8; 9],
    pub attr: [u8; 20],
}

const TEXT_GC: [u8; 9] = [0, 0, 0, 0, 0, 0x10, 0x0E, 0, 0xFF];
const TEXT_ATTR: [u8; 20] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x0C, 0x00, 0x0F, 0x08,
];
const EGA_ATTR: [u8; 20] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x01, 0x00, 0x0F, 0x00,
];
const LOW16_ATTR: [u8; 20] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
    0x01, 0x00, 0x0F, 0x00,
];
const PLANAR_GC: [u8; 9] = [0, 0, 0, 0, 0, 0x00, 0x05, 0x0F, 0xFF];
const CRTC_40: [u8; 25] = [
    0x2D, 0x27, 0x28, 0x90, 0x2B, 0xA0, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0, 0, 0, 0, 0x9C, 0x8E,
    0x8F, 0x14, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];
const CRTC_80: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0, 0, 0, 0, 0x9C, 0x8E,
    0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];
const CRTC_350: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0x83, 0x85, 0x5D,
    0x28, 0x0F, 0x63, 0xBA, 0xE3, 0xFF,
];
const CRTC_480: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0xEA, 0x8C, 0xDF,
    0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF,
];

fn crtc_with(base: [u8; 25], changes: &[(usize, u8)]) -> [u8; 25] {
    let mut c = base;
    for &(i, v) in changes {
        c[i] = v;
    }
    c
}

/// Parameters of a standard mode, None for modes we do not have.
pub fn params(mode: u8) -> Option<ModeParams> {
    use Kind::*;
    let text = |cols: u16, crtc, seq1| ModeParams {
        kind: Text,
        cols,
        rows: 25,
        width: cols * 9,
        height: 400,
        char_height: 16,
        page_size: if cols == 40 { 0x800 } else { 0x1000 },
        misc: 0x67,
        seq: [seq1, 0x03, 0x00, 0x02],
        crtc,
        gc: TEXT_GC,
        attr: TEXT_ATTR,
    };
    let gfx = |kind, w: u16, h: u16, ch: u8, misc, seq, crtc, gc, attr| ModeParams {
        kind,
        cols: w / 8,
        rows: h / ch as u16,
        width: w,
        height: h,
        char_height: ch,
        page_size: 0,
        misc,
        seq,
        crtc,
        gc,
        attr,
    };
    let cga_crtc40 = crtc_with(
        CRTC_40,
        &[(5, 0x80), (9, 0xC1), (10, 0), (11, 0), (20, 0), (23, 0xA2)],
    );
    let cga_crtc80 = crtc_with(
        CRTC_80,
        &[
            (4, 0x54),
            (5, 0x80),
            (9, 0xC1),
            (10, 0),
            (11, 0),
            (20, 0),
            (23, 0xC2),
        ],
    );
    let cga4_attr = [
        0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x01, 0x00, 0x03, 0x00,
    ];
    let mut cga2_attr = [0x17u8; 20];
    cga2_attr[0] = 0;
    cga2_attr[16..].copy_from_slice(&[0x01, 0x00, 0x01, 0x00]);
    let p = match mode {
        0 | 1 => text(40, CRTC_40, 0x08),
        2 | 3 => text(80, CRTC_80, 0x00),
        7 => {
            let mut t = text(
                80,
                crtc_with(CRTC_80, &[(9, 0x4D), (10, 0x0B), (11, 0x0C), (20, 0x0D)]),
                0,
            );
            t.misc = 0xA6;
            t.char_height = 14;
            t.height = 350;
            t.crtc[16] = 0x83;
            t.crtc[17] = 0x85;
            t.crtc[18] = 0x5D;
            t.crtc[21] = 0x63;
            t.crtc[22] = 0xBA;
            t.gc[6] = 0x0A;
            t.attr = [
                0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x10, 0x18, 0x18, 0x18, 0x18, 0x18,
                0x18, 0x18, 0x0E, 0x00, 0x0F, 0x08,
            ];
            t
        }
        4 | 5 => {
            let gc = [0, 0, 0, 0, 0, 0x30, 0x0F, 0x00, 0xFF];
            let mut m = gfx(
                Cga4,
                320,
                200,
                8,
                0x63,
                [0x09, 0x03, 0x00, 0x02],
                cga_crtc40,
                gc,
                cga4_attr,
            );
            m.page_size = 0x4000;
            m
        }
        6 => {
            let gc = [0, 0, 0, 0, 0, 0x00, 0x0D, 0x00, 0xFF];
            let mut m = gfx(
                Cga2,
                640,
                200,
                8,
                0x63,
                [0x01, 0x01, 0x00, 0x06],
                cga_crtc80,
                gc,
                cga2_attr,
            );
            m.page_size = 0x4000;
            m
        }
        0x0D | 0x0E => {
            let (w, seq1, base) = if mode == 0x0D {
                (320, 0x09, CRTC_40)
            } else {
                (640, 0x01, CRTC_80)
            };
            let crtc = crtc_with(
                base,
                &[
                    (4, if w == 320 { 0x2B } else { 0x54 }),
                    (5, 0x80),
                    (9, 0xC0),
                    (10, 0),
                    (11, 0),
                    (20, 0),
                    (23, 0xE3),
                ],
            );
            let mut m = gfx(
                Planar,
                w,
                200,
                8,
                0x63,
                [seq1, 0x0F, 0x00, 0x06],
                crtc,
                PLANAR_GC,
                LOW16_ATTR,
            );
            m.page_size = if w == 320 { 0x2000 } else { 0x4000 };
            m
        }
        0x0F => {
            let gc = [0, 0, 0, 0, 0, 0x00, 0x05, 0x05, 0xFF];
            let attr = [
                0x00, 0x08, 0x00, 0x00, 0x18, 0x18, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x18,
                0x00, 0x00, 0x0B, 0x00, 0x05, 0x00,
            ];
            let mut m = gfx(
                Planar,
                640,
                350,
                14,
                0xA2,
                [0x01, 0x0F, 0x00, 0x06],
                CRTC_350,
                gc,
                attr,
            );
            m.page_size = 0x8000;
            m
        }
        0x10 => {
            let mut m = gfx(
                Planar,
                640,
                350,
                14,
                0xA3,
                [0x01, 0x0F, 0x00, 0x06],
                CRTC_350,
                PLANAR_GC,
                EGA_ATTR,
            );
            m.page_size = 0x8000;
            m
        }
        0x11 => {
            let mut attr = [0x3Fu8; 20];
            attr[0] = 0;
            attr[16..].copy_from_slice(&[0x01, 0x00, 0x0F, 0x00]);
            let crtc = crtc_with(CRTC_480, &[(23, 0xC3)]);
            gfx(
                Planar,
                640,
                480,
                16,
                0xE3,
                [0x01, 0x0F, 0x00, 0x06],
                crtc,
                PLANAR_GC,
                attr,
            )
        }
        0x12 => gfx(
            Planar,
            640,
            480,
            16,
            0xE3,
            [0x01, 0x0F, 0x00, 0x06],
            CRTC_480,
            PLANAR_GC,
            EGA_ATTR,
        ),
        0x13 => {
            let crtc = crtc_with(
                CRTC_80,
                &[
                    (4, 0x54),
                    (5, 0x80),
                    (9, 0x41),
                    (10, 0),
                    (11, 0),
                    (20, 0x40),
                ],
            );
            let gc = [0, 0, 0, 0, 0, 0x40, 0x05, 0x0F, 0xFF];
            let mut attr = LOW16_ATTR;
            for (i, a) in attr.iter_mut().enumerate().take(16) {
                *a = i as u8;
            }
            attr[16] = 0x41;
            let mut m = gfx(
                Linear8,
                320,
                200,
                8,
                0x63,
                [0x01, 0x0F, 0x00, 0x0E],
                crtc,
                gc,
                attr,
            );
            m.page_size = 0;
            m
        }
        _ => return None,
    };
    Some(p)
}

/// The 64 EGA colours: index bits are r g b R G B (secondary 1/3, primary 2/3 intensity).
pub fn ega_color(i: u8) -> [u8; 3] {
    let c = |primary: u8, secondary: u8| ((i >> primary) & 1) * 42 + ((i >> secondary) & 1) * 21;
    [c(2, 5), c(1, 4), c(0, 3)]
}

/// The default 256-colour palette: the 16 CGA colours, a grey ramp, then nine 24-hue
/// wheels (three intensities times three saturations), then black.
pub fn default_256(i: u8) -> [u8; 3] {
    const CGA: [u8; 16] = [
        0, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    ];
    const GREY: [u8; 16] = [0, 5, 8, 11, 14, 17, 20, 24, 28, 32, 36, 40, 45, 50, 56, 63];
    match i {
        0..=15 => ega_color(CGA[i as usize]),
        16..=31 => [GREY[i as usize - 16]; 3],
        32..=247 => {
            let n = (i - 32) as usize;
            let (block, hue) = (n / 24, n % 24);
            let hi = [63u32, 28, 16][block / 3];
            let lo = hi * [0u32, 2, 3][block % 3] / 4 + if block % 3 == 2 { hi / 8 } else { 0 };
            let lo = lo.min(hi);
            let ramp = |k: usize| (lo + (hi - lo) * k as u32 / 4) as u8;
            let (h, l) = (hi as u8, lo as u8);
            let (seg, k) = (hue / 4, hue % 4);
            match seg {
                0 => [ramp(k), l, h],
                1 => [h, l, ramp(4 - k)],
                2 => [h, ramp(k), l],
                3 => [ramp(4 - k), h, l],
                4 => [l, h, ramp(k)],
                _ => [l, ramp(4 - k), h],
            }
        }
        _ => [0; 3],
    }
}

/// Programs `mode` into the VGA: registers, palette, and (unless `keep`) cleared memory;
/// text modes get the font in plane 2.
pub fn program(vga: &mut Vga, mode: u8, p: &ModeParams, keep: bool) {
    vga.vbe.enable = 0;
    vga.misc = p.misc;
    vga.seq[0] = 0x03;
    vga.seq[1..5].copy_from_slice(&p.seq);
    vga.crtc[0x11] &= 0x7F;
    vga.crtc[..25].copy_from_slice(&p.crtc);
    vga.gc[..9].copy_from_slice(&p.gc);
    vga.attr[..20].copy_from_slice(&p.attr);
    vga.attr[0x14] = 0;
    vga.pel_mask = 0xFF;
    for i in 0..=255u8 {
        let rgb = if mode == 0x13 {
            default_256(i)
        } else if i < 64 {
            ega_color(i)
        } else {
            [0; 3]
        };
        vga.set_dac(i, rgb);
    }
    let planes = &mut vga.vram[..0x40000];
    if p.kind == Kind::Text {
        if !keep {
            for cell in planes.chunks_mut(4) {
                cell[0] = 0x20;
                cell[1] = 0x07;
            }
        }
        let font = match p.char_height {
            14 => crate::bios::font::font_8x14(),
            8 => crate::bios::font::font_8x8(),
            _ => crate::bios::font::font_8x16(),
        };
        load_font(vga, font, p.char_height as usize, 0, 0, 256);
    } else if !keep {
        planes.fill(0);
    }
}

/// Writes `count` glyphs of `height` rows from `font` into plane 2, character map `map`,
/// starting at character `first`.
pub fn load_font(
    vga: &mut Vga,
    font: &[u8],
    height: usize,
    map: usize,
    first: usize,
    count: usize,
) {
    let base = (map & 3) * 0x4000 + (map >> 2 & 1) * 0x2000;
    for c in 0..count.min(256) {
        let code = (first + c) & 0xFF;
        for r in 0..32 {
            let b = if r < height {
                font.get(c * height + r).copied().unwrap_or(0)
            } else {
                0
            };
            vga.set_plane(2, base + code * 32 + r, b);
        }
    }
}
