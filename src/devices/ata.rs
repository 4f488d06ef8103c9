//! ATA (IDE) channels with PIO hard disks: the task file, status/alternate status, device
//! control (nIEN, SRST), device selection with the no-device rules, and the commands a PC
//! guest's disk driver uses — IDENTIFY DEVICE, READ/WRITE SECTORS and MULTIPLE (LBA28, CHS
//! and, through the EXT commands, LBA48 with the HOB register pairs), SET MULTIPLE MODE,
//! READ VERIFY, SET FEATURES, INITIALIZE DEVICE PARAMETERS, FLUSH CACHE, power-mode
//! commands, EXECUTE DEVICE DIAGNOSTIC. Commands finish at once (the device is never seen
//! busy); writes go straight to the image file. No DMA: READ/WRITE DMA (EXT) abort.
//!
//! A channel owns its `Disk`s; the BIOS reaches them through the bus for INT 13h, so both
//! paths see the same image.

use super::atapi::{self, Reply, Sense};
use crate::storage::{Disk, SECTOR};

pub const ST_BSY: u8 = 0x80;
pub const ST_DRDY: u8 = 0x40;
pub const ST_DSC: u8 = 0x10;
pub const ST_DRQ: u8 = 0x08;
pub const ST_ERR: u8 = 0x01;

pub const ER_ABRT: u8 = 0x04;
pub const ER_IDNF: u8 = 0x10;
pub const ER_UNC: u8 = 0x40;

/// Device control register bits (port 0x3F6/0x376).
const CTL_NIEN: u8 = 0x02;
const CTL_SRST: u8 = 0x04;
/// High order byte: reads of the register pairs return the previously written byte.
const CTL_HOB: u8 = 0x80;

/// Sectors an LBA48 command can address (words 100-103 of IDENTIFY stop there).
const LBA48_LIMIT: u64 = 1 << 48;

/// The largest READ/WRITE MULTIPLE block we offer (IDENTIFY word 47).
const MAX_MULTIPLE: u32 = 16;

/// The task-file registers, in port order (base+1 .. base+6 when written). Features,
/// sector count and the three LBA registers are pairs for the 48-bit commands: a write
/// moves the current byte to the `hob_` (previous) one; the EXT commands take the high
/// halves of the count and the address from there, and a read with device control HOB set
/// returns them.
#[derive(Clone, Copy, Debug, Default)]
struct TaskFile {
    features: u8,
    count: u8,
    sector: u8,
    cyl_lo: u8,
    cyl_hi: u8,
    device: u8,
    hob_features: u8,
    hob_count: u8,
    hob_sector: u8,
    hob_cyl_lo: u8,
    hob_cyl_hi: u8,
}

/// A hard disk on a channel, with the per-device state the commands change.
pub struct AtaDrive {
    pub disk: Disk,
    status: u8,
    error: u8,
    /// Sectors per READ/WRITE MULTIPLE block (0: multiple mode off).
    multiple: u32,
    /// The CHS translation INITIALIZE DEVICE PARAMETERS chose (heads, sectors per track).
    heads: u32,
    spt: u32,
    /// An ATAPI CD-ROM (PACKET commands) rather than a hard disk.
    pub atapi: bool,
    sense: Sense,
}

/// The default ATA CHS geometry of a disk: 16 heads, 63 sectors, up to 16383 cylinders.
fn default_geometry(sectors: u64) -> (u32, u32, u32) {
    let cyl = (sectors / (16 * 63)).clamp(1, 16383) as u32;
    (cyl, 16, 63)
}

impl AtaDrive {
    pub fn new(disk: Disk) -> AtaDrive {
        let (_, heads, spt) = default_geometry(disk.sectors);
        AtaDrive {
            disk,
            status: ST_DRDY | ST_DSC,
            error: 0x01,
            multiple: 0,
            heads,
            spt,
            atapi: false,
            sense: Sense::default(),
        }
    }

    /// An ATAPI CD-ROM drive with `disk` (an ISO image) in it.
    pub fn cdrom(disk: Disk) -> AtaDrive {
        AtaDrive {
            status: 0,
            atapi: true,
            ..AtaDrive::new(disk)
        }
    }

    /// The 256 words of IDENTIFY DEVICE.
    fn identify(&self) -> [u8; SECTOR] {
        let mut w = [0u16; 256];
        let (cyl, heads, spt) = default_geometry(self.disk.sectors);
        let lba28 = self.disk.sectors.min(0x0FFF_FFFF) as u32;
        w[0] = 0x0040; // fixed device
        w[1] = cyl as u16;
        w[3] = heads as u16;
        w[6] = spt as u16;
        put_string(&mut w[10..20], "EMU0000000000001");
        put_string(&mut w[23..27], "1.0");
        put_string(&mut w[27..47], "EMU HARDDISK");
        w[47] = 0x8000 | MAX_MULTIPLE as u16;
        w[49] = 0x0200; // LBA supported (no DMA)
        w[50] = 0x4000;
        w[51] = 0x0200; // PIO mode 2 timing
        w[53] = 0x0003; // words 54-58 and 64-70 valid
        let cur_cyl = (self.disk.sectors / (self.heads * self.spt) as u64).min(0xFFFF) as u32;
        w[54] = cur_cyl as u16;
        w[55] = self.heads as u16;
        w[56] = self.spt as u16;
        let cur = cur_cyl * self.heads * self.spt;
        w[57] = cur as u16;
        w[58] = (cur >> 16) as u16;
        w[59] = if self.multiple > 0 {
            0x0100 | self.multiple as u16
        } else {
            0
        };
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        w[64] = 0x0003; // PIO modes 3 and 4
        w[65] = 120;
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[80] = 0x007E; // ATA-1 .. ATA-6
        w[82] = 0x4000; // NOP
                        // Supported and enabled: FLUSH CACHE EXT (bit 13), FLUSH CACHE (12), 48-bit
                        // addressing (10).
        w[83] = 0x7400;
        w[84] = 0x4000;
        w[85] = 0x4000;
        w[86] = 0x3400;
        w[87] = 0x4000;
        let lba48 = self.disk.sectors.min(LBA48_LIMIT);
        for (i, word) in w[100..104].iter_mut().enumerate() {
            *word = (lba48 >> (16 * i)) as u16;
        }
        let mut out = [0u8; SECTOR];
        for (i, v) in w.iter().enumerate() {
            out[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
        }
        // Integrity word: signature A5h and a checksum making the 512 bytes sum to zero.
        out[510] = 0xA5;
        let sum = out[..511].iter().fold(0u8, |a, &b| a.wrapping_add(b));
        out[511] = sum.wrapping_neg();
        out
    }
}

/// ATA strings: two characters per word, the first in the high byte, space padded.
fn put_string(words: &mut [u16], s: &str) {
    let mut bytes = s.bytes().chain(std::iter::repeat(b' '));
    for w in words.iter_mut() {
        let hi = bytes.next().unwrap_or(b' ') as u16;
        let lo = bytes.next().unwrap_or(b' ') as u16;
        *w = hi << 8 | lo;
    }
}

/// A PIO data transfer in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transfer {
    None,
    /// Data for the host is in the buffer; `left` sectors follow from `lba` in blocks of
    /// `block` sectors.
    In {
        lba: u64,
        left: u32,
        block: u32,
    },
    /// The host fills the buffer with the sectors for `lba`; `left` sectors in all remain.
    Out {
        lba: u64,
        left: u32,
        block: u32,
    },
    /// ATAPI: the 12-byte packet is being written.
    Packet,
    /// ATAPI: data for the host is in the buffer; `blocks` 2048-byte blocks follow from
    /// `lba`, in chunks of at most `limit` bytes (the host's byte count), or, for a reply
    /// that is not a READ, the rest of the reply (`Channel::packet_rest`).
    PacketIn {
        lba: u64,
        blocks: u64,
        limit: usize,
    },
}

