//! The terminal frontend (`--display term`): draws the guest's text screen in the host
//! terminal with its colours (CP437 glyphs as Unicode) and sends the terminal's keys to the
//! guest as scancodes, so DOS works over ssh. Ctrl-A x quits, Ctrl-A s saves a screenshot,
//! Ctrl-A a sends Ctrl-A.

use std::io::Write;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::{Color, Print, SetBackgroundColor, SetForegroundColor};
use crossterm::{cursor, execute, queue, terminal};

use super::cp437;
use super::keymap::{self, PcKey};
use super::runner::{Input, Shared};
use super::TextView;

/// The terminal colour for a VGA text colour (index in the default palette order).
pub fn color(vga: u8) -> Color {
    const COLORS: [Color; 16] = [
        Color::Black,
        Color::DarkBlue,
        Color::DarkGreen,
        Color::DarkCyan,
        Color::DarkRed,
        Color::DarkMagenta,
        Color::DarkYellow,
        Color::Grey,
        Color::DarkGrey,
        Color::Blue,
        Color::Green,
        Color::Cyan,
        Color::Red,
        Color::Magenta,
        Color::Yellow,
        Color::White,
    ];
    COLORS[vga as usize & 15]
}

/// Scancodes for a terminal key press (terminals report no releases: press and release are
/// sent together). None for keys with no PC equivalent.
pub fn key_scancodes(ev: &KeyEvent) -> Option<Vec<u8>> {
    let key = match ev.code {
        KeyCode::Char(c) => {
            if ev.modifiers.contains(KeyModifiers::CONTROL) && c.is_ascii_alphabetic() {
                let code = c.to_ascii_lowercase() as u8 - b'a' + 1;
                return keymap::type_char(char::from(code));
            }
            let typed = keymap::type_char(c)?;
            if ev.modifiers.contains(KeyModifiers::ALT) {
                let mut v = PcKey::LALT.scancodes(true);
                v.extend(typed);
                v.extend(PcKey::LALT.scancodes(false));
                return Some(v);
            }
            return Some(typed);
        }
        KeyCode::Enter => PcKey::ENTER,
        KeyCode::Backspace => PcKey::BACKSPACE,
        KeyCode::Tab => PcKey::TAB,
        KeyCode::BackTab => return Some(PcKey::TAB.chord(&[PcKey::LSHIFT])),
        KeyCode::Esc => PcKey::ESC,
        KeyCode::Up => PcKey::UP,
        KeyCode::Down => PcKey::DOWN,
        KeyCode::Left => PcKey::LEFT,
        KeyCode::Right => PcKey::RIGHT,
        KeyCode::Home => PcKey::HOME,
        KeyCode::End => PcKey::END,
        KeyCode::PageUp => PcKey::PAGE_UP,
        KeyCode::PageDown => PcKey::PAGE_DOWN,
        KeyCode::Insert => PcKey::INSERT,
        KeyCode::Delete => PcKey::DELETE,
        KeyCode::F(n @ 1..=12) => PcKey::f(n),
        KeyCode::Pause => PcKey::PAUSE,
        KeyCode::PrintScreen => PcKey::PRINT_SCREEN,
        _ => return None,
    };
    let mut mods = Vec::new();
    if ev.modifiers.contains(KeyModifiers::CONTROL) {
        mods.push(PcKey::LCTRL);
    }
    if ev.modifiers.contains(KeyModifiers::ALT) {
        mods.push(PcKey::LALT);
    }
    if ev.modifiers.contains(KeyModifiers::SHIFT) {
        mods.push(PcKey::LSHIFT);
    }
    Some(key.chord(&mods))
}

