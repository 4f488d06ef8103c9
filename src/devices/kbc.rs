//! The i8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard behind it, and the
//! system control ports next to it: port 0x61 (speaker, PIT gate 2, refresh toggle) and
//! port 0x92 (fast A20 and reset).
//!
//! Implemented: the controller command byte, self-test, interface tests, the output port
//! (A20, reset), keyboard reset/identify/enable/disable/set-LEDs/scancode-set commands with
//! their ACKs, translated scancode set 1 bytes queued by the host, IRQ1 on output; the
//! auxiliary port with a PS/2 mouse (mouse.rs): commands A7h/A8h/A9h/D3h/D4h, command byte
//! bits 1 (IRQ12) and 5 (aux disabled), status bit 5 for mouse bytes; typematic repeat in
//! virtual time: the last key the host pressed and has not released sends its make code
//! again after the delay and then at the rate set by command F3h. Not yet: scancode sets
//! 2/3 without translation.

use super::mouse::Mouse;

use std::collections::VecDeque;

/// Bytes the controller holds for the CPU: the real one has a one-byte buffer and the
/// keyboard a 16-byte FIFO; more are dropped, so a guest cannot make the queue grow.
const OUTPUT_CAPACITY: usize = 17;

/// Typematic rate/delay after power-on, reset (FFh) and set default (F6h): 10.9
/// characters per second after 500 ms.
const TYPEMATIC_DEFAULT: u8 = 0x2B;

/// Virtual nanoseconds before the first repeat of a held key (F3h bits 5-6).
fn typematic_delay_ns(v: u8) -> u64 {
    ((v >> 5 & 3) as u64 + 1) * 250_000_000
}

/// Virtual nanoseconds between repeats (F3h bits 0-4): (8 + A) * 2^B * 4.17 ms, A the low
/// three bits and B the next two, from 33.4 ms (30 per second) to 500 ms (2 per second).
fn typematic_period_ns(v: u8) -> u64 {
    ((8 + (v & 7) as u64) << (v >> 3 & 3)) * 4_170_000
}

/// The key the keyboard repeats: a make code, with the E0 prefix for the extended keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct HeldKey {
    e0: bool,
    code: u8,
}

/// What a port write asks the machine to do beyond the controller itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KbcAction {
    None,
    A20(bool),
    Reset,
}

#[derive(Clone, Debug)]
pub struct Kbc {
    command_byte: u8,
    /// Bytes for the CPU, each marked with whether it came from the mouse.
    output: VecDeque<(u8, bool)>,
    pub mouse: Mouse,
    /// A controller command waiting for its data byte (0x60 write command byte, 0xD1 ...).
    pending_command: Option<u8>,
    /// A keyboard command waiting for its parameter (0xED LEDs, 0xF0 set, 0xF3 rate).
    pending_kbd: Option<u8>,
    keyboard_enabled: bool,
    pub a20: bool,
    /// Port 0x61 bits 0-3 as written.
    pub port61: u8,
    /// Port 0x92 as written.
    pub port92: u8,
    /// IRQ1 is asserted (output buffer full with interrupts enabled).
    pub irq1: bool,
    /// IRQ12 is asserted (a mouse byte waits with aux interrupts enabled).
    pub irq12: bool,
    refresh_toggle: bool,
    /// Typematic rate and delay (command F3h's parameter).
    typematic: u8,
    /// Parsing the host's bytes: an E0 prefix came last; bytes of an E1 (Pause) sequence
    /// still to pass.
    host_e0: bool,
    host_e1_left: u8,
    /// The key being repeated and when its next repeat is due (virtual ns).
    held: Option<HeldKey>,
    repeat_at: u64,
    /// Virtual time as of the last `tick`.
    now_ns: u64,
}

impl Default for Kbc {
    fn default() -> Self {
        Kbc {
            command_byte: 0x45, // translation, system flag, keyboard interrupt
            output: VecDeque::new(),
            mouse: Mouse::default(),
            pending_command: None,
            pending_kbd: None,
            keyboard_enabled: true,
            a20: false,
            port61: 0,
            port92: 0,
            irq1: false,
            irq12: false,
            refresh_toggle: false,
            typematic: TYPEMATIC_DEFAULT,
            host_e0: false,
            host_e1_left: 0,
            held: None,
            repeat_at: 0,
            now_ns: 0,
        }
    }
}