pub struct Channel {
    pub drives: [Option<AtaDrive>; 2],
    regs: TaskFile,
    control: u8,
    buffer: Vec<u8>,
    pos: usize,
    transfer: Transfer,
    /// The device whose command the transfer belongs to: only it answers on the data port
    /// (a guest that selects the other device in the middle reaches nothing there).
    owner: usize,
    /// ATAPI: the part of a packet's reply beyond the chunk in `buffer` (a reply longer
    /// than the host's byte count comes in several DRQ blocks).
    packet_rest: Vec<u8>,
    /// The command being run is a 48-bit one (EXT): its count and address use the HOB
    /// bytes, and the task file is updated in that form.
    lba48: bool,
    irq_pending: bool,
    /// Set when the channel raised its interrupt; the bus takes it to end the CPU's slice
    /// so the interrupt is delivered promptly.
    pub raised: bool,
}

impl Default for Channel {
    fn default() -> Self {
        Channel {
            drives: [None, None],
            regs: TaskFile::default(),
            control: 0,
            buffer: Vec::new(),
            pos: 0,
            transfer: Transfer::None,
            owner: 0,
            packet_rest: Vec::new(),
            lba48: false,
            irq_pending: false,
            raised: false,
        }
    }
}

impl Channel {
    fn selected(&self) -> usize {
        (self.regs.device >> 4 & 1) as usize
    }

    fn drive(&mut self) -> Option<&mut AtaDrive> {
        let i = self.selected();
        self.drives[i].as_mut()
    }

    fn present(&self) -> bool {
        self.drives.iter().any(|d| d.is_some())
    }

    /// The interrupt line (IRQ14/15): pending and not masked by nIEN.
    pub fn irq(&self) -> bool {
        self.irq_pending && self.control & CTL_NIEN == 0
    }

    fn raise(&mut self) {
        self.irq_pending = true;
        self.raised = true;
    }

    fn status(&self) -> u8 {
        if self.control & CTL_SRST != 0 {
            return ST_BSY;
        }
        match &self.drives[self.selected()] {
            Some(d) => d.status,
            // Device 0 answers for an absent device 1 with status 0.
            None => 0,
        }
    }

    /// Reads task-file register `reg` (1..=7 of the command block).
    pub fn read(&mut self, reg: u16) -> u8 {
        if !self.present() {
            return 0xFF; // nothing drives the bus
        }
        let r = &self.regs;
        let hob = self.control & CTL_HOB != 0;
        match reg {
            0 => self.read_data(1) as u8,
            1 => self.drives[self.selected()].as_ref().map_or(0, |d| d.error),
            2 if hob => r.hob_count,
            3 if hob => r.hob_sector,
            4 if hob => r.hob_cyl_lo,
            5 if hob => r.hob_cyl_hi,
            2 => r.count,
            3 => r.sector,
            4 => r.cyl_lo,
            5 => r.cyl_hi,
            6 => r.device | 0xA0,
            _ => {
                self.irq_pending = false;
                self.status()
            }
        }
    }

    /// The alternate status register: the status without acknowledging the interrupt.
    pub fn read_alt_status(&self) -> u8 {
        if self.present() {
            self.status()
        } else {
            0xFF
        }
    }

    pub fn write(&mut self, reg: u16, v: u8) {
        if reg != 0 {
            // A write to any command block register clears HOB.
            self.control &= !CTL_HOB;
        }
        let r = &mut self.regs;
        // The pairs: the byte written becomes current, the current one previous.
        let push = |cur: &mut u8, prev: &mut u8| {
            *prev = *cur;
            *cur = v;
        };
        match reg {
            0 => self.write_data(1, v as u32),
            1 => push(&mut r.features, &mut r.hob_features),
            2 => push(&mut r.count, &mut r.hob_count),
            3 => push(&mut r.sector, &mut r.hob_sector),
            4 => push(&mut r.cyl_lo, &mut r.hob_cyl_lo),
            5 => push(&mut r.cyl_hi, &mut r.hob_cyl_hi),
            6 => r.device = v,
            _ => self.command(v),
        }
    }

    /// The device control register: nIEN, SRST (the reset happens as SRST goes low) and
    /// HOB.
    pub fn write_control(&mut self, v: u8) {
        let was_reset = self.control & CTL_SRST != 0;
        self.control = v;
        if was_reset && v & CTL_SRST == 0 {
            self.reset();
        }
    }

    /// Software reset: both devices return to their power-on state with the ATA signature
    /// in the task file and device 0 selected.
    pub fn reset(&mut self) {
        self.transfer = Transfer::None;
        self.buffer.clear();
        self.packet_rest.clear();
        self.pos = 0;
        self.irq_pending = false;
        self.lba48 = false;
        self.regs = TaskFile {
            count: 1,
            sector: 1,
            ..TaskFile::default()
        };
        for d in self.drives.iter_mut().flatten() {
            d.status = if d.atapi { 0 } else { ST_DRDY | ST_DSC };
            d.error = 0x01; // diagnostics passed
        }
        self.atapi_signature();
    }

    /// An ATAPI device puts 14h/EBh in the cylinder registers after reset (and when it
    /// refuses ATA commands), so drivers can tell it from a hard disk.
    fn atapi_signature(&mut self) {
        if self.drives[self.selected()]
            .as_ref()
            .is_some_and(|d| d.atapi)
        {
            self.regs.count = 1;
            self.regs.sector = 1;
            self.regs.cyl_lo = 0x14;
            self.regs.cyl_hi = 0xEB;
        }
    }

    /// The command's sector count: 0 means 256, or 65536 for a 48-bit command.
    fn sector_count(&self) -> u32 {
        if self.lba48 {
            match (self.regs.hob_count as u32) << 8 | self.regs.count as u32 {
                0 => 65536,
                n => n,
            }
        } else {
            match self.regs.count {
                0 => 256,
                n => n as u32,
            }
        }
    }

