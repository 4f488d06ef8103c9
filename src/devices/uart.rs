//! A 16550A UART: divisor latch, line and modem control, 16-byte FIFOs, interrupt
//! identification with the usual priorities, loopback. Transmission is instant (the
//! transmitter is always empty again by the time software looks); what the guest sends
//! goes to the backend: kept in memory and, for the console port, copied to the host's
//! stdout or a file (`--serial`).

use std::collections::VecDeque;
use std::io::Write;

const IER_RX: u8 = 1;
const IER_TX: u8 = 2;
const IER_LINE: u8 = 4;
const IER_MODEM: u8 = 8;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MCR_LOOP: u8 = 0x10;

/// Where a UART's transmitted bytes go on the host, besides `Uart::output`.
#[derive(Clone, Debug, Default)]
pub enum Sink {
    /// Nowhere.
    #[default]
    Discard,
    /// The host's stdout, flushed byte by byte.
    Stdout,
    /// A file, written byte by byte as the guest sends them (nothing waits in a buffer).
    File(std::sync::Arc<std::fs::File>),
}

impl Sink {
    fn write(&self, v: u8) {
        match self {
            Sink::Discard => {}
            Sink::Stdout => {
                let mut out = std::io::stdout();
                let _ = out.write_all(&[v]);
                let _ = out.flush();
            }
            Sink::File(f) => {
                let _ = (&**f).write_all(&[v]);
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Uart {
    ier: u8,
    lcr: u8,
    mcr: u8,
    lsr_errors: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    fifo_enabled: bool,
    rx: VecDeque<u8>,
    /// A transmitter-empty interrupt is waiting (cleared by reading IIR or writing THR).
    tx_interrupt: bool,
    msr_delta: u8,
    /// What the guest transmitted (the first `RECORD_LIMIT` bytes).
    pub output: Vec<u8>,
    /// Where transmitted bytes go on the host.
    pub sink: Sink,
}

impl Uart {
    /// Bytes arriving from the host side.
    pub fn receive(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let capacity = if self.fifo_enabled { 16 } else { 1 };
            if self.rx.len() >= capacity {
                self.lsr_errors |= LSR_OE;
                continue;
            }
            self.rx.push_back(b);
        }
    }

    /// Received bytes the guest has not read yet (a host pacing its input waits for 0).
    pub fn rx_pending(&self) -> usize {
        self.rx.len()
    }

    fn dlab(&self) -> bool {
        self.lcr & 0x80 != 0
    }

    fn lsr(&self) -> u8 {
        let mut v = LSR_THRE | LSR_TEMT | self.lsr_errors;
        if !self.rx.is_empty() {
            v |= LSR_DR;
        }
        v
    }

    fn msr(&self) -> u8 {
        let lines = if self.mcr & MCR_LOOP != 0 {
            // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
            let m = self.mcr;
            ((m & 1) << 5) | ((m & 2) << 3) | ((m & 4) << 4) | ((m & 8) << 4)
        } else {
            // Carrier, DSR and CTS asserted: a terminal is attached.
            0xB0
        };
        lines | self.msr_delta
    }

    /// Interrupt identification: the highest-priority pending source.
    fn iir(&self) -> u8 {
        let fifo = if self.fifo_enabled { 0xC0 } else { 0 };
        let id = if self.ier & IER_LINE != 0 && self.lsr_errors != 0 {
            0x06
        } else if self.ier & IER_RX != 0 && !self.rx.is_empty() {
            0x04
        } else if self.ier & IER_TX != 0 && self.tx_interrupt {
            0x02
        } else if self.ier & IER_MODEM != 0 && self.msr_delta != 0 {
            0x00
        } else {
            0x01
        };
        fifo | id
    }

    /// Whether the interrupt output (gated by OUT2) is asserted.
    pub fn irq(&self) -> bool {
        self.mcr & 0x08 != 0 && self.iir() & 1 == 0
    }

    pub fn read(&mut self, reg: u16) -> u8 {
        match reg {
            0 if self.dlab() => self.dll,
            0 => self.rx.pop_front().unwrap_or(0),
            1 if self.dlab() => self.dlm,
            1 => self.ier,
            2 => {
                let v = self.iir();
                if v & 0x0F == 0x02 {
                    self.tx_interrupt = false;
                }
                v
            }
            3 => self.lcr,
            4 => self.mcr,
            5 => {
                let v = self.lsr();
                self.lsr_errors = 0;
                v
            }
            6 => {
                let v = self.msr();
                self.msr_delta = 0;
                v
            }
            _ => self.scr,
        }
    }

    pub fn write(&mut self, reg: u16, v: u8) {
        match reg {
            0 if self.dlab() => self.dll = v,
            0 => {
                if self.mcr & MCR_LOOP != 0 {
                    self.receive(&[v]);
                } else {
                    if self.output.len() < crate::io::RECORD_LIMIT {
                        self.output.push(v);
                    }
                    self.sink.write(v);
                }
                self.tx_interrupt = true;
            }
            1 if self.dlab() => self.dlm = v,
            1 => {
                // Enabling the transmitter interrupt with an empty THR raises it at once.
                if v & IER_TX != 0 && self.ier & IER_TX == 0 {
                    self.tx_interrupt = true;
                }
                self.ier = v & 0x0F;
            }
            2 => {
                self.fifo_enabled = v & 1 != 0;
                if v & 2 != 0 || !self.fifo_enabled {
                    self.rx.clear();
                }
            }
            3 => self.lcr = v,
            4 => self.mcr = v & 0x1F,
            7 => self.scr = v,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_receive_loopback_and_interrupts() {
        let mut u = Uart::default();
        u.write(3, 0x80);
        u.write(0, 0x01);
        u.write(1, 0x00);
        assert_eq!(u.read(0), 0x01, "divisor latch");
        u.write(3, 0x03);
        assert_ne!(u.read(5) & LSR_THRE, 0);
        u.write(0, b'A');
        assert_eq!(u.output, b"A");
        u.write(4, MCR_LOOP | 0x08);
        u.write(1, IER_RX);
        u.write(0, b'Z');
        assert_eq!(u.read(5) & LSR_DR, LSR_DR);
        assert!(u.irq());
        assert_eq!(u.read(2) & 0x0F, 0x04);
        assert_eq!(u.read(0), b'Z');
        assert!(!u.irq());
        assert_eq!(u.output, b"A", "loopback bytes are not sent");
    }
}
