//! A deterministic fuzz of the PC bus: hostile port sequences may not panic, hang or wedge
//! the emulator.
//!
//! The bus is built as `Machine::new` builds it (PIC, PIT, UARTs, CMOS/RTC, 8042 with its
//! mouse, DMA, the floppy controller, the ATA channels with the ATAPI CD-ROM as secondary
//! master, the VGA with its memory window and linear framebuffer, the debug ports), with
//! every drive attached: floppies A: (1.44 MB) and B: (360 KB), hard disks as primary master
//! and slave and (which the machine never does) secondary slave, on small images in a
//! temporary directory of its own. A seeded xorshift generator then drives it with random
//! port reads and writes (8, 16 and 32 bits) over every mapped range and beyond, virtual
//! time (`sync`/`tick`, up to days at once), memory accesses to the VGA window and the LFB,
//! DMA runs, interrupt acknowledges, host input and renders, mixed with structured sequences
//! that reach deep states: ATA commands valid up to their data phase and then fed garbage
//! (device switches, resets, new commands), ATAPI packets with huge or empty fields and odd
//! byte counts, FDC commands with out-of-range parameters or run by DMA into RAM, the VGA
//! window and past RAM, DMA channels with huge counts, VGA, dispi and CMOS index registers
//! out of range, PIC and PIT programming, 8042 and mouse commands, UARTs.
//!
//! Checked after every operation: no panic (integer overflow included when run in debug),
//! the operation returned (a watchdog fails the test when none completes for a minute),
//! reads return no more bits than their size, the ATA channels' and the FDC's internal
//! invariants (`check_invariants`: DRQ exactly when the owning device has bytes to move,
//! bounded queues), the scheduler's next event lies in the future, the 8042 and UART queues
//! are bounded. After each seed (and every `HEALTH_EVERY` operations) every device must still
//! recover through its documented reset: the PICs deliver vectors, ATA IDENTIFY (IRQ14), an
//! ATAPI INQUIRY (IRQ15), an FDC reset (IRQ6) and a DMA READ DATA matching the image file,
//! the PIT (IRQ0), the RTC periodic interrupt (IRQ8), the 8042 self-test and keyboard and
//! mouse resets, a UART loopback, the DAC and the dispi id; the images keep their sizes and
//! nothing else appears in the directory.
//!
//! Environment (for longer hunts): `EMU_FUZZ_SEEDS=first:count` or a comma list of seeds,
//! `EMU_FUZZ_OPS=n` per seed, `EMU_FUZZ_TRACE=1` prints every operation on stderr,
//! `EMU_FUZZ_STATS=1` what each seed reached.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ata::AtaDrive;
use super::{pic, PcBus};
use crate::frontend::Frame;
use crate::io::{BusRequest, PortBus};
use crate::mem::Memory;
use crate::storage::{Disk, MediaKind, SECTOR};

/// Operations per seed and the seeds of the normal test run.
const OPS_PER_SEED: u64 = 80_000;
const SEEDS: [u64; 8] = [1, 2, 3, 0xDEAD_BEEF, 0x5EED, 77, 1234567, 0xFEED_FACE];
/// A device recovery check every this many operations (and at the end of each seed).
const HEALTH_EVERY: u64 = 10_000;
/// The watchdog fails the test when no operation completes for this long.
const STALL: Duration = Duration::from_secs(60);

const RAM: usize = 2 << 20;
/// Image sizes: two hard disks on the primary channel, a CD (2048-byte blocks) and a hard
/// disk on the secondary, a 1.44 MB and a 360 KB floppy.
const HD_SECTORS: [u64; 3] = [2048, 128, 300];
const CD_BLOCKS: u64 = 64;
const FLOPPY_BYTES: [usize; 2] = [1_474_560, 368_640];