    /// Puts a remaining sector count back into the task file.
    fn set_count(&mut self, n: u32) {
        self.regs.count = n as u8;
        if self.lba48 {
            self.regs.hob_count = (n >> 8) as u8;
        }
    }

    /// The command's starting sector from the task file (LBA48, LBA28 or CHS), None when a
    /// CHS address lies outside the current translation.
    fn start_lba(&mut self) -> Option<u64> {
        let r = self.regs;
        let d = self.drives[self.selected()].as_ref()?;
        if self.lba48 {
            let bytes = [
                r.sector,
                r.cyl_lo,
                r.cyl_hi,
                r.hob_sector,
                r.hob_cyl_lo,
                r.hob_cyl_hi,
            ];
            return Some(bytes.iter().rev().fold(0u64, |a, &b| a << 8 | b as u64));
        }
        if r.device & 0x40 != 0 {
            return Some(
                ((r.device & 0x0F) as u64) << 24
                    | (r.cyl_hi as u64) << 16
                    | (r.cyl_lo as u64) << 8
                    | r.sector as u64,
            );
        }
        let cyl = r.cyl_lo as u32 | (r.cyl_hi as u32) << 8;
        let head = (r.device & 0x0F) as u32;
        let sec = r.sector as u32;
        if sec == 0 || sec > d.spt || head >= d.heads {
            return None;
        }
        Some(((cyl as u64 * d.heads as u64) + head as u64) * d.spt as u64 + sec as u64 - 1)
    }

    /// Puts `lba` back into the task file in the addressing mode of the command.
    fn set_address(&mut self, lba: u64) {
        let sel = self.selected();
        let (heads, spt) = match &self.drives[sel] {
            Some(d) => (d.heads as u64, d.spt as u64),
            None => return,
        };
        let r = &mut self.regs;
        if self.lba48 {
            r.sector = lba as u8;
            r.cyl_lo = (lba >> 8) as u8;
            r.cyl_hi = (lba >> 16) as u8;
            r.hob_sector = (lba >> 24) as u8;
            r.hob_cyl_lo = (lba >> 32) as u8;
            r.hob_cyl_hi = (lba >> 40) as u8;
        } else if r.device & 0x40 != 0 {
            r.sector = lba as u8;
            r.cyl_lo = (lba >> 8) as u8;
            r.cyl_hi = (lba >> 16) as u8;
            r.device = (r.device & 0xF0) | (lba >> 24 & 0x0F) as u8;
        } else {
            let cyl = lba / (heads * spt);
            let head = lba / spt % heads;
            r.sector = (lba % spt + 1) as u8;
            r.cyl_lo = cyl as u8;
            r.cyl_hi = (cyl >> 8) as u8;
            r.device = (r.device & 0xF0) | head as u8;
        }
    }

    /// Ends the command: status, error, and (unless told otherwise) the interrupt.
    fn finish(&mut self, error: u8) {
        if let Some(d) = self.drive() {
            d.error = error;
            d.status = ST_DRDY | ST_DSC | if error != 0 { ST_ERR } else { 0 };
        }
        self.transfer = Transfer::None;
        self.raise();
    }

    fn abort(&mut self) {
        self.finish(ER_ABRT);
    }

    fn command(&mut self, cmd: u8) {
        if self.control & CTL_SRST != 0 {
            return;
        }
        self.irq_pending = false;
        if cmd == 0x90 {
            // EXECUTE DEVICE DIAGNOSTIC: device 0 answers for both.
            self.reset();
            self.raise();
            return;
        }
        let sel = self.selected();
        if self.drives[sel].is_none() {
            return; // an absent device ignores commands (and leaves the other's transfer)
        }
        if self.transfer != Transfer::None && self.owner != sel {
            // The other device's data phase: the channel has one buffer, so it ends,
            // aborted.
            if let Some(d) = self.drives[self.owner].as_mut() {
                d.status = ST_DRDY | ST_DSC | ST_ERR;
                d.error = ER_ABRT;
            }
            self.transfer = Transfer::None;
        }
        self.owner = sel;
        // The 48-bit commands: READ/WRITE SECTORS EXT, READ/WRITE MULTIPLE EXT, READ
        // VERIFY SECTORS EXT (the DMA ones, 25h/35h, abort like the other DMA commands).
        self.lba48 = matches!(cmd, 0x24 | 0x29 | 0x34 | 0x39 | 0x42);
        let count = self.sector_count();
        let Some(d) = self.drive() else {
            return;
        };
        d.status = ST_DRDY | ST_DSC;
        d.error = 0;
        if d.atapi {
            self.lba48 = false;
            self.atapi_command(cmd);
            return;
        }
        match cmd {
            0xEC => {
                let data = d.identify();
                self.start_in(&data, Transfer::None);
            }
            0x20 | 0x21 | 0x24 => self.start_read(count, 1),
            0xC4 | 0x29 => match self.multiple() {
                0 => self.abort(),
                m => self.start_read(count, m),
            },
            0x30 | 0x31 | 0x34 => self.start_write(count, 1),
            0xC5 | 0x39 => match self.multiple() {
                0 => self.abort(),
                m => self.start_write(count, m),
            },
            0x40..=0x42 => match self.start_lba() {
                Some(lba) if lba + count as u64 <= self.disk_sectors() => {
                    self.set_address(lba + count as u64 - 1);
                    self.set_count(0);
                    self.finish(0);
                }
                _ => self.finish(ER_IDNF),
            },
            0xC6 => {
                let n = self.regs.count as u32;
                if n <= MAX_MULTIPLE && n.is_power_of_two() || n == 0 {
                    if let Some(d) = self.drive() {
                        d.multiple = n;
                    }
                    self.finish(0);
                } else {
                    self.abort();
                }
            }
            0x91 => {
                let (heads, spt) = ((self.regs.device & 0x0F) as u32 + 1, self.regs.count as u32);
                if spt == 0 {
                    self.abort();
                } else {
                    if let Some(d) = self.drive() {
                        d.heads = heads;
                        d.spt = spt;
                    }
                    self.finish(0);
                }
            }
            // SET FEATURES: transfer mode, write cache, read look-ahead, reverting defaults.
            0xEF => match self.regs.features {
                0x02 | 0x03 | 0x55 | 0x66 | 0x82 | 0xAA | 0xCC => self.finish(0),
                _ => self.abort(),
            },
            0xE5 | 0x98 => {
                self.regs.count = 0xFF; // CHECK POWER MODE: active
                self.finish(0);
            }
            // FLUSH CACHE (EXT) (writes are already on the file), RECALIBRATE, SEEK,
            // standby/idle.
            0xE7 | 0xEA | 0x10..=0x1F | 0x70..=0x7F | 0xE0..=0xE3 | 0x94..=0x97 => self.finish(0),
            _ => self.abort(),
        }
    }

