//! The MC146818 real-time clock and CMOS RAM at 0x70/0x71. The clock runs on virtual time
//! from a start time (the host's clock when the machine is built, or a fixed one for
//! reproducible runs); the NVRAM holds the fields the BIOS and guests read (memory sizes,
//! floppy types, equipment, the century).
//!
//! Interrupts (IRQ8): the periodic interrupt at the register A rate, the update-ended
//! interrupt each second and the alarm (registers 1/3/5, C0h-FFh = any), enabled by
//! register B bits 6/5/4; their flags in register C are set whether enabled or not, and
//! reading register C clears them and drops the line. Flags are brought up to date from
//! virtual time whenever the bus looks (`update`).

/// Register B: interrupt enables and SET (updates inhibited).
const B_SET: u8 = 0x80;
const B_PIE: u8 = 0x40;
const B_AIE: u8 = 0x20;
const B_UIE: u8 = 0x10;
/// Register C flags.
const C_IRQF: u8 = 0x80;
const C_PF: u8 = 0x40;
const C_AF: u8 = 0x20;
const C_UF: u8 = 0x10;

/// Nanoseconds to 32.768 kHz oscillator ticks.
fn osc_ticks(ns: u64) -> u64 {
    (ns as u128 * 32_768 / 1_000_000_000) as u64
}

fn osc_ticks_to_ns(t: u64) -> u64 {
    (t as u128 * 1_000_000_000).div_ceil(32_768) as u64
}

/// Seconds since 1970-01-01 to (year, month, day, hour, minute, second, weekday 1-7).
fn civil(secs: u64) -> (u32, u32, u32, u32, u32, u32, u32) {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (
        (rem / 3600) as u32,
        (rem / 60 % 60) as u32,
        (rem % 60) as u32,
    );
    let weekday = ((days + 4) % 7) as u32 + 1; // 1970-01-01 was a Thursday (Sunday = 1)
                                               // Howard Hinnant's civil-from-days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + (mo <= 2) as i64) as u32;
    (y, mo, d, h, m, s, weekday)
}

fn bcd(v: u32) -> u8 {
    (((v / 10) << 4) | (v % 10)) as u8
}

#[derive(Clone, Debug)]
pub struct Cmos {
    pub ram: [u8; 128],
    index: u8,
    /// Wall-clock seconds at virtual time zero.
    start_secs: u64,
    /// NMI disabled (bit 7 of the index port).
    pub nmi_disabled: bool,
    /// Virtual time up to which the interrupt flags are computed.
    flags_ns: u64,
}

impl Cmos {
    pub fn new(start_secs: u64) -> Cmos {
        let mut ram = [0u8; 128];
        ram[0x0A] = 0x26; // 32.768 kHz base, 1024 Hz periodic rate
        ram[0x0B] = 0x02; // 24-hour mode, BCD
        ram[0x0D] = 0x80; // valid RAM and time
        Cmos {
            ram,
            index: 0,
            start_secs,
            nmi_disabled: false,
            flags_ns: 0,
        }
    }

    /// Fills in the memory-size fields for `ram_bytes` of RAM.
    pub fn set_memory(&mut self, ram_bytes: u64) {
        let ext_kib = (ram_bytes.saturating_sub(1 << 20) / 1024).min(0xFFFF) as u16;
        self.ram[0x15] = 0x80; // 640 KiB base memory
        self.ram[0x16] = 0x02;
        self.ram[0x17] = ext_kib as u8;
        self.ram[0x18] = (ext_kib >> 8) as u8;
        self.ram[0x30] = ext_kib as u8;
        self.ram[0x31] = (ext_kib >> 8) as u8;
        // Memory above 16 MiB in 64 KiB blocks.
        let above16 = (ram_bytes.saturating_sub(16 << 20) / 65_536).min(0xFFFF) as u16;
        self.ram[0x34] = above16 as u8;
        self.ram[0x35] = (above16 >> 8) as u8;
    }

