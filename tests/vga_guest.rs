//! VGA rendering against references independent of our VGA code: guests in test-suites/vga
//! draw through the real registers; their screenshots are compared pixel for pixel with
//! PNGs recorded from QEMU (`screendump` of the same disk, mode 13h's 640x400 dump halved:
//! its 2x2 blocks are uniform). Colours are compared at the DAC's 6 bits per channel (QEMU
//! widens 6-bit DAC values to 8 bits differently from us). The text test computes the
//! expected picture from the text cells, the BIOS font and the standard EGA colours.

use std::path::PathBuf;
use std::process::Command;

use emu::frontend::screenshot::{load_png, save_png};
use emu::frontend::Frame;
use emu::machine::{Machine, MachineConfig, Outcome};

fn assemble(source: &str, name: &str) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(source);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("nasm is needed to build {source} (apt-get install nasm): {e}"));
    assert!(status.success(), "nasm failed on {source}");
    out
}

fn run_guest(source: &str) -> Machine {
    let img = assemble(source, &format!("{}.img", source.replace('/', "_")));
    let mut m = Machine::new(MachineConfig {
        floppies: [Some(img), None],
        max_instructions: Some(50_000_000),
        echo_console: false,
        rtc_start: Some(0),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(m.run(), Outcome::Halted);
    m
}

/// Compares two frames at 6 bits per channel; returns the number of differing pixels.
fn differing(a: &Frame, b: &Frame) -> usize {
    assert_eq!((a.width, a.height), (b.width, b.height), "frame sizes");
    a.pixels
        .iter()
        .zip(&b.pixels)
        .filter(|(p, q)| (*p & 0xFCFCFC) != (*q & 0xFCFCFC))
        .count()
}

fn check_against(source: &str, reference: &str) {
    let m = run_guest(source);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}.png", reference.replace('/', "_")));
    m.screenshot(&out).unwrap();
    let ours = load_png(&out).unwrap();
    let want = load_png(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(reference)).unwrap();
    let n = differing(&ours, &want);
    assert_eq!(
        n,
        0,
        "{n} pixels differ from {reference} (ours: {})",
        out.display()
    );
}

#[test]
fn mode_13h_pattern_matches_qemu() {
    check_against("test-suites/vga/mode13.asm", "test-suites/vga/mode13.png");
}

#[test]
fn mode_12h_write_modes_match_qemu() {
    check_against("test-suites/vga/mode12.asm", "test-suites/vga/mode12.png");
}

/// The 16 text colours (EGA palette through the mode 3 attribute registers), 6-bit.
fn text_colour(i: u8) -> u32 {
    let ega = [
        0u8, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    ][i as usize];
    let c = |hi: u8, lo: u8| (((ega >> hi) & 1) * 42 + ((ega >> lo) & 1) * 21) as u32;
    let eight = |v: u32| (v << 2) | (v >> 4);
    eight(c(2, 5)) << 16 | eight(c(1, 4)) << 8 | eight(c(0, 3))
}

#[test]
fn text_mode_render_matches_cells_and_font() {
    let mut m = Machine::new(MachineConfig {
        max_instructions: Some(30_000_000),
        echo_console: false,
        rtc_start: Some(0),
        ..Default::default()
    })
    .unwrap();
    m.run();
    let view = m.text_view().expect("text mode");
    assert_eq!((view.cols, view.rows), (80, 25));
    assert!(view.row_text(0).len() > 10, "the demo printed something");
    let mut frame = Frame::default();
    m.render(&mut frame);
    assert_eq!((frame.width, frame.height), (720, 400));
    let font = emu::bios::font::font_8x16();
    let mut bad = 0;
    for row in 0..25u16 {
        for col in 0..80u16 {
            if view.cursor == Some((col, row)) {
                continue; // the cursor blinks with virtual time
            }
            let cell = view.cell(col, row);
            let (ch, attr) = (cell as u8 as usize, (cell >> 8) as u8);
            let (fg, bg) = (text_colour(attr & 15), text_colour((attr >> 4) & 7));
            for y in 0..16 {
                let bits = font[ch * 16 + y] as u32;
                let line_gfx = (0xC0..=0xDF).contains(&ch);
                for x in 0..9u32 {
                    let on = if x < 8 {
                        bits >> (7 - x) & 1 != 0
                    } else {
                        line_gfx && bits & 1 != 0
                    };
                    let want = if on { fg } else { bg };
                    let px =
                        frame.pixels[(row as usize * 16 + y) * 720 + col as usize * 9 + x as usize];
                    bad += (px != want) as usize;
                }
            }
        }
    }
    assert_eq!(bad, 0);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("text.png");
    save_png(&frame, &out).unwrap();
}

#[test]
fn vbe_32bpp_lfb_matches_qemu() {
    check_against("test-suites/vga/vbe32.asm", "test-suites/vga/vbe32.png");
}