impl Kbc {
    /// Scancode bytes from the host keyboard (set 1, as the guest sees them translated).
    /// A make code starts the typematic repeat of its key (after the delay, at the rate);
    /// that key's break code, or another key's make code, ends it.
    pub fn key_bytes(&mut self, bytes: &[u8]) {
        if !self.scanning() {
            return;
        }
        self.reply(bytes);
        for &b in bytes {
            self.track_held(b);
        }
    }

    /// The keyboard scans (and repeats): enabled, and its interface not disabled.
    fn scanning(&self) -> bool {
        self.keyboard_enabled && self.command_byte & 0x10 == 0
    }

    fn track_held(&mut self, b: u8) {
        if self.host_e1_left > 0 {
            self.host_e1_left -= 1;
            return;
        }
        match b {
            0xE0 => self.host_e0 = true,
            0xE1 => {
                // Pause: E1 1D 45 (E1 9D C5): no repeat, and it ends the one running.
                self.host_e1_left = 2;
                self.held = None;
            }
            _ => {
                let key = HeldKey {
                    e0: std::mem::take(&mut self.host_e0),
                    code: b & 0x7F,
                };
                if b & 0x80 == 0 {
                    self.held = Some(key);
                    self.repeat_at = self.now_ns + typematic_delay_ns(self.typematic);
                } else if self.held == Some(key) {
                    self.held = None;
                }
            }
        }
    }

    /// Moves the keyboard to virtual time `now`: a held key's repeat that is due goes to
    /// the output when it is empty (the keyboard holds it back while the CPU has not read
    /// the previous bytes; repeats that could not be sent in time are dropped).
    pub fn tick(&mut self, now: u64) {
        self.now_ns = self.now_ns.max(now);
        let Some(key) = self.held else {
            return;
        };
        if !self.scanning() {
            self.held = None;
            return;
        }
        if self.now_ns < self.repeat_at || !self.output.is_empty() {
            return;
        }
        if key.e0 {
            self.reply(&[0xE0, key.code]);
        } else {
            self.reply(&[key.code]);
        }
        let period = typematic_period_ns(self.typematic);
        self.repeat_at += period;
        if self.repeat_at <= self.now_ns {
            self.repeat_at = self.now_ns + period;
        }
    }

    /// When the next typematic repeat is due (virtual ns), None when no key is held, or
    /// when the repeat is due but held back: then it waits for the CPU to read the output
    /// (which sends it), not for time, and reporting it as due now would have the machine
    /// run one-instruction slices until the guest reads port 60h.
    pub fn next_event_ns(&self) -> Option<u64> {
        self.held.filter(|_| self.scanning())?;
        if self.repeat_at <= self.now_ns && !self.output.is_empty() {
            return None;
        }
        Some(self.repeat_at.max(self.now_ns))
    }

    /// Mouse movement from the host: queued as a packet when the mouse streams and the
    /// aux port is enabled (dropped whole when the buffer has no room).
    pub fn mouse_event(&mut self, dx: i32, dy: i32, buttons: u8) {
        if let Some(p) = self.mouse.event(dx, dy, buttons) {
            if self.command_byte & 0x20 == 0 && self.output.len() + p.len() <= OUTPUT_CAPACITY {
                self.reply_aux(&p);
            }
        }
    }

    /// Bytes waiting for the CPU (a host pacing keystrokes sends the next when this is 0).
    pub fn pending_output(&self) -> usize {
        self.output.len()
    }

    fn update_irq(&mut self) {
        let head = self.output.front().map(|&(_, aux)| aux);
        self.irq1 = head == Some(false) && self.command_byte & 0x01 != 0;
        self.irq12 = head == Some(true) && self.command_byte & 0x02 != 0;
    }

    fn status(&self) -> u8 {
        let mut s = 0x10 | (self.command_byte & 0x04); // keyboard not inhibited, system flag
        match self.output.front() {
            Some((_, true)) => s |= 0x21,
            Some(_) => s |= 0x01,
            None => {}
        }
        if self.pending_command.is_some() {
            s |= 0x08;
        }
        s
    }

    /// Port 0x61 as read: the toggling refresh bit 4, OUT2 of the PIT in bit 5.
    pub fn read61(&mut self, pit_out2: bool) -> u8 {
        self.refresh_toggle = !self.refresh_toggle;
        (self.port61 & 0x0F) | (self.refresh_toggle as u8) << 4 | (pit_out2 as u8) << 5
    }

    pub fn read(&mut self, port: u16) -> u8 {
        match port {
            0x60 => {
                let v = self.output.pop_front().map_or(0, |(b, _)| b);
                self.update_irq();
                v
            }
            0x64 => self.status(),
            0x92 => self.port92 & !1 | (self.a20 as u8) << 1,
            _ => 0xFF,
        }
    }

