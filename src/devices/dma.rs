//! The 8237A DMA controller pair of the AT: channels 0-3 (8-bit, ports 0x00-0x0F), channels
//! 4-7 (16-bit, ports 0xC0-0xDF at even addresses, channel 4 cascades the first
//! controller), and the page registers at 0x81-0x8F. Transfers are run by the machine when
//! a device asks for one (see `PcBus::run_dma`), with the device's data moved in one go.
//!
//! Kept: base/current address and count with the byte flip-flop, mode (direction,
//! auto-initialise, decrement), single/all mask registers, request register, status (TC
//! and request bits, cleared by reading), master clear. Not modelled: memory-to-memory
//! transfers, the command register's timing bits, the temporary register (reads 0).

use crate::mem::Memory;

#[derive(Clone, Copy, Debug, Default)]
struct DmaChannel {
    base_addr: u16,
    base_count: u16,
    addr: u16,
    count: u16,
    mode: u8,
    page: u8,
}

impl DmaChannel {
    fn auto_init(&self) -> bool {
        self.mode & 0x10 != 0
    }
    fn decrement(&self) -> bool {
        self.mode & 0x20 != 0
    }
}

/// One 8237A.
#[derive(Clone, Debug)]
struct Controller {
    ch: [DmaChannel; 4],
    flip_flop: bool,
    command: u8,
    mask: u8,
    request: u8,
    /// Terminal count reached, per channel (status bits 0-3; read clears them).
    tc: u8,
}

impl Default for Controller {
    fn default() -> Self {
        Controller {
            ch: Default::default(),
            flip_flop: false,
            command: 0,
            mask: 0x0F,
            request: 0,
            tc: 0,
        }
    }
}

impl Controller {
    fn read(&mut self, reg: u16) -> u8 {
        match reg {
            0..=7 => {
                let c = &self.ch[(reg / 2) as usize];
                let v = if reg & 1 == 0 { c.addr } else { c.count };
                let hi = self.flip_flop;
                self.flip_flop = !hi;
                if hi {
                    (v >> 8) as u8
                } else {
                    v as u8
                }
            }
            8 => {
                let v = self.tc | self.request << 4;
                self.tc = 0;
                v
            }
            0x0F => self.mask | 0xF0,
            _ => 0, // temporary register
        }
    }

    fn write(&mut self, reg: u16, v: u8) {
        match reg {
            0..=7 => {
                let hi = self.flip_flop;
                self.flip_flop = !hi;
                let c = &mut self.ch[(reg / 2) as usize];
                let set = |old: u16| {
                    if hi {
                        (old & 0x00FF) | (v as u16) << 8
                    } else {
                        (old & 0xFF00) | v as u16
                    }
                };
                // Writes go to both the base and the current register.
                if reg & 1 == 0 {
                    c.base_addr = set(c.base_addr);
                    c.addr = c.base_addr;
                } else {
                    c.base_count = set(c.base_count);
                    c.count = c.base_count;
                }
            }
            8 => self.command = v,
            9 => {
                let bit = 1 << (v & 3);
                if v & 4 != 0 {
                    self.request |= bit;
                } else {
                    self.request &= !bit;
                }
            }
            0x0A => {
                let bit = 1 << (v & 3);
                if v & 4 != 0 {
                    self.mask |= bit;
                } else {
                    self.mask &= !bit;
                }
            }
            0x0B => self.ch[(v & 3) as usize].mode = v,
            0x0C => self.flip_flop = false,
            0x0D => {
                // Master clear: as after a hardware reset.
                let pages: Vec<u8> = self.ch.iter().map(|c| c.page).collect();
                *self = Controller::default();
                for (c, p) in self.ch.iter_mut().zip(pages) {
                    c.page = p;
                }
            }
            0x0E => self.mask = 0,
            _ => self.mask = v & 0x0F,
        }
    }
}

/// Which way a transfer moves data, from the channel's mode register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Verify,
    /// Device to memory ("write transfer").
    ToMemory,
    /// Memory to device ("read transfer").
    FromMemory,
}

#[derive(Clone, Debug, Default)]
pub struct Dma {
    ctl: [Controller; 2],
}

/// Page register port of each channel (0x80 itself is the POST-code port; 0x8F is the
/// refresh page register of the cascade channel).
const PAGE_PORTS: [u16; 8] = [0x87, 0x83, 0x81, 0x82, 0x8F, 0x8B, 0x89, 0x8A];

