//! VGA rendering against references independent of our VGA code: guests in test-suites/vga
//! draw through the real registers; their screenshots are compared pixel for pixel with
//! PNGs recorded from QEMU (`screendump` of the same disk, mode 13h's 640x400 dump halved:
//! its 2x2 blocks are uniform). Colours are compared at the DAC's 6 bits per channel (QEMU
//! widens 6-bit DAC values to 8 bits differently from us). The text tests compute the
//! expected picture from the text cells, the BIOS font and the standard EGA colours; the
//! mode X test computes it from the VGA's memory layout (QEMU's chain-4 layout differs, so
//! only its unchained rows are compared with QEMU).

mod common;

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
    let frame = check_text_render(&m, emu::bios::font::font_8x16(), 16, "text.png");
    assert_eq!((frame.width, frame.height), (720, 400));
}

/// Renders the text screen and compares every pixel outside the cursor cell with the cells
/// of the text view drawn in `font` (`height` lines, 9-dot cells); returns the frame.
fn check_text_render(m: &Machine, font: &[u8], height: usize, png: &str) -> Frame {
    let view = m.text_view().expect("text mode");
    let mut frame = Frame::default();
    m.render(&mut frame);
    let (cols, rows) = (view.cols as usize, view.rows as usize);
    assert_eq!(
        (frame.width as usize, frame.height as usize),
        (cols * 9, rows * height)
    );
    let width = cols * 9;
    let mut bad = 0;
    for row in 0..rows {
        for col in 0..cols {
            if view.cursor == Some((col as u16, row as u16)) {
                continue; // the cursor blinks with virtual time
            }
            let cell = view.cell(col as u16, row as u16);
            let (ch, attr) = (cell as u8 as usize, (cell >> 8) as u8);
            let (fg, bg) = (text_colour(attr & 15), text_colour((attr >> 4) & 7));
            for y in 0..height {
                let bits = font[ch * height + y] as u32;
                let line_gfx = (0xC0..=0xDF).contains(&ch);
                for x in 0..9u32 {
                    let on = if x < 8 {
                        bits >> (7 - x) & 1 != 0
                    } else {
                        line_gfx && bits & 1 != 0
                    };
                    let want = if on { fg } else { bg };
                    let px = frame.pixels[(row * height + y) * width + col * 9 + x as usize];
                    bad += (px != want) as usize;
                }
            }
        }
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(png);
    save_png(&frame, &out).unwrap();
    assert_eq!(bad, 0, "{bad} pixels differ (ours: {})", out.display());
    frame
}

/// 80x50 text (test-suites/vga/text50.asm): INT 10h AX=1111h/1114h/1112h set 28, 25 and 50
/// rows in the BIOS data area with the cursor shape of the font; the BIOS's teletype scrolls
/// the 50-row screen; the VGA shows 50 rows of 8-line cells (400 scan lines); the text view
/// and `--print-screen` have 50 rows.
#[test]
fn text_80x50_after_int10_1112h() {
    let m = run_guest("test-suites/vga/text50.asm");
    let mut bda = [0u8; 24];
    m.cpu.mem.read_bytes(0x500, &mut bda);
    let entry = |i: usize| {
        let b = &bda[i * 7..i * 7 + 7];
        let w = |k: usize| u16::from_le_bytes([b[k], b[k + 1]]);
        (b[0], w(1), w(3), w(5))
    };
    // (rows - 1, character height, page size, cursor shape)
    // The same values as SeaBIOS gives in QEMU (page sizes rounded up to 2 KiB).
    assert_eq!(entry(0), (27, 14, 0x1800, 0x0B0C), "AX=1111h");
    assert_eq!(entry(1), (24, 16, 0x1000, 0x0D0E), "AX=1114h");
    assert_eq!(entry(2), (49, 8, 0x2000, 0x0607), "AX=1112h");
    assert_eq!(
        (bda[21], u16::from_le_bytes([bda[22], bda[23]])),
        (49, 8),
        "AX=1130h: DL rows - 1, CX height"
    );
    let view = m.text_view().expect("text mode");
    assert_eq!((view.cols, view.rows), (80, 50));
    let text: Vec<String> = (0..50).map(|r| view.row_text(r)).collect();
    let mut want = vec![String::new(); 50];
    want[0] = "SECOND".into();
    want[30] = "          DIRECT".into();
    want[48] = "LINE A".into();
    want[49] = "ROW 49: 80x50".into();
    assert_eq!(text, want);
    assert_eq!(view.cell(10, 30), 0x1E00 | b'D' as u16);
    assert_eq!(view.cursor, Some((13, 49)));
    let frame = check_text_render(&m, emu::bios::font::font_8x8(), 8, "text50.png");
    assert_eq!((frame.width, frame.height), (720, 400));
    // The cursor: scan lines 6 and 7 of its cell are foreground while it is on; the cell is
    // blank otherwise.
    let cursor_rows: Vec<bool> = (0..8)
        .map(|y| frame.pixels[(49 * 8 + y) * 720 + 13 * 9] == text_colour(7))
        .collect();
    assert!(
        cursor_rows == [false; 8]
            || cursor_rows == [false, false, false, false, false, false, true, true],
        "{cursor_rows:?}"
    );

    // `emu boot --print-screen` prints the 50 rows (once this machine has let go of the
    // image's lock).
    drop(m);
    let img = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-suites_vga_text50.asm.img");
    let out = common::emu()
        .args([
            "boot",
            "--display",
            "none",
            "--print-screen",
            "--max-instructions",
            "20000000",
        ])
        .arg(&img)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        50,
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines[49], "ROW 49: 80x50");
    assert_eq!(lines[48], "LINE A");
}

