//! Code page 437 (the PC's character set in text modes) to Unicode, for frontends that
//! draw the text screen with the host's fonts.

/// Codes 0x00..=0x1F are drawn as the PC's glyphs (smileys, card suits, arrows), not as
/// control characters; 0x00 is blank.
const LOW: [char; 32] = [
    ' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼', '►', '◄', '↕',
    '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
];

/// Codes 0x80..=0xFF: accented letters, box drawing, Greek and maths symbols.
const HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ', 'Æ',
    'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', 'á', 'í', 'ó', 'ú', 'ñ', 'Ñ',
    'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕',
    '╣', '║', '╗', '╝', '╜', '╛', '┐', '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦',
    '╠', '═', '╬', '╧', '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐',
    '▀', 'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', '≡', '±',
    '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// The Unicode character that looks like CP437 code `c` on a PC screen.
pub fn to_char(c: u8) -> char {
    match c {
        0x00..=0x1F => LOW[c as usize],
        0x7F => '\u{2302}', // ⌂
        0x20..=0x7E => c as char,
        _ => HIGH[c as usize - 0x80],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_glyphs() {
        assert_eq!(to_char(b'A'), 'A');
        assert_eq!(to_char(0x01), '\u{263A}');
        assert_eq!(to_char(0x7F), '\u{2302}');
        assert_eq!(to_char(0x80), '\u{C7}');
        assert_eq!(to_char(0xB0), '\u{2591}');
        assert_eq!(to_char(0xC4), '\u{2500}');
        assert_eq!(to_char(0xCD), '\u{2550}');
        assert_eq!(to_char(0xDB), '\u{2588}');
        assert_eq!(to_char(0xE1), '\u{DF}');
        assert_eq!(to_char(0xFE), '\u{25A0}');
        assert_eq!(to_char(0xFF), '\u{A0}');
    }

    #[test]
    fn every_code_maps_to_a_distinct_printable_char() {
        let mut seen = std::collections::HashSet::new();
        for c in 1..=255u8 {
            let u = to_char(c);
            assert!(!u.is_control(), "{c:#x}");
            assert!(seen.insert(u), "{c:#x} maps to {u:?} twice");
        }
    }
}