    /// ATA commands to an ATAPI device: the packet protocol and its identification.
    fn atapi_command(&mut self, cmd: u8) {
        match cmd {
            0xA0 => {
                // PACKET: ask for the 12 command bytes (interrupt reason: command out).
                self.buffer.clear();
                self.buffer.resize(12, 0);
                self.pos = 0;
                self.transfer = Transfer::Packet;
                self.regs.count = 0x01;
                if let Some(d) = self.drive() {
                    d.status = ST_DRDY | ST_DSC | ST_DRQ;
                }
            }
            0xA1 => self.start_in(&atapi::identify(), Transfer::None),
            0x08 => {
                // DEVICE RESET.
                if let Some(d) = self.drive() {
                    d.status = 0;
                    d.error = 0x01;
                }
                self.transfer = Transfer::None;
                self.atapi_signature();
            }
            0xEF | 0xE7 | 0xE0..=0xE3 => self.finish(0),
            _ => {
                self.abort();
                self.atapi_signature();
            }
        }
    }

    /// Runs the packet in the buffer.
    fn atapi_packet(&mut self) {
        let mut packet = [0u8; 12];
        packet.copy_from_slice(&self.buffer[..12]);
        let limit = match (self.regs.cyl_lo as usize | (self.regs.cyl_hi as usize) << 8) & !1 {
            0 => 0xFFFE,
            n => n,
        };
        self.packet_rest.clear();
        let Some(d) = self.drive() else {
            return;
        };
        let reply = atapi::execute(&packet, &d.disk, d.sense);
        if packet[0] != 0x03 {
            d.sense = Sense::default();
        }
        match reply {
            Reply::Done => self.atapi_done(),
            Reply::Error(sense) => self.atapi_error(sense),
            Reply::Data(data) => self.atapi_data(data, limit),
            Reply::Read { lba, blocks } => self.atapi_read(lba, blocks, limit),
        }
    }

    /// The next chunk of a reply: at most `limit` bytes, the rest kept for the next DRQ
    /// block. An empty reply (allocation length 0) completes the command without data.
    fn atapi_data(&mut self, mut data: Vec<u8>, limit: usize) {
        if data.is_empty() {
            self.atapi_done();
            return;
        }
        self.packet_rest = data.split_off(data.len().min(limit));
        self.atapi_offer(
            &data,
            Transfer::PacketIn {
                lba: 0,
                blocks: 0,
                limit,
            },
        );
    }

    /// Offers a chunk of packet data: byte count in the cylinder registers, reason "data
    /// in", DRQ and an interrupt.
    fn atapi_offer(&mut self, data: &[u8], next: Transfer) {
        self.buffer.clear();
        self.buffer.extend_from_slice(data);
        self.pos = 0;
        self.transfer = next;
        self.regs.cyl_lo = data.len() as u8;
        self.regs.cyl_hi = (data.len() >> 8) as u8;
        self.regs.count = 0x02;
        if let Some(d) = self.drive() {
            d.status = ST_DRDY | ST_DSC | ST_DRQ;
        }
        self.raise();
    }

    /// The next chunk of a READ: whole blocks within the byte count (at least one).
    fn atapi_read(&mut self, lba: u64, blocks: u64, limit: usize) {
        let n = ((limit / atapi::BLOCK) as u64).clamp(1, 32).min(blocks);
        let Some(d) = self.drive() else {
            return;
        };
        match atapi::read_blocks(&mut d.disk, lba, n) {
            Ok(data) => self.atapi_offer(
                &data,
                Transfer::PacketIn {
                    lba: lba + n,
                    blocks: blocks - n,
                    limit,
                },
            ),
            Err(sense) => self.atapi_error(sense),
        }
    }

    fn atapi_done(&mut self) {
        self.regs.count = 0x03; // command complete
        self.finish(0);
    }

    fn atapi_error(&mut self, sense: Sense) {
        if let Some(d) = self.drive() {
            d.sense = sense;
        }
        self.regs.count = 0x03;
        self.finish(sense.0 << 4 | ER_ABRT);
    }

    fn multiple(&self) -> u32 {
        self.drives[self.selected()]
            .as_ref()
            .map_or(0, |d| d.multiple)
    }

    fn disk_sectors(&self) -> u64 {
        self.drives[self.selected()]
            .as_ref()
            .map_or(0, |d| d.disk.sectors)
    }

    /// Offers `data` to the host (DRQ) and interrupts; `next` is what follows.
    fn start_in(&mut self, data: &[u8], next: Transfer) {
        self.buffer.clear();
        self.buffer.extend_from_slice(data);
        self.pos = 0;
        self.transfer = next;
        if let Some(d) = self.drive() {
            d.status = ST_DRDY | ST_DSC | ST_DRQ;
        }
        self.raise();
        if next == Transfer::None {
            // Data with nothing after it (IDENTIFY): keep a marker transfer so reads drain it.
            self.transfer = Transfer::In {
                lba: 0,
                left: 0,
                block: 1,
            };
        }
    }

    fn start_read(&mut self, count: u32, block: u32) {
        match self.start_lba() {
            Some(lba) => self.load_block(lba, count, block),
            None => self.finish(ER_IDNF),
        }
    }

    /// Reads the next block of an IN transfer into the buffer and offers it.
    fn load_block(&mut self, lba: u64, left: u32, block: u32) {
        let n = block.min(left);
        let mut data = vec![0u8; n as usize * SECTOR];
        let end = lba.saturating_add(n as u64);
        let ok = end <= self.disk_sectors()
            && self
                .drive()
                .is_some_and(|d| d.disk.read(lba, &mut data).is_ok());
        if !ok {
            self.set_address(lba.min(self.disk_sectors()));
            self.finish(if end > self.disk_sectors() {
                ER_IDNF
            } else {
                ER_UNC
            });
            return;
        }
        self.set_address(end - 1);
        self.set_count(left - n);
        self.start_in(
            &data,
            Transfer::In {
                lba: end,
                left: left - n,
                block,
            },
        );
    }

    fn start_write(&mut self, count: u32, block: u32) {
        let Some(lba) = self.start_lba() else {
            self.finish(ER_IDNF);
            return;
        };
        self.expect_block(lba, count, block);
    }

    /// Asks the host for the next block of an OUT transfer (DRQ, no interrupt).
    fn expect_block(&mut self, lba: u64, left: u32, block: u32) {
        let n = block.min(left) as usize;
        self.buffer.clear();
        self.buffer.resize(n * SECTOR, 0);
        self.pos = 0;
        self.transfer = Transfer::Out { lba, left, block };
        if let Some(d) = self.drive() {
            d.status = ST_DRDY | ST_DSC | ST_DRQ;
        }
    }

