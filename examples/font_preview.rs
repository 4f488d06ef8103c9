//! Writes the built-in VGA fonts as a PGM contact sheet for review:
//! `cargo run --release --example font_preview -- 16 sheet.pgm [scale]` (height 8, 14 or 16),
//! 16x16 glyphs with a 1-pixel grey gap (9th column left blank), or, with `text`
//! as the file name, prints one code point's text art: `... -- 16 text 41`, or, with
//! `sample`, renders a test screen in 9-dot VGA cells: `... -- 16 sample screen.pgm`.

use emu::bios::font::{font_8x14, font_8x16, font_8x8};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let height: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(16);
    let font = match height {
        8 => font_8x8(),
        14 => font_8x14(),
        16 => font_8x16(),
        _ => {
            eprintln!("height must be 8, 14 or 16");
            std::process::exit(2);
        }
    };
    let out = args.get(1).map(String::as_str).unwrap_or("font.pgm");
    if out == "text" {
        for code in args[2..]
            .iter()
            .filter_map(|c| u8::from_str_radix(c, 16).ok())
        {
            println!("@{code:02X}");
            for row in &font[code as usize * height..][..height] {
                println!(
                    "{}",
                    (0..8)
                        .map(|b| if row << b & 0x80 != 0 { '#' } else { '.' })
                        .collect::<String>()
                );
            }
        }
        return;
    }
    if out == "sample" {
        let path = args.get(2).map(String::as_str).unwrap_or("sample.pgm");
        return write_pgm(path, &sample(font, height), 2);
    }
    let scale: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(3);
    let (cw, ch) = (9, height + 1);
    let (w, h) = (16 * cw * scale, 16 * ch * scale);
    let mut img = vec![128u8; w * h];
    for code in 0..256 {
        let (gx, gy) = ((code % 16) * cw, (code / 16) * ch);
        for y in 0..height {
            let row = font[code * height + y];
            for x in 0..8 {
                let v = if row << x & 0x80 != 0 { 255 } else { 0 };
                for sy in 0..scale {
                    let base = ((gy + y) * scale + sy) * w + (gx + x) * scale;
                    img[base..base + scale].fill(v);
                }
            }
        }
    }
    let mut data = format!("P5\n{w} {h}\n255\n").into_bytes();
    data.extend_from_slice(&img);
    std::fs::write(out, data).expect("write the sheet");
}

/// Text lines in code page 437 bytes: prose, accents, a box with junctions, shades.
fn sample_lines() -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = [
        "The quick brown fox jumps over the lazy dog. 0123456789",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG! (a+b)*c=[d/e]",
        "C:\\DOS> dir /w   {x|y} ~`'\"<>?@#$%^&_-;:",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    lines.push(b"gar\x87on na\xA8ve? \x82t\x82 \x8Eu\x9Aere \x94l \x81ber \xA4and\xA3 \x86se \x8Fngstr\x94m \x92ra \xE1\xE0\xE2\xE3\xE4\xE5\xE6\xE7\xE8\xE9\xEA\xEB\xEC\xED\xEE\xEF\xF0\xF1\xF2\xF3 \x9B\x9C\x9D\x9E\x9F \xAB\xAC\xAE\xAF".to_vec());
    lines.push(b"\xC9\xCD\xCD\xCB\xCD\xCD\xBB \xDA\xC4\xC4\xC2\xC4\xC4\xBF \xD5\xCD\xCD\xD1\xCD\xCD\xB8 \xD6\xC4\xC4\xD2\xC4\xC4\xB7 \xB0\xB0\xB1\xB1\xB2\xB2\xDB\xDB \xDC\xDC\xDF\xDF\xDD\xDE".to_vec());
    lines.push(b"\xBA  \xBA  \xBA \xB3  \xB3  \xB3 \xB3  \xB3  \xB3 \xBA  \xBA  \xBA \xB0\xB0\xB1\xB1\xB2\xB2\xDB\xDB \xDF\xDF\xDC\xDC\xDE\xDD".to_vec());
    lines.push(b"\xCC\xCD\xCD\xCE\xCD\xCD\xB9 \xC3\xC4\xC4\xC5\xC4\xC4\xB4 \xC6\xCD\xCD\xD8\xCD\xCD\xB5 \xC7\xC4\xC4\xD7\xC4\xC4\xB6 \x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F".to_vec());
    lines.push(b"\xBA  \xBA  \xBA \xB3  \xB3  \xB3 \xB3  \xB3  \xB3 \xBA  \xBA  \xBA \x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1A\x1B\x1C\x1D\x1E\x1F\x7F".to_vec());
    lines.push(b"\xC8\xCD\xCD\xCA\xCD\xCD\xBC \xC0\xC4\xC4\xC1\xC4\xC4\xD9 \xD4\xCD\xCD\xCF\xCD\xCD\xBE \xD3\xC4\xC4\xD0\xC4\xC4\xBD \xF4\xF5\xF6\xF7\xF8\xF9\xFA\xFB\xFC\xFD\xFE \xA6\xA7\xA9\xAA\xAD".to_vec());
    lines
}

/// Renders the sample lines in 9-dot cells, repeating column 8 for C0h-DFh like the VGA.
fn sample(font: &[u8], height: usize) -> (usize, usize, Vec<u8>) {
    let lines = sample_lines();
    let cols = lines.iter().map(Vec::len).max().unwrap_or(0);
    let (w, h) = (cols * 9, lines.len() * height);
    let mut img = vec![0u8; w * h];
    for (ly, line) in lines.iter().enumerate() {
        for (lx, &code) in line.iter().enumerate() {
            for y in 0..height {
                let row = font[code as usize * height + y];
                for x in 0..9 {
                    let bit = if x < 8 {
                        row << x & 0x80 != 0
                    } else {
                        (0xC0..=0xDF).contains(&code) && row & 1 != 0
                    };
                    img[(ly * height + y) * w + lx * 9 + x] = if bit { 255 } else { 0 };
                }
            }
        }
    }
    (w, h, img)
}

fn write_pgm(path: &str, (w, h, img): &(usize, usize, Vec<u8>), scale: usize) {
    let mut data = format!("P5\n{} {}\n255\n", w * scale, h * scale).into_bytes();
    for y in 0..h * scale {
        for x in 0..w * scale {
            data.push(img[(y / scale) * w + x / scale]);
        }
    }
    std::fs::write(path, data).expect("write the sample");
}
