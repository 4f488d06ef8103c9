//! Writes the built-in VGA fonts as a PGM contact sheet for review:
//! `cargo run --release --example font_preview -- 16 sheet.pgm [scale]` (height 8, 14 or 16),
//! 16x16 glyphs with a 1-pixel grey gap (9th column left blank), or, with `text`
//! as the file name, prints one code point's text art: `... -- 16 text 41`.

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
