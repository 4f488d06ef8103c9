//! The MC146818 real-time clock and CMOS RAM at 0x70/0x71. The clock runs on virtual time
//! from a start time (the host's clock when the machine is built, or a fixed one for
//! reproducible runs); the NVRAM holds the fields the BIOS and guests read (memory sizes,
//! floppy types, equipment, the century).

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

    pub fn read(&mut self, port: u16, now_ns: u64) -> u8 {
        if port != 0x71 {
            return 0xFF;
        }
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
    fn memory_fields() {
        let mut c = Cmos::new(0);
        c.set_memory(32 << 20);
        assert_eq!(u16::from_le_bytes([c.ram[0x30], c.ram[0x31]]), 31 * 1024);
        assert_eq!(u16::from_le_bytes([c.ram[0x34], c.ram[0x35]]), 256);
    }
}
