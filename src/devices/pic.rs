//! The 8259A programmable interrupt controller pair (master at 0x20/0x21, slave at
//! 0xA0/0xA1 cascaded on IR2), with the ELCR edge/level registers at 0x4D0/0x4D1.
//!
//! Modelled as software uses it: ICW1–ICW4 initialisation, the mask register, specific and
//! non-specific EOI, automatic EOI, reading IRR/ISR (OCW3), poll mode, special mask mode and
//! rotation on EOI. Priority is fixed with IR0 highest after the rotation base.

/// One 8259A.
#[derive(Clone, Debug, Default)]
pub struct Chip {
    pub irr: u8,
    pub isr: u8,
    pub imr: u8,
    /// Interrupt vector base (ICW2, low 3 bits clear).
    pub base: u8,
    /// Lowest-priority line: priority starts at `lowest + 1`.
    lowest: u8,
    init_step: u8,
    expect_icw4: bool,
    auto_eoi: bool,
    rotate_on_aeoi: bool,
    read_isr: bool,
    poll: bool,
    special_mask: bool,
    /// Level-triggered lines (ELCR) and the current input levels.
    elcr: u8,
    level: u8,
}

impl Chip {
    fn priority_order(&self) -> impl Iterator<Item = u8> + '_ {
        (1..=8).map(move |k| (self.lowest + k) & 7)
    }

    /// The highest-priority requested, unmasked line that beats everything in service.
    fn best_request(&self) -> Option<u8> {
        let pending = self.irr & !self.imr;
        for line in self.priority_order() {
            let bit = 1 << line;
            if self.isr & bit != 0 && !self.special_mask {
                return None;
            }
            if pending & bit != 0 {
                return Some(line);
            }
        }
        None
    }

    fn write_command(&mut self, v: u8) {
        if v & 0x10 != 0 {
            // ICW1: start initialisation.
            self.init_step = 1;
            self.expect_icw4 = v & 1 != 0;
            self.imr = 0;
            self.isr = 0;
            self.irr &= self.level & self.elcr;
            self.lowest = 7;
            self.auto_eoi = false;
            self.read_isr = false;
            self.special_mask = false;
            return;
        }
        if v & 0x08 != 0 {
            // OCW3.
            if v & 0x02 != 0 {
                self.read_isr = v & 0x01 != 0;
            }
            self.poll = v & 0x04 != 0;
            if v & 0x40 != 0 {
                self.special_mask = v & 0x20 != 0;
            }
            return;
        }
        // OCW2: EOI and rotation.
        let line = v & 7;
        match v >> 5 {
            0b001 => self.eoi_highest(false),
            0b011 => self.isr &= !(1 << line),
            0b101 => self.eoi_highest(true),
            0b100 => self.rotate_on_aeoi = true,
            0b000 => self.rotate_on_aeoi = false,
            0b111 => {
                self.isr &= !(1 << line);
                self.lowest = line;
            }
            0b110 => self.lowest = line,
            _ => {}
        }
    }

    fn eoi_highest(&mut self, rotate: bool) {
        let lowest = self.lowest;
        for line in (1..=8).map(|k| (lowest + k) & 7) {
            if self.isr & (1 << line) != 0 {
                self.isr &= !(1 << line);
                if rotate {
                    self.lowest = line;
                }
                return;
            }
        }
    }

    fn write_data(&mut self, v: u8) {
        match self.init_step {
            1 => {
                self.base = v & 0xF8;
                self.init_step = 2;
            }
            // ICW3 (cascade wiring) is fixed on a PC.
            2 => self.init_step = if self.expect_icw4 { 3 } else { 0 },
            3 => {
                self.auto_eoi = v & 0x02 != 0;
                self.init_step = 0;
            }
            _ => self.imr = v,
        }
    }

    fn read_command(&mut self) -> u8 {
        if self.poll {
            self.poll = false;
            return match self.best_request() {
                Some(line) => {
                    self.irr &= !(1 << line);
                    self.isr |= 1 << line;
                    0x80 | line
                }
                None => 0,
            };
        }
        if self.read_isr {
            self.isr
        } else {
            self.irr
        }
    }

    /// Accepts the interrupt on `line`: IRR to ISR (unless automatic EOI).
    fn acknowledge(&mut self, line: u8) {
        let bit = 1 << line;
        // Edge-triggered requests are consumed; level ones stay while the line is high.
        if self.elcr & bit == 0 || self.level & bit == 0 {
            self.irr &= !bit;
        }
        if self.auto_eoi {
            if self.rotate_on_aeoi {
                self.lowest = line;
            }
        } else {
            self.isr |= bit;
        }
    }

    fn set_line(&mut self, line: u8, high: bool) {
        let bit = 1 << line;
        let was = self.level & bit != 0;
        if high {
            self.level |= bit;
            // Edge mode latches a rising edge; level mode follows the line.
            if !was || self.elcr & bit != 0 {
                self.irr |= bit;
            }
        } else {
            self.level &= !bit;
            if self.elcr & bit != 0 {
                self.irr &= !bit;
            }
        }
    }
}

/// How a PC/AT BIOS programs the pair: edge-triggered, cascaded on IRQ2, vectors 08h and
/// 70h, 8086 mode; then the timer, keyboard and cascade unmasked, everything else masked.
pub const AT_PROGRAMMING: [(u16, u8); 10] = [
    (0x20, 0x11),
    (0x21, 0x08),
    (0x21, 0x04),
    (0x21, 0x01),
    (0xA0, 0x11),
    (0xA1, 0x70),
    (0xA1, 0x02),
    (0xA1, 0x01),
    (0x21, 0xF8),
    (0xA1, 0xFF),
];

