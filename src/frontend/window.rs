//! The window frontend (minifb, on the main thread): shows the frames the emulation thread
//! publishes, scaled to a 4:3 picture with integer factors, turns host key events into
//! scancodes, and handles the host key combinations (Ctrl+Alt+ G release, Q quit,
//! S screenshot, P pause).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minifb::{Key, MouseMode, Window, WindowOptions};

use super::keymap::PcKey;
use super::runner::{Input, Shared, State};
use super::Frame;

/// The PC key for a host key (None for keys a PC keyboard does not have).
pub fn pc_key(key: Key) -> Option<PcKey> {
    use Key::*;
    let k = match key {
        Key0 => PcKey(0x0B),
        Key1 | Key2 | Key3 | Key4 | Key5 | Key6 | Key7 | Key8 | Key9 => {
            PcKey(0x02 + (key as u16 - Key1 as u16))
        }
        A | B | C | D | E | F | G | H | I | J | K | L | M | N | O | P | Q | R | S | T | U | V
        | W | X | Y | Z => {
            let c = char::from(b'a' + (key as u8 - A as u8));
            return super::keymap::key_for_char(c).map(|(k, _)| k);
        }
        F1 | F2 | F3 | F4 | F5 | F6 | F7 | F8 | F9 | F10 | F11 | F12 => {
            PcKey::f(1 + (key as u8 - F1 as u8))
        }
        Down => PcKey::DOWN,
        Left => PcKey::LEFT,
        Right => PcKey::RIGHT,
        Up => PcKey::UP,
        Apostrophe => PcKey(0x28),
        Backquote => PcKey(0x29),
        Backslash => PcKey(0x2B),
        Comma => PcKey(0x33),
        Equal => PcKey(0x0D),
        LeftBracket => PcKey(0x1A),
        Minus => PcKey(0x0C),
        Period => PcKey(0x34),
        RightBracket => PcKey(0x1B),
        Semicolon => PcKey(0x27),
        Slash => PcKey(0x35),
        Backspace => PcKey::BACKSPACE,
        Delete => PcKey::DELETE,
        End => PcKey::END,
        Enter => PcKey::ENTER,
        Escape => PcKey::ESC,
        Home => PcKey::HOME,
        Insert => PcKey::INSERT,
        Menu => PcKey::MENU,
        PageDown => PcKey::PAGE_DOWN,
        PageUp => PcKey::PAGE_UP,
        Pause => PcKey::PAUSE,
        Space => PcKey::SPACE,
        Tab => PcKey::TAB,
        NumLock => PcKey::NUM_LOCK,
        CapsLock => PcKey::CAPS_LOCK,
        ScrollLock => PcKey::SCROLL_LOCK,
        LeftShift => PcKey::LSHIFT,
        RightShift => PcKey::RSHIFT,
        LeftCtrl => PcKey::LCTRL,
        RightCtrl => PcKey::RCTRL,
        NumPad0 | NumPad1 | NumPad2 | NumPad3 | NumPad4 | NumPad5 | NumPad6 | NumPad7 | NumPad8
        | NumPad9 => PcKey::keypad(key as u8 - NumPad0 as u8),
        NumPadDot => PcKey::KP_DOT,
        NumPadSlash => PcKey::KP_SLASH,
        NumPadAsterisk => PcKey::KP_STAR,
        NumPadMinus => PcKey::KP_MINUS,
        NumPadPlus => PcKey::KP_PLUS,
        NumPadEnter => PcKey::KP_ENTER,
        LeftAlt => PcKey::LALT,
        RightAlt => PcKey::RALT,
        LeftSuper => PcKey::LWIN,
        RightSuper => PcKey::RWIN,
        F13 | F14 | F15 | Unknown | Count => return None,
    };
    Some(k)
}

/// Size of the window's picture for a frame: low-resolution modes doubled, a 4:3 shape
/// (what a PC monitor shows, whatever the mode's line count), times the user's scale.
pub fn output_size(width: u32, _height: u32, scale: u32) -> (usize, usize) {
    let base_w = match width {
        0 => 640, // nothing drawn yet
        1..=400 => width * 2,
        _ => width,
    };
    let base_h = base_w * 3 / 4;
    ((base_w * scale) as usize, (base_h * scale) as usize)
}