impl Dma {
    /// Whether `port` belongs to the DMA controllers or their page registers.
    pub fn claims(port: u16) -> bool {
        matches!(port, 0x00..=0x0F | 0xC0..=0xDF | 0x81..=0x8F)
    }

    pub fn read(&mut self, port: u16) -> u8 {
        match port {
            0x00..=0x0F => self.ctl[0].read(port),
            0xC0..=0xDF if port & 1 == 0 => self.ctl[1].read((port - 0xC0) / 2),
            _ => match PAGE_PORTS.iter().position(|&p| p == port) {
                Some(ch) => self.ctl[ch / 4].ch[ch % 4].page,
                None => 0xFF,
            },
        }
    }

    pub fn write(&mut self, port: u16, v: u8) {
        match port {
            0x00..=0x0F => self.ctl[0].write(port, v),
            0xC0..=0xDF if port & 1 == 0 => self.ctl[1].write((port - 0xC0) / 2, v),
            _ => {
                if let Some(ch) = PAGE_PORTS.iter().position(|&p| p == port) {
                    self.ctl[ch / 4].ch[ch % 4].page = v;
                }
            }
        }
    }

    fn channel(&self, ch: usize) -> &DmaChannel {
        &self.ctl[ch / 4].ch[ch % 4]
    }

    /// Whether channel `ch` may transfer: unmasked, and (for 0-3) the cascade channel 4
    /// of the second controller unmasked too.
    pub fn ready(&self, ch: usize) -> bool {
        let (c, i) = (&self.ctl[ch / 4], ch % 4);
        let cascade_ok = ch >= 4 || self.ctl[1].mask & 1 == 0;
        c.mask & (1 << i) == 0 && cascade_ok && c.command & 0x04 == 0
    }

    pub fn direction(&self, ch: usize) -> Direction {
        match self.channel(ch).mode >> 2 & 3 {
            1 => Direction::ToMemory,
            2 => Direction::FromMemory,
            _ => Direction::Verify,
        }
    }

    /// Bytes left before terminal count on channel `ch`.
    pub fn remaining(&self, ch: usize) -> usize {
        let unit = if ch >= 4 { 2 } else { 1 };
        (self.channel(ch).count as usize + 1) * unit
    }

    /// The physical address of the channel's current transfer unit (16-bit channels
    /// count words; their page register's bit 0 is unused).
    fn step(&self, ch: usize) -> u32 {
        let c = self.channel(ch);
        if ch >= 4 {
            ((c.page as u32 & 0xFE) << 16) | (c.addr as u32) << 1
        } else {
            (c.page as u32) << 16 | c.addr as u32
        }
    }

    /// Advances the channel by one transfer unit; returns true at terminal count.
    fn advance(&mut self, ch: usize) -> bool {
        let ctl = &mut self.ctl[ch / 4];
        let c = &mut ctl.ch[ch % 4];
        c.addr = if c.decrement() {
            c.addr.wrapping_sub(1)
        } else {
            c.addr.wrapping_add(1)
        };
        let (count, done) = c.count.overflowing_sub(1);
        c.count = count;
        if done {
            ctl.tc |= 1 << (ch % 4);
            ctl.request &= !(1 << (ch % 4));
            if c.auto_init() {
                c.addr = c.base_addr;
                c.count = c.base_count;
            } else {
                ctl.mask |= 1 << (ch % 4);
            }
        }
        done
    }

    /// Moves `data` from a device into memory through channel `ch` until the data or the
    /// count ends. Returns (bytes taken, terminal count reached).
    pub fn write_memory(&mut self, ch: usize, mem: &mut Memory, data: &[u8]) -> (usize, bool) {
        let unit = if ch >= 4 { 2 } else { 1 };
        let mut done = 0;
        for chunk in data.chunks(unit) {
            let addr = self.step(ch);
            if self.direction(ch) == Direction::ToMemory {
                for (k, &b) in chunk.iter().enumerate() {
                    mem.write_u8(addr + k as u32, b);
                }
            }
            done += chunk.len();
            if self.advance(ch) {
                return (done, true);
            }
        }
        (done, false)
    }

