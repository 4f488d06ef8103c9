//! PC keys and their scancodes (set 1, as the 8042 hands them to the guest after
//! translation), shared by every frontend: the window maps host keys here, the terminal and
//! the `type` script command map characters here.

/// A PC key: its set-1 make code, with `EXT` for keys sent after an 0xE0 prefix. Pause and
/// Print Screen have sequences of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PcKey(pub u16);

const EXT: u16 = 0x100;

impl PcKey {
    pub const ESC: PcKey = PcKey(0x01);
    pub const BACKSPACE: PcKey = PcKey(0x0E);
    pub const TAB: PcKey = PcKey(0x0F);
    pub const ENTER: PcKey = PcKey(0x1C);
    pub const LCTRL: PcKey = PcKey(0x1D);
    pub const LSHIFT: PcKey = PcKey(0x2A);
    pub const RSHIFT: PcKey = PcKey(0x36);
    pub const LALT: PcKey = PcKey(0x38);
    pub const SPACE: PcKey = PcKey(0x39);
    pub const CAPS_LOCK: PcKey = PcKey(0x3A);
    pub const NUM_LOCK: PcKey = PcKey(0x45);
    pub const SCROLL_LOCK: PcKey = PcKey(0x46);
    pub const RCTRL: PcKey = PcKey(EXT | 0x1D);
    pub const RALT: PcKey = PcKey(EXT | 0x38);
    pub const HOME: PcKey = PcKey(EXT | 0x47);
    pub const UP: PcKey = PcKey(EXT | 0x48);
    pub const PAGE_UP: PcKey = PcKey(EXT | 0x49);
    pub const LEFT: PcKey = PcKey(EXT | 0x4B);
    pub const RIGHT: PcKey = PcKey(EXT | 0x4D);
    pub const END: PcKey = PcKey(EXT | 0x4F);
    pub const DOWN: PcKey = PcKey(EXT | 0x50);
    pub const PAGE_DOWN: PcKey = PcKey(EXT | 0x51);
    pub const INSERT: PcKey = PcKey(EXT | 0x52);
    pub const DELETE: PcKey = PcKey(EXT | 0x53);
    pub const LWIN: PcKey = PcKey(EXT | 0x5B);
    pub const RWIN: PcKey = PcKey(EXT | 0x5C);
    pub const MENU: PcKey = PcKey(EXT | 0x5D);
    pub const KP_ENTER: PcKey = PcKey(EXT | 0x1C);
    pub const KP_SLASH: PcKey = PcKey(EXT | 0x35);
    pub const KP_STAR: PcKey = PcKey(0x37);
    pub const KP_MINUS: PcKey = PcKey(0x4A);
    pub const KP_PLUS: PcKey = PcKey(0x4E);
    pub const KP_DOT: PcKey = PcKey(0x53);
    /// Pause: E1 1D 45 E1 9D C5 on press, nothing on release.
    pub const PAUSE: PcKey = PcKey(0x1000);
    /// Print Screen: E0 2A E0 37 on press, E0 B7 E0 AA on release.
    pub const PRINT_SCREEN: PcKey = PcKey(0x1001);

    /// F1..F12 (n = 1..=12).
    pub fn f(n: u8) -> PcKey {
        match n {
            1..=10 => PcKey(0x3A + n as u16),
            11 => PcKey(0x57),
            _ => PcKey(0x58),
        }
    }

    /// Keypad digit 0..=9 (the keys Num Lock turns into cursor keys).
    pub fn keypad(d: u8) -> PcKey {
        const CODES: [u16; 10] = [0x52, 0x4F, 0x50, 0x51, 0x4B, 0x4C, 0x4D, 0x47, 0x48, 0x49];
        PcKey(CODES[d.min(9) as usize])
    }

    /// The bytes the keyboard sends when the key goes down (`down`) or up.
    pub fn scancodes(self, down: bool) -> Vec<u8> {
        match self {
            PcKey::PAUSE if down => vec![0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5],
            PcKey::PAUSE => Vec::new(),
            PcKey::PRINT_SCREEN if down => vec![0xE0, 0x2A, 0xE0, 0x37],
            PcKey::PRINT_SCREEN => vec![0xE0, 0xB7, 0xE0, 0xAA],
            PcKey(code) => {
                let byte = (code & 0x7F) as u8 | if down { 0 } else { 0x80 };
                if code & EXT != 0 {
                    vec![0xE0, byte]
                } else {
                    vec![byte]
                }
            }
        }
    }

