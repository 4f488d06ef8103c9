//! The keyboard: the IRQ1 scancode service (shift states, translation of set-1 scancodes to
//! the BIOS's scan/ASCII words, the 16-entry buffer in the BIOS data area) and INT 16h.

use super::{ah, rd16, rd8, set_ax, set_zf, wait_and_retry, wr16, wr8, Bios};
use crate::cpu::Cpu;
use crate::devices::PcBus;

/// Set-1 make codes 0x00-0x39 to ASCII: (normal, shifted).
const ASCII: [(u8, u8); 0x3A] = [
    (0, 0),
    (0x1B, 0x1B),
    (b'1', b'!'),
    (b'2', b'@'),
    (b'3', b'#'),
    (b'4', b'$'),
    (b'5', b'%'),
    (b'6', b'^'),
    (b'7', b'&'),
    (b'8', b'*'),
    (b'9', b'('),
    (b'0', b')'),
    (b'-', b'_'),
    (b'=', b'+'),
    (0x08, 0x08),
    (0x09, 0),
    (b'q', b'Q'),
    (b'w', b'W'),
    (b'e', b'E'),
    (b'r', b'R'),
    (b't', b'T'),
    (b'y', b'Y'),
    (b'u', b'U'),
    (b'i', b'I'),
    (b'o', b'O'),
    (b'p', b'P'),
    (b'[', b'{'),
    (b']', b'}'),
    (0x0D, 0x0D),
    (0, 0),
    (b'a', b'A'),
    (b's', b'S'),
    (b'd', b'D'),
    (b'f', b'F'),
    (b'g', b'G'),
    (b'h', b'H'),
    (b'j', b'J'),
    (b'k', b'K'),
    (b'l', b'L'),
    (b';', b':'),
    (b'\'', b'"'),
    (b'`', b'~'),
    (0, 0),
    (b'\\', b'|'),
    (b'z', b'Z'),
    (b'x', b'X'),
    (b'c', b'C'),
    (b'v', b'V'),
    (b'b', b'B'),
    (b'n', b'N'),
    (b'm', b'M'),
    (b',', b'<'),
    (b'.', b'>'),
    (b'/', b'?'),
    (0, 0),
    (b'*', b'*'),
    (0, 0),
    (b' ', b' '),
];

const FLAG_RSHIFT: u8 = 0x01;
const FLAG_LSHIFT: u8 = 0x02;
const FLAG_CTRL: u8 = 0x04;
const FLAG_ALT: u8 = 0x08;
const FLAG_CAPS: u8 = 0x40;

/// Appends a key word to the BIOS buffer (dropped when full, as the BIOS beeps instead).
fn push_key(cpu: &mut Cpu, word: u16) {
    let start = rd16(cpu, 0x40, 0x80);
    let end = rd16(cpu, 0x40, 0x82);
    let head = rd16(cpu, 0x40, 0x1A);
    let tail = rd16(cpu, 0x40, 0x1C);
    let mut next = tail.wrapping_add(2);
    if next >= end {
        next = start;
    }
    if next == head {
        return;
    }
    wr16(cpu, 0x40, tail, word);
    wr16(cpu, 0x40, 0x1C, next);
}

fn peek_key(cpu: &Cpu) -> Option<u16> {
    let head = rd16(cpu, 0x40, 0x1A);
    let tail = rd16(cpu, 0x40, 0x1C);
    (head != tail).then(|| rd16(cpu, 0x40, head))
}

fn pop_key(cpu: &mut Cpu) -> Option<u16> {
    let key = peek_key(cpu)?;
    let head = rd16(cpu, 0x40, 0x1A);
    let mut next = head.wrapping_add(2);
    if next >= rd16(cpu, 0x40, 0x82) {
        next = rd16(cpu, 0x40, 0x80);
    }
    wr16(cpu, 0x40, 0x1A, next);
    Some(key)
}

/// IRQ1: the scancode the handler read from port 0x60 is in AL.
pub fn scancode(cpu: &mut Cpu, _bus: &mut PcBus) {
    let code = cpu.gpr[0] as u8;
    let mut flags = rd8(cpu, 0x40, 0x17);
    let release = code & 0x80 != 0;
    let make = code & 0x7F;
    let bit = match make {
        0x2A => FLAG_LSHIFT,
        0x36 => FLAG_RSHIFT,
        0x1D => FLAG_CTRL,
        0x38 => FLAG_ALT,
        _ => 0,
    };
    if bit != 0 {
        if release {
            flags &= !bit;
        } else {
            flags |= bit;
        }
        wr8(cpu, 0x40, 0x17, flags);
        return;
    }
    if release || code == 0xE0 {
        return;
    }
    if make == 0x3A {
        wr8(cpu, 0x40, 0x17, flags ^ FLAG_CAPS);
        return;
    }
    let shift = flags & (FLAG_LSHIFT | FLAG_RSHIFT) != 0;
    let ascii = match ASCII.get(make as usize) {
        Some(&(lo, hi)) => {
            let letter = lo.is_ascii_lowercase();
            let upper = shift ^ (letter && flags & FLAG_CAPS != 0);
            let c = if upper { hi } else { lo };
            if flags & FLAG_CTRL != 0 && letter {
                lo - b'a' + 1
            } else if flags & FLAG_ALT != 0 {
                0
            } else {
                c
            }
        }
        // Function keys, cursor keys and the keypad: scan code with ASCII 0.
        None => 0,
    };
    push_key(cpu, (make as u16) << 8 | ascii as u16);
}

pub fn int16(bios: &mut Bios, cpu: &mut Cpu, _bus: &mut PcBus) {
    match ah(cpu) {
        0x00 | 0x10 => match pop_key(cpu) {
            Some(k) => set_ax(cpu, k),
            None => wait_and_retry(cpu),
        },
        0x01 | 0x11 => match peek_key(cpu) {
            Some(k) => {
                set_ax(cpu, k);
                set_zf(cpu, false);
            }
            None => set_zf(cpu, true),
        },
        0x02 => {
            let f = rd8(cpu, 0x40, 0x17);
            super::set_al(cpu, f);
        }
        0x12 => {
            let f = rd8(cpu, 0x40, 0x17) as u16 | (rd8(cpu, 0x40, 0x18) as u16) << 8;
            set_ax(cpu, f);
        }
        0x03 => {}
        0x05 => {
            let cx = super::cx(cpu);
            push_key(cpu, cx);
            super::set_al(cpu, 0);
        }
        _ => bios.unimplemented(cpu, 0x16),
    }
}
