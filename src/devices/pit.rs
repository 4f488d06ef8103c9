//! The 8254 programmable interval timer at 0x40–0x43: three channels counting at
//! 1.193182 MHz of virtual time. Channel 0 drives IRQ0, channel 2 the speaker (its gate and
//! output are seen through port 0x61).
//!
//! Counters are not stepped: a channel remembers when its count was loaded and computes its
//! value and output from the elapsed ticks, so reading it costs the same at any time and
//! the machine only wakes at output edges that raise interrupts.

/// PIT input clock.
pub const PIT_HZ: u64 = 1_193_182;

/// Converts virtual nanoseconds to PIT ticks.
pub fn ns_to_ticks(ns: u64) -> u64 {
    (ns as u128 * PIT_HZ as u128 / 1_000_000_000) as u64
}

/// Converts PIT ticks to virtual nanoseconds (rounded up, so the tick has happened).
pub fn ticks_to_ns(ticks: u64) -> u64 {
    ((ticks as u128 * 1_000_000_000).div_ceil(PIT_HZ as u128)) as u64
}

#[derive(Clone, Debug, Default)]
pub struct Channel {
    mode: u8,
    /// 1 = LSB, 2 = MSB, 3 = LSB then MSB.
    access: u8,
    bcd: bool,
    /// The programmed count (0 means 65536, or 10000 in BCD).
    reload: u32,
    /// Tick at which counting started; None while waiting for a count (or a gate edge).
    start: Option<u64>,
    gate: bool,
    write_msb_next: bool,
    write_lsb: u8,
    read_msb_next: bool,
    latched: Option<u16>,
    status_latched: Option<u8>,
    null_count: bool,
}

impl Channel {
    fn period(&self) -> u64 {
        match self.reload {
            0 if self.bcd => 10_000,
            0 => 65_536,
            n => n as u64,
        }
    }

    fn elapsed(&self, now: u64) -> Option<u64> {
        self.start.map(|s| now.saturating_sub(s))
    }

    /// The counting element at tick `now`.
    pub fn count(&self, now: u64) -> u16 {
        let n = self.period();
        let Some(e) = self.elapsed(now) else {
            return self.reload as u16;
        };
        let v = match self.mode {
            2 | 6 => n - (e % n),
            3 | 7 => {
                // Counts down by two, twice per period.
                let half = n.div_ceil(2).max(1);
                let within = e % half;
                n.saturating_sub(2 * within).max(2) & !1
            }
            // One-shot modes keep counting down (wrapping) after the terminal count.
            _ => (n + 0x1_0000 * 4 - (e % (0x1_0000 * 4))) % 0x1_0000,
        };
        let v = v as u32;
        if self.bcd {
            to_bcd(v % 10_000)
        } else {
            v as u16
        }
    }

    /// The OUT pin at tick `now`.
    pub fn output(&self, now: u64) -> bool {
        let n = self.period();
        let Some(e) = self.elapsed(now) else {
            // Mode 0 holds OUT low until counting ends; the others idle high.
            return self.mode != 0;
        };
        match self.mode {
            0 => e >= n,
            1 => e >= n,
            2 | 6 => e % n != n - 1,
            3 | 7 => e % n < n.div_ceil(2),
            4 | 5 => e != n,
            _ => true,
        }
    }

    /// Rising edges of OUT in the tick interval (from, to].
    fn rising_edges(&self, from: u64, to: u64) -> u64 {
        let Some(start) = self.start else {
            return 0;
        };
        if to <= from {
            return 0;
        }
        let n = self.period();
        let e0 = from.saturating_sub(start);
        let e1 = to.saturating_sub(start);
        match self.mode {
            // Periodic: one rising edge per period, at the end of it.
            2 | 3 | 6 | 7 => e1 / n - e0 / n,
            // One-shot: the edge at the terminal count.
            0 | 1 => (e0 < n && e1 >= n) as u64,
            4 | 5 => (e0 <= n && e1 > n) as u64,
            _ => 0,
        }
    }