    /// A press and release of this key.
    pub fn stroke(self) -> Vec<u8> {
        let mut v = self.scancodes(true);
        v.extend(self.scancodes(false));
        v
    }

    /// A press of this key while `mods` are held: mods down, key, mods up in reverse.
    pub fn chord(self, mods: &[PcKey]) -> Vec<u8> {
        let mut v: Vec<u8> = mods.iter().flat_map(|m| m.scancodes(true)).collect();
        v.extend(self.stroke());
        for m in mods.iter().rev() {
            v.extend(m.scancodes(false));
        }
        v
    }
}

/// The unshifted and shifted characters of the main block (US layout), by make code.
const US_LAYOUT: [(u8, char, char); 47] = [
    (0x02, '1', '!'),
    (0x03, '2', '@'),
    (0x04, '3', '#'),
    (0x05, '4', '$'),
    (0x06, '5', '%'),
    (0x07, '6', '^'),
    (0x08, '7', '&'),
    (0x09, '8', '*'),
    (0x0A, '9', '('),
    (0x0B, '0', ')'),
    (0x0C, '-', '_'),
    (0x0D, '=', '+'),
    (0x10, 'q', 'Q'),
    (0x11, 'w', 'W'),
    (0x12, 'e', 'E'),
    (0x13, 'r', 'R'),
    (0x14, 't', 'T'),
    (0x15, 'y', 'Y'),
    (0x16, 'u', 'U'),
    (0x17, 'i', 'I'),
    (0x18, 'o', 'O'),
    (0x19, 'p', 'P'),
    (0x1A, '[', '{'),
    (0x1B, ']', '}'),
    (0x1E, 'a', 'A'),
    (0x1F, 's', 'S'),
    (0x20, 'd', 'D'),
    (0x21, 'f', 'F'),
    (0x22, 'g', 'G'),
    (0x23, 'h', 'H'),
    (0x24, 'j', 'J'),
    (0x25, 'k', 'K'),
    (0x26, 'l', 'L'),
    (0x27, ';', ':'),
    (0x28, '\'', '"'),
    (0x29, '`', '~'),
    (0x2B, '\\', '|'),
    (0x2C, 'z', 'Z'),
    (0x2D, 'x', 'X'),
    (0x2E, 'c', 'C'),
    (0x2F, 'v', 'V'),
    (0x30, 'b', 'B'),
    (0x31, 'n', 'N'),
    (0x32, 'm', 'M'),
    (0x33, ',', '<'),
    (0x34, '.', '>'),
    (0x35, '/', '?'),
];

/// The key that types `c` on a US keyboard, and whether Shift is needed.
pub fn key_for_char(c: char) -> Option<(PcKey, bool)> {
    match c {
        ' ' => return Some((PcKey::SPACE, false)),
        '\n' | '\r' => return Some((PcKey::ENTER, false)),
        '\t' => return Some((PcKey::TAB, false)),
        '\x08' | '\x7F' => return Some((PcKey::BACKSPACE, false)),
        '\x1B' => return Some((PcKey::ESC, false)),
        _ => {}
    }
    US_LAYOUT.iter().find_map(|&(code, plain, shifted)| {
        if c == plain {
            Some((PcKey(code as u16), false))
        } else if c == shifted {
            Some((PcKey(code as u16), true))
        } else {
            None
        }
    })
}

/// The scancodes that type `c` (Ctrl+letter for control characters 0x01..=0x1A other than
/// the ones with keys of their own); None for characters a US keyboard cannot type.
pub fn type_char(c: char) -> Option<Vec<u8>> {
    if let Some((key, shift)) = key_for_char(c) {
        return Some(if shift {
            key.chord(&[PcKey::LSHIFT])
        } else {
            key.stroke()
        });
    }
    let code = c as u32;
    if (1..=26).contains(&code) {
        let letter = char::from(b'a' + code as u8 - 1);
        let (key, _) = key_for_char(letter)?;
        return Some(key.chord(&[PcKey::LCTRL]));
    }
    None
}