/// xorshift64* (behind a `Cell`, so drawing a number needs no `&mut`: the generator's
/// `self.out(port, self.rng.byte())` calls borrow it while `self` is borrowed mutably).
struct Rng(std::cell::Cell<u64>);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(std::cell::Cell::new(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        ))
    }
    fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// 0..n (n > 0).
    fn below(&self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn byte(&self) -> u8 {
        self.next() as u8
    }
    fn pick<T: Copy>(&self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    /// A byte biased towards the edges: 0, 1, FFh, 7Fh, 80h, small and random values.
    fn edge(&self) -> u8 {
        match self.below(8) {
            0 => 0,
            1 => 0xFF,
            2 => self.pick(&[1, 2, 3, 0x7F, 0x80, 0xFE, 0x10, 0x20, 0x40]),
            3 => self.below(16) as u8,
            _ => self.byte(),
        }
    }
    fn size(&self) -> u8 {
        self.pick(&[1, 1, 1, 2, 2, 4])
    }
    fn value(&self, size: u8) -> u32 {
        let v = match self.below(6) {
            0 => 0,
            1 => u32::MAX,
            2 => self.edge() as u32,
            _ => self.next() as u32,
        };
        v & (u32::MAX >> (32 - 8 * size as u32))
    }
}

/// One step of the fuzz.
#[derive(Clone, Copy, Debug)]
enum Op {
    In(u16, u8),
    Out(u16, u8, u32),
    /// Advance the instruction count and run the scheduler step (`PcBus::sync`).
    Sync(u64),
    /// Advance the instruction count as a port access sees it (`PortBus::tick`).
    Tick(u64),
    MemRead(u32, u8),
    MemWrite(u32, u8, u32),
    /// The machine's DMA step between slices.
    Dma,
    /// The CPU takes a pending interrupt (and perhaps ends it with an EOI).
    Ack(bool),
    Render,
    TextView,
    Key(u8),
    Mouse(i32, i32, u8),
    Serial(u8, u8),
}

/// Ports the devices map (the generator picks among them most of the time).
const PORTS: &[(u16, u16)] = &[
    (0x00, 0x0F),
    (0x20, 0x21),
    (0x40, 0x43),
    (0x60, 0x61),
    (0x64, 0x64),
    (0x70, 0x71),
    (0x80, 0x8F),
    (0x92, 0x92),
    (0xA0, 0xA1),
    (0xC0, 0xDF),
    (0xE9, 0xE9),
    (0xF0, 0xF0),
    (0xF4, 0xF4),
    (0x170, 0x177),
    (0x190, 0x190),
    (0x1CE, 0x1CF),
    (0x1F0, 0x1F7),
    (0x2E8, 0x2EF),
    (0x2F8, 0x2FF),
    (0x376, 0x376),
    (0x3B0, 0x3DF),
    (0x3E8, 0x3EF),
    (0x3F0, 0x3F7),
    (0x3F8, 0x3FF),
    (0x4D0, 0x4D1),
];

/// Builds operation batches: single random operations and structured sequences.
struct Gen {
    rng: Rng,
    ops: Vec<Op>,
}

impl Gen {
    fn push(&mut self, op: Op) {
        self.ops.push(op);
    }
    fn out(&mut self, port: u16, v: u8) {
        self.push(Op::Out(port, 1, v as u32));
    }
    fn inp(&mut self, port: u16) {
        self.push(Op::In(port, 1));
    }

    fn port(&self) -> u16 {
        match self.rng.below(20) {
            0..=13 => {
                let (lo, hi) = self.rng.pick(PORTS);
                lo + self.rng.below((hi - lo + 1) as u64) as u16
            }
            14..=18 => self.rng.below(0x400) as u16,
            _ => self.rng.next() as u16,
        }
    }

    fn mem_addr(&self) -> u32 {
        let lfb = crate::devices::vga::LFB_BASE;
        match self.rng.below(10) {
            0..=5 => 0xA0000 + self.rng.below(0x20000) as u32,
            6 => lfb + self.rng.below(0x10000) as u32,
            7 => {
                lfb + self
                    .rng
                    .below(crate::devices::vga::VRAM_SIZE as u64 + 0x100)
                    as u32
            }
            8 => self
                .rng
                .pick(&[0x9FFFF, 0xBFFFF, 0xC0000, lfb - 1, u32::MAX, 0xFFFF_FFFD]),
            _ => self.rng.next() as u32,
        }
    }

    /// One random operation.
    fn single(&mut self) {
        let op = match self.rng.below(100) {
            0..=39 => {
                let size = self.rng.size();
                let v = self.rng.value(size);
                Op::Out(self.port(), size, v)
            }
            40..=69 => {
                let size = self.rng.size();
                Op::In(self.port(), size)
            }
            70..=77 => Op::Sync(self.delay()),
            78..=79 => Op::Tick(self.rng.below(100_000)),
            80..=86 => {
                let size = self.rng.size();
                Op::MemRead(self.mem_addr(), size)
            }
            87..=93 => {
                let size = self.rng.size();
                let v = self.rng.value(size);
                Op::MemWrite(self.mem_addr(), size, v)
            }
            94..=95 => Op::Dma,
            96 => Op::Ack(self.rng.chance(2)),
            97 => match self.rng.below(3) {
                0 => Op::Key(self.rng.byte()),
                1 => Op::Mouse(self.motion(), self.motion(), self.rng.byte()),
                _ => Op::Serial(self.rng.below(4) as u8, self.rng.byte()),
            },
            98 if self.rng.chance(40) => Op::Render,
            _ => Op::TextView,
        };
        self.push(op);
    }

    /// Host mouse movement: small, large, or the extremes.
    fn motion(&self) -> i32 {
        match self.rng.below(20) {
            0 => self
                .rng
                .pick(&[i32::MIN, i32::MAX, i32::MIN + 1, -256, 255, 256, -257]),
            1 => self.rng.next() as i32,
            _ => self.rng.below(600) as i32 - 300,
        }
    }

    /// Instructions to let pass: mostly a few, sometimes a second or more, rarely days.
    fn delay(&self) -> u64 {
        match self.rng.below(1000) {
            0 => 10_000_000_000 + self.rng.below(20_000_000_000), // a day or two
            1..=20 => self.rng.below(1_000_000_000),
            21..=200 => self.rng.below(10_000_000),
            _ => self.rng.below(20_000),
        }
    }

    /// A structured sequence for one device.
    fn scenario(&mut self) {
        match self.rng.below(11) {
            0 | 1 => self.ata(),
            2 => self.atapi(),
            3 | 4 => self.fdc(),
            5 => self.dma(),
            6 => self.vga(),
            7 => self.cmos(),
            8 => self.pic_pit(),
            9 => self.kbc(),
            _ => self.uart_and_debug(),
        }
    }

    fn ata(&mut self) {
        let ch = self.rng.below(2) as usize;
        let base = [0x1F0u16, 0x170][ch];
        let ctl = [0x3F6u16, 0x376][ch];
        if self.rng.chance(4) {
            self.out(ctl, 0x04);
            self.out(ctl, self.rng.pick(&[0, 2, 0x80]));
        }
        // Half of the time a command that is valid up to its data phase (which then gets
        // garbage mixed in), the other half anything.
        let valid = self.rng.chance(2);
        let dev = match self.rng.below(6) {
            _ if valid => 0xE0 | (self.rng.below(2) as u8) << 4,
            0 => self.rng.byte(),
            n => [0xA0, 0xB0, 0xE0, 0xF0, 0x40][n as usize - 1] | (self.rng.below(16) as u8),
        };
        self.out(base + 6, dev);
        if self.rng.chance(4) {
            // SET MULTIPLE MODE, so READ/WRITE MULTIPLE run.
            self.out(base + 2, self.rng.pick(&[2, 4, 8, 16, 3, 32, 0]));
            self.out(base + 7, 0xC6);
        }
        let sectors = match (ch, dev >> 4 & 1) {
            (0, d) => HD_SECTORS[d as usize],
            _ => HD_SECTORS[2],
        };
        // Task file: inside the disk, near its end, past it, huge, or random; written twice
        // for the 48-bit pairs.
        let lba = match self.rng.below(6) {
            _ if valid && !self.rng.chance(4) => self.rng.below(sectors),
            0 => sectors.saturating_sub(self.rng.below(3)),
            1 => sectors + self.rng.below(3),
            2 => self.rng.next() & 0xFFFF_FFFF_FFFF,
            3 => self.rng.below(sectors),
            _ => 0,
        };
        let count = if valid {
            self.rng.pick(&[1u16, 1, 2, 3, 8, 16, 17, 0])
        } else {
            self.rng.pick(&[0u16, 1, 2, 16, 17, 255, 256, 0xFFFF])
        };
        for half in [1, 0] {
            self.out(base + 1, self.rng.edge());
            self.out(base + 2, (count >> (8 * half)) as u8);
            for k in 0..3 {
                self.out(base + 3 + k, (lba >> (8 * (k + 3 * half))) as u8);
            }
        }
        if valid || self.rng.chance(3) {
            self.out(base + 6, (dev & 0xF0) | (lba >> 24) as u8 & 0x0F);
        }
        if self.rng.chance(6) {
            self.out(ctl, 0x80 | self.rng.pick(&[0, 2]));
        }
        const READS: [u8; 7] = [0x20, 0x21, 0x24, 0x29, 0xC4, 0xEC, 0xEC];
        const WRITES: [u8; 5] = [0x30, 0x31, 0x34, 0x39, 0xC5];
        let cmd = match self.rng.below(10) {
            _ if valid && self.rng.chance(2) => self.rng.pick(&READS),
            _ if valid => self.rng.pick(&WRITES),
            0 => self.rng.byte(),
            _ => self.rng.pick(&[
                0x20, 0x21, 0x24, 0x29, 0x30, 0x31, 0x34, 0x39, 0x40, 0x41, 0x42, 0xC4, 0xC5, 0xC6,
                0x91, 0xEC, 0xEF, 0xE5, 0x98, 0x90, 0xA0, 0xA1, 0x08, 0xE7, 0xEA, 0x25, 0x35, 0xC8,
                0xCA, 0x10, 0x70, 0xF8, 0x27,
            ]),
        };
        self.out(base + 7, cmd);
        // The data phase, with garbage mixed in (rarely when the command was valid).
        let (n, garbage) = if valid {
            // Words for the whole command, or a part of it (then the next command or a
            // reset cuts it short).
            let sectors = if count == 0 { 256 } else { count as u64 };
            let sectors = if self.rng.chance(8) {
                sectors.min(17)
            } else {
                sectors.min(2)
            };
            (sectors * 256 + self.rng.below(20), 400)
        } else {
            (self.rng.pick(&[0, 4, 64, 256, 300, 1100]), 2)
        };
        let reading = READS.contains(&cmd);
        for _ in 0..n {
            if !self.rng.chance(garbage) {
                let size = self.rng.pick(&[2, 2, 2, 4, 1]);
                if reading {
                    self.push(Op::In(base, size));
                } else {
                    let v = self.rng.value(size);
                    self.push(Op::Out(base, size, v));
                }
                continue;
            }
            match self.rng.below(40) {
                0 => self.out(base + 6, self.rng.pick(&[0xA0, 0xB0, 0xE0, 0xF0])),
                1 => {
                    self.out(ctl, 0x04);
                    self.out(ctl, 0x00);
                }
                2 => self.out(base + 7, self.rng.byte()),
                3 => self.inp(base + 7),
                4 => self.inp(ctl),
                5 => self.out(base + self.rng.below(8) as u16, self.rng.byte()),
                6 => self.inp(base + self.rng.below(8) as u16),
                7 => self.push(Op::Sync(self.rng.below(1000))),
                8..=23 => {
                    let size = self.rng.pick(&[1, 2, 2, 2, 4, 4]);
                    self.push(Op::In(base, size));
                }
                _ => {
                    let size = self.rng.pick(&[1, 2, 2, 2, 4, 4]);
                    let v = self.rng.value(size);
                    self.push(Op::Out(base, size, v));
                }
            }
        }
        self.inp(base + 7);
    }

    fn atapi(&mut self) {
        let dev = if self.rng.chance(8) { 0xB0 } else { 0xA0 };
        self.out(0x176, dev);
        let limit = self
            .rng
            .pick(&[0u16, 1, 2, 0x7FF, 0x800, 0x801, 0xFFFE, 0xFFFF, 12, 36]);
        self.out(0x171, self.rng.edge());
        self.out(0x174, limit as u8);
        self.out(0x175, (limit >> 8) as u8);
        self.out(
            0x177,
            if self.rng.chance(10) {
                self.rng.byte()
            } else {
                0xA0
            },
        );
        let mut p = [0u8; 12];
        for b in p.iter_mut() {
            *b = self.rng.edge();
        }
        p[0] = self.rng.pick(&[
            0x00, 0x03, 0x12, 0x25, 0x28, 0xA8, 0x1A, 0x5A, 0x43, 0x1B, 0x1E, 0xBB, 0x46, 0x4A,
            0xBE, 0xFF,
        ]);
        match self.rng.below(4) {
            // A read near or past the end.
            0 => {
                let lba = (CD_BLOCKS - self.rng.below(4)) as u32;
                p[2..6].copy_from_slice(&lba.to_be_bytes());
                p[7] = 0;
                p[8] = self.rng.below(8) as u8;
            }
            // Allocation lengths of 0 and 1.
            1 => {
                p[4] = self.rng.below(2) as u8;
                p[7] = 0;
                p[8] = self.rng.below(2) as u8;
            }
            // A read of the whole disc.
            2 => {
                p[0] = self.rng.pick(&[0x28, 0xA8]);
                p[2..6].copy_from_slice(&[0; 4]);
                p[6..10].copy_from_slice(&(CD_BLOCKS as u32).to_be_bytes());
                p[7..9].copy_from_slice(&(CD_BLOCKS as u16).to_be_bytes());
            }
            _ => {}
        }
        let words = self.rng.pick(&[6, 6, 6, 5, 7, 3]);
        for w in 0..words {
            let v = u16::from_le_bytes([p[(2 * w) % 12], p[(2 * w + 1) % 12]]);
            if self.rng.chance(10) {
                self.out(0x170, v as u8);
            } else {
                self.push(Op::Out(0x170, 2, v as u32));
            }
        }
        let n = self.rng.pick(&[0, 10, 100, 1100, 1100, 3000]);
        for _ in 0..n {
            match self.rng.below(60) {
                0 => self.inp(0x177),
                1 => self.inp(0x172),
                2 => self.inp(0x174),
                3 => self.out(0x177, self.rng.pick(&[0xA0, 0x08, 0xA1, 0xEC])),
                4 => self.out(0x376, self.rng.pick(&[0x04, 0x00])),
                _ => {
                    let size = self.rng.pick(&[2, 2, 4, 1]);
                    self.push(Op::In(0x170, size));
                }
            }
        }
        self.inp(0x177);
    }

    /// Programs a DMA channel (2 most of the time) with edge-case counts and modes.
    fn program_dma(&mut self) {
        let ch = if self.rng.chance(4) {
            self.rng.below(8) as u8
        } else {
            2
        };
        if self.rng.chance(3) {
            self.out(0xD4, 0x00); // cascade unmasked, as the BIOS leaves it
        }
        let mode = match self.rng.below(4) {
            0 => self.rng.byte(),
            _ => self
                .rng
                .pick(&[0x46, 0x4A, 0x56, 0x5A, 0x66, 0x42, 0x06, 0xC6, 0x76]),
        };
        let addr: u32 = match self.rng.below(4) {
            0 => 0x0A_0000 + self.rng.below(0x2_0000) as u32,
            1 => 0xFF_FF00 + self.rng.below(0x100) as u32,
            2 => 0x1_0000,
            _ => self.rng.below(1 << 24) as u32,
        };
        let count = self
            .rng
            .pick(&[0u16, 1, 3, 511, 512, 0x1FFF, 0x7FFF, 0xFFFF]);
        let unmask = !self.rng.chance(5);
        self.program_channel(ch, mode, addr, count, unmask);
    }

    /// Programs DMA channel `ch` as a driver does: mask, flip-flop, mode, address, page,
    /// count, unmask.
    fn program_channel(&mut self, ch: u8, mode: u8, addr: u32, count: u16, unmask: bool) {
        let c = (ch & 3) as u16;
        let (mask, mode_reg, flip, addr_reg, count_reg, page) = if ch < 4 {
            (
                0x0A,
                0x0B,
                0x0C,
                c * 2,
                c * 2 + 1,
                [0x87, 0x83, 0x81, 0x82][c as usize],
            )
        } else {
            (
                0xD4,
                0xD6,
                0xD8,
                0xC0 + c * 4,
                0xC2 + c * 4,
                [0x8F, 0x8B, 0x89, 0x8A][c as usize],
            )
        };
        self.out(mask, 0x04 | c as u8);
        self.out(flip, 0);
        self.out(mode_reg, (mode & !3) | c as u8);
        self.out(addr_reg, addr as u8);
        self.out(addr_reg, (addr >> 8) as u8);
        self.out(page, (addr >> 16) as u8);
        self.out(count_reg, count as u8);
        self.out(count_reg, (count >> 8) as u8);
        if unmask {
            self.out(mask, c as u8);
        }
    }

    fn fdc(&mut self) {
        if self.rng.chance(3) {
            self.out(0x3F2, 0x00);
            self.out(
                0x3F2,
                0x0C | self.rng.below(4) as u8 | (self.rng.below(16) as u8) << 4,
            );
            for _ in 0..self.rng.below(6) {
                self.out(0x3F5, 0x08);
                self.inp(0x3F5);
                self.inp(0x3F5);
            }
        } else if self.rng.chance(10) {
            self.out(0x3F4, 0x80 | self.rng.below(4) as u8);
        }
        let cmd = if self.rng.chance(2) {
            self.fdc_valid_setup()
        } else {
            self.fdc_garbage_setup()
        };
        let keep = if self.rng.chance(8) {
            self.rng.below(cmd.len() as u64 + 1) as usize
        } else {
            cmd.len()
        };
        for &b in &cmd[..keep] {
            if self.rng.chance(3) {
                self.inp(0x3F4);
            }
            self.out(0x3F5, b);
        }
        if self.rng.chance(6) {
            self.program_dma();
        }
        self.push(Op::Dma);
        for _ in 0..self.rng.below(12) {
            match self.rng.below(6) {
                0 => self.inp(0x3F4),
                1 => self.inp(0x3F7),
                2 => self.push(Op::Dma),
                3 => self.out(0x0A, 0x02),
                _ => self.inp(0x3F5),
            }
        }
    }

    /// A data command that the controller can run, with a seek and the DMA channel set up
    /// before it, and now and then one byte of it changed.
    fn fdc_valid_setup(&mut self) -> Vec<u8> {
        let drive = self.rng.below(2) as u8;
        let (cyls, spt) = [(80u8, 18u8), (40, 9)][drive as usize];
        if self.rng.chance(2) {
            // As a driver recovers: a reset ends a command still waiting for its DMA.
            self.out(0x3F2, 0x00);
        }
        self.out(0x3F2, 0x0C | drive | 0x10 << drive);
        let head = self.rng.below(2) as u8;
        let hds = drive | head << 2;
        let c = if self.rng.chance(8) {
            cyls
        } else {
            self.rng.below(cyls as u64) as u8
        };
        self.out(0x3F5, 0x0F);
        self.out(0x3F5, hds);
        self.out(0x3F5, c);
        self.out(0x3F5, 0x08);
        self.inp(0x3F5);
        self.inp(0x3F5);
        // The DMA: in RAM, the VGA window or past RAM; up to two tracks.
        self.out(0xD4, 0x00);
        self.out(0x08, 0x00);
        let addr = match self.rng.below(6) {
            0 => 0xA_0000 + self.rng.below(0x2_0000) as u32,
            1 => (RAM as u32 - 0x100) + self.rng.below(0x200) as u32,
            _ => self.rng.below(RAM as u64) as u32,
        };
        let count = match self.rng.below(4) {
            0 => self.rng.pick(&[0, 1, 510, 0xFFFF]),
            _ => 512 * (1 + self.rng.below(2 * spt as u64) as u16) - 1,
        };
        let sector = 1 + self.rng.below(spt as u64) as u8;
        let mut cmd = match self.rng.below(6) {
            0..=3 => {
                let write = self.rng.chance(3);
                let mode = if write { 0x4A } else { 0x46 } | self.rng.pick(&[0, 0x10, 0x20]);
                self.program_channel(2, mode, addr, count, true);
                let op = match (write, self.rng.chance(6)) {
                    (false, false) => 0x06,
                    (false, true) => 0x0C,
                    (true, false) => 0x05,
                    (true, true) => 0x09,
                };
                let mt = self.rng.pick(&[0x40, 0xC0, 0xE0]);
                let eot = if self.rng.chance(8) {
                    self.rng.edge()
                } else {
                    spt
                };
                vec![mt | op, hds, c, head, sector, 2, eot, 0x1B, 0xFF]
            }
            4 => {
                // FORMAT TRACK: the IDs in memory first.
                let sc = if self.rng.chance(4) {
                    self.rng.edge()
                } else {
                    spt
                };
                let addr = self.rng.below(RAM as u64 - 1024) as u32;
                for r in 0..sc.min(spt + 2) {
                    let mut id = [c, head, r + 1, 2];
                    if self.rng.chance(10) {
                        id[self.rng.below(4) as usize] = self.rng.edge();
                    }
                    self.push(Op::MemWrite(addr + 4 * r as u32, 4, u32::from_le_bytes(id)));
                }
                self.program_channel(2, 0x4A, addr, count, true);
                vec![0x4D, hds, 2, sc, 0x54, self.rng.byte()]
            }
            _ => vec![0x4A, hds],
        };
        if self.rng.chance(8) {
            let i = self.rng.below(cmd.len() as u64) as usize;
            cmd[i] = self.rng.edge();
        }
        cmd
    }

    /// Anything: commands with out-of-range drives, cylinders, sizes and lengths.
    fn fdc_garbage_setup(&mut self) -> Vec<u8> {
        if self.rng.chance(2) {
            self.program_dma();
        }
        let hds = match self.rng.below(4) {
            0 => self.rng.byte(),
            _ => self.rng.below(8) as u8,
        };
        let mt = self.rng.pick(&[0x00, 0x40, 0x80, 0xC0, 0xE0, 0x20]);
        let r = [self.rng.byte(), self.rng.byte(), self.rng.byte()];
        match self.rng.below(14) {
            0..=3 => {
                let op = self.rng.pick(&[0x06, 0x05, 0x0C, 0x09, 0x06, 0x06]);
                vec![
                    mt | op,
                    hds,
                    self.rng.pick(&[0, 1, 79, 80, 255, r[0]]),
                    self.rng.pick(&[0, 1, 2, 255]),
                    self.rng.pick(&[0, 1, 18, 19, 255, r[1]]),
                    self.rng.pick(&[2, 2, 0, 1, 3, 7, 255]),
                    self.rng.pick(&[18, 9, 0, 1, 255, r[2]]),
                    self.rng.edge(),
                    self.rng.edge(),
                ]
            }
            4 => vec![
                0x4D | (mt & 0x40),
                hds,
                self.rng.pick(&[2, 2, 0, 3, 255]),
                self.rng.pick(&[18, 0, 1, 255, 9]),
                self.rng.edge(),
                self.rng.edge(),
            ],
            5 => vec![0x0F, hds, self.rng.pick(&[0, 1, 79, 80, 255])],
            6 => vec![0x07, hds],
            7 => vec![0x4A, hds],
            8 => vec![0x04, hds],
            9 => vec![0x13, 0, self.rng.edge(), self.rng.edge()],
            10 => vec![self.rng.pick(&[0x14, 0x94]), 0, 0],
            11 => vec![0x12, self.rng.byte()],
            12 => vec![self
                .rng
                .pick(&[0x0E, 0x10, 0x08, 0x03, 0x8F, 0x0B, 0x11, 0x19])],
            _ => (0..self.rng.below(12)).map(|_| self.rng.byte()).collect(),
        }
    }

    fn dma(&mut self) {
        for _ in 0..self.rng.below(3) + 1 {
            self.program_dma();
        }
        for _ in 0..self.rng.below(30) {
            let port = match self.rng.below(4) {
                0 => self.rng.below(0x10) as u16,
                1 => 0xC0 + self.rng.below(0x20) as u16,
                2 => 0x81 + self.rng.below(0x0F) as u16,
                _ => self
                    .rng
                    .pick(&[0x08, 0x0D, 0x0E, 0x0F, 0xD0, 0xDA, 0xDC, 0xDE]),
            };
            if self.rng.chance(2) {
                self.inp(port);
            } else {
                self.out(port, self.rng.edge());
            }
        }
        self.push(Op::Dma);
    }

    fn vga(&mut self) {
        for _ in 0..self.rng.below(40) + 1 {
            match self.rng.below(12) {
                // Index/data pairs with indexes out of range.
                0..=3 => {
                    let (i, d) = self.rng.pick(&[
                        (0x3C4, 0x3C5),
                        (0x3CE, 0x3CF),
                        (0x3D4, 0x3D5),
                        (0x3B4, 0x3B5),
                    ]);
                    self.out(i, self.rng.edge());
                    if self.rng.chance(2) {
                        self.out(d, self.rng.edge());
                    } else {
                        self.inp(d);
                    }
                    if self.rng.chance(4) {
                        self.push(Op::Out(i, 2, self.rng.next() as u32 & 0xFFFF));
                    }
                }
                4 => {
                    self.inp(0x3DA);
                    self.out(0x3C0, self.rng.edge());
                    self.out(0x3C0, self.rng.edge());
                    self.inp(0x3C1);
                }
                // The DAC, switching between reading and writing mid-triplet.
                5 => {
                    self.out(self.rng.pick(&[0x3C7, 0x3C8]), self.rng.edge());
                    for _ in 0..self.rng.below(800) {
                        if self.rng.chance(2) {
                            self.out(0x3C9, self.rng.byte());
                        } else {
                            self.inp(0x3C9);
                        }
                    }
                }
                6 => self.out(0x3C2, self.rng.edge()),
                // Dispi: geometry, depth, enable, bank, virtual width, offsets.
                7..=8 => {
                    let index = self
                        .rng
                        .pick(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xFFFF]);
                    let v = match index {
                        1 | 2 | 6 => self.rng.pick(&[0, 1, 1600, 1601, 0xFFFF, 640]),
                        3 => self.rng.pick(&[0, 4, 8, 15, 16, 24, 32, 33]),
                        4 => self.rng.pick(&[0, 1, 0x41, 0xC1, 0x03, 0xFFFF]),
                        _ => self.rng.next() as u16,
                    };
                    if self.rng.chance(3) {
                        self.out(0x1CE, index as u8);
                        self.out(0x1CF, v as u8);
                    } else {
                        self.push(Op::Out(0x1CE, 2, index as u32));
                        self.push(Op::Out(0x1CF, 2, v as u32));
                    }
                    self.push(Op::In(0x1CF, 2));
                }
                9 => self.push(Op::Render),
                _ => {
                    for _ in 0..self.rng.below(64) {
                        let a = self.mem_addr();
                        let size = self.rng.size();
                        if self.rng.chance(2) {
                            self.push(Op::MemRead(a, size));
                        } else {
                            let v = self.rng.value(size);
                            self.push(Op::MemWrite(a, size, v));
                        }
                    }
                }
            }
        }
        self.push(Op::TextView);
    }

    fn cmos(&mut self) {
        for _ in 0..self.rng.below(20) + 1 {
            let index = match self.rng.below(4) {
                0 => self.rng.pick(&[0x7F, 0x80, 0xFF, 0x8A, 0x8B, 0x8C]),
                1 => self.rng.pick(&[0x0A, 0x0B, 0x0C, 0x0D, 0x01, 0x03, 0x05]),
                _ => self.rng.byte(),
            };
            self.out(0x70, index);
            match self.rng.below(3) {
                0 => self.inp(0x71),
                1 => self.out(0x71, self.rng.edge()),
                _ => self.push(Op::Out(
                    0x70,
                    2,
                    index as u32 | (self.rng.edge() as u32) << 8,
                )),
            }
            if self.rng.chance(3) {
                self.push(Op::Sync(self.delay()));
            }
        }
    }

    fn pic_pit(&mut self) {
        if self.rng.chance(2) {
            for (port, v) in pic::AT_PROGRAMMING {
                if !self.rng.chance(15) {
                    self.out(port, v);
                }
            }
        }
        for _ in 0..self.rng.below(24) + 1 {
            match self.rng.below(10) {
                0 => self.out(
                    self.rng.pick(&[0x20, 0xA0]),
                    self.rng.pick(&[0x11, 0x13, 0x10, 0x19]),
                ),
                1 => self.out(self.rng.pick(&[0x20, 0xA0]), 0x08 | self.rng.byte() & 0x67),
                2 => self.out(self.rng.pick(&[0x20, 0xA0]), self.rng.byte() & 0xE7),
                3 => self.out(self.rng.pick(&[0x4D0, 0x4D1]), self.rng.byte()),
                4 => self.push(Op::Ack(self.rng.chance(2))),
                5 => {
                    let ch = self.rng.below(3) as u8;
                    self.out(0x43, ch << 6 | (self.rng.byte() & 0x3F));
                    for _ in 0..self.rng.below(3) {
                        self.out(0x40 + ch as u16, self.rng.edge());
                    }
                }
                6 => self.out(0x43, 0xC0 | self.rng.byte() & 0x3F),
                7 => self.inp(0x40 + self.rng.below(4) as u16),
                8 => self.out(0x61, self.rng.byte()),
                _ => self.push(Op::Sync(self.delay())),
            }
        }
    }

    fn kbc(&mut self) {
        for _ in 0..self.rng.below(24) + 1 {
            match self.rng.below(8) {
                0 => self.out(
                    0x64,
                    self.rng.pick(&[
                        0x20, 0x60, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAD, 0xAE, 0xC0, 0xD0, 0xD1,
                        0xD2, 0xD3, 0xD4, 0xDD, 0xDF, 0xFF, 0xFE,
                    ]),
                ),
                1 => {
                    self.out(0x64, 0xD4);
                    self.out(
                        0x60,
                        self.rng.pick(&[
                            0xFF, 0xF6, 0xF5, 0xF4, 0xF3, 0xF2, 0xF0, 0xEE, 0xEC, 0xEA, 0xEB, 0xE9,
                            0xE8, 0xE7, 0xE6, 0x00, 0xC8, 0x64, 0x50,
                        ]),
                    );
                }
                2 => self.out(
                    0x60,
                    self.rng
                        .pick(&[0xED, 0xF0, 0xF3, 0xEE, 0xF2, 0xF4, 0xF5, 0xF6, 0xFF, 0x00]),
                ),
                3 => self.out(0x60, self.rng.edge()),
                4 => self.push(Op::Key(
                    self.rng.pick(&[0x1E, 0x9E, 0xE0, 0x48, 0xC8, 0xE1]),
                )),
                5 => self.push(Op::Mouse(self.motion(), self.motion(), self.rng.byte())),
                6 => self.push(Op::Sync(self.delay())),
                _ => {
                    self.inp(0x64);
                    self.inp(0x60);
                }
            }
        }
    }

    fn uart_and_debug(&mut self) {
        let base = self.rng.pick(&[0x3F8u16, 0x2F8, 0x3E8, 0x2E8]);
        for _ in 0..self.rng.below(24) + 1 {
            match self.rng.below(8) {
                0 => self.out(base + 3, self.rng.edge()),
                1 => self.out(base + 4, self.rng.pick(&[0x10, 0x1F, 0x08, 0x00, 0xFF])),
                2 => self.out(base + 2, self.rng.edge()),
                3 => self.push(Op::Serial((base >> 8 & 3) as u8, self.rng.byte())),
                4 => {
                    let port = self.rng.pick(&[0xE9u16, 0x80, 0x190, 0xF4, 0xE7]);
                    let size = self.rng.size();
                    let v = self.rng.value(size);
                    self.push(Op::Out(port, size, v));
                }
                5 => self.out(base + self.rng.below(8) as u16, self.rng.byte()),
                _ => self.inp(base + self.rng.below(8) as u16),
            }
        }
    }
}