    fn time_register(&self, reg: u8, now_ns: u64) -> u8 {
        let (y, mo, d, h, m, s, wd) = civil(self.start_secs.saturating_add(now_ns / 1_000_000_000));
        let binary = self.ram[0x0B] & 0x04 != 0;
        let h24 = self.ram[0x0B] & 0x02 != 0;
        let conv = |v: u32| if binary { v as u8 } else { bcd(v) };
        match reg {
            0x00 => conv(s),
            0x02 => conv(m),
            0x04 => {
                if h24 {
                    conv(h)
                } else {
                    let pm = h >= 12;
                    let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                    conv(h12) | (pm as u8) << 7
                }
            }
            0x06 => conv(wd),
            0x07 => conv(d),
            0x08 => conv(mo),
            0x09 => conv(y % 100),
            0x32 => conv(y / 100),
            _ => self.ram[reg as usize],
        }
    }

    /// The periodic interrupt's period in oscillator ticks (None: rate 0, off).
    fn period_ticks(&self) -> Option<u64> {
        match self.ram[0x0A] & 0x0F {
            0 => None,
            rs @ 1..=2 => Some(1 << (rs + 6)),
            rs => Some(1 << (rs - 1)),
        }
    }

    /// Brings the register C flags up to `now_ns`.
    pub fn update(&mut self, now_ns: u64) {
        let prev = self.flags_ns;
        if now_ns <= prev {
            return;
        }
        self.flags_ns = now_ns;
        let mut c = self.ram[0x0C];
        if let Some(p) = self.period_ticks() {
            if osc_ticks(now_ns) / p > osc_ticks(prev) / p {
                c |= C_PF;
            }
        }
        let (s0, s1) = (prev / 1_000_000_000, now_ns / 1_000_000_000);
        if s1 > s0 && self.ram[0x0B] & B_SET == 0 {
            c |= C_UF;
            // The alarm is compared at each second that began (at most a day of them).
            let first = (s0 + 1).max(s1.saturating_sub(86_399));
            if (first..=s1).any(|s| self.alarm_matches(s)) {
                c |= C_AF;
            }
        }
        if c & self.ram[0x0B] & (B_PIE | B_AIE | B_UIE) != 0 {
            c |= C_IRQF;
        }
        self.ram[0x0C] = c;
    }

    /// Whether the alarm registers match the time `virt_secs` seconds after start.
    fn alarm_matches(&self, virt_secs: u64) -> bool {
        let ns = virt_secs.saturating_mul(1_000_000_000);
        [(0x01, 0x00), (0x03, 0x02), (0x05, 0x04)]
            .iter()
            .all(|&(alarm, reg)| {
                let a = self.ram[alarm];
                a & 0xC0 == 0xC0 || a == self.time_register(reg, ns)
            })
    }

    /// The IRQ8 line.
    pub fn irq(&self) -> bool {
        self.ram[0x0C] & C_IRQF != 0
    }

    /// When the next enabled RTC interrupt can happen, in virtual nanoseconds.
    pub fn next_event_ns(&self, now_ns: u64) -> Option<u64> {
        let b = self.ram[0x0B];
        let mut next = None::<u64>;
        if b & B_PIE != 0 {
            if let Some(p) = self.period_ticks() {
                let t = (osc_ticks(now_ns) / p + 1) * p;
                next = Some(osc_ticks_to_ns(t));
            }
        }
        if b & (B_UIE | B_AIE) != 0 && b & B_SET == 0 {
            let s = (now_ns / 1_000_000_000 + 1) * 1_000_000_000;
            next = Some(next.map_or(s, |n| n.min(s)));
        }
        next
    }

    /// Reads a register without touching the index port (the BIOS's own accesses).
    pub fn read_reg(&mut self, reg: u8, now_ns: u64) -> u8 {
        let saved = self.index;
        self.index = reg & 0x7F;
        let v = self.read(0x71, now_ns);
        self.index = saved;
        v
    }

    /// Writes a register without touching the index port.
    pub fn write_reg(&mut self, reg: u8, v: u8) {
        let saved = self.index;
        self.index = reg & 0x7F;
        self.write(0x71, v);
        self.index = saved;
    }

