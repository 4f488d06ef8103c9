//! STAND-INS FOR THE VGA AND DEVICES BRANCHES: delete this file (and its `mod` line in
//! src/frontend/mod.rs) when they merge. Everything here is a placeholder with the
//! interface the other branches provide:
//! - `Machine::render` (VGA): here a crude renderer of the text view (no font: each
//!   character is drawn as a bar code of its bits, so tests can still tell screens apart);
//! - `Machine::screenshot` and `frontend::screenshot::save_png` (VGA);
//! - `Machine::refresh_hz` (VGA: the vertical retrace rate of the current mode);

use std::path::Path;

use super::Frame;
use crate::machine::Machine;
use crate::Result;

/// The 16 text-mode colours of the default VGA palette.
const PALETTE: [u32; 16] = [
    0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA, 0x555555,
    0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
];

impl Machine {
    /// Draws the screen into `frame` at its native resolution (stand-in: text modes only,
    /// 8x16 cells, no font).
    pub fn render(&self, frame: &mut Frame) {
        let Some(view) = self.text_view() else {
            frame.resize(640, 480);
            frame.pixels.fill(0);
            return;
        };
        let (w, h) = (view.cols as u32 * 8, view.rows as u32 * 16);
        frame.resize(w, h);
        for row in 0..view.rows {
            for col in 0..view.cols {
                let cell = view.cell(col, row);
                let (ch, attr) = (cell as u8, (cell >> 8) as u8);
                let fg = PALETTE[attr as usize & 15];
                let bg = PALETTE[(attr >> 4) as usize & 7];
                let cursor = view.cursor == Some((col, row));
                for y in 0..16u32 {
                    let base = (row as u32 * 16 + y) * w + col as u32 * 8;
                    for x in 0..8u32 {
                        let bar = (3..13).contains(&y) && ch & (0x80 >> x) != 0;
                        let lit = (bar && ch != b' ') || (cursor && y >= 14);
                        frame.pixels[(base + x) as usize] = if lit { fg } else { bg };
                    }
                }
            }
        }
    }

    /// Saves the screen as a PNG file.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let mut frame = Frame::default();
        self.render(&mut frame);
        screenshot::save_png(&frame, path)
    }

    /// The vertical retrace rate of the current mode, in Hz.
    pub fn refresh_hz(&self) -> f64 {
        70.0
    }

}

pub mod screenshot {
    use std::path::Path;

    use crate::frontend::Frame;
    use crate::{Error, Result};

    /// Writes `frame` as an 8-bit RGB PNG.
    pub fn save_png(frame: &Frame, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), frame.width, frame.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let rgb: Vec<u8> = frame
            .pixels
            .iter()
            .flat_map(|p| [(p >> 16) as u8, (p >> 8) as u8, *p as u8])
            .collect();
        enc.write_header()
            .and_then(|mut w| w.write_image_data(&rgb))
            .map_err(|e| Error::io(path, std::io::Error::other(e)))
    }
}