/// Nearest-neighbour scaling of `frame` into `out` (`out_w` x `out_h`).
pub fn scale_into(frame: &Frame, out: &mut Vec<u32>, out_w: usize, out_h: usize) {
    out.resize(out_w * out_h, 0);
    let (fw, fh) = (frame.width as usize, frame.height as usize);
    if fw == 0 || fh == 0 {
        out.fill(0);
        return;
    }
    let xmap: Vec<usize> = (0..out_w).map(|x| x * fw / out_w).collect();
    for y in 0..out_h {
        let src = &frame.pixels[(y * fh / out_h) * fw..][..fw];
        for (o, &sx) in out[y * out_w..][..out_w].iter_mut().zip(&xmap) {
            *o = src[sx];
        }
    }
}

/// Key events in the order they happened (minifb's polled key state would lose a press and
/// release that fall between two updates).
struct KeyEvents(Sender<(Key, bool)>);

impl minifb::InputCallback for KeyEvents {
    fn add_char(&mut self, _uni_char: u32) {}
    fn set_key_state(&mut self, key: Key, state: bool) {
        let _ = self.0.send((key, state));
    }
}

/// The next free `emu-screenshot-N.png` in the current directory.
pub fn next_screenshot_name() -> PathBuf {
    (1..)
        .map(|n| PathBuf::from(format!("emu-screenshot-{n}.png")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| PathBuf::from("emu-screenshot.png"))
}

pub struct WindowFrontend {
    window: Window,
    keys: Receiver<(Key, bool)>,
    size: (usize, usize),
    scale: u32,
}

fn open(size: (usize, usize)) -> Result<(Window, Receiver<(Key, bool)>), String> {
    let mut window =
        Window::new("emu", size.0, size.1, WindowOptions::default()).map_err(|e| e.to_string())?;
    let (tx, rx) = channel();
    window.set_input_callback(Box::new(KeyEvents(tx)));
    Ok((window, rx))
}

impl WindowFrontend {
    /// Opens the window (before the guest starts, so a missing display is found at once).
    pub fn open(scale: u32) -> Result<WindowFrontend, String> {
        let size = output_size(640, 480, scale);
        let (window, keys) = open(size)?;
        Ok(WindowFrontend {
            window,
            keys,
            size,
            scale,
        })
    }

    /// Shows frames until the run ends (or, after a final halt, until the user closes the
    /// window), sending the user's input to the emulation thread.
    pub fn run(mut self, shared: Arc<Shared>, inputs: Sender<Input>) {
        let mut frame = Frame::default();
        let mut seen = 0u64;
        let mut buffer: Vec<u32> = Vec::new();
        let mut grabbed = true;
        let mut held: HashSet<Key> = HashSet::new();
        let mut swallowed: HashSet<Key> = HashSet::new();
        let mut last_title = Instant::now() - Duration::from_secs(1);
        let mut last_mouse: Option<(f32, f32)> = None;
        let mut last_buttons = 0u8;
        let mut was_active = false;
        loop {
            if !self.window.is_open() {
                let _ = inputs.send(Input::Quit);
                return;
            }
            let status = shared.status();
            if shared.done() && status.state != State::Halted {
                return;
            }
            // Focus lost: the guest must not keep keys held that it will never see released.
            // (Only on the change: without a window manager X may never report focus.)
            let active = self.window.is_active();
            let lost_focus = was_active && !active;
            was_active = active;
            if lost_focus {
                for k in held.drain().filter_map(pc_key) {
                    let _ = inputs.send(Input::Keys(k.scancodes(false)));
                }
                swallowed.clear();
            }
            while let Ok((key, down)) = self.keys.try_recv() {
                let ctrl_alt = [Key::LeftCtrl, Key::RightCtrl]
                    .iter()
                    .any(|k| held.contains(k))
                    && [Key::LeftAlt, Key::RightAlt]
                        .iter()
                        .any(|k| held.contains(k));
                if down {
                    if !held.insert(key) {
                        // The host's auto-repeat of a key already down: the PS/2 keyboard
                        // repeats held keys itself, at the rate the guest set (F3h).
                        continue;
                    }
                } else {
                    held.remove(&key);
                }
                if down && ctrl_alt && matches!(key, Key::G | Key::Q | Key::S | Key::P) {
                    swallowed.insert(key);
                    match key {
                        Key::G => {
                            grabbed = !grabbed;
                            if !grabbed {
                                // The guest must not see keys stuck down.
                                for k in held.iter().filter_map(|&k| pc_key(k)) {
                                    let _ = inputs.send(Input::Keys(k.scancodes(false)));
                                }
                            }
                        }
                        Key::Q => {
                            let _ = inputs.send(Input::Quit);
                        }
                        Key::S => self.save_screenshot(&frame),
                        _ => {
                            let _ = inputs.send(Input::TogglePause);
                        }
                    }
                    continue;
                }
                if !down && swallowed.remove(&key) {
                    continue;
                }
                if grabbed {
                    if let Some(k) = pc_key(key) {
                        let _ = inputs.send(Input::Keys(k.scancodes(down)));
                    }
                }
            }
            if grabbed {
                if let Some(pos) = self.window.get_mouse_pos(MouseMode::Pass) {
                    if let Some(last) = last_mouse {
                        let (dx, dy) = ((pos.0 - last.0) as i32, (pos.1 - last.1) as i32);
                        // PS/2 order: bit 0 left, bit 1 right, bit 2 middle.
                        use minifb::MouseButton::{Left, Middle, Right};
                        let buttons: u8 = [Left, Right, Middle]
                            .iter()
                            .enumerate()
                            .map(|(i, &b)| (self.window.get_mouse_down(b) as u8) << i)
                            .sum();
                        if dx != 0 || dy != 0 || buttons != last_buttons {
                            let _ = inputs.send(Input::Mouse { dx, dy, buttons });
                            last_buttons = buttons;
                        }
                    }
                    last_mouse = Some(pos);
                }
            } else {
                // No jump when grabbed again.
                last_mouse = None;
            }
            let fresh = {
                let slot = shared.frame.lock().unwrap_or_else(|e| e.into_inner());
                let fresh = slot.0 != seen;
                if fresh {
                    seen = slot.0;
                    frame.clone_from(&slot.1);
                }
                fresh
            };
            let size = output_size(frame.width, frame.height, self.scale);
            let resized = size != self.size;
            if resized {
                // A mode change to another shape: a window of the new size.
                match open(size) {
                    Ok((w, k)) => {
                        self.window = w;
                        self.keys = k;
                        self.size = size;
                    }
                    Err(e) => {
                        eprintln!("emu: cannot resize the window: {e}");
                        let _ = inputs.send(Input::Quit);
                        return;
                    }
                }
            }
            if last_title.elapsed() >= Duration::from_millis(500) {
                let grab = if grabbed {
                    "Ctrl+Alt+G releases"
                } else {
                    "released: Ctrl+Alt+G grabs"
                };
                self.window.set_title(&format!(
                    "emu - {:.1} MIPS - {} - {grab}",
                    status.mips,
                    status.state.name()
                ));
                last_title = Instant::now();
            }
            // Only a new frame is scaled and sent to the X server; otherwise just events.
            if fresh || resized || buffer.is_empty() {
                scale_into(&frame, &mut buffer, size.0, size.1);
                if self
                    .window
                    .update_with_buffer(&buffer, size.0, size.1)
                    .is_err()
                {
                    let _ = inputs.send(Input::Quit);
                    return;
                }
            } else {
                self.window.update();
            }
            std::thread::sleep(Duration::from_millis(4));
        }
    }

    /// Saves the frame the window shows (native resolution) to the next free file name.
    fn save_screenshot(&self, frame: &Frame) {
        let path = next_screenshot_name();
        match super::screenshot::save_png(frame, &path) {
            Ok(()) => eprintln!("emu: screenshot saved to {}", path.display()),
            Err(e) => eprintln!("emu: screenshot failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_four_by_three_with_low_res_doubled() {
        assert_eq!(output_size(640, 400, 1), (640, 480));
        assert_eq!(output_size(720, 400, 2), (1440, 1080));
        assert_eq!(output_size(320, 200, 1), (640, 480));
        assert_eq!(output_size(640, 480, 3), (1920, 1440));
        assert_eq!(output_size(0, 0, 1), (640, 480));
    }

    #[test]
    fn scaling_repeats_pixels() {
        let frame = Frame {
            width: 2,
            height: 2,
            pixels: vec![1, 2, 3, 4],
        };
        let mut out = Vec::new();
        scale_into(&frame, &mut out, 4, 4);
        assert_eq!(out, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    }

    #[test]
    fn host_keys_map_to_pc_keys() {
        assert_eq!(pc_key(Key::A), Some(PcKey(0x1E)));
        assert_eq!(pc_key(Key::Key1), Some(PcKey(0x02)));
        assert_eq!(pc_key(Key::Key0), Some(PcKey(0x0B)));
        assert_eq!(pc_key(Key::F10), Some(PcKey(0x44)));
        assert_eq!(pc_key(Key::F11), Some(PcKey(0x57)));
        assert_eq!(pc_key(Key::NumPad9), Some(PcKey(0x49)));
        assert_eq!(
            pc_key(Key::RightCtrl).unwrap().scancodes(true),
            [0xE0, 0x1D]
        );
        assert_eq!(pc_key(Key::F13), None);
    }
}