/// A directory under the system temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("emu-fuzz-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes an image whose sectors start with their own number.
fn image(dir: &Path, name: &str, bytes: usize, unit: usize) -> PathBuf {
    let mut data = vec![0u8; bytes];
    for (i, s) in data.chunks_mut(unit).enumerate() {
        s[..4].copy_from_slice(&(i as u32).to_le_bytes());
        s[unit - 1] = 0xA5;
    }
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// The bus, memory and images of one fuzz run.
struct Rig {
    bus: PcBus,
    mem: Memory,
    icount: u64,
    frame: Frame,
    images: Vec<(PathBuf, u64)>,
    dir: TempDir,
    trace: bool,
    stats: Stats,
}

/// What the operations reached (printed with `EMU_FUZZ_STATS=1`): interrupt vectors taken,
/// DMA runs that wrote memory, data port reads that returned data.
#[derive(Debug, Default)]
struct Stats {
    vectors: std::collections::BTreeMap<u8, u64>,
    dma_writes: u64,
    data_reads: u64,
    renders: u64,
}

impl Rig {
    /// The PC bus as `Machine::new` builds it, with every drive attached.
    fn new(tag: &str) -> Rig {
        let dir = TempDir::new(tag);
        let fda = image(&dir.0, "a.img", FLOPPY_BYTES[0], SECTOR);
        let fdb = image(&dir.0, "b.img", FLOPPY_BYTES[1], SECTOR);
        let hd: Vec<PathBuf> = HD_SECTORS
            .iter()
            .enumerate()
            .map(|(i, &n)| image(&dir.0, &format!("hd{i}.img"), n as usize * SECTOR, SECTOR))
            .collect();
        let cd = image(&dir.0, "cd.iso", CD_BLOCKS as usize * 2048, 2048);
        let open = |p: &PathBuf, kind| Disk::open(p, Some(kind)).unwrap();
        let mut bus = PcBus::new(1_700_000_000, RAM as u64);
        bus.debug.echo = false;
        bus.debug.log_post = false;
        bus.fdc.drives = [
            Some(open(&fda, MediaKind::Floppy)),
            Some(open(&fdb, MediaKind::Floppy)),
        ];
        bus.ata[0].drives = [
            Some(AtaDrive::new(open(&hd[0], MediaKind::HardDisk))),
            Some(AtaDrive::new(open(&hd[1], MediaKind::HardDisk))),
        ];
        bus.ata[1].drives = [
            Some(AtaDrive::cdrom(open(&cd, MediaKind::CdRom))),
            Some(AtaDrive::new(open(&hd[2], MediaKind::HardDisk))),
        ];
        let mut mem = Memory::new(RAM, u32::MAX);
        mem.attach_vga(bus.vga.clone());
        let images = [&fda, &fdb, &hd[0], &hd[1], &hd[2], &cd]
            .iter()
            .map(|p| ((*p).clone(), std::fs::metadata(p).unwrap().len()))
            .collect();
        Rig {
            bus,
            mem,
            icount: 0,
            frame: Frame::default(),
            images,
            dir,
            trace: std::env::var_os("EMU_FUZZ_TRACE").is_some(),
            stats: Stats::default(),
        }
    }

    fn apply(&mut self, op: Op) {
        if self.trace {
            eprintln!("{op:?}");
        }
        // Instructions between two accesses.
        self.icount += 3;
        match op {
            Op::In(port, size) => {
                self.bus.tick(self.icount);
                let v = self.bus.read(port, size);
                if matches!(port, 0x1F0 | 0x170) && v != u32::MAX >> (32 - 8 * size as u32) {
                    self.stats.data_reads += 1;
                }
                assert!(
                    size == 4 || v >> (8 * size) == 0,
                    "{size}-byte read of port {port:#x} returned {v:#x}"
                );
            }
            Op::Out(port, size, v) => {
                self.bus.tick(self.icount);
                self.bus.write(port, size, v);
            }
            Op::Sync(n) => {
                self.icount += n;
                self.bus.sync(self.icount);
                // The scheduler's next event lies ahead: one that is already due would
                // make the machine run one-instruction slices until something changes.
                if let Some(t) = self.bus.next_event_ns() {
                    assert!(
                        t > self.bus.now_ns(),
                        "next event {t} at {}",
                        self.bus.now_ns()
                    );
                }
            }
            Op::Tick(n) => {
                self.icount += n;
                self.bus.tick(self.icount);
            }
            Op::MemRead(a, size) => {
                let v = match size {
                    1 => self.mem.read_u8(a) as u32,
                    2 => self.mem.read_u16(a) as u32,
                    _ => self.mem.read_u32(a),
                };
                assert!(size == 4 || v >> (8 * size) == 0);
            }
            Op::MemWrite(a, size, v) => match size {
                1 => self.mem.write_u8(a, v as u8),
                2 => self.mem.write_u16(a, v as u16),
                _ => self.mem.write_u32(a, v),
            },
            Op::Dma => {
                self.bus.sync(self.icount);
                self.stats.dma_writes += self.bus.run_dma(&mut self.mem) as u64;
            }
            Op::Ack(eoi) => {
                self.bus.sync(self.icount);
                if self.bus.pic.pending() {
                    let vector = self.bus.pic.acknowledge();
                    *self.stats.vectors.entry(vector).or_default() += 1;
                    if eoi {
                        if vector & 0xF8 == self.bus.pic.slave.base {
                            self.bus.write(0xA0, 1, 0x20);
                        }
                        self.bus.write(0x20, 1, 0x20);
                    }
                }
            }
            Op::Render => {
                self.stats.renders += 1;
                super::vga::lock(&self.bus.vga).render(&mut self.frame);
                assert_eq!(
                    self.frame.pixels.len(),
                    self.frame.width as usize * self.frame.height as usize
                );
            }
            Op::TextView => {
                let vga = super::vga::lock(&self.bus.vga);
                if let Some(t) = vga.text_view() {
                    assert_eq!(t.cells.len(), t.cols as usize * t.rows as usize);
                    for r in 0..t.rows.min(4) {
                        let _ = t.row_text(r);
                    }
                }
                let _ = vga.refresh_hz();
            }
            Op::Key(b) => self.bus.kbc.key_bytes(&[b]),
            Op::Mouse(dx, dy, b) => self.bus.kbc.mouse_event(dx, dy, b),
            Op::Serial(com, b) => self.bus.uarts[com as usize & 3].receive(&[b]),
        }
        // What the machine does with the bus's requests.
        match self.bus.take_request() {
            Some(BusRequest::A20(on)) => self.mem.set_a20(on),
            Some(BusRequest::Interrupt) => {
                self.bus.sync(self.icount);
                self.stats.dma_writes += self.bus.run_dma(&mut self.mem) as u64;
            }
            // A reset or a BIOS call is the CPU's business; the devices keep their state.
            Some(BusRequest::Reset | BusRequest::BiosCall) | None => {}
        }
        for (i, ch) in self.bus.ata.iter().enumerate() {
            if let Err(e) = ch.check_invariants() {
                panic!("ATA channel {i}: {e}");
            }
        }
        if let Err(e) = self.bus.fdc.check_invariants() {
            panic!("FDC: {e}");
        }
        assert!(self.bus.kbc.pending_output() <= 17);
        assert!(self.bus.uarts.iter().all(|u| u.rx_pending() <= 16));
    }

    fn out(&mut self, port: u16, v: u8) {
        self.apply(Op::Out(port, 1, v as u32));
    }

    fn inp(&mut self, port: u16) -> u8 {
        self.icount += 3;
        self.bus.tick(self.icount);
        self.bus.read(port, 1) as u8
    }

    fn sync(&mut self, instructions: u64) {
        self.apply(Op::Sync(instructions));
    }

    /// Programs the PICs as the BIOS does (edge-triggered, vectors 08h/70h) with only
    /// `irq` unmasked, so the next vector comes from it alone.
    fn isolate_irq(&mut self, irq: u8) {
        // Edges that are due land first, and the ICW1s below clear them.
        self.bus.sync(self.icount);
        self.out(0x4D0, 0);
        self.out(0x4D1, 0);
        for (port, v) in pic::AT_PROGRAMMING {
            self.out(port, v);
        }
        if irq < 8 {
            self.out(0x21, !(1 << irq));
            self.out(0xA1, 0xFF);
        } else {
            self.out(0x21, !0x04);
            self.out(0xA1, !(1 << (irq - 8)));
        }
        assert!(!self.bus.pic.pending(), "the PIC was reprogrammed");
    }

    /// The CPU takes the interrupt that should be pending and ends it.
    fn expect_vector(&mut self, vector: u8, what: &str) {
        self.bus.sync(self.icount);
        assert!(self.bus.pic.pending(), "{what}: no interrupt");
        assert_eq!(self.bus.pic.acknowledge(), vector, "{what}: vector");
        if vector >= 0x70 {
            self.out(0xA0, 0x20);
        }
        self.out(0x20, 0x20);
        self.out(0x20, 0x0B);
        assert_eq!(self.inp(0x20), 0, "{what}: ISR after EOI");
        self.out(0x20, 0x0A);
    }

    /// Every device still works after its documented reset.
    fn health(&mut self) {
        // The PIC pair itself, master and slave.
        self.isolate_irq(5);
        self.bus.pic.pulse_irq(5);
        self.expect_vector(0x0D, "IRQ5");
        self.isolate_irq(10);
        self.bus.pic.pulse_irq(10);
        self.expect_vector(0x72, "IRQ10");

        self.health_ata();
        self.health_atapi();
        self.health_fdc();

        // PIT channel 0, mode 2, 1000 ticks.
        self.isolate_irq(0);
        self.out(0x43, 0x34);
        self.out(0x40, 0xE8);
        self.out(0x40, 0x03);
        self.sync(100_000);
        self.expect_vector(0x08, "PIT");

        // RTC periodic interrupt at 1024 Hz.
        self.isolate_irq(8);
        self.out(0x70, 0x0B);
        self.out(0x71, 0x02);
        self.out(0x70, 0x0C);
        self.inp(0x71);
        self.out(0x70, 0x0A);
        self.out(0x71, 0x26);
        self.out(0x70, 0x0B);
        self.out(0x71, 0x42);
        self.sync(200_000);
        self.expect_vector(0x70, "RTC");
        self.out(0x70, 0x0B);
        self.out(0x71, 0x02);
        self.out(0x70, 0x0C);
        self.inp(0x71);
        self.out(0x70, 0x0D);
        assert_eq!(self.inp(0x71), 0x80, "CMOS register D");

        // 8042: drain, self-test, keyboard and mouse resets.
        let drain = |rig: &mut Rig| {
            for _ in 0..40 {
                if rig.inp(0x64) & 1 == 0 {
                    return;
                }
                rig.inp(0x60);
            }
            panic!("the 8042 output never empties");
        };
        // A command left waiting for its data byte (8042 D1h/D4h..., keyboard EDh/F3h, mouse
        // F3h/E8h) takes an FFh as that byte: reset until the answer comes (at most one
        // byte for the 8042 and one for the device are pending).
        let reset = |rig: &mut Rig, aux: bool| {
            let mut answers = Vec::new();
            for _ in 0..3 {
                if aux {
                    rig.out(0x64, 0xD4);
                }
                rig.out(0x60, 0xFF);
                let mut got = Vec::new();
                for _ in 0..40 {
                    if rig.inp(0x64) & 1 == 0 {
                        break;
                    }
                    got.push(rig.inp(0x60));
                }
                if got == [0xFA, 0xAA] || got == [0xFA, 0xAA, 0x00] {
                    return;
                }
                answers.push(got);
            }
            panic!(
                "no reset answer from the {}: {answers:02x?}",
                ["keyboard", "mouse"][aux as usize]
            );
        };
        drain(self);
        self.out(0x64, 0xAA);
        assert_eq!(self.inp(0x60), 0x55, "8042 self-test");
        reset(self, false);
        reset(self, true);

        // COM1 loopback.
        self.out(0x3FB, 0x03);
        self.out(0x3FA, 0x07);
        self.out(0x3FC, 0x10);
        self.out(0x3F8, 0x5A);
        assert_eq!(self.inp(0x3FD) & 1, 1, "UART data ready");
        assert_eq!(self.inp(0x3F8), 0x5A, "UART loopback");
        self.out(0x3FC, 0x00);

        // The DAC and dispi.
        self.out(0x3C8, 0x10);
        for v in [0x11, 0x22, 0x33] {
            self.out(0x3C9, v);
        }
        self.out(0x3C7, 0x10);
        assert_eq!(
            [self.inp(0x3C9), self.inp(0x3C9), self.inp(0x3C9)],
            [0x11, 0x22, 0x33],
            "DAC"
        );
        self.apply(Op::Out(0x1CE, 2, 0));
        let id = self.bus.read(0x1CF, 2);
        assert!((0xB0C0..=0xB0C5).contains(&id), "dispi id {id:#x}");

        // The images keep their sizes; nothing else was written in the directory.
        for (p, len) in &self.images {
            assert_eq!(std::fs::metadata(p).unwrap().len(), *len, "{}", p.display());
        }
        let files = std::fs::read_dir(&self.dir.0).unwrap().count();
        assert_eq!(
            files,
            self.images.len(),
            "files in {}",
            self.dir.0.display()
        );
    }

    fn health_ata(&mut self) {
        self.isolate_irq(14);
        self.out(0x3F6, 0x04);
        self.out(0x3F6, 0x00);
        assert_eq!(self.inp(0x1F7), 0x50, "ATA status after SRST");
        self.out(0x1F6, 0xA0);
        self.out(0x1F7, 0xEC);
        assert_eq!(self.inp(0x3F6) & 0x89, 0x08, "IDENTIFY: DRQ");
        self.expect_vector(0x76, "ATA IDENTIFY");
        let mut data = Vec::new();
        for _ in 0..256 {
            let w = self.bus.read(0x1F0, 2) as u16;
            data.extend(w.to_le_bytes());
        }
        assert_eq!(data[510], 0xA5, "IDENTIFY signature");
        let sum = data.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        assert_eq!(sum, 0, "IDENTIFY checksum");
        let sectors = u32::from_le_bytes([data[120], data[121], data[122], data[123]]);
        assert_eq!(sectors as u64, HD_SECTORS[0], "IDENTIFY capacity");
        assert_eq!(self.inp(0x1F7), 0x50, "ATA status after IDENTIFY");
    }

    fn health_atapi(&mut self) {
        self.isolate_irq(15);
        self.out(0x376, 0x04);
        self.out(0x376, 0x00);
        self.out(0x176, 0xA0);
        assert_eq!(
            (self.inp(0x174), self.inp(0x175)),
            (0x14, 0xEB),
            "ATAPI signature"
        );
        self.out(0x174, 0xFE);
        self.out(0x175, 0xFF);
        self.out(0x177, 0xA0);
        assert_eq!(self.inp(0x172) & 3, 1, "PACKET: command out");
        let packet = [0x12u8, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0];
        for w in packet.chunks(2) {
            self.apply(Op::Out(0x170, 2, u16::from_le_bytes([w[0], w[1]]) as u32));
        }
        self.expect_vector(0x77, "ATAPI INQUIRY");
        assert_eq!(self.inp(0x172) & 3, 2, "INQUIRY: data in");
        assert_eq!(
            (self.inp(0x174), self.inp(0x175)),
            (36, 0),
            "INQUIRY byte count"
        );
        let first = self.bus.read(0x170, 2);
        assert_eq!(first & 0x1F, 0x05, "INQUIRY: CD-ROM");
        for _ in 1..18 {
            self.bus.read(0x170, 2);
        }
        assert_eq!(self.inp(0x172) & 3, 3, "INQUIRY: complete");
        assert_eq!(self.inp(0x177) & 0x89, 0, "INQUIRY: status");
    }

    fn health_fdc(&mut self) {
        self.isolate_irq(6);
        self.out(0x3F2, 0x00);
        self.out(0x3F2, 0x1C);
        self.expect_vector(0x0E, "FDC reset");
        for d in 0..4 {
            self.out(0x3F5, 0x08);
            assert_eq!(
                (self.inp(0x3F5), self.inp(0x3F5)),
                (0xC0 | d, 0),
                "polling status"
            );
        }
        self.out(0x3F5, 0x10);
        assert_eq!(self.inp(0x3F5), 0x90, "VERSION");
        self.out(0x3F5, 0x07);
        self.out(0x3F5, 0x00);
        self.expect_vector(0x0E, "RECALIBRATE");
        self.out(0x3F5, 0x08);
        assert_eq!(
            (self.inp(0x3F5), self.inp(0x3F5)),
            (0x20, 0),
            "RECALIBRATE status"
        );
        // READ DATA of sector 3 (LBA 2) by DMA to 0x10000, compared with the image.
        for (port, v) in [
            (0x0D, 0x00),
            (0xDA, 0x00),
            (0xD4, 0x00),
            (0x0A, 0x06),
            (0x0C, 0x00),
            (0x0B, 0x46),
            (0x04, 0x00),
            (0x04, 0x00),
            (0x81, 0x01),
            (0x05, 0xFF),
            (0x05, 0x01),
            (0x0A, 0x02),
        ] {
            self.out(port, v);
        }
        for b in [0x46, 0x00, 0x00, 0x00, 0x03, 0x02, 0x12, 0x1B, 0xFF] {
            self.out(0x3F5, b);
        }
        self.bus.sync(self.icount);
        self.bus.run_dma(&mut self.mem);
        self.expect_vector(0x0E, "READ DATA");
        let result: Vec<u8> = (0..7).map(|_| self.inp(0x3F5)).collect();
        assert_eq!(result[0] & 0xC0, 0, "READ DATA ST0 {result:02x?}");
        let file = std::fs::read(&self.images[0].0).unwrap();
        let mut got = vec![0u8; SECTOR];
        self.mem.read_bytes(0x10000, &mut got);
        assert!(got == file[2 * SECTOR..3 * SECTOR], "READ DATA by DMA");
    }
}

/// Runs one seed; `progress` counts completed operations for the watchdog.
fn run_seed(seed: u64, ops: u64, progress: &AtomicU64) {
    let mut rig = Rig::new(&format!("{seed:x}"));
    let mut gen = Gen {
        rng: Rng::new(seed),
        ops: Vec::new(),
    };
    let mut done = 0u64;
    let mut next_health = HEALTH_EVERY;
    while done < ops {
        if gen.rng.chance(3) {
            gen.scenario();
        } else {
            for _ in 0..8 {
                gen.single();
            }
        }
        for op in std::mem::take(&mut gen.ops) {
            rig.apply(op);
            done += 1;
            progress.fetch_add(1, Ordering::Relaxed);
        }
        if done >= next_health {
            next_health += HEALTH_EVERY;
            rig.health();
        }
    }
    rig.health();
    if std::env::var_os("EMU_FUZZ_STATS").is_some() {
        eprintln!("seed {seed:#x}: {:?}", rig.stats);
    }
}

fn seeds_from_env() -> Vec<u64> {
    let Ok(s) = std::env::var("EMU_FUZZ_SEEDS") else {
        return SEEDS.to_vec();
    };
    let num = |t: &str| {
        let t = t.trim();
        match t.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).unwrap(),
            None => t.parse().unwrap(),
        }
    };
    match s.split_once(':') {
        Some((first, count)) => (num(first)..num(first) + num(count)).collect(),
        None => s.split(',').map(num).collect(),
    }
}