/// The master/slave pair of a PC/AT.
#[derive(Clone, Debug)]
pub struct Pic {
    pub master: Chip,
    pub slave: Chip,
}

impl Default for Pic {
    fn default() -> Self {
        let mut p = Pic {
            master: Chip::default(),
            slave: Chip::default(),
        };
        // Until the BIOS programs them: the PC's conventional bases.
        p.master.base = 0x08;
        p.slave.base = 0x70;
        p.master.lowest = 7;
        p.slave.lowest = 7;
        p
    }
}

impl Pic {
    /// Drives IRQ line `irq` (0–15) high or low.
    pub fn set_irq(&mut self, irq: u8, high: bool) {
        if irq < 8 {
            self.master.set_line(irq, high);
        } else {
            self.slave.set_line(irq - 8, high);
        }
        self.update_cascade();
    }

    /// An edge on `irq`: low then high (timer ticks, keyboard bytes, UART events).
    pub fn pulse_irq(&mut self, irq: u8) {
        self.set_irq(irq, false);
        self.set_irq(irq, true);
    }

    fn update_cascade(&mut self) {
        let slave_wants = self.slave.best_request().is_some();
        self.master.set_line(2, slave_wants);
    }

    /// Whether an interrupt is waiting for the CPU.
    pub fn pending(&self) -> bool {
        self.master.best_request().is_some()
    }

    /// The CPU's interrupt acknowledge: the vector of the best pending request (a spurious
    /// IRQ7/IRQ15 vector when it went away).
    pub fn acknowledge(&mut self) -> u8 {
        let Some(line) = self.master.best_request() else {
            return self.master.base | 7;
        };
        self.master.acknowledge(line);
        if line != 2 {
            return self.master.base | line;
        }
        let vector = match self.slave.best_request() {
            Some(sl) => {
                self.slave.acknowledge(sl);
                self.slave.base | sl
            }
            None => self.slave.base | 7,
        };
        self.update_cascade();
        vector
    }

    pub fn read(&mut self, port: u16) -> u8 {
        match port {
            0x20 => self.master.read_command(),
            0x21 => self.master.imr,
            0xA0 => self.slave.read_command(),
            0xA1 => self.slave.imr,
            0x4D0 => self.master.elcr,
            0x4D1 => self.slave.elcr,
            _ => 0xFF,
        }
    }

    pub fn write(&mut self, port: u16, v: u8) {
        match port {
            0x20 => self.master.write_command(v),
            0x21 => self.master.write_data(v),
            0xA0 => self.slave.write_command(v),
            0xA1 => self.slave.write_data(v),
            // IRQ 0, 1, 2, 8 and 13 are always edge-triggered.
            0x4D0 => self.master.elcr = v & 0xF8,
            0x4D1 => self.slave.elcr = v & 0xDE,
            _ => {}
        }
        self.update_cascade();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Programmed as the BIOS does, then with every line unmasked.
    fn programmed() -> Pic {
        let mut p = Pic::default();
        for (port, v) in AT_PROGRAMMING
            .into_iter()
            .chain([(0x21, 0x00), (0xA1, 0x00)])
        {
            p.write(port, v);
        }
        p
    }

    #[test]
    fn priority_eoi_and_nesting() {
        let mut p = programmed();
        p.pulse_irq(1);
        p.pulse_irq(0);
        assert!(p.pending());
        assert_eq!(p.acknowledge(), 0x08); // IRQ0 first
        assert!(!p.pending(), "IRQ1 waits while IRQ0 is in service");
        p.write(0x20, 0x20); // EOI
        assert_eq!(p.acknowledge(), 0x09);
        p.write(0x20, 0x20);
        assert!(!p.pending());
    }

    #[test]
    fn slave_requests_cascade_through_irq2() {
        let mut p = programmed();
        p.pulse_irq(14);
        assert!(p.pending());
        assert_eq!(p.acknowledge(), 0x76);
        p.write(0xA0, 0x20);
        p.write(0x20, 0x20);
        assert!(!p.pending());
        // Masked on the slave: nothing reaches the CPU.
        p.write(0xA1, 0x40);
        p.pulse_irq(14);
        assert!(!p.pending());
    }

    #[test]
    fn masks_irr_isr_reads_and_poll() {
        let mut p = programmed();
        p.write(0x21, 0x01);
        p.pulse_irq(0);
        assert!(!p.pending());
        p.write(0x20, 0x0A); // read IRR
        assert_eq!(p.read(0x20), 0x01);
        p.write(0x21, 0x00);
        p.write(0x20, 0x0C); // poll
        assert_eq!(p.read(0x20), 0x80);
        p.write(0x20, 0x0B); // read ISR
        assert_eq!(p.read(0x20), 0x01);
    }

    #[test]
    fn automatic_eoi_leaves_isr_clear() {
        let mut p = Pic::default();
        for (port, v) in [(0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x03)] {
            p.write(port, v);
        }
        p.write(0x21, 0);
        p.pulse_irq(3);
        assert_eq!(p.acknowledge(), 0x23);
        p.pulse_irq(3);
        assert!(p.pending(), "no EOI needed");
    }
}