/// Keys by name, for the `key` script command (case-insensitive), e.g. `ctrl+alt+delete`.
pub fn key_by_name(name: &str) -> Option<PcKey> {
    let n = name.to_ascii_lowercase();
    let named = match n.as_str() {
        "esc" | "escape" => PcKey::ESC,
        "backspace" => PcKey::BACKSPACE,
        "tab" => PcKey::TAB,
        "enter" | "return" => PcKey::ENTER,
        "ctrl" | "lctrl" => PcKey::LCTRL,
        "rctrl" => PcKey::RCTRL,
        "shift" | "lshift" => PcKey::LSHIFT,
        "rshift" => PcKey::RSHIFT,
        "alt" | "lalt" => PcKey::LALT,
        "ralt" | "altgr" => PcKey::RALT,
        "space" => PcKey::SPACE,
        "capslock" => PcKey::CAPS_LOCK,
        "numlock" => PcKey::NUM_LOCK,
        "scrolllock" => PcKey::SCROLL_LOCK,
        "home" => PcKey::HOME,
        "end" => PcKey::END,
        "up" => PcKey::UP,
        "down" => PcKey::DOWN,
        "left" => PcKey::LEFT,
        "right" => PcKey::RIGHT,
        "pageup" | "pgup" => PcKey::PAGE_UP,
        "pagedown" | "pgdn" => PcKey::PAGE_DOWN,
        "insert" | "ins" => PcKey::INSERT,
        "delete" | "del" => PcKey::DELETE,
        "pause" => PcKey::PAUSE,
        "printscreen" | "prtsc" => PcKey::PRINT_SCREEN,
        "kpenter" => PcKey::KP_ENTER,
        "win" | "lwin" => PcKey::LWIN,
        "rwin" => PcKey::RWIN,
        "menu" => PcKey::MENU,
        _ => {
            if let Some(f) = n.strip_prefix('f').and_then(|d| d.parse::<u8>().ok()) {
                return (1..=12).contains(&f).then(|| PcKey::f(f));
            }
            if let Some(d) = n.strip_prefix("kp").and_then(|d| d.parse::<u8>().ok()) {
                return (d <= 9).then(|| PcKey::keypad(d));
            }
            let mut chars = n.chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) => key_for_char(c).map(|(k, _)| k),
                _ => None,
            };
        }
    };
    Some(named)
}

/// Scancodes for a chord written as names joined by '+', e.g. `ctrl+alt+delete`.
pub fn chord_by_name(spec: &str) -> Option<Vec<u8>> {
    let keys: Option<Vec<PcKey>> = spec.split('+').map(key_by_name).collect();
    let keys = keys?;
    let (last, mods) = keys.split_last()?;
    Some(last.chord(mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_extended_keys_make_and_break() {
        assert_eq!(PcKey::f(1).scancodes(true), [0x3B]);
        assert_eq!(PcKey::f(12).scancodes(false), [0xD8]);
        assert_eq!(PcKey::UP.scancodes(true), [0xE0, 0x48]);
        assert_eq!(PcKey::UP.scancodes(false), [0xE0, 0xC8]);
        assert_eq!(PcKey::RCTRL.scancodes(false), [0xE0, 0x9D]);
        assert_eq!(PcKey::KP_ENTER.scancodes(true), [0xE0, 0x1C]);
        assert_eq!(PcKey::keypad(7).scancodes(true), [0x47]);
    }

    #[test]
    fn pause_and_print_screen_sequences() {
        assert_eq!(
            PcKey::PAUSE.scancodes(true),
            [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5]
        );
        assert!(PcKey::PAUSE.scancodes(false).is_empty());
        assert_eq!(
            PcKey::PRINT_SCREEN.stroke(),
            [0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA]
        );
    }

    #[test]
    fn characters_type_with_shift_and_ctrl() {
        assert_eq!(type_char('v').unwrap(), [0x2F, 0xAF]);
        assert_eq!(type_char('V').unwrap(), [0x2A, 0x2F, 0xAF, 0xAA]);
        assert_eq!(type_char(':').unwrap(), [0x2A, 0x27, 0xA7, 0xAA]);
        assert_eq!(type_char('\n').unwrap(), [0x1C, 0x9C]);
        // Ctrl-C: Ctrl down, C, Ctrl up.
        assert_eq!(type_char('\x03').unwrap(), [0x1D, 0x2E, 0xAE, 0x9D]);
        assert_eq!(type_char('é'), None);
    }

    #[test]
    fn chords_by_name() {
        assert_eq!(
            chord_by_name("ctrl+alt+delete").unwrap(),
            [0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D]
        );
        assert_eq!(chord_by_name("F10").unwrap(), [0x44, 0xC4]);
        assert_eq!(chord_by_name("a").unwrap(), [0x1E, 0x9E]);
        assert!(chord_by_name("ctrl+nosuchkey").is_none());
    }
}