#[test]
fn hostile_port_sequences() {
    let seeds = seeds_from_env();
    let ops = std::env::var("EMU_FUZZ_OPS")
        .ok()
        .map_or(OPS_PER_SEED, |v| v.parse().unwrap());
    let progress = Arc::new(AtomicU64::new(0));
    let current = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let worker = {
        let (progress, current, finished) = (progress.clone(), current.clone(), finished.clone());
        std::thread::Builder::new()
            .name("device-fuzz".into())
            .spawn(move || {
                for seed in seeds {
                    current.store(seed, Ordering::Relaxed);
                    let start = progress.load(Ordering::Relaxed);
                    let t = Instant::now();
                    run_seed(seed, ops, &progress);
                    let n = progress.load(Ordering::Relaxed) - start;
                    eprintln!("fuzz seed {seed:#x}: {n} operations in {:.2?}", t.elapsed());
                }
                finished.store(true, Ordering::Relaxed);
            })
            .unwrap()
    };
    // The watchdog: an operation that does not return is a hang.
    let mut last = (0, Instant::now());
    while !finished.load(Ordering::Relaxed) && !worker.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
        let p = progress.load(Ordering::Relaxed);
        if p != last.0 {
            last = (p, Instant::now());
        } else if last.1.elapsed() > STALL {
            panic!(
                "seed {:#x}: no operation finished for {STALL:?} (after {p} operations)",
                current.load(Ordering::Relaxed)
            );
        }
    }
    if let Err(e) = worker.join() {
        eprintln!(
            "fuzz failed on seed {:#x} (rerun with EMU_FUZZ_SEEDS={:#x} EMU_FUZZ_TRACE=1)",
            current.load(Ordering::Relaxed),
            current.load(Ordering::Relaxed)
        );
        std::panic::resume_unwind(e);
    }
}