/// Puts the terminal back however the frontend ends (also on a panic).
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        let mut out = std::io::stdout();
        let _ = execute!(
            out,
            crossterm::style::ResetColor,
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

/// Draws the rows of `view` that differ from `last`.
fn draw(out: &mut impl Write, view: &TextView, last: &Option<TextView>) -> std::io::Result<()> {
    let same_shape = last
        .as_ref()
        .is_some_and(|l| l.cols == view.cols && l.rows == view.rows);
    if !same_shape {
        queue!(out, terminal::Clear(terminal::ClearType::All))?;
    }
    queue!(out, cursor::Hide)?;
    let cols = view.cols as usize;
    for row in 0..view.rows as usize {
        let cells = &view.cells[row * cols..][..cols];
        if same_shape {
            let old = last.as_ref().map(|l| &l.cells[row * cols..][..cols]);
            if old == Some(cells) {
                continue;
            }
        }
        queue!(out, cursor::MoveTo(0, row as u16))?;
        let mut attr = None;
        let mut run = String::new();
        for &cell in cells {
            let a = (cell >> 8) as u8;
            if attr != Some(a) {
                if !run.is_empty() {
                    queue!(out, Print(std::mem::take(&mut run)))?;
                }
                // Bit 7 is blink in the default VGA setup: the background has 8 colours.
                queue!(
                    out,
                    SetForegroundColor(color(a & 15)),
                    SetBackgroundColor(color((a >> 4) & 7))
                )?;
                attr = Some(a);
            }
            run.push(cp437::to_char(cell as u8));
        }
        queue!(out, Print(run))?;
    }
    if let Some((col, row)) = view.cursor {
        queue!(out, cursor::MoveTo(col, row), cursor::Show)?;
    }
    out.flush()
}

/// Runs the terminal frontend until the run ends or the user quits.
pub fn run(shared: Arc<Shared>, inputs: Sender<Input>) -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    let _restore = Restore;
    let mut out = std::io::stdout();
    execute!(out, terminal::EnterAlternateScreen)?;
    let mut last: Option<TextView> = None;
    let mut seen = 0u64;
    let mut ctrl_a = false;
    let mut graphics_note = false;
    while !shared.done() {
        while event::poll(Duration::from_millis(15))? {
            match event::read()? {
                Event::Key(ev) if ev.kind != KeyEventKind::Release => {
                    let is_ctrl_a = ev.modifiers.contains(KeyModifiers::CONTROL)
                        && ev.code == KeyCode::Char('a');
                    if ctrl_a {
                        ctrl_a = false;
                        match ev.code {
                            KeyCode::Char('x') => {
                                let _ = inputs.send(Input::Quit);
                                return Ok(());
                            }
                            KeyCode::Char('s') => {
                                let path = super::window::next_screenshot_name();
                                let _ = inputs.send(Input::Screenshot(path));
                            }
                            KeyCode::Char('a') => {
                                let _ =
                                    inputs.send(Input::Keys(PcKey(0x1E).chord(&[PcKey::LCTRL])));
                            }
                            _ => {}
                        }
                    } else if is_ctrl_a {
                        ctrl_a = true;
                    } else if let Some(codes) = key_scancodes(&ev) {
                        let _ = inputs.send(Input::Keys(codes));
                    }
                }
                Event::Resize(..) => last = None,
                _ => {}
            }
        }
        let view = {
            let slot = shared.text.lock().unwrap_or_else(|e| e.into_inner());
            if slot.0 == seen {
                continue;
            }
            seen = slot.0;
            slot.1.clone()
        };
        match view {
            Some(view) => {
                draw(&mut out, &view, &last)?;
                last = Some(view);
                graphics_note = false;
            }
            None if !graphics_note => {
                queue!(
                    out,
                    terminal::Clear(terminal::ClearType::All),
                    cursor::MoveTo(0, 0),
                    Print("(the guest is in a graphics mode: use --display window)")
                )?;
                out.flush()?;
                graphics_note = true;
                last = None;
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_keys_to_scancodes() {
        let k = |code, mods| key_scancodes(&KeyEvent::new(code, mods)).unwrap();
        assert_eq!(k(KeyCode::Char('v'), KeyModifiers::NONE), [0x2F, 0xAF]);
        assert_eq!(
            k(KeyCode::Char('C'), KeyModifiers::SHIFT),
            [0x2A, 0x2E, 0xAE, 0xAA]
        );
        assert_eq!(
            k(KeyCode::Char('c'), KeyModifiers::CONTROL),
            [0x1D, 0x2E, 0xAE, 0x9D]
        );
        assert_eq!(k(KeyCode::Enter, KeyModifiers::NONE), [0x1C, 0x9C]);
        assert_eq!(k(KeyCode::Up, KeyModifiers::NONE), [0xE0, 0x48, 0xE0, 0xC8]);
        assert_eq!(k(KeyCode::F(5), KeyModifiers::NONE), [0x3F, 0xBF]);
        assert_eq!(
            k(KeyCode::Delete, KeyModifiers::CONTROL | KeyModifiers::ALT),
            [0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D]
        );
    }
}