    /// The next tick after `now` at which OUT rises.
    fn next_edge(&self, now: u64) -> Option<u64> {
        let start = self.start?;
        let n = self.period();
        let e = now.saturating_sub(start);
        match self.mode {
            2 | 3 | 6 | 7 => Some(start + (e / n + 1) * n),
            0 | 1 if e < n => Some(start + n),
            4 | 5 if e <= n => Some(start + n + 1),
            _ => None,
        }
    }

    fn write_control(&mut self, v: u8, now: u64) {
        let access = (v >> 4) & 3;
        if access == 0 {
            // Counter latch command.
            if self.latched.is_none() {
                self.latched = Some(self.count(now));
                self.read_msb_next = false;
            }
            return;
        }
        self.access = access;
        self.mode = (v >> 1) & 7;
        self.bcd = v & 1 != 0;
        self.write_msb_next = false;
        self.read_msb_next = false;
        self.latched = None;
        self.start = None;
        self.null_count = true;
    }

    fn write_count(&mut self, v: u8, now: u64) {
        let complete = match self.access {
            1 => {
                self.reload = v as u32;
                true
            }
            2 => {
                self.reload = (v as u32) << 8;
                true
            }
            _ => {
                if self.write_msb_next {
                    self.reload = self.write_lsb as u32 | (v as u32) << 8;
                    self.write_msb_next = false;
                    true
                } else {
                    self.write_lsb = v;
                    self.write_msb_next = true;
                    false
                }
            }
        };
        if complete {
            if self.bcd {
                self.reload = from_bcd(self.reload as u16);
            }
            self.null_count = false;
            // Gate-triggered modes (1, 5) wait for a gate edge; the others start now.
            let gated = matches!(self.mode, 1 | 5);
            // Periodic modes keep the old period running until it ends; close enough to
            // restart here, which is what software that reprograms the timer expects.
            if !gated {
                self.start = Some(now + 1);
            }
        }
    }

    fn read(&mut self, now: u64) -> u8 {
        if let Some(s) = self.status_latched.take() {
            return s;
        }
        let value = self.latched.unwrap_or_else(|| self.count(now));
        match self.access {
            1 => {
                self.latched = None;
                value as u8
            }
            2 => {
                self.latched = None;
                (value >> 8) as u8
            }
            _ => {
                if self.read_msb_next {
                    self.read_msb_next = false;
                    self.latched = None;
                    (value >> 8) as u8
                } else {
                    self.read_msb_next = true;
                    value as u8
                }
            }
        }
    }

    fn set_gate(&mut self, high: bool, now: u64) {
        let rising = high && !self.gate;
        self.gate = high;
        if rising && matches!(self.mode, 1 | 5 | 2 | 3 | 6 | 7) && !self.null_count {
            self.start = Some(now + 1);
        }
    }
}

fn to_bcd(v: u32) -> u16 {
    let mut out = 0u16;
    let mut v = v;
    for k in 0..4 {
        out |= ((v % 10) as u16) << (4 * k);
        v /= 10;
    }
    out
}

fn from_bcd(v: u16) -> u32 {
    let mut out = 0u32;
    for k in (0..4).rev() {
        out = out * 10 + ((v >> (4 * k)) & 0xF) as u32;
    }
    out
}

#[derive(Clone, Debug)]
pub struct Pit {
    pub channels: [Channel; 3],
    /// Tick up to which IRQ0 edges have been reported.
    reported: u64,
}

impl Default for Pit {
    fn default() -> Self {
        let mut p = Pit {
            channels: Default::default(),
            reported: 0,
        };
        // Channels 0 and 1 have their gates tied high.
        p.channels[0].gate = true;
        p.channels[1].gate = true;
        p
    }
}

impl Pit {
    pub fn read(&mut self, port: u16, now: u64) -> u8 {
        match port {
            0x40..=0x42 => self.channels[(port - 0x40) as usize].read(now),
            _ => 0xFF,
        }
    }

