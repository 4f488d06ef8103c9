//! The VGA ROM fonts (code page 437) in 8x8, 8x14 and 8x16 cells: glyph-major, one byte per
//! row, bit 7 = leftmost pixel.
//!
//! The hand-drawn glyphs live as text art in roms/font/ (see roms/font/README.md). Accented
//! lowercase letters are composed from a base letter and an accent mark; box drawing, shades
//! and blocks (B0h-DFh) are generated from their line definitions so they join across cells;
//! the 8x14 font is derived from the 8x16 one. Everything is built once, on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

const GLYPHS_8X8: &str = include_str!("../../roms/font/glyphs-8x8.txt");
const MARKS_8X8: &str = include_str!("../../roms/font/marks-8x8.txt");
const GLYPHS_8X16: &str = include_str!("../../roms/font/glyphs-8x16.txt");
const MARKS_8X16: &str = include_str!("../../roms/font/marks-8x16.txt");

/// Code points that are blank on purpose (NUL, space, non-breaking space).
const BLANKS: [u8; 3] = [0x00, 0x20, 0xFF];

/// Glyphs composed as base | mark when a source does not draw them itself. A base is a code
/// point in hex or a named glyph of the marks file.
const COMPOSED: [(u8, &str, &str); 25] = [
    (0x80, "43", "cedilla"),
    (0x81, "75", "diaeresis"),
    (0x82, "65", "acute"),
    (0x83, "61", "circumflex"),
    (0x84, "61", "diaeresis"),
    (0x85, "61", "grave"),
    (0x86, "61", "ring"),
    (0x87, "63", "cedilla"),
    (0x88, "65", "circumflex"),
    (0x89, "65", "diaeresis"),
    (0x8A, "65", "grave"),
    (0x8B, "dotless-i", "diaeresis"),
    (0x8C, "dotless-i", "circumflex"),
    (0x8D, "dotless-i", "grave"),
    (0x93, "6f", "circumflex"),
    (0x94, "6f", "diaeresis"),
    (0x95, "6f", "grave"),
    (0x96, "75", "circumflex"),
    (0x97, "75", "grave"),
    (0x98, "79", "diaeresis"),
    (0xA0, "61", "acute"),
    (0xA1, "dotless-i", "acute"),
    (0xA2, "6f", "acute"),
    (0xA3, "75", "acute"),
    (0xA4, "6e", "tilde"),
];

/// The 8x8 font (256 * 8 bytes), used by 80x50 text and the CGA graphics modes.
pub fn font_8x8() -> &'static [u8] {
    static FONT: OnceLock<Vec<u8>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut font = drawn(GLYPHS_8X8, MARKS_8X8, 8).expect("roms/font 8x8 sources");
        generate(&mut font, 8);
        font
    })
}

/// The 8x14 font (256 * 14 bytes), derived from the 8x16 drawings.
pub fn font_8x14() -> &'static [u8] {
    static FONT: OnceLock<Vec<u8>> = OnceLock::new();
    FONT.get_or_init(|| {
        let tall = drawn(GLYPHS_8X16, MARKS_8X16, 16).expect("roms/font 8x16 sources");
        let mut font: Vec<u8> = tall.chunks(16).flat_map(shorten).collect();
        generate(&mut font, 14);
        font
    })
}

/// The 8x16 font (256 * 16 bytes), the VGA's default text font.
pub fn font_8x16() -> &'static [u8] {
    static FONT: OnceLock<Vec<u8>> = OnceLock::new();
    FONT.get_or_init(|| {
        let mut font = drawn(GLYPHS_8X16, MARKS_8X16, 16).expect("roms/font 8x16 sources");
        generate(&mut font, 16);
        font
    })
}

