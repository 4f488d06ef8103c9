//! The VGA ROM fonts through the public API: shapes the VGA device relies on.

use emu::bios::font::{font_8x14, font_8x16, font_8x8};

fn glyph(font: &[u8], height: usize, code: u8) -> &[u8] {
    &font[code as usize * height..][..height]
}

#[test]
fn fonts_are_built_once_and_sized() {
    assert!(std::ptr::eq(font_8x16(), font_8x16()));
    for (font, height) in [(font_8x8(), 8), (font_8x14(), 14), (font_8x16(), 16)] {
        assert_eq!(font.len(), 256 * height);
        // The full block covers the cell, the space is empty, the underscore sits low.
        assert!(glyph(font, height, 0xDB).iter().all(|&b| b == 0xFF));
        assert!(glyph(font, height, b' ').iter().all(|&b| b == 0));
        let underscore = glyph(font, height, b'_');
        let lowest = underscore.iter().rposition(|&b| b != 0).unwrap();
        assert!(lowest >= height * 3 / 4, "8x{height} _ at row {lowest}");
    }
}

#[test]
fn horizontal_lines_meet_the_ninth_column_rule() {
    // The VGA repeats column 7 for C0h-DFh only, so B3h-BFh must not reach the right edge
    // and ─ must reach both edges on the same row.
    for (font, height) in [(font_8x8(), 8), (font_8x14(), 14), (font_8x16(), 16)] {
        for code in 0xB3..=0xBF {
            assert!(
                glyph(font, height, code).iter().all(|b| b & 1 == 0),
                "{code:02X}"
            );
        }
        let dash = glyph(font, height, 0xC4);
        let rows: Vec<usize> = (0..height).filter(|&r| dash[r] != 0).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(dash[rows[0]], 0xFF);
    }
}

#[test]
fn descenders_go_below_the_baseline_of_x() {
    for (font, height) in [(font_8x8(), 8), (font_8x14(), 14), (font_8x16(), 16)] {
        let bottom = |c: u8| {
            glyph(font, height, c)
                .iter()
                .rposition(|&b| b != 0)
                .unwrap()
        };
        for c in [b'g', b'p', b'q', b'y', b'j'] {
            assert!(bottom(c) > bottom(b'x'), "8x{height} {}", c as char);
        }
        assert_eq!(bottom(b'x'), bottom(b'X'), "8x{height} baseline");
    }
}