    pub fn write(&mut self, port: u16, v: u8, now: u64) {
        match port {
            0x40..=0x42 => self.channels[(port - 0x40) as usize].write_count(v, now),
            0x43 => {
                let sel = (v >> 6) as usize;
                if sel == 3 {
                    // Read-back: latch count and/or status of the selected channels.
                    for (i, ch) in self.channels.iter_mut().enumerate() {
                        if v & (2 << i) == 0 {
                            continue;
                        }
                        if v & 0x20 == 0 && ch.latched.is_none() {
                            ch.latched = Some(ch.count(now));
                        }
                        if v & 0x10 == 0 && ch.status_latched.is_none() {
                            let status = (ch.output(now) as u8) << 7
                                | (ch.null_count as u8) << 6
                                | ch.access << 4
                                | ch.mode << 1
                                | ch.bcd as u8;
                            ch.status_latched = Some(status);
                        }
                    }
                } else {
                    self.channels[sel].write_control(v, now);
                }
            }
            _ => {}
        }
    }

    /// Speaker gate (port 0x61 bit 0) for channel 2.
    pub fn set_gate2(&mut self, high: bool, now: u64) {
        self.channels[2].set_gate(high, now);
    }

    pub fn gate2(&self) -> bool {
        self.channels[2].gate
    }

    /// Number of IRQ0 edges between the last call and tick `now`.
    pub fn take_irq0_edges(&mut self, now: u64) -> u64 {
        let edges = self.channels[0].rising_edges(self.reported, now);
        self.reported = self.reported.max(now);
        edges
    }

    /// The next tick at which channel 0 raises IRQ0.
    pub fn next_irq0(&self, now: u64) -> Option<u64> {
        self.channels[0].next_edge(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode2_periodic_interrupts_and_count_readback() {
        let mut p = Pit::default();
        p.write(0x43, 0x34, 0); // channel 0, LSB/MSB, mode 2
        p.write(0x40, 0x00, 0);
        p.write(0x40, 0x10, 0); // 0x1000 ticks
        assert_eq!(p.take_irq0_edges(0x1000), 0);
        assert_eq!(p.take_irq0_edges(0x1001), 1);
        assert_eq!(p.take_irq0_edges(0x1001 + 0x3000), 3);
        assert_eq!(p.next_irq0(0x4001), Some(0x5001));
        p.write(0x43, 0x00, 0x1001 + 0x100); // latch
        let lo = p.read(0x40, 0x1001 + 0x200);
        let hi = p.read(0x40, 0x1001 + 0x300);
        assert_eq!(u16::from_le_bytes([lo, hi]), 0x1000 - 0x100);
    }

    #[test]
    fn mode0_one_shot_output_and_bcd() {
        let mut p = Pit::default();
        p.write(0x43, 0xB0, 0); // channel 2, LSB/MSB, mode 0
        p.write(0x42, 100, 0);
        p.write(0x42, 0, 0);
        assert!(!p.channels[2].output(50));
        assert!(p.channels[2].output(102));
        p.write(0x43, 0x31, 0); // channel 0, mode 0, BCD
        p.write(0x40, 0x00, 0);
        p.write(0x40, 0x10, 0); // 1000 in BCD
        p.write(0x43, 0x00, 1 + 1);
        let lo = p.read(0x40, 5);
        let hi = p.read(0x40, 5);
        assert_eq!(u16::from_le_bytes([lo, hi]), 0x0999);
    }

    #[test]
    fn read_back_status() {
        let mut p = Pit::default();
        p.write(0x43, 0x36, 0); // channel 0, LSB/MSB, mode 3
        p.write(0x40, 0, 0);
        p.write(0x40, 0, 0);
        p.write(0x43, 0xE2, 10); // read-back status of channel 0
        assert_eq!(p.read(0x40, 10) & 0x3F, 0x36);
    }
}