/// Parses text art: blocks headed `@key description`, each followed by `height` rows of
/// eight `.` (off) or `#` (on). Lines starting with `;` and blank lines between blocks are
/// ignored. Keys are lowercased; a key may appear once.
fn parse(src: &str, height: usize) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut blocks: Vec<(String, Vec<u8>)> = Vec::new();
    let mut open = false;
    for (n, line) in src.lines().enumerate() {
        let line = line.trim_end();
        let at = |msg: &str| format!("line {}: {msg}", n + 1);
        if let Some(head) = line.strip_prefix('@') {
            if open {
                return Err(at("previous glyph is short of rows"));
            }
            let key = head
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            if key.is_empty() {
                return Err(at("glyph header without a key"));
            }
            if blocks.iter().any(|(k, _)| *k == key) {
                return Err(at(&format!("glyph {key} defined twice")));
            }
            blocks.push((key, Vec::with_capacity(height)));
            open = true;
        } else if line.is_empty() || line.starts_with(';') {
            if open {
                return Err(at("glyph is short of rows"));
            }
        } else if open {
            if line.len() != 8 {
                return Err(at("a row must have 8 pixels"));
            }
            let mut byte = 0u8;
            for c in line.chars() {
                byte = match c {
                    '.' => byte << 1,
                    '#' => (byte << 1) | 1,
                    _ => return Err(at("pixels are '.' or '#'")),
                };
            }
            let rows = &mut blocks.last_mut().expect("open block").1;
            rows.push(byte);
            open = rows.len() < height;
        } else {
            return Err(at("row outside a glyph"));
        }
    }
    if open {
        return Err("last glyph is short of rows".into());
    }
    Ok(blocks)
}