    /// Fills `buf` from memory through channel `ch` until it is full or the count ends.
    /// Returns (bytes given, terminal count reached).
    pub fn read_memory(&mut self, ch: usize, mem: &Memory, buf: &mut [u8]) -> (usize, bool) {
        let unit = if ch >= 4 { 2 } else { 1 };
        let mut done = 0;
        for chunk in buf.chunks_mut(unit) {
            let addr = self.step(ch);
            for (k, b) in chunk.iter_mut().enumerate() {
                *b = mem.read_u8(addr + k as u32);
            }
            done += chunk.len();
            if self.advance(ch) {
                return (done, true);
            }
        }
        (done, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Programs channel 2 the way a floppy driver does: mask, clear flip-flop, mode,
    /// address, page, count, unmask.
    fn program(d: &mut Dma, mode: u8, addr: u32, count: u16) {
        d.write(0xD4, 0x00); // the cascade channel, as the BIOS leaves it
        d.write(0x0A, 0x06);
        d.write(0x0C, 0);
        d.write(0x0B, mode);
        d.write(0x04, addr as u8);
        d.write(0x04, (addr >> 8) as u8);
        d.write(0x81, (addr >> 16) as u8);
        d.write(0x05, count as u8);
        d.write(0x05, (count >> 8) as u8);
        d.write(0x0A, 0x02);
    }

    #[test]
    fn channel2_write_to_memory_counts_to_terminal_count() {
        let mut d = Dma::default();
        let mut mem = Memory::new(2 << 20, u32::MAX);
        program(&mut d, 0x46, 0x1_2340, 511);
        assert!(d.ready(2));
        assert_eq!(d.direction(2), Direction::ToMemory);
        assert_eq!(d.remaining(2), 512);
        let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
        let (n, tc) = d.write_memory(2, &mut mem, &data);
        assert_eq!((n, tc), (512, true));
        assert_eq!(mem.read_u8(0x1_2340 + 511), 255);
        assert_eq!(mem.read_u8(0x1_2340 + 512), 0);
        assert_eq!(d.read(0x08) & 0x04, 0x04, "TC bit of channel 2");
        assert_eq!(d.read(0x08) & 0x04, 0, "cleared by the read");
        assert!(!d.ready(2), "masked at TC without auto-init");
        // Current address and count read back through the flip-flop.
        d.write(0x0C, 0);
        let lo = d.read(0x04) as u16;
        let hi = d.read(0x04) as u16;
        assert_eq!(hi << 8 | lo, 0x2340 + 512);
        assert_eq!((d.read(0x05), d.read(0x05)), (0xFF, 0xFF));
    }

    #[test]
    fn auto_init_decrement_and_16_bit_channels() {
        let mut d = Dma::default();
        let mut mem = Memory::new(2 << 20, u32::MAX);
        program(&mut d, 0x56 | 0x20, 0x5003, 3); // auto-init, decrement
        let (n, tc) = d.write_memory(2, &mut mem, &[1, 2, 3, 4]);
        assert_eq!((n, tc), (4, true));
        assert_eq!(
            [0x5003, 0x5002, 0x5001, 0x5000].map(|a| mem.read_u8(a)),
            [1, 2, 3, 4]
        );
        assert!(d.ready(2), "auto-init keeps the channel unmasked");
        assert_eq!(d.remaining(2), 4, "and reloads the count");
        // Channel 5: word address 0x100 in page 0x02 = physical 0x20200.
        d.write(0xD4, 0x01);
        d.write(0xD6, 0x49);
        d.write(0xD8, 0);
        d.write(0xC4, 0x00);
        d.write(0xC4, 0x01);
        d.write(0x8B, 0x02);
        d.write(0xC6, 1);
        d.write(0xC6, 0);
        d.write(0xD4, 0x01 & 3);
        assert!(d.ready(5));
        assert_eq!(d.remaining(5), 4);
        mem.write_u8(0x20200, 0xAA);
        mem.write_u8(0x20203, 0xBB);
        let mut buf = [0u8; 4];
        d.write(0xD6, 0x49); // mode: read transfer
        assert_eq!(d.direction(5), Direction::FromMemory);
        assert_eq!(d.read_memory(5, &mem, &mut buf), (4, true));
        assert_eq!(buf, [0xAA, 0, 0, 0xBB]);
        // Master clear masks everything.
        d.write(0x0D, 0);
        assert!(!d.ready(2));
    }
}
