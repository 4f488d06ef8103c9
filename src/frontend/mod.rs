//! What the user sees and touches: the types frontends (window, terminal, headless,
//! screenshots) exchange with the machine. Frontends observe the machine; they never reach
//! into the CPU.

/// A rendered picture of the guest's display at its native resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// Row-major pixels, 0x00RRGGBB.
    pub pixels: Vec<u32>,
}

impl Frame {
    /// Resizes the frame (contents unspecified afterwards) without reallocating when the
    /// size is unchanged.
    pub fn resize(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        self.pixels.resize(width as usize * height as usize, 0);
    }
}

/// The guest's text screen as character cells, for frontends that draw text themselves
/// (the terminal) and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextView {
    pub cols: u16,
    pub rows: u16,
    /// Row-major cells: character code (CP437) in the low byte, attribute in the high byte.
    pub cells: Vec<u16>,
    /// Cursor position (column, row), None when the cursor is hidden or off screen.
    pub cursor: Option<(u16, u16)>,
}

impl TextView {
    pub fn cell(&self, col: u16, row: u16) -> u16 {
        self.cells[row as usize * self.cols as usize + col as usize]
    }

    /// One row as text (CP437 printable ASCII kept, other codes as spaces), trailing blanks
    /// trimmed.
    pub fn row_text(&self, row: u16) -> String {
        let line: String = (0..self.cols)
            .map(|col| match self.cell(col, row) as u8 {
                c @ 0x20..=0x7E => c as char,
                _ => ' ',
            })
            .collect();
        line.trim_end().to_string()
    }
}

pub mod cp437;
pub mod headless;
pub mod keymap;
pub mod runner;
pub mod script;
pub mod session;
pub mod term;
pub mod window;

pub use session::{run, DisplayKind, Options, SerialKind};
pub mod screenshot;