    pub fn write(&mut self, port: u16, v: u8) -> KbcAction {
        match port {
            0x64 => self.controller_command(v),
            0x60 => self.data(v),
            0x92 => {
                self.port92 = v;
                if v & 1 != 0 {
                    return KbcAction::Reset;
                }
                self.a20 = v & 2 != 0;
                KbcAction::A20(self.a20)
            }
            _ => KbcAction::None,
        }
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.queue(bytes, false);
    }

    fn reply_aux(&mut self, bytes: &[u8]) {
        self.queue(bytes, true);
    }

    fn queue(&mut self, bytes: &[u8], aux: bool) {
        for &b in bytes {
            if self.output.len() < OUTPUT_CAPACITY {
                self.output.push_back((b, aux));
            }
        }
        self.update_irq();
    }

    fn controller_command(&mut self, v: u8) -> KbcAction {
        match v {
            0x20 => {
                let c = self.command_byte;
                self.reply(&[c]);
            }
            0x60 | 0xD1 | 0xD2 | 0xD3 | 0xD4 => self.pending_command = Some(v),
            0xA7 => self.command_byte |= 0x20,
            0xA8 => self.command_byte &= !0x20,
            0xA9 => self.reply(&[0x00]),
            0xAA => self.reply(&[0x55]),
            0xAB => self.reply(&[0x00]),
            0xAD => self.command_byte |= 0x10,
            0xAE => self.command_byte &= !0x10,
            0xC0 => self.reply(&[0xBF]),
            0xD0 => {
                let out = 0x01 | (self.a20 as u8) << 1 | 0xC0;
                self.reply(&[out]);
            }
            0xDD => {
                self.a20 = false;
                return KbcAction::A20(false);
            }
            0xDF => {
                self.a20 = true;
                return KbcAction::A20(true);
            }
            // Pulse output-port lines: bit 0 low is the CPU reset.
            0xF0..=0xFF if v & 1 == 0 => return KbcAction::Reset,
            _ => {}
        }
        KbcAction::None
    }