    pub fn read(&mut self, port: u16, now_ns: u64) -> u8 {
        if port != 0x71 {
            return 0xFF;
        }
        self.update(now_ns);
        match self.index {
            0x00 | 0x02 | 0x04 | 0x06..=0x09 | 0x32 => self.time_register(self.index, now_ns),
            // Register A: update-in-progress during the last 244 us of each second.
            0x0A => {
                let uip = (now_ns % 1_000_000_000) >= 1_000_000_000 - 244_000;
                self.ram[0x0A] & 0x7F | (uip as u8) << 7
            }
            0x0C => {
                let v = self.ram[0x0C];
                self.ram[0x0C] = 0;
                v
            }
            i => self.ram[i as usize],
        }
    }

    pub fn write(&mut self, port: u16, v: u8) {
        match port {
            0x70 => {
                self.index = v & 0x7F;
                self.nmi_disabled = v & 0x80 != 0;
            }
            0x71 => match self.index {
                // Setting the clock moves the start time so the new time reads back.
                0x0C | 0x0D => {}
                i => self.ram[i as usize] = v,
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_in_bcd_from_the_start_time() {
        // 2024-02-29 23:59:58 UTC.
        let mut c = Cmos::new(1_709_251_198);
        let mut reg = |r: u8, ns: u64| {
            c.write(0x70, r);
            c.read(0x71, ns)
        };
        assert_eq!(reg(0x09, 0), 0x24);
        assert_eq!(reg(0x08, 0), 0x02);
        assert_eq!(reg(0x07, 0), 0x29);
        assert_eq!(reg(0x04, 0), 0x23);
        assert_eq!(reg(0x00, 0), 0x58);
        assert_eq!(reg(0x32, 0), 0x20);
        // Three virtual seconds later it is March.
        assert_eq!(reg(0x08, 3_000_000_000), 0x03);
        assert_eq!(reg(0x07, 3_000_000_000), 0x01);
    }

    #[test]
    fn periodic_update_and_alarm_interrupts() {
        let mut c = Cmos::new(1_709_251_198); // 23:59:58
        let ms = 1_000_000u64;
        c.write_reg(0x0B, 0x02 | B_PIE);
        c.update(ms / 2);
        assert!(!c.irq(), "no period (976.5 us at rate 6) has passed");
        c.update(ms);
        assert!(c.irq());
        assert_eq!(c.read_reg(0x0C, ms), C_IRQF | C_PF);
        assert!(!c.irq(), "reading C clears the flags and the line");
        assert_eq!(c.next_event_ns(ms), Some(osc_ticks_to_ns(64)));
        // Rate 15: 2 Hz.
        c.write_reg(0x0A, 0x2F);
        c.update(400 * ms);
        assert_eq!(c.read_reg(0x0C, 400 * ms), 0);
        c.update(500 * ms);
        assert_eq!(c.read_reg(0x0C, 500 * ms), C_IRQF | C_PF);
        // Update-ended flag each second, interrupting only when enabled.
        c.write_reg(0x0B, 0x02);
        c.update(1_000 * ms);
        assert!(!c.irq());
        assert_eq!(c.read_reg(0x0C, 1_000 * ms) & C_UF, C_UF);
        c.write_reg(0x0B, 0x02 | B_UIE);
        c.update(2_000 * ms);
        assert!(c.irq());
        c.read_reg(0x0C, 2_000 * ms);
        // Alarm at 00:00:05 (BCD), hours "don't care".
        c.write_reg(0x0B, 0x02 | B_AIE);
        c.write_reg(0x01, 0x05);
        c.write_reg(0x03, 0x00);
        c.write_reg(0x05, 0xFF);
        c.update(4_000 * ms);
        assert!(!c.irq(), "00:00:00 .. 00:00:04");
        assert_eq!(c.next_event_ns(4_000 * ms), Some(5_000 * ms));
        c.update(9_000 * ms);
        assert!(c.irq());
        assert_eq!(c.read_reg(0x0C, 9_000 * ms) & C_AF, C_AF);
    }

    #[test]
    fn memory_fields() {
        let mut c = Cmos::new(0);
        c.set_memory(32 << 20);
        assert_eq!(u16::from_le_bytes([c.ram[0x30], c.ram[0x31]]), 31 * 1024);
        assert_eq!(u16::from_le_bytes([c.ram[0x34], c.ram[0x35]]), 256);
    }
}
