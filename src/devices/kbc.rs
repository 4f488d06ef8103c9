//! The i8042 keyboard controller (ports 0x60/0x64) with a PS/2 keyboard behind it, and the
//! system control ports next to it: port 0x61 (speaker, PIT gate 2, refresh toggle) and
//! port 0x92 (fast A20 and reset).
//!
//! Implemented: the controller command byte, self-test, interface tests, the output port
//! (A20, reset), keyboard reset/identify/enable/disable/set-LEDs/scancode-set commands with
//! their ACKs, translated scancode set 1 bytes queued by the host, IRQ1 on output; the
//! auxiliary port with a PS/2 mouse (mouse.rs): commands A7h/A8h/A9h/D3h/D4h, command byte
//! bits 1 (IRQ12) and 5 (aux disabled), status bit 5 for mouse bytes. Not yet: typematic
//! repeat, scancode sets 2/3 without translation.

use super::mouse::Mouse;

use std::collections::VecDeque;

/// Bytes the controller holds for the CPU: the real one has a one-byte buffer and the
/// keyboard a 16-byte FIFO; more are dropped, so a guest cannot make the queue grow.
const OUTPUT_CAPACITY: usize = 17;

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
        }
    }
}

impl Kbc {
    /// Scancode bytes from the host keyboard (set 1, as the guest sees them translated).
    pub fn key_bytes(&mut self, bytes: &[u8]) {
        if self.keyboard_enabled && self.command_byte & 0x10 == 0 {
            self.reply(bytes);
        }
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
                self.keyboard_enabled = false;
                self.reply(&[0xFA]);
            }
            0xFF => {
                self.keyboard_enabled = true;
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
