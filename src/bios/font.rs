//! PLACEHOLDER fonts (to be replaced by the real drawn fonts at merge): every glyph is a
//! crude generated pattern so that text is visible and characters are distinguishable.
//! Glyph-major, one byte per row, bit 7 = leftmost pixel.

use std::sync::OnceLock;

fn generate(height: usize) -> Vec<u8> {
    let mut f = vec![0u8; 256 * height];
    for c in 1..256usize {
        if c == 0x20 || c == 0xFF {
            continue;
        }
        let g = &mut f[c * height..(c + 1) * height];
        // A box with the code's bits inside: rows 1..height-2.
        let (top, bottom) = (1, height - 2);
        g[top] = 0x7E;
        g[bottom] = 0x7E;
        for (r, row) in g.iter_mut().enumerate().take(bottom).skip(top + 1) {
            let bit = (r - top - 1) % 8;
            *row = 0x42 | if c >> bit & 1 != 0 { 0x18 } else { 0 };
        }
    }
    f
}

pub fn font_8x8() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| generate(8))
}

pub fn font_8x14() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| generate(14))
}

pub fn font_8x16() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| generate(16))
}