#[test]
fn vbe_32bpp_lfb_matches_qemu() {
    check_against("test-suites/vga/vbe32.asm", "test-suites/vga/vbe32.png");
}

/// The mode13.asm / modex.asm palette, 8 bits per channel as we widen it.
fn guest_palette(i: u32) -> u32 {
    let eight = |v: u32| (v << 2) | (v >> 4);
    let (r, g, b) = (i >> 2, (i & 15) << 2, (5 * i) & 63);
    eight(r) << 16 | eight(g) << 8 | eight(b)
}

/// Mode X (test-suites/vga/modex.asm): chained pixels written in mode 13h, then the
/// unchained 320x240 set-up, pixels through the map mask and a write-mode-1 copy. The
/// expected picture follows the VGA's memory layout: chain-4 put CPU byte a at plane a & 3,
/// offset a & !3, and byte mode reads plane x & 3 at offset y * 80 + x / 4.
#[test]
fn mode_x_unchained_matches_the_vga_memory_layout() {
    let m = run_guest("test-suites/vga/modex.asm");
    let mut frame = Frame::default();
    m.render(&mut frame);
    assert_eq!((frame.width, frame.height), (320, 240));
    let chained = |a: u32| (a ^ (a >> 8)) & 0xFF;
    let unchained = |x: u32, y: u32| (x + 2 * y) & 0xFF;
    let index = |x: u32, y: u32| -> u32 {
        match y {
            0..=99 => {
                let o = y * 80 + x / 4;
                if o.is_multiple_of(4) {
                    chained(o + (x & 3))
                } else {
                    0
                }
            }
            100..=235 => unchained(x, y),
            _ => unchained(x, y - 136),
        }
    };
    let mut bad = 0;
    for y in 0..240 {
        for x in 0..320 {
            bad += (frame.pixels[(y * 320 + x) as usize] != guest_palette(index(x, y))) as usize;
        }
    }
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("modex.png");
    save_png(&frame, &out).unwrap();
    assert_eq!(bad, 0, "{bad} pixels differ (ours: {})", out.display());
    // QEMU's layout (byte a at offset a >> 2) would show mode 13h's rows unchanged; the
    // VGA's does not, so this test tells the two apart.
    let qemu_like = (0..100u32)
        .flat_map(|y| (0..320u32).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            frame.pixels[(y * 320 + x) as usize] == guest_palette(chained(y * 320 + x))
        })
        .count();
    assert!(
        qemu_like < 32_000 / 2,
        "{qemu_like} of 32000 pixels as in QEMU"
    );
    // The rows drawn unchained do not depend on the chain-4 layout: they match QEMU's
    // screendump of the same disk (640x480 halved, its 2x2 blocks being uniform).
    let qemu =
        load_png(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-suites/vga/modex-qemu.png"))
            .unwrap();
    assert_eq!((qemu.width, qemu.height), (320, 240));
    let rows = 100 * 320..240 * 320;
    let differ = frame.pixels[rows.clone()]
        .iter()
        .zip(&qemu.pixels[rows])
        .filter(|(p, q)| (*p & 0xFCFCFC) != (*q & 0xFCFCFC))
        .count();
    assert_eq!(
        differ, 0,
        "rows 100-239 differ from QEMU's in {differ} pixels"
    );
}