/// Builds a font from its glyph and mark sources: drawn glyphs, then composed ones. Every
/// code point outside B0h-DFh (generated later) and the blanks must end up defined.
fn drawn(glyphs: &str, marks: &str, height: usize) -> Result<Vec<u8>, String> {
    let mut font = vec![0u8; 256 * height];
    let mut defined = [false; 256];
    let mut named: HashMap<String, Vec<u8>> = HashMap::new();
    for (key, rows) in parse(glyphs, height)? {
        let code = match u8::from_str_radix(&key, 16) {
            Ok(code) if key.len() == 2 => code,
            _ => return Err(format!("glyph key {key} is not a 2-digit hex code point")),
        };
        font[code as usize * height..][..height].copy_from_slice(&rows);
        defined[code as usize] = true;
        named.insert(key, rows);
    }
    for (key, rows) in parse(marks, height)? {
        named.insert(key, rows);
    }
    for (code, base, mark) in COMPOSED {
        if defined[code as usize] {
            continue;
        }
        // A missing base or mark leaves the glyph undefined, reported below.
        let (Some(base), Some(mark)) = (named.get(base), named.get(mark)) else {
            continue;
        };
        let cell = &mut font[code as usize * height..][..height];
        for (row, (b, m)) in cell.iter_mut().zip(base.iter().zip(mark)) {
            *row = b | m;
        }
        defined[code as usize] = true;
    }
    let missing: Vec<String> = (0..=255u8)
        .filter(|&c| !defined[c as usize] && !BLANKS.contains(&c) && !(0xB0..=0xDF).contains(&c))
        .map(|c| format!("{c:02X}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("glyphs not drawn: {}", missing.join(" ")));
    }
    Ok(font)
}

/// The 8x14 rule: drop row 15, and row 0 if blank, else the lowest blank row above row 15,
/// so glyphs touching the top keep their outline; a glyph without blank rows loses row 0.
fn shorten(glyph: &[u8]) -> Vec<u8> {
    let drop = if glyph[0] == 0 {
        0
    } else {
        (1..15).rev().find(|&r| glyph[r] == 0).unwrap_or(0)
    };
    (0..15).filter(|&r| r != drop).map(|r| glyph[r]).collect()
}

/// Line weights of one box-drawing arm.
const NO: u8 = 0;
const SI: u8 = 1;
const DB: u8 = 2;

/// Box drawing B3h-DAh as (up, down, left, right) arm weights.
const BOXES: [[u8; 4]; 40] = [
    [SI, SI, NO, NO], // B3 │
    [SI, SI, SI, NO], // B4 ┤
    [SI, SI, DB, NO], // B5 ╡
    [DB, DB, SI, NO], // B6 ╢
    [NO, DB, SI, NO], // B7 ╖
    [NO, SI, DB, NO], // B8 ╕
    [DB, DB, DB, NO], // B9 ╣
    [DB, DB, NO, NO], // BA ║
    [NO, DB, DB, NO], // BB ╗
    [DB, NO, DB, NO], // BC ╝
    [DB, NO, SI, NO], // BD ╜
    [SI, NO, DB, NO], // BE ╛
    [NO, SI, SI, NO], // BF ┐
    [SI, NO, NO, SI], // C0 └
    [SI, NO, SI, SI], // C1 ┴
    [NO, SI, SI, SI], // C2 ┬
    [SI, SI, NO, SI], // C3 ├
    [NO, NO, SI, SI], // C4 ─
    [SI, SI, SI, SI], // C5 ┼
    [SI, SI, NO, DB], // C6 ╞
    [DB, DB, NO, SI], // C7 ╟
    [DB, NO, NO, DB], // C8 ╚
    [NO, DB, NO, DB], // C9 ╔
    [DB, NO, DB, DB], // CA ╩
    [NO, DB, DB, DB], // CB ╦
    [DB, DB, NO, DB], // CC ╠
    [NO, NO, DB, DB], // CD ═
    [DB, DB, DB, DB], // CE ╬
    [SI, NO, DB, DB], // CF ╧
    [DB, NO, SI, SI], // D0 ╨
    [NO, SI, DB, DB], // D1 ╤
    [NO, DB, SI, SI], // D2 ╥
    [DB, NO, NO, SI], // D3 ╙
    [SI, NO, NO, DB], // D4 ╘
    [NO, SI, NO, DB], // D5 ╒
    [NO, DB, NO, SI], // D6 ╓
    [DB, DB, SI, SI], // D7 ╫
    [SI, SI, DB, DB], // D8 ╪
    [SI, NO, SI, NO], // D9 ┘
    [NO, SI, NO, SI], // DA ┌
];

/// The centre row of a horizontal single line in a cell of this height; double lines sit
/// one row above and below it. Vertical lines: column 3, double at columns 2 and 4.
fn centre_row(height: usize) -> usize {
    height / 2 - 1
}
const CENTRE_COL: usize = 3;

/// Positions of the strokes of a line of weight `w` centred on `c`.
fn strokes(w: u8, c: usize) -> Vec<usize> {
    match w {
        SI => vec![c],
        DB => vec![c - 1, c + 1],
        _ => vec![],
    }
}

/// Draws box-drawing glyph `arms` into a cell of `height` rows.
fn draw_box(arms: [u8; 4], height: usize) -> Vec<u8> {
    let [up, down, left, right] = arms;
    let (r, c) = (centre_row(height), CENTRE_COL);
    let mut px = vec![[false; 8]; height];
    let vline = |px: &mut Vec<[bool; 8]>, col: usize, from: usize, to: usize| {
        for row in px.iter_mut().take(to + 1).skip(from) {
            row[col] = true;
        }
    };
    let hline = |px: &mut Vec<[bool; 8]>, row: usize, from: usize, to: usize| {
        px[row][from..=to].iter_mut().for_each(|p| *p = true);
    };
    let (vw, hw) = (up.max(down), left.max(right));
    if vw == DB && hw == DB {
        // Double meets double: each arm's strokes stop at the centre square, whose sides
        // are drawn where no arm leaves.
        let (t, b, l, rt) = (r - 1, r + 1, c - 1, c + 1);
        for col in [l, rt] {
            if up == DB {
                vline(&mut px, col, 0, t);
            }
            if down == DB {
                vline(&mut px, col, b, height - 1);
            }
        }
        for row in [t, b] {
            if left == DB {
                hline(&mut px, row, 0, l);
            }
            if right == DB {
                hline(&mut px, row, rt, 7);
            }
        }
        if up == NO {
            hline(&mut px, t, l, rt);
        }
        if down == NO {
            hline(&mut px, b, l, rt);
        }
        if left == NO {
            vline(&mut px, l, t, b);
        }
        if right == NO {
            vline(&mut px, rt, t, b);
        }
    } else {
        // A line that ends here stops at the near stroke of a crossing line that goes
        // through, and at its far stroke when both lines end here (a corner).
        let (rows, cols) = (strokes(hw, r), strokes(vw, c));
        let h_through = left != NO && right != NO;
        let v_through = up != NO && down != NO;
        // (near, far) stroke of the crossing line seen from the top / from the left.
        let h_span = match (rows.first(), rows.last()) {
            (Some(&a), Some(&b)) if h_through => (a, b),
            (Some(&a), Some(&b)) => (b, a),
            _ => (r, r),
        };
        let v_span = match (cols.first(), cols.last()) {
            (Some(&a), Some(&b)) if v_through => (a, b),
            (Some(&a), Some(&b)) => (b, a),
            _ => (c, c),
        };
        for &col in &cols {
            match (up != NO, down != NO) {
                (true, true) => vline(&mut px, col, 0, height - 1),
                (true, false) => vline(&mut px, col, 0, h_span.0),
                _ => vline(&mut px, col, h_span.1, height - 1),
            }
        }
        for &row in &rows {
            match (left != NO, right != NO) {
                (true, true) => hline(&mut px, row, 0, 7),
                (true, false) => hline(&mut px, row, 0, v_span.0),
                _ => hline(&mut px, row, v_span.1, 7),
            }
        }
    }
    px.iter()
        .map(|row| row.iter().fold(0u8, |b, &p| (b << 1) | p as u8))
        .collect()
}

/// Fills the generated range B0h-DFh of a font with `height`-row cells.
fn generate(font: &mut [u8], height: usize) {
    for (i, arms) in BOXES.iter().enumerate() {
        let cell = &mut font[(0xB3 + i) * height..][..height];
        cell.copy_from_slice(&draw_box(*arms, height));
    }
    for y in 0..height {
        // Shades tile across cells: 1/4, 1/2 and 3/4 of the pixels, in 2-row periods.
        let (light, dark) = if y % 2 == 0 {
            (0x88, 0x22)
        } else {
            (0x22, 0x88)
        };
        font[0xB0 * height + y] = light;
        font[0xB1 * height + y] = if y % 2 == 0 { 0xAA } else { 0x55 };
        font[0xB2 * height + y] = !dark;
        font[0xDB * height + y] = 0xFF;
        font[0xDC * height + y] = if y >= height / 2 { 0xFF } else { 0 };
        font[0xDD * height + y] = 0xF0;
        font[0xDE * height + y] = 0x0F;
        font[0xDF * height + y] = if y < height / 2 { 0xFF } else { 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fonts() -> [(&'static [u8], usize); 3] {
        [(font_8x8(), 8), (font_8x14(), 14), (font_8x16(), 16)]
    }

    fn glyph(font: &[u8], h: usize, code: u8) -> &[u8] {
        &font[code as usize * h..][..h]
    }

    /// Rows whose pixel in column `col` (0 = left) is on.
    fn column(g: &[u8], col: usize) -> Vec<usize> {
        (0..g.len())
            .filter(|&r| g[r] & (0x80 >> col) != 0)
            .collect()
    }

    /// Columns on in row `row`.
    fn row(g: &[u8], row: usize) -> Vec<usize> {
        (0..8).filter(|&c| g[row] & (0x80 >> c) != 0).collect()
    }

    #[test]
    fn sizes() {
        assert_eq!(font_8x8().len(), 256 * 8);
        assert_eq!(font_8x14().len(), 256 * 14);
        assert_eq!(font_8x16().len(), 256 * 16);
    }

    #[test]
    fn every_code_point_but_the_blanks_has_pixels() {
        for (font, h) in fonts() {
            for code in 0..=255u8 {
                let on = glyph(font, h, code).iter().any(|&b| b != 0);
                assert_eq!(on, !BLANKS.contains(&code), "8x{h} {code:02X}");
            }
        }
    }

    #[test]
    fn printable_ascii_glyphs_are_distinct_and_leave_column_7_free() {
        for (font, h) in fonts() {
            for a in 0x21..=0x7Eu8 {
                for b in a + 1..=0x7E {
                    assert_ne!(
                        glyph(font, h, a),
                        glyph(font, h, b),
                        "8x{h} {a:02X} {b:02X}"
                    );
                }
                if a != b'_' {
                    assert!(column(glyph(font, h, a), 7).is_empty(), "8x{h} {a:02X}");
                }
            }
        }
    }

    #[test]
    fn box_drawing_edges_match_their_arms() {
        // Each edge carries exactly its arm's strokes, so neighbours join seamlessly.
        for (font, h) in fonts() {
            let (r, c) = (centre_row(h), CENTRE_COL);
            for (i, &[up, down, left, right]) in BOXES.iter().enumerate() {
                let g = glyph(font, h, 0xB3 + i as u8);
                let name = format!("8x{h} {:02X}", 0xB3 + i);
                assert_eq!(row(g, 0), strokes(up, c), "{name} top");
                assert_eq!(row(g, h - 1), strokes(down, c), "{name} bottom");
                assert_eq!(column(g, 0), strokes(left, r), "{name} left");
                assert_eq!(column(g, 7), strokes(right, r), "{name} right");
            }
            // ─ meets ┼, ║ sits on ╬, and a double cross leaves its centre open.
            assert_eq!(
                column(glyph(font, h, 0xC4), 7),
                column(glyph(font, h, 0xC5), 0)
            );
            assert_eq!(
                row(glyph(font, h, 0xBA), h - 1),
                row(glyph(font, h, 0xCE), 0)
            );
            assert_eq!(glyph(font, h, 0xCE)[r] & (0x80 >> c), 0, "8x{h} CE centre");
            assert_ne!(glyph(font, h, 0xC5)[r] & (0x80 >> c), 0, "8x{h} C5 centre");
        }
    }

    #[test]
    fn corners_close_and_tees_stay_open() {
        let g = font_8x16();
        // ╔: outer stroke turns at (6, 2), inner at (8, 4); the centre is empty.
        let tl = glyph(g, 16, 0xC9);
        assert_eq!(row(tl, 6), vec![2, 3, 4, 5, 6, 7]);
        assert_eq!(row(tl, 8), vec![2, 4, 5, 6, 7]);
        assert_eq!(row(tl, 7), vec![2]);
        // ╤: the single stem hangs from the lower of the two full rows.
        let t = glyph(g, 16, 0xD1);
        assert_eq!(
            (row(t, 6).len(), row(t, 7), row(t, 8).len()),
            (8, vec![], 8)
        );
        assert_eq!(row(t, 9), vec![3]);
        // ╛: single up, double left: the stem reaches the lower stroke.
        let corner = glyph(g, 16, 0xBE);
        assert_eq!(
            (row(corner, 6), row(corner, 7), row(corner, 8)),
            (vec![0, 1, 2, 3], vec![3], vec![0, 1, 2, 3])
        );
    }

    #[test]
    fn shades_and_blocks() {
        for (font, h) in fonts() {
            let count = |code: u8| {
                glyph(font, h, code)
                    .iter()
                    .map(|b| b.count_ones() as usize)
                    .sum::<usize>()
            };
            assert_eq!(count(0xB0) * 4, 8 * h);
            assert_eq!(count(0xB1) * 2, 8 * h);
            assert_eq!(count(0xB2) * 4, 8 * h * 3);
            assert_eq!(count(0xDB), 8 * h);
            assert_eq!(count(0xDC) + count(0xDF), 8 * h);
            assert_eq!(glyph(font, h, 0xDD)[0] | glyph(font, h, 0xDE)[0], 0xFF);
        }
    }

    #[test]
    fn accents_clear_their_letters() {
        for (glyphs, marks, h) in [(GLYPHS_8X8, MARKS_8X8, 8), (GLYPHS_8X16, MARKS_8X16, 16)] {
            let named: HashMap<String, Vec<u8>> = parse(glyphs, h)
                .unwrap()
                .into_iter()
                .chain(parse(marks, h).unwrap())
                .collect();
            for (code, base, mark) in COMPOSED {
                if let (Some(b), Some(m)) = (named.get(base), named.get(mark)) {
                    assert!(b.iter().zip(m).all(|(b, m)| b & m == 0), "8x{h} {code:02X}");
                }
            }
        }
    }

    #[test]
    fn the_8x14_font_drops_blank_rows_of_the_8x16_one() {
        let (tall, short) = (font_8x16(), font_8x14());
        // 'A' has blank rows 0 and 15: rows 1..15 remain.
        assert_eq!(glyph(short, 14, b'A'), &glyph(tall, 16, b'A')[1..15]);
        // Å touches the top: its top row stays.
        assert_eq!(glyph(short, 14, 0x8F)[0], glyph(tall, 16, 0x8F)[0]);
        // Only blank rows go, but for the full-height inverse glyphs and the integral.
        for code in (0..=255u8).filter(|c| !(0xB0..=0xDF).contains(c)) {
            let (t, s) = (glyph(tall, 16, code), glyph(short, 14, code));
            let lost = t.iter().map(|b| b.count_ones()).sum::<u32>()
                - s.iter().map(|b| b.count_ones()).sum::<u32>();
            let expected = [0x08, 0x0A, 0xF4].contains(&code);
            assert_eq!(lost != 0, expected, "{code:02X} lost {lost} pixels");
        }
        let mut top = [0u8; 16];
        top[0] = 0x18;
        top[5] = 0x3C;
        assert_eq!(shorten(&top), [&top[..14]].concat());
        let full = [0xFFu8; 16];
        assert_eq!(shorten(&full), [0xFF; 14]);
    }

    #[test]
    fn parser_reads_text_art() {
        let src = "; comment\n\n@41 A\n#.......\n.......#\n\n@dot mark\n...##...\n........\n";
        let blocks = parse(src, 2).unwrap();
        assert_eq!(
            blocks,
            vec![
                ("41".into(), vec![0x80, 0x01]),
                ("dot".into(), vec![0x18, 0])
            ]
        );
    }

    #[test]
    fn parser_rejects_malformed_sources() {
        let bad = [
            ("@41 A\n#......\n........\n", "8 pixels"),
            ("@41 A\n#......x\n........\n", "'.' or '#'"),
            ("@41 A\n........\n@42 B\n........\n........\n", "short"),
            ("@41 A\n........\n", "short"),
            ("@41 A\n........\n\n........\n", "short"),
            ("........\n", "outside"),
            (
                "@41 A\n........\n........\n@41 again\n........\n........\n",
                "twice",
            ),
            ("@ \n........\n........\n", "without a key"),
        ];
        for (src, why) in bad {
            let err = parse(src, 2).unwrap_err();
            assert!(err.contains(why), "{src:?}: {err}");
        }
        let one = "@41 A\n........\n........\n";
        assert!(drawn("@4G x\n........\n........\n", "", 2)
            .unwrap_err()
            .contains("hex"));
        assert!(drawn("@141 x\n........\n........\n", "", 2)
            .unwrap_err()
            .contains("hex"));
        assert!(drawn(one, "", 2).unwrap_err().contains("not drawn"));
    }
}