    fn data(&mut self, v: u8) -> KbcAction {
        if let Some(cmd) = self.pending_command.take() {
            match cmd {
                0x60 => {
                    self.command_byte = v;
                    self.update_irq();
                }
                0xD1 => {
                    self.a20 = v & 2 != 0;
                    if v & 1 == 0 {
                        return KbcAction::Reset;
                    }
                    return KbcAction::A20(self.a20);
                }
                0xD2 => self.reply(&[v]),
                0xD3 => self.reply_aux(&[v]),
                _ => {
                    // D4h: a byte for the mouse (sending enables the aux clock).
                    self.command_byte &= !0x20;
                    let answer = self.mouse.command(v);
                    self.reply_aux(&answer);
                }
            }
            return KbcAction::None;
        }
        if let Some(cmd) = self.pending_kbd.take() {
            match cmd {
                0xF0 if v == 0 => self.reply(&[0xFA, 0x02]),
                0xF3 => {
                    self.typematic = v & 0x7F;
                    self.reply(&[0xFA]);
                }
                _ => self.reply(&[0xFA]),
            }
            return KbcAction::None;
        }
        match v {
            0xED | 0xF0 | 0xF3 => {
                self.pending_kbd = Some(v);
                self.reply(&[0xFA]);
            }
            0xEE => self.reply(&[0xEE]),
            0xF2 => self.reply(&[0xFA, 0xAB, 0x41]),
            0xF4 => {
                self.keyboard_enabled = true;
                self.reply(&[0xFA]);
            }
            0xF5 => {
                // Disable: stop scanning, defaults restored.
                self.keyboard_enabled = false;
                self.typematic = TYPEMATIC_DEFAULT;
                self.held = None;
                self.reply(&[0xFA]);
            }
            0xF6 => {
                self.typematic = TYPEMATIC_DEFAULT;
                self.held = None;
                self.reply(&[0xFA]);
            }
            0xFF => {
                self.keyboard_enabled = true;
                self.typematic = TYPEMATIC_DEFAULT;
                self.held = None;
                self.reply(&[0xFA, 0xAA]);
            }
            _ => self.reply(&[0xFA]),
        }
        KbcAction::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_test_keyboard_reset_and_a20() {
        let mut k = Kbc::default();
        k.write(0x64, 0xAA);
        assert_eq!(k.read(0x64) & 1, 1);
        assert_eq!(k.read(0x60), 0x55);
        k.write(0x60, 0xFF);
        assert_eq!((k.read(0x60), k.read(0x60)), (0xFA, 0xAA));
        assert_eq!(k.write(0x64, 0xD1), KbcAction::None);
        assert_eq!(k.write(0x60, 0xDF), KbcAction::A20(true));
        assert_eq!(k.write(0x92, 0x00), KbcAction::A20(false));
        assert_eq!(k.write(0x64, 0xFE), KbcAction::Reset);
    }

    #[test]
    fn the_output_queue_is_bounded() {
        let mut k = Kbc::default();
        for _ in 0..1000 {
            k.write(0x64, 0xAA);
        }
        let n = std::iter::from_fn(|| (k.read(0x64) & 1 != 0).then(|| k.read(0x60))).count();
        assert_eq!(n, OUTPUT_CAPACITY);
    }

    #[test]
    fn mouse_on_the_aux_port_raises_irq12() {
        let mut k = Kbc::default();
        k.write(0x64, 0xA8);
        k.write(0x64, 0x20);
        let cb = k.read(0x60);
        k.write(0x64, 0x60);
        k.write(0x60, cb | 0x02);
        k.write(0x64, 0xD4);
        k.write(0x60, 0xF4);
        assert!(k.irq12 && !k.irq1);
        assert_eq!(k.read(0x64) & 0x21, 0x21, "a mouse byte waits");
        assert_eq!(k.read(0x60), 0xFA);
        assert!(!k.irq12);
        k.mouse_event(3, -2, 2);
        assert!(k.irq12);
        let p: Vec<u8> = (0..3).map(|_| k.read(0x60)).collect();
        assert_eq!(p, vec![0x0A, 3, 2]);
        // Aux port disabled: no packets; the keyboard still interrupts on IRQ1.
        k.write(0x64, 0xA7);
        k.mouse_event(1, 1, 0);
        assert_eq!(k.read(0x64) & 1, 0);
        k.key_bytes(&[0x1E]);
        assert!(k.irq1 && !k.irq12);
        assert_eq!(k.read(0x64) & 0x20, 0);
    }

    /// Reads whatever the keyboard sent since the last call.
    fn drain(k: &mut Kbc) -> Vec<u8> {
        std::iter::from_fn(|| (k.read(0x64) & 1 != 0).then(|| k.read(0x60))).collect()
    }

    const MS: u64 = 1_000_000;

    #[test]
    fn a_held_key_repeats_after_the_default_delay_and_rate() {
        let mut k = Kbc::default();
        k.tick(1000 * MS);
        k.key_bytes(&[0x1E]); // A down
        assert_eq!(drain(&mut k), [0x1E]);
        assert_eq!(k.next_event_ns(), Some(1500 * MS));
        k.tick(1499 * MS);
        assert_eq!(drain(&mut k), [] as [u8; 0], "before the 500 ms delay");
        k.tick(1500 * MS);
        assert_eq!(drain(&mut k), [0x1E]);
        // 10.9 per second: (8 + 3) * 2 * 4.17 ms = 91.74 ms apart.
        assert_eq!(k.next_event_ns(), Some(1500 * MS + 91_740_000));
        k.tick(1591 * MS);
        assert_eq!(drain(&mut k), [] as [u8; 0]);
        k.tick(1592 * MS);
        assert_eq!(drain(&mut k), [0x1E]);
        k.key_bytes(&[0x9E]); // A up
        assert_eq!(drain(&mut k), [0x9E]);
        assert_eq!(k.next_event_ns(), None);
        k.tick(5000 * MS);
        assert_eq!(drain(&mut k), [] as [u8; 0]);
    }

    #[test]
    fn f3h_sets_rate_and_delay_and_only_the_last_key_repeats() {
        let mut k = Kbc::default();
        k.write(0x60, 0xF3);
        k.write(0x60, 0x00); // 250 ms, 30 per second
        assert_eq!(drain(&mut k), [0xFA, 0xFA]);
        k.key_bytes(&[0x2A]); // left shift down
        k.key_bytes(&[0xE0, 0x48]); // up arrow down: it repeats, the shift does not
        assert_eq!(drain(&mut k), [0x2A, 0xE0, 0x48]);
        let mut seen = Vec::new();
        for t in 1..=1000 {
            k.tick(t * MS);
            seen.extend(drain(&mut k));
        }
        // Repeats at 250 ms + n * 33.36 ms up to 1 s: n = 0..=22.
        assert_eq!(seen.len(), 23 * 2);
        assert!(seen.chunks(2).all(|c| c == [0xE0, 0x48]), "{seen:x?}");
        k.key_bytes(&[0xAA]); // shift up: not the repeating key
        assert_eq!(drain(&mut k), [0xAA]);
        k.tick(1040 * MS);
        assert_eq!(
            drain(&mut k),
            [0xE0, 0x48],
            "still repeating (due at 1017 ms)"
        );
        k.key_bytes(&[0xE0, 0xC8]); // up arrow up
        k.tick(3000 * MS);
        assert_eq!(drain(&mut k), [0xE0, 0xC8]);
        // The slowest setting: 1 s, then 2 per second.
        k.write(0x60, 0xF3);
        k.write(0x60, 0x7F);
        drain(&mut k);
        k.key_bytes(&[0x39]);
        drain(&mut k);
        assert_eq!(k.next_event_ns(), Some(4000 * MS));
        k.tick(4000 * MS);
        drain(&mut k);
        assert_eq!(k.next_event_ns(), Some(4000 * MS + 500_400_000));
    }

    #[test]
    fn repeats_wait_for_the_cpu_and_stop_when_the_keyboard_is_disabled() {
        let mut k = Kbc::default();
        k.key_bytes(&[0x1C]);
        // The CPU does not read: nothing piles up behind the first byte.
        for t in 0..3000 {
            k.tick(t * MS);
        }
        assert_eq!(drain(&mut k), [0x1C]);
        k.tick(3001 * MS);
        assert_eq!(
            drain(&mut k),
            [0x1C],
            "the repeat comes once the output is free"
        );
        // Pause (E1 ...) does not repeat and ends the running repeat.
        k.key_bytes(&[0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5]);
        drain(&mut k);
        assert_eq!(k.next_event_ns(), None);
        k.key_bytes(&[0x1C]);
        k.write(0x64, 0xAD); // interface disabled
        k.tick(10_000 * MS);
        assert_eq!(drain(&mut k), [0x1C]);
        assert_eq!(k.next_event_ns(), None);
        k.write(0x64, 0xAE);
        k.tick(20_000 * MS);
        assert_eq!(drain(&mut k), [] as [u8; 0], "the held key was dropped");
    }

    /// The bus's scheduler knows the repeat, so a guest halted waiting for IRQ1 wakes.
    #[test]
    fn the_repeat_is_a_scheduler_event() {
        use crate::io::PortBus;
        let mut bus = crate::devices::PcBus::new(0, 1 << 20);
        bus.sync(100_000_000); // 1 s of virtual time at 10 ns per instruction
        bus.kbc.key_bytes(&[0x10]);
        assert_eq!(bus.read(0x60, 1), 0x10);
        let due = bus.kbc.next_event_ns().unwrap();
        assert_eq!(due, 1500 * MS);
        assert!(bus.next_event_ns().unwrap() <= due);
        bus.sync(149_999_999);
        assert!(!bus.kbc.irq1);
        bus.sync(150_000_000);
        assert!(bus.kbc.irq1, "IRQ1 at 1.5 s");
        assert_eq!(bus.read(0x60, 1), 0x10);
    }

    /// Regression (device fuzz): a held key whose repeat was due while the guest had not
    /// read the output buffer was reported as an event due now, so the machine ran
    /// one-instruction slices (instructions_until_event = 1) until the guest read port 60h.
    #[test]
    fn a_held_back_repeat_is_not_an_event_due_now() {
        use crate::io::PortBus;
        let mut bus = crate::devices::PcBus::new(0, 1 << 20);
        bus.kbc.key_bytes(&[0x1E]);
        bus.sync(100_000_000); // 1 s: the repeat is due, the 1Eh is still unread
        assert_eq!(bus.next_event_ns(), None);
        assert_eq!(bus.instructions_until_event(), None);
        assert_eq!(bus.read(0x60, 1), 0x1E);
        assert_eq!(
            bus.read(0x60, 1),
            0x1E,
            "the repeat once the output was read"
        );
        assert!(bus.next_event_ns().unwrap() > bus.now_ns());
    }

    #[test]
    fn keys_raise_irq1_until_read() {
        let mut k = Kbc::default();
        k.key_bytes(&[0x1E, 0x9E]);
        assert!(k.irq1);
        assert_eq!(k.read(0x60), 0x1E);
        assert_eq!(k.read(0x60), 0x9E);
        assert!(!k.irq1);
    }
}