    /// Consistency of the channel's state, for the device fuzz: DRQ on a device means it
    /// has a transfer with bytes still to move, and a transfer in progress shows DRQ.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        let remaining = match self.transfer {
            Transfer::None => 0,
            Transfer::Packet => 12usize.saturating_sub(self.pos),
            _ => self.buffer.len().saturating_sub(self.pos),
        };
        if self.transfer != Transfer::None && remaining == 0 {
            return Err(format!("{:?} with no bytes left", self.transfer));
        }
        if self.control & CTL_SRST != 0 {
            return Ok(());
        }
        for (i, d) in self.drives.iter().enumerate() {
            let Some(d) = d else { continue };
            let owns = self.transfer != Transfer::None && self.owner == i;
            if d.status & ST_DRQ != 0 && !owns {
                return Err(format!("device {i}: DRQ without a transfer"));
            }
            if owns && d.status & ST_DRQ == 0 {
                return Err(format!("device {i}: {:?} without DRQ", self.transfer));
            }
        }
        Ok(())
    }

    /// Reads `size` bytes from the data port (little-endian).
    pub fn read_data(&mut self, size: u8) -> u32 {
        let reading = matches!(
            self.transfer,
            Transfer::In { .. } | Transfer::PacketIn { .. }
        );
        if !reading || self.pos >= self.buffer.len() || self.selected() != self.owner {
            return u32::MAX >> (32 - 8 * size as u32);
        }
        let mut v = 0u32;
        for k in 0..size as usize {
            let b = self.buffer.get(self.pos).copied().unwrap_or(0xFF);
            self.pos = (self.pos + 1).min(self.buffer.len());
            v |= (b as u32) << (8 * k);
        }
        if self.pos >= self.buffer.len() {
            match self.transfer {
                Transfer::In { lba, left, block } if left > 0 => self.load_block(lba, left, block),
                Transfer::In { .. } => {
                    self.transfer = Transfer::None;
                    if let Some(d) = self.drive() {
                        d.status = ST_DRDY | ST_DSC;
                    }
                }
                Transfer::PacketIn { lba, blocks, limit } if blocks > 0 => {
                    self.atapi_read(lba, blocks, limit)
                }
                Transfer::PacketIn { limit, .. } if !self.packet_rest.is_empty() => {
                    let rest = std::mem::take(&mut self.packet_rest);
                    self.atapi_data(rest, limit)
                }
                Transfer::PacketIn { .. } => self.atapi_done(),
                _ => {}
            }
        }
        v
    }

    /// Writes `size` bytes to the data port.
    pub fn write_data(&mut self, size: u8, v: u32) {
        if self.selected() != self.owner {
            return; // the selected device has no data phase
        }
        if self.transfer == Transfer::Packet {
            for k in 0..size as usize {
                if self.pos < 12 {
                    self.buffer[self.pos] = (v >> (8 * k)) as u8;
                    self.pos += 1;
                }
            }
            if self.pos >= 12 {
                self.transfer = Transfer::None;
                self.atapi_packet();
            }
            return;
        }
        let Transfer::Out { lba, left, block } = self.transfer else {
            return;
        };
        for k in 0..size as usize {
            if self.pos < self.buffer.len() {
                self.buffer[self.pos] = (v >> (8 * k)) as u8;
                self.pos += 1;
            }
        }
        if self.pos < self.buffer.len() {
            return;
        }
        let n = (self.buffer.len() / SECTOR) as u32;
        let end = lba.saturating_add(n as u64);
        let buffer = std::mem::take(&mut self.buffer);
        let result = if end > self.disk_sectors() {
            Err(ER_IDNF)
        } else {
            match self.drive() {
                Some(d) => d.disk.write(lba, &buffer).map_err(|_| ER_ABRT),
                None => Err(ER_ABRT),
            }
        };
        self.buffer = buffer;
        match result {
            Err(e) => {
                self.set_address(lba.min(self.disk_sectors()));
                self.finish(e);
            }
            Ok(()) => {
                self.set_address(end - 1);
                self.set_count(left - n);
                if left > n {
                    self.expect_block(end, left - n, block);
                    self.raise();
                } else {
                    self.finish(0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_disk(name: &str, sectors: usize) -> (PathBuf, Disk) {
        let p = std::env::temp_dir().join(format!("emu-ata-{}-{name}", std::process::id()));
        let mut bytes = vec![0u8; sectors * SECTOR];
        for (i, s) in bytes.chunks_mut(SECTOR).enumerate() {
            s[0..4].copy_from_slice(&(i as u32).to_le_bytes());
        }
        std::fs::write(&p, &bytes).unwrap();
        let d = Disk::open(&p, Some(crate::storage::MediaKind::HardDisk)).unwrap();
        (p, d)
    }

    fn channel(name: &str, sectors: usize) -> (PathBuf, Channel) {
        let (p, d) = temp_disk(name, sectors);
        let mut c = Channel::default();
        c.drives[0] = Some(AtaDrive::new(d));
        (p, c)
    }

    fn set_lba(c: &mut Channel, lba: u32, count: u8) {
        c.write(2, count);
        c.write(3, lba as u8);
        c.write(4, (lba >> 8) as u8);
        c.write(5, (lba >> 16) as u8);
        c.write(6, 0xE0 | (lba >> 24) as u8 & 0x0F);
    }

    fn read_sector(c: &mut Channel) -> Vec<u8> {
        (0..256)
            .flat_map(|_| (c.read_data(2) as u16).to_le_bytes())
            .collect()
    }

    #[test]
    fn no_device_floats_and_absent_slave_reads_zero() {
        let mut empty = Channel::default();
        assert_eq!(empty.read(7), 0xFF);
        assert_eq!(empty.read_alt_status(), 0xFF);
        let (p, mut c) = channel("sel", 64);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        c.write(6, 0xB0); // device 1: absent
        assert_eq!(c.read(7), 0);
        c.write(7, 0xEC); // ignored
        assert!(!c.irq());
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn identify_reports_geometry_capacity_and_checksum() {
        let (p, mut c) = channel("id", 16 * 63 * 3);
        c.write(6, 0xA0);
        c.write(7, 0xEC);
        assert!(c.irq());
        assert_eq!(c.read_alt_status(), ST_DRDY | ST_DSC | ST_DRQ);
        assert!(c.irq(), "alternate status does not acknowledge");
        assert_eq!(c.read(7) & ST_DRQ, ST_DRQ);
        assert!(!c.irq(), "status acknowledges");
        let id = read_sector(&mut c);
        let word = |i: usize| u16::from_le_bytes([id[2 * i], id[2 * i + 1]]);
        assert_eq!((word(1), word(3), word(6)), (3, 16, 63));
        assert_eq!(word(60) as u32 | (word(61) as u32) << 16, 16 * 63 * 3);
        assert_eq!(&id[54..62], b"ME UAHDR"); // "EMU HARD" with bytes swapped per word
        assert_eq!(id.iter().fold(0u8, |a, &b| a.wrapping_add(b)), 0);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn read_sectors_lba_interrupts_per_sector() {
        let (p, mut c) = channel("rd", 100);
        set_lba(&mut c, 10, 3);
        c.write(7, 0x20);
        for lba in 10..13u32 {
            assert!(c.irq());
            assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_DRQ);
            let s = read_sector(&mut c);
            assert_eq!(u32::from_le_bytes(s[0..4].try_into().unwrap()), lba);
        }
        assert!(!c.irq(), "no interrupt after the last sector of a read");
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        assert_eq!(c.read(3), 12, "task file holds the last sector");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn chs_addressing_and_initialize_device_parameters() {
        let (p, mut c) = channel("chs", 16 * 63 * 2);
        // Cylinder 1, head 2, sector 5 under 16/63: (1*16+2)*63+4.
        c.write(2, 1);
        c.write(3, 5);
        c.write(4, 1);
        c.write(5, 0);
        c.write(6, 0xA2);
        c.write(7, 0x20);
        let s = read_sector(&mut c);
        assert_eq!(u32::from_le_bytes(s[0..4].try_into().unwrap()), 18 * 63 + 4);
        // Translate to 4 heads, 17 sectors.
        c.write(2, 17);
        c.write(6, 0xA3);
        c.write(7, 0x91);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        c.write(2, 1);
        c.write(3, 17);
        c.write(4, 2);
        c.write(6, 0xA3);
        c.write(7, 0x20);
        let s = read_sector(&mut c);
        assert_eq!(
            u32::from_le_bytes(s[0..4].try_into().unwrap()),
            (2 * 4 + 3) * 17 + 16
        );
        // Sector 18 does not exist under 17 sectors per track.
        c.write(3, 18);
        c.write(7, 0x20);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_ERR);
        assert_eq!(c.read(1), ER_IDNF);
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn write_multiple_reaches_the_file_with_32_bit_access() {
        let (p, mut c) = channel("wm", 64);
        set_lba(&mut c, 0, 0);
        c.write(2, 4);
        c.write(7, 0xC5);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_ERR, "multiple mode off");
        assert_eq!(c.read(1), ER_ABRT);
        c.write(2, 3);
        c.write(7, 0xC6);
        assert_eq!(c.read(1), ER_ABRT, "not a power of two");
        c.write(2, 4);
        c.write(7, 0xC6);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        set_lba(&mut c, 20, 6);
        c.write(7, 0xC5);
        assert!(!c.irq(), "no interrupt before the first block");
        for block in 0..2 {
            assert_eq!(c.read_alt_status() & ST_DRQ, ST_DRQ);
            let n = if block == 0 { 4 } else { 2 };
            for i in 0..n * 128 {
                c.write_data(4, 0xA5A5_0000 | (block * 1000 + i) as u32);
            }
            assert!(c.irq(), "an interrupt after each block");
            c.read(7);
        }
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[20 * 512..20 * 512 + 4], &[0, 0, 0xA5, 0xA5]);
        assert_eq!(&bytes[24 * 512..24 * 512 + 4], &[0xE8, 0x03, 0xA5, 0xA5]);
        assert_eq!(&bytes[26 * 512..26 * 512 + 4], &[26, 0, 0, 0], "untouched");
        let _ = std::fs::remove_file(p);
    }

    /// Regression (device fuzz): selecting the other device in the middle of a data phase
    /// handed it the transfer: its data port read the first device's buffer, the next
    /// block came from its own disk, and the first device kept DRQ forever. Only the device
    /// that owns the transfer answers on the data port; a command to the other one aborts
    /// it.
    #[test]
    fn selecting_the_other_device_mid_transfer_does_not_move_the_data() {
        let (p0, mut c) = channel("own0", 64);
        let (p1, d1) = temp_disk("own1", 64);
        c.drives[1] = Some(AtaDrive::new(d1));
        set_lba(&mut c, 10, 2);
        c.write(7, 0x20);
        assert_eq!(c.read_data(2), 10, "first word of sector 10");
        c.write(6, 0xF0); // device 1: no data phase
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        for _ in 0..300 {
            assert_eq!(c.read_data(2), 0xFFFF);
        }
        c.write_data(2, 0x1234);
        c.write(6, 0xE0); // back to device 0: the transfer goes on where it was
        assert_eq!(c.read(7) & ST_DRQ, ST_DRQ);
        assert_eq!(c.read_data(2), 0, "second word of sector 10");
        for _ in 2..256 {
            c.read_data(2);
        }
        assert_eq!(c.read_data(2), 11, "sector 11 from device 0's disk");
        // A command to device 1 during device 0's write aborts the write.
        set_lba(&mut c, 30, 1);
        c.write(7, 0x30);
        c.write_data(2, 0xBEEF);
        c.write(6, 0xF0);
        c.write(7, 0xE7); // FLUSH CACHE on device 1
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        c.write(6, 0xE0);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_ERR);
        assert_eq!(c.read(1), ER_ABRT);
        for _ in 0..256 {
            c.write_data(2, 0xFFFF);
        }
        c.check_invariants().unwrap();
        assert_eq!(
            &std::fs::read(&p0).unwrap()[30 * 512..30 * 512 + 2],
            &[30, 0]
        );
        assert_eq!(
            &std::fs::read(&p1).unwrap()[30 * 512..30 * 512 + 2],
            &[30, 0]
        );
        let _ = std::fs::remove_file(p0);
        let _ = std::fs::remove_file(p1);
    }

    #[test]
    fn read_multiple_blocks_and_errors_past_the_end() {
        let (p, mut c) = channel("rm", 40);
        c.write(2, 8);
        c.write(7, 0xC6);
        set_lba(&mut c, 30, 10);
        c.write(7, 0xC4);
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(u32::from_le_bytes(
                read_sector(&mut c)[0..4].try_into().unwrap(),
            ));
        }
        assert_eq!(seen, (30..38).collect::<Vec<_>>());
        assert_eq!(c.read(7) & ST_DRQ, ST_DRQ);
        read_sector(&mut c);
        read_sector(&mut c);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        // Past the end: the sectors before it arrive, then the error.
        set_lba(&mut c, 38, 4);
        c.write(7, 0x20);
        read_sector(&mut c);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_DRQ);
        read_sector(&mut c);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_ERR);
        assert_eq!(c.read(1), ER_IDNF);
        // READ VERIFY checks the range without data.
        set_lba(&mut c, 35, 5);
        c.write(7, 0x40);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        set_lba(&mut c, 36, 5);
        c.write(7, 0x40);
        assert_eq!(c.read(1), ER_IDNF);
        let _ = std::fs::remove_file(p);
    }

    /// A sparse image of `sectors` sectors with sector `lba`'s first bytes holding `lba`.
    fn sparse_channel(name: &str, sectors: u64, marked: &[u64]) -> (PathBuf, Channel) {
        use std::io::{Seek, SeekFrom, Write};
        let p = std::env::temp_dir().join(format!("emu-ata-{}-{name}", std::process::id()));
        let mut f = std::fs::File::create(&p).unwrap();
        f.set_len(sectors * SECTOR as u64).unwrap();
        for &lba in marked {
            f.seek(SeekFrom::Start(lba * SECTOR as u64)).unwrap();
            f.write_all(&lba.to_le_bytes()).unwrap();
        }
        drop(f);
        let d = Disk::open(&p, Some(crate::storage::MediaKind::HardDisk)).unwrap();
        let mut c = Channel::default();
        c.drives[0] = Some(AtaDrive::new(d));
        (p, c)
    }

    /// Loads a 48-bit address and count the way a driver does: high bytes first.
    fn set_lba48(c: &mut Channel, lba: u64, count: u16) {
        c.write(2, (count >> 8) as u8);
        c.write(3, (lba >> 24) as u8);
        c.write(4, (lba >> 32) as u8);
        c.write(5, (lba >> 40) as u8);
        c.write(2, count as u8);
        c.write(3, lba as u8);
        c.write(4, (lba >> 8) as u8);
        c.write(5, (lba >> 16) as u8);
        c.write(6, 0xE0);
    }

    /// The 48-bit address in the task file, read through the HOB pairs.
    fn task_file_lba48(c: &mut Channel) -> u64 {
        let lo = [3, 4, 5].map(|r| c.read(r) as u64);
        c.write_control(CTL_HOB);
        let hi = [3, 4, 5].map(|r| c.read(r) as u64);
        c.write_control(0);
        lo[0] | lo[1] << 8 | lo[2] << 16 | hi[0] << 24 | hi[1] << 32 | hi[2] << 40
    }

    #[test]
    fn hob_register_pairs_read_back_previous_bytes() {
        let (p, mut c) = channel("hob", 16);
        for (reg, first, second) in [
            (2, 0x12, 0x34),
            (3, 0x56, 0x78),
            (4, 0x9A, 0xBC),
            (5, 0xDE, 0xF0),
        ] {
            c.write(reg, first);
            c.write(reg, second);
        }
        c.write(6, 0xE5);
        assert_eq!([2, 3, 4, 5].map(|r| c.read(r)), [0x34, 0x78, 0xBC, 0xF0]);
        c.write_control(CTL_HOB);
        assert_eq!([2, 3, 4, 5].map(|r| c.read(r)), [0x12, 0x56, 0x9A, 0xDE]);
        assert_eq!(c.read(6), 0xE5, "the device register has no pair");
        assert_eq!(c.read(1), 0x01, "the error register has no pair");
        // A write to a command block register clears HOB and pushes the pair along.
        c.write(4, 0x11);
        assert_eq!([2, 4].map(|r| c.read(r)), [0x34, 0x11]);
        c.write_control(CTL_HOB);
        assert_eq!([2, 4].map(|r| c.read(r)), [0x12, 0xBC]);
        // SRST clears both halves.
        c.write_control(CTL_HOB | CTL_SRST);
        c.write_control(CTL_HOB);
        assert_eq!([2, 3, 4, 5].map(|r| c.read(r)), [0; 4]);
        c.write_control(0);
        assert_eq!([2, 3, 4, 5].map(|r| c.read(r)), [1, 1, 0, 0]);
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn lba48_reaches_sectors_above_lba28() {
        let big = (1u64 << 28) + 64;
        let high = (1u64 << 28) + 5;
        let (p, mut c) = sparse_channel("lba48", big, &[5, high]);
        c.write(6, 0xA0);
        c.write(7, 0xEC);
        let id = read_sector(&mut c);
        let word = |i: usize| u16::from_le_bytes([id[2 * i], id[2 * i + 1]]) as u64;
        assert_eq!(
            word(60) | word(61) << 16,
            0x0FFF_FFFF,
            "LBA28 capacity capped"
        );
        assert_eq!((0..4).fold(0, |a, i| a | word(100 + i) << (16 * i)), big);
        assert_eq!(word(83) & 0x0400, 0x0400, "48-bit feature set supported");
        assert_eq!(word(86) & 0x0400, 0x0400, "48-bit feature set enabled");
        // READ SECTORS EXT reaches the sector above 2^28; LBA28 with the same low 28 bits
        // reads sector 5.
        set_lba48(&mut c, high, 1);
        c.write(7, 0x24);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_DRQ);
        assert_eq!(read_sector(&mut c)[..8], high.to_le_bytes());
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        assert_eq!(task_file_lba48(&mut c), high);
        set_lba(&mut c, (high & 0x0FFF_FFFF) as u32, 1);
        c.write(7, 0x20);
        assert_eq!(read_sector(&mut c)[..8], 5u64.to_le_bytes());
        // WRITE SECTORS EXT of two sectors lands at the 48-bit address in the file.
        set_lba48(&mut c, high + 10, 2);
        c.write(7, 0x34);
        for i in 0..512u32 {
            assert_eq!(c.read_alt_status() & ST_DRQ, ST_DRQ);
            c.write_data(2, 0xC000 | i);
        }
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        assert_eq!(
            task_file_lba48(&mut c),
            high + 11,
            "the last sector written"
        );
        let bytes = {
            use std::io::{Read, Seek, SeekFrom};
            let mut f = std::fs::File::open(&p).unwrap();
            f.seek(SeekFrom::Start((high + 10) * SECTOR as u64))
                .unwrap();
            let mut b = vec![0u8; 2 * SECTOR + 4];
            f.read_exact(&mut b).unwrap();
            b
        };
        assert_eq!(&bytes[0..4], &[0x00, 0xC0, 0x01, 0xC0]);
        assert_eq!(&bytes[512..516], &[0x00, 0xC1, 0x01, 0xC1]);
        assert_eq!(&bytes[1024..1028], &[0; 4], "the sector after is untouched");
        // Past the end, and far past it (bits 40-47): IDNF, no data.
        for lba in [big, 0xFFFF_FFFF_FFFF] {
            set_lba48(&mut c, lba, 1);
            c.write(7, 0x24);
            assert_eq!(c.read(7), ST_DRDY | ST_DSC | ST_ERR);
            assert_eq!(c.read(1), ER_IDNF);
            assert_eq!(c.read_data(2), 0xFFFF);
        }
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn ext_sector_count_is_sixteen_bits_and_zero_means_65536() {
        let sectors = 70_000u64;
        let (p, mut c) = sparse_channel("count", sectors, &[300, 301, 302]);
        // READ VERIFY SECTORS EXT with count 0: 65536 sectors fit from 70000-65536, not
        // from one sector later.
        set_lba48(&mut c, sectors - 65536, 0);
        c.write(7, 0x42);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        assert_eq!(task_file_lba48(&mut c), sectors - 1);
        set_lba48(&mut c, sectors - 65535, 0);
        c.write(7, 0x42);
        assert_eq!(c.read(1), ER_IDNF);
        // READ MULTIPLE EXT of 0x0103 sectors in blocks of 16: 17 blocks, the last of 3;
        // the count register pair counts down.
        c.write(2, 16);
        c.write(7, 0xC6);
        set_lba48(&mut c, 290, 0x0103);
        c.write(7, 0x29);
        let mut sectors_read = 0u64;
        while c.read(7) & ST_DRQ != 0 {
            let s = read_sector(&mut c);
            let lba = 290 + sectors_read;
            let want = if (300..303).contains(&lba) { lba } else { 0 };
            assert_eq!(s[..8], want.to_le_bytes(), "sector {lba}");
            sectors_read += 1;
            if sectors_read == 1 {
                // While the first block is being read: the sectors after it.
                c.write_control(CTL_HOB);
                let hi = c.read(2);
                c.write_control(0);
                assert_eq!((hi, c.read(2)), (0x00, 0xF3), "0x103 - 16 left");
            }
        }
        assert_eq!(sectors_read, 0x103);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        // WRITE MULTIPLE EXT: the multiple-mode rule applies as for C5h.
        c.write(2, 0);
        c.write(7, 0xC6);
        set_lba48(&mut c, 0, 1);
        c.write(7, 0x39);
        assert_eq!(c.read(1), ER_ABRT, "multiple mode off");
        // The DMA commands are not there.
        for cmd in [0x25, 0x35] {
            set_lba48(&mut c, 0, 1);
            c.write(7, cmd);
            assert_eq!(c.read(1), ER_ABRT);
        }
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn srst_and_nien() {
        let (p, mut c) = channel("rst", 16);
        c.write_control(CTL_NIEN);
        c.write(7, 0xEC);
        assert!(!c.irq(), "nIEN masks the line");
        c.write_control(0);
        assert!(c.irq());
        c.write_control(CTL_SRST);
        assert_eq!(c.read_alt_status(), ST_BSY);
        c.write_control(0);
        assert_eq!(c.read(7), ST_DRDY | ST_DSC);
        assert_eq!((c.read(2), c.read(3), c.read(4), c.read(5)), (1, 1, 0, 0));
        assert_eq!(c.read(1), 0x01);
        assert_eq!(
            c.read_data(2),
            0xFFFF,
            "the reset dropped the IDENTIFY data"
        );
        c.write(7, 0xFF);
        assert_eq!(c.read(1), ER_ABRT, "unknown commands abort");
        let _ = std::fs::remove_file(p);
    }

    /// A channel with a CD-ROM of `blocks` 2048-byte blocks as device 0.
    fn cd_channel(name: &str, blocks: usize) -> (PathBuf, Channel) {
        let p = std::env::temp_dir().join(format!("emu-ata-{}-{name}", std::process::id()));
        std::fs::write(&p, vec![0u8; blocks * atapi::BLOCK]).unwrap();
        let d = Disk::open(&p, Some(crate::storage::MediaKind::CdRom)).unwrap();
        let mut c = Channel::default();
        c.drives[0] = Some(AtaDrive::cdrom(d));
        (p, c)
    }

    /// Sends PACKET with byte count limit `limit` and the 12-byte `packet`.
    fn send_packet(c: &mut Channel, limit: u16, packet: &[u8]) {
        c.write(4, limit as u8);
        c.write(5, (limit >> 8) as u8);
        c.write(7, 0xA0);
        assert_eq!(c.read(2) & 3, 1, "command out");
        let mut p = [0u8; 12];
        p[..packet.len()].copy_from_slice(packet);
        for w in p.chunks(2) {
            c.write_data(2, u16::from_le_bytes([w[0], w[1]]) as u32);
        }
    }

    /// Reads the data phase of a packet command chunk by chunk: (byte counts, data).
    fn packet_data(c: &mut Channel) -> (Vec<usize>, Vec<u8>) {
        let (mut counts, mut data) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            let st = c.read(7);
            if st & ST_DRQ == 0 {
                assert_eq!(c.read(2) & 3, 3, "complete");
                return (counts, data);
            }
            assert_eq!(c.read(2) & 3, 2, "data in");
            let n = c.read(4) as usize | (c.read(5) as usize) << 8;
            counts.push(n);
            for _ in 0..n {
                data.push(c.read_data(1) as u8);
            }
        }
        panic!("the data phase does not end");
    }

    #[test]
    fn atapi_allocation_length_zero_completes_without_data() {
        // Regression (device audit): an empty reply left DRQ set with nothing to read, so the
        // command never completed.
        let (p, mut c) = cd_channel("alloc0", 16);
        for packet in [
            &[0x03, 0, 0, 0, 0][..],            // REQUEST SENSE, allocation length 0
            &[0x12, 0, 0, 0, 0],                // INQUIRY
            &[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 0], // MODE SENSE(10)
            &[0x43, 0, 0, 0, 0, 0, 0, 0, 0],    // READ TOC
        ] {
            send_packet(&mut c, 0xFFFE, packet);
            assert!(c.irq(), "{packet:02x?}: completion interrupt");
            assert_eq!(
                c.read(7),
                ST_DRDY | ST_DSC,
                "{packet:02x?}: no DRQ, no error"
            );
            assert_eq!(c.read(2) & 3, 3, "{packet:02x?}: complete");
        }
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn atapi_reply_longer_than_the_byte_count_comes_in_chunks() {
        // Regression (device audit): INQUIRY's 36 bytes with a byte count limit of 12 were cut
        // to 12; the rest follows in further DRQ blocks, as for READ.
        let (p, mut c) = cd_channel("chunks", 16);
        send_packet(&mut c, 12, &[0x12, 0, 0, 0, 36]);
        let (counts, data) = packet_data(&mut c);
        assert_eq!(counts, [12, 12, 12]);
        assert_eq!((data.len(), data[0], &data[8..11]), (36, 0x05, &b"EMU"[..]));
        // An odd limit counts as the even one below it.
        send_packet(&mut c, 7, &[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64]);
        let (counts, data) = packet_data(&mut c);
        assert_eq!(counts, [6, 6, 6, 6, 4]);
        assert_eq!((data.len(), data[8]), (28, 0x2A));
        // A later READ does not deliver leftovers of an abandoned reply.
        send_packet(&mut c, 12, &[0x12, 0, 0, 0, 36]);
        c.read_data(2);
        send_packet(&mut c, 0xFFFE, &[0x28, 0, 0, 0, 0, 3, 0, 0, 1]);
        let (counts, _) = packet_data(&mut c);
        assert_eq!(counts, [2048]);
        let _ = std::fs::remove_file(p);
    }
}
