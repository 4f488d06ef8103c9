//! The 82077AA floppy disk controller (AT mode) at 0x3F0-0x3F5/0x3F7, IRQ6, DMA channel 2,
//! with drives A: and B: (it owns their `Disk`s; the BIOS reaches them through the bus).
//!
//! Registers: DOR (drive select, reset, DMA gate, motors), MSR/DSR, FIFO, DIR (disk change)
//! /CCR, TDR. Commands: SPECIFY, SENSE DRIVE STATUS, RECALIBRATE, SEEK, SENSE INTERRUPT
//! STATUS, READ DATA / READ DELETED DATA / WRITE DATA (multi-sector, multi-track, ended by
//! the DMA terminal count or the end of the track), READ ID, FORMAT TRACK, VERSION,
//! CONFIGURE (implied seek), LOCK, DUMPREG, PERPENDICULAR MODE; anything else is an invalid
//! command (ST0 = 80h). Seeks and transfers finish at once. The data phase always uses DMA
//! (non-DMA mode from SPECIFY is recorded but not used); the machine runs the transfer
//! right after the command byte that starts it (`PcBus::run_dma`).

use std::collections::VecDeque;

use super::dma::{Direction, Dma};
use crate::mem::Memory;
use crate::storage::{Disk, SECTOR};

pub const DMA_CHANNEL: usize = 2;

const MSR_RQM: u8 = 0x80;
const MSR_DIO: u8 = 0x40;
const MSR_CB: u8 = 0x10;

const DOR_RESET_OFF: u8 = 0x04;
const DOR_DMA_GATE: u8 = 0x08;

// Status register bits.
const ST0_ABNORMAL: u8 = 0x40;
const ST0_INVALID: u8 = 0x80;
const ST0_SEEK_END: u8 = 0x20;
const ST0_EQUIPMENT: u8 = 0x10;
const ST1_END_OF_CYL: u8 = 0x80;
const ST1_NO_DATA: u8 = 0x04;
const ST1_NOT_WRITABLE: u8 = 0x02;
const ST1_MISSING_AM: u8 = 0x01;
const ST2_WRONG_CYL: u8 = 0x10;

/// Command bytes (with their MT/MFM/SK bits masked off where they have them).
fn command_length(cmd: u8) -> usize {
    match cmd & 0x1F {
        0x05 | 0x06 | 0x09 | 0x0C => 9, // WRITE DATA, READ DATA, WRITE/READ DELETED
        0x0D => 6,                      // FORMAT TRACK
        0x03 | 0x0F => 3,               // SPECIFY, SEEK
        0x13 => 4,                      // CONFIGURE
        0x04 | 0x07 | 0x0A | 0x12 => 2, // SENSE DRIVE, RECALIBRATE, READ ID, PERPENDICULAR
        _ => 1,
    }
}

/// A data transfer waiting for the DMA channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Read,
    Write,
    Format,
}

pub struct Fdc {
    pub drives: [Option<Disk>; 2],
    dor: u8,
    tdr: u8,
    data_rate: u8,
    command: Vec<u8>,
    result: VecDeque<u8>,
    job: Option<Job>,
    /// Present cylinder number of each drive's head.
    pcn: [u8; 4],
    /// Interrupt statuses waiting for SENSE INTERRUPT: (ST0, PCN).
    pending: VecDeque<(u8, u8)>,
    irq_pending: bool,
    /// Disk change line per drive: set at power-on, cleared by a step with a disk in.
    changed: [bool; 2],
    specify: [u8; 2],
    config: u8,
    pretrk: u8,
    locked: bool,
    perpendicular: u8,
    /// The controller raised IRQ6 or wants DMA: the bus ends the CPU's slice.
    pub raised: bool,
}

impl Default for Fdc {
    fn default() -> Self {
        Fdc {
            drives: [None, None],
            dor: DOR_RESET_OFF | DOR_DMA_GATE,
            tdr: 0,
            data_rate: 0,
            command: Vec::new(),
            result: VecDeque::new(),
            job: None,
            pcn: [0; 4],
            pending: VecDeque::new(),
            irq_pending: false,
            changed: [true; 2],
            specify: [0; 2],
            config: 0x20, // FIFO disabled, threshold 0
            pretrk: 0,
            locked: false,
            perpendicular: 0,
            raised: false,
        }
    }
}

impl Fdc {
    /// Consistency of the controller's queues, for the device fuzz.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        match self.job {
            Some(_) if self.command.len() != command_length(self.command[0]) => {
                Err(format!("a job with command {:02x?}", self.command))
            }
            None if self.command.len() >= 9 => Err(format!("command {:02x?}", self.command)),
            _ if self.result.len() > 10 || self.pending.len() > 4 => Err(format!(
                "{} results, {} interrupt statuses",
                self.result.len(),
                self.pending.len()
            )),
            _ => Ok(()),
        }
    }

    /// The IRQ6 line: pending and gated by the DOR's DMA/IRQ enable.
    pub fn irq(&self) -> bool {
        self.irq_pending && self.dor & DOR_DMA_GATE != 0
    }

    fn raise(&mut self) {
        self.irq_pending = true;
        self.raised = true;
    }

    /// A transfer is waiting for DMA channel 2.
    pub fn wants_dma(&self) -> bool {
        self.job.is_some()
    }

    fn msr(&self) -> u8 {
        if self.job.is_some() {
            MSR_CB
        } else if !self.result.is_empty() {
            MSR_RQM | MSR_DIO | MSR_CB
        } else if !self.command.is_empty() {
            MSR_RQM | MSR_CB
        } else {
            MSR_RQM
        }
    }

    pub fn read(&mut self, port: u16) -> u8 {
        match port & 7 {
            2 => self.dor,
            3 => self.tdr,
            4 => self.msr(),
            5 => match self.result.pop_front() {
                Some(v) => {
                    self.irq_pending = false;
                    v
                }
                None => 0xFF,
            },
            7 => {
                let d = (self.dor & 3) as usize;
                let motor = self.dor & (0x10 << d) != 0;
                if d < 2 && motor && self.changed[d] {
                    0x80
                } else {
                    0x00
                }
            }
            _ => 0xFF, // status registers A/B exist in PS/2 modes only
        }
    }

    pub fn write(&mut self, port: u16, v: u8) {
        match port & 7 {
            2 => {
                let was_reset = self.dor & DOR_RESET_OFF == 0;
                self.dor = v;
                if v & DOR_RESET_OFF == 0 {
                    self.enter_reset();
                } else if was_reset {
                    self.leave_reset();
                }
            }
            3 => self.tdr = v,
            4 => {
                self.data_rate = v & 3;
                if v & 0x80 != 0 {
                    // DSR software reset: self-clearing, but the controller stays in reset
                    // while the DOR holds it there.
                    self.enter_reset();
                    if self.dor & DOR_RESET_OFF != 0 {
                        self.leave_reset();
                    }
                }
            }
            5 => self.write_fifo(v),
            7 => self.data_rate = v & 3,
            _ => {}
        }
    }

    fn enter_reset(&mut self) {
        self.command.clear();
        self.result.clear();
        self.job = None;
        self.pending.clear();
        self.irq_pending = false;
    }

    /// The end of a reset: an interrupt, and four polling statuses (one per drive) for
    /// SENSE INTERRUPT.
    fn leave_reset(&mut self) {
        self.pcn = [0; 4];
        if !self.locked {
            self.config = 0x20;
            self.pretrk = 0;
        }
        self.perpendicular &= 0x3C;
        self.pending.clear();
        for d in 0..4 {
            self.pending.push_back((0xC0 | d, 0));
        }
        self.raise();
    }

    fn write_fifo(&mut self, v: u8) {
        if self.dor & DOR_RESET_OFF == 0 || self.job.is_some() {
            return;
        }
        if !self.result.is_empty() {
            // A new command abandons unread results.
            self.result.clear();
        }
        self.irq_pending = false;
        self.command.push(v);
        if self.command.len() >= command_length(self.command[0]) {
            let cmd = std::mem::take(&mut self.command);
            self.execute(&cmd);
        }
    }

    fn drive_of(&self, hds: u8) -> usize {
        (hds & 3) as usize
    }

    fn disk(&mut self, d: usize) -> Option<&mut Disk> {
        self.drives.get_mut(d).and_then(|x| x.as_mut())
    }

    fn execute(&mut self, cmd: &[u8]) {
        match cmd[0] & 0x1F {
            0x03 => self.specify = [cmd[1], cmd[2]],
            0x04 => {
                let d = self.drive_of(cmd[1]);
                let head = cmd[1] & 4;
                let mut st3 = 0x20 | head | d as u8; // ready
                if let Some(disk) = self.disk(d) {
                    if disk.read_only {
                        st3 |= 0x40;
                    }
                    if disk.geometry.heads > 1 {
                        st3 |= 0x08;
                    }
                }
                if self.pcn[d] == 0 {
                    st3 |= 0x10;
                }
                self.result.push_back(st3);
            }
            0x07 => {
                let d = self.drive_of(cmd[1]);
                self.step_to(d, 0, 0);
            }
            0x0F => {
                let d = self.drive_of(cmd[1]);
                self.step_to(d, cmd[2], cmd[1] & 4);
            }
            0x08 => match self.pending.pop_front() {
                Some((st0, pcn)) => {
                    self.result.extend([st0, pcn]);
                    if self.pending.is_empty() {
                        self.irq_pending = false;
                    }
                }
                None => self.result.push_back(ST0_INVALID),
            },
            0x05 | 0x06 | 0x09 | 0x0C => {
                let d = self.drive_of(cmd[1]);
                if self.config & 0x40 != 0 && self.disk(d).is_some() {
                    self.pcn[d] = cmd[2]; // implied seek
                }
                self.command = cmd.to_vec();
                self.job = Some(if matches!(cmd[0] & 0x1F, 0x05 | 0x09) {
                    Job::Write
                } else {
                    Job::Read
                });
                self.raised = true;
            }
            0x0D => {
                self.command = cmd.to_vec();
                self.job = Some(Job::Format);
                self.raised = true;
            }
            0x0A => {
                let d = self.drive_of(cmd[1]);
                let head = (cmd[1] >> 2) & 1;
                let st0 = head << 2 | d as u8;
                let c = self.pcn[d];
                match self.disk(d) {
                    Some(disk) if c < disk.geometry.cylinders as u8 => {
                        self.result.extend([st0, 0, 0, c, head, 1, 2]);
                    }
                    _ => self
                        .result
                        .extend([st0 | ST0_ABNORMAL, ST1_MISSING_AM, 0, c, head, 1, 2]),
                }
                self.raise();
            }
            0x10 => self.result.push_back(0x90),
            0x13 => {
                self.config = cmd[2];
                self.pretrk = cmd[3];
            }
            0x14 => {
                self.locked = cmd[0] & 0x80 != 0;
                self.result.push_back((self.locked as u8) << 4);
            }
            0x0E => {
                let p = self.pcn;
                self.result.extend([
                    p[0],
                    p[1],
                    p[2],
                    p[3],
                    self.specify[0],
                    self.specify[1],
                    18, // EOT of the last transfer: the 1.44 MB default
                    (self.locked as u8) << 7 | self.perpendicular & 0x7F,
                    self.config,
                    self.pretrk,
                ]);
            }
            0x12 => {
                if cmd[1] & 0x80 != 0 {
                    self.perpendicular = cmd[1] & 0x3F;
                } else {
                    self.perpendicular = (self.perpendicular & 0x3C) | cmd[1] & 0x03;
                }
            }
            _ => self.result.push_back(ST0_INVALID),
        }
    }

    /// SEEK/RECALIBRATE: the head moves at once; the interrupt reports seek end (with
    /// equipment check when there is no drive).
    fn step_to(&mut self, d: usize, cyl: u8, head: u8) {
        let present = self.disk(d).is_some();
        let mut st0 = ST0_SEEK_END | head | d as u8;
        if present {
            self.pcn[d] = cyl;
            self.changed[d] = false;
        } else {
            st0 |= ST0_ABNORMAL | ST0_EQUIPMENT;
        }
        self.pending.clear();
        self.pending.push_back((st0, self.pcn[d]));
        self.raise();
    }

    /// Runs a waiting transfer through DMA channel 2 if the channel is ready. Returns
    /// whether memory may have been written.
    pub fn run_dma(&mut self, dma: &mut Dma, mem: &mut Memory) -> bool {
        let Some(job) = self.job else {
            return false;
        };
        if !dma.ready(DMA_CHANNEL) {
            return false; // the transfer waits for the guest to unmask the channel
        }
        let cmd = std::mem::take(&mut self.command);
        self.job = None;
        let wrote = match job {
            Job::Read | Job::Write => self.transfer(&cmd, job == Job::Write, dma, mem),
            Job::Format => {
                self.format(&cmd, dma, mem);
                false
            }
        };
        self.raise();
        wrote
    }

    /// READ/WRITE DATA from sector R of the present cylinder until the DMA terminal count
    /// or the end of the track (then of the other side with MT).
    fn transfer(&mut self, cmd: &[u8], write: bool, dma: &mut Dma, mem: &mut Memory) -> bool {
        let mt = cmd[0] & 0x80 != 0;
        let d = self.drive_of(cmd[1]);
        let mut head = (cmd[1] >> 2) & 1;
        let (c, mut h, mut r, n, eot) = (cmd[2], cmd[3], cmd[4], cmd[5], cmd[6]);
        let pcn = self.pcn[d];
        let mut st = [head << 2 | d as u8, 0u8, 0u8];
        let mut wrote = false;
        let dir_ok = dma.direction(DMA_CHANNEL)
            == if write {
                Direction::FromMemory
            } else {
                Direction::ToMemory
            };
        let Some(disk) = self.drives.get_mut(d).and_then(|x| x.as_mut()) else {
            st[0] |= ST0_ABNORMAL;
            st[1] |= ST1_MISSING_AM;
            self.result.extend([st[0], st[1], st[2], c, h, r, n]);
            return false;
        };
        let st0 = |st: &[u8; 3], head: u8| st[0] & !4 | head << 2;
        let mut buf = [0u8; SECTOR];
        loop {
            let lba = disk.chs_to_lba(pcn as u32, head as u32, r as u32);
            let valid = n == 2 && c == pcn && h == head && r <= eot;
            let Some(lba) = lba.filter(|_| valid) else {
                st[0] |= ST0_ABNORMAL;
                st[1] |= ST1_NO_DATA;
                if c != pcn {
                    st[2] |= ST2_WRONG_CYL;
                }
                break;
            };
            let tc = if write {
                if disk.read_only {
                    st[0] |= ST0_ABNORMAL;
                    st[1] |= ST1_NOT_WRITABLE;
                    break;
                }
                buf.fill(0);
                let (_, tc) = dma.read_memory(DMA_CHANNEL, mem, &mut buf);
                if disk.write(lba, &buf).is_err() {
                    st[0] |= ST0_ABNORMAL;
                    st[1] |= ST1_NOT_WRITABLE;
                    break;
                }
                tc
            } else {
                if disk.read(lba, &mut buf).is_err() {
                    st[0] |= ST0_ABNORMAL;
                    st[1] |= ST1_NO_DATA;
                    break;
                }
                let (_, tc) = dma.write_memory(DMA_CHANNEL, mem, &buf);
                wrote |= dir_ok;
                tc
            };
            // The next sector's address, as the result phase reports it.
            if r >= eot {
                r = 1;
                if mt && head == 0 {
                    head = 1;
                    h = 1;
                } else {
                    if mt {
                        head = 0;
                        h = 0;
                    }
                    if tc {
                        // The ID after the last sector of the cylinder.
                        let next = c.wrapping_add(1);
                        self.result
                            .extend([st0(&st, head), st[1], st[2], next, h, r, n]);
                        return wrote;
                    }
                    // The track ended before the count: abnormal, end of cylinder.
                    st[0] |= ST0_ABNORMAL;
                    st[1] |= ST1_END_OF_CYL;
                    let s0 = st0(&st, head);
                    self.result
                        .extend([s0, st[1], st[2], c.wrapping_add(1), h, r, n]);
                    return wrote;
                }
            } else {
                r += 1;
            }
            if tc {
                break;
            }
        }
        self.result
            .extend([st0(&st, head), st[1], st[2], c, h, r, n]);
        wrote
    }

    /// FORMAT TRACK: one 4-byte ID (C, H, R, N) per sector from DMA; each sector is filled
    /// with the filler byte.
    fn format(&mut self, cmd: &[u8], dma: &mut Dma, mem: &mut Memory) {
        let d = self.drive_of(cmd[1]);
        let head = (cmd[1] >> 2) & 1;
        let (n, sc, fill) = (cmd[2], cmd[3], cmd[5]);
        let pcn = self.pcn[d];
        let mut st = [head << 2 | d as u8, 0u8, 0u8];
        let mut last = [pcn, head, 1, n];
        match self.drives.get_mut(d).and_then(|x| x.as_mut()) {
            None => {
                st[0] |= ST0_ABNORMAL;
                st[1] |= ST1_MISSING_AM;
            }
            Some(disk) if disk.read_only => {
                st[0] |= ST0_ABNORMAL;
                st[1] |= ST1_NOT_WRITABLE;
            }
            Some(disk) => {
                let data = [fill; SECTOR];
                for _ in 0..sc {
                    let mut id = [0u8; 4];
                    let (_, tc) = dma.read_memory(DMA_CHANNEL, mem, &mut id);
                    last = id;
                    // Only the image's own layout can be stored: IDs must match it.
                    let lba = disk.chs_to_lba(id[0] as u32, id[1] as u32, id[2] as u32);
                    match lba {
                        Some(lba) if id[3] == 2 && n == 2 && id[0] == pcn && id[1] == head => {
                            if disk.write(lba, &data).is_err() {
                                st[0] |= ST0_ABNORMAL;
                                st[1] |= ST1_NOT_WRITABLE;
                                break;
                            }
                        }
                        _ => {
                            st[0] |= ST0_ABNORMAL;
                            st[1] |= ST1_NO_DATA;
                            break;
                        }
                    }
                    if tc {
                        break;
                    }
                }
            }
        }
        self.result
            .extend([st[0], st[1], st[2], last[0], last[1], last[2], last[3]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn floppy(name: &str) -> (PathBuf, Fdc) {
        let p = std::env::temp_dir().join(format!("emu-fdc-{}-{name}", std::process::id()));
        let mut bytes = vec![0u8; 1_474_560];
        for (i, s) in bytes.chunks_mut(SECTOR).enumerate() {
            s[0..2].copy_from_slice(&(i as u16).to_le_bytes());
        }
        std::fs::write(&p, bytes).unwrap();
        let mut f = Fdc::default();
        f.drives[0] = Some(Disk::open(&p, None).unwrap());
        (p, f)
    }

    fn cmd(f: &mut Fdc, bytes: &[u8]) {
        for &b in bytes {
            assert_eq!(
                f.read(0x3F4) & (MSR_RQM | MSR_DIO),
                MSR_RQM,
                "ready for {b:#x}"
            );
            f.write(0x3F5, b);
        }
    }

    fn results(f: &mut Fdc) -> Vec<u8> {
        let mut out = Vec::new();
        while f.read(0x3F4) & MSR_DIO != 0 {
            out.push(f.read(0x3F5));
        }
        out
    }

    fn dma_to(d: &mut Dma, addr: u32, bytes: u16, mode: u8) {
        d.write(0xD4, 0x00); // cascade channel unmasked, as the BIOS leaves it
        d.write(0x0A, 0x06);
        d.write(0x0C, 0);
        d.write(0x0B, mode);
        d.write(0x04, addr as u8);
        d.write(0x04, (addr >> 8) as u8);
        d.write(0x81, (addr >> 16) as u8);
        d.write(0x05, (bytes - 1) as u8);
        d.write(0x05, ((bytes - 1) >> 8) as u8);
        d.write(0x0A, 0x02);
    }

    #[test]
    fn reset_gives_four_polling_statuses_and_version() {
        let (p, mut f) = floppy("rst");
        f.write(0x3F2, 0x08);
        f.write(0x3F2, 0x0C);
        assert!(f.irq());
        for d in 0..4 {
            cmd(&mut f, &[0x08]);
            assert_eq!(results(&mut f), vec![0xC0 | d, 0]);
        }
        assert!(!f.irq());
        cmd(&mut f, &[0x08]);
        assert_eq!(results(&mut f), vec![0x80], "nothing pending: invalid");
        cmd(&mut f, &[0x10]);
        assert_eq!(results(&mut f), vec![0x90]);
        cmd(&mut f, &[0x1F]);
        assert_eq!(results(&mut f), vec![0x80]);
        let _ = std::fs::remove_file(p);
    }

    /// Regression (device fuzz): a DSR reset while the DOR held the controller in reset
    /// left reset at once, so leaving the DOR reset queued a second set of four polling
    /// statuses (eight SENSE INTERRUPT answers instead of four).
    #[test]
    fn dsr_reset_during_dor_reset_gives_one_set_of_polling_statuses() {
        let (p, mut f) = floppy("dsr");
        f.write(0x3F2, 0x00); // DOR: reset held
        f.write(0x3F4, 0x80); // DSR reset: stays in reset
        f.write(0x3F2, 0x0C);
        assert!(f.irq());
        for d in 0..4 {
            cmd(&mut f, &[0x08]);
            assert_eq!(results(&mut f), vec![0xC0 | d, 0]);
        }
        cmd(&mut f, &[0x08]);
        assert_eq!(results(&mut f), vec![0x80], "nothing more pending");
        f.check_invariants().unwrap();
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn seek_sense_and_multi_track_read_through_dma() {
        let (p, mut f) = floppy("rd");
        let mut dma = Dma::default();
        let mut mem = Memory::new(1 << 20, u32::MAX);
        f.write(0x3F2, 0x1C); // motor A on
        assert_eq!(f.read(0x3F7) & 0x80, 0x80, "disk changed since power-on");
        cmd(&mut f, &[0x0F, 0x00, 5]);
        assert!(f.irq());
        cmd(&mut f, &[0x08]);
        assert_eq!(results(&mut f), vec![0x20, 5]);
        assert_eq!(f.read(0x3F7) & 0x80, 0, "the step cleared the change line");
        // Cylinder 5, head 0, sectors 17..18 then head 1 sectors 1..2 (MT): 4 sectors.
        dma_to(&mut dma, 0x8000, 4 * 512, 0x46);
        cmd(&mut f, &[0xE6, 0x00, 5, 0, 17, 2, 18, 0x1B, 0xFF]);
        assert_eq!(f.read(0x3F4), MSR_CB, "execution phase");
        assert!(f.run_dma(&mut dma, &mut mem));
        assert!(f.irq());
        assert_eq!(results(&mut f), vec![0x04, 0, 0, 5, 1, 3, 2]);
        let lba = |c: u16, h: u16, s: u16| (c * 2 + h) * 18 + s - 1;
        for (i, want) in [lba(5, 0, 17), lba(5, 0, 18), lba(5, 1, 1), lba(5, 1, 2)]
            .iter()
            .enumerate()
        {
            assert_eq!(mem.read_u16(0x8000 + i as u32 * 512), *want);
        }
        // A read of a cylinder the head is not on fails with wrong cylinder.
        dma_to(&mut dma, 0x8000, 512, 0x46);
        cmd(&mut f, &[0x66, 0x00, 6, 0, 1, 2, 18, 0x1B, 0xFF]);
        f.run_dma(&mut dma, &mut mem);
        let r = results(&mut f);
        assert_eq!((r[0], r[1], r[2]), (0x40, ST1_NO_DATA, ST2_WRONG_CYL));
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn write_and_format_reach_the_image_and_wait_for_unmasked_dma() {
        let (p, mut f) = floppy("wr");
        let mut dma = Dma::default();
        let mut mem = Memory::new(1 << 20, u32::MAX);
        for i in 0..512u32 {
            mem.write_u8(0x9000 + i, (i * 3) as u8);
        }
        dma_to(&mut dma, 0x9000, 512, 0x4A);
        dma.write(0x0A, 0x06); // masked: the controller waits
        cmd(&mut f, &[0x45, 0x00, 0, 0, 3, 2, 18, 0x1B, 0xFF]);
        assert!(!f.run_dma(&mut dma, &mut mem));
        assert!(f.wants_dma());
        dma.write(0x0A, 0x02);
        f.run_dma(&mut dma, &mut mem);
        assert_eq!(results(&mut f), vec![0, 0, 0, 0, 0, 4, 2]);
        // Format cylinder 0 head 1 with filler F6h: 18 IDs from memory.
        for s in 0..18u32 {
            for (k, b) in [0u8, 1, s as u8 + 1, 2].iter().enumerate() {
                mem.write_u8(0xA000 + s * 4 + k as u32, *b);
            }
        }
        dma_to(&mut dma, 0xA000, 18 * 4, 0x4A);
        cmd(&mut f, &[0x4D, 0x04, 2, 18, 0x54, 0xF6]);
        f.run_dma(&mut dma, &mut mem);
        assert_eq!(results(&mut f)[..3], [0x04, 0, 0]);
        drop(f);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes[2 * 512 + 1], 3);
        assert!(bytes[18 * 512..36 * 512].iter().all(|&b| b == 0xF6));
        assert_eq!(bytes[36 * 512], 36, "cylinder 1 untouched");
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn dumpreg_lock_configure_and_read_id() {
        let (p, mut f) = floppy("reg");
        cmd(&mut f, &[0x03, 0xAF, 0x02]);
        cmd(&mut f, &[0x13, 0x00, 0x57, 0x09]);
        cmd(&mut f, &[0x94]);
        assert_eq!(results(&mut f), vec![0x10]);
        cmd(&mut f, &[0x0F, 0x00, 7]);
        cmd(&mut f, &[0x08]);
        results(&mut f);
        cmd(&mut f, &[0x0E]);
        let r = results(&mut f);
        assert_eq!(r, vec![7, 0, 0, 0, 0xAF, 0x02, 18, 0x80, 0x57, 0x09]);
        cmd(&mut f, &[0x4A, 0x04]);
        assert_eq!(results(&mut f), vec![0x04, 0, 0, 7, 1, 1, 2]);
        // LOCK keeps CONFIGURE across a reset.
        f.write(0x3F4, 0x80);
        for _ in 0..4 {
            cmd(&mut f, &[0x08]);
            results(&mut f);
        }
        cmd(&mut f, &[0x0E]);
        assert_eq!(results(&mut f)[8], 0x57);
        // Drive B: is empty: SEEK ends with equipment check.
        cmd(&mut f, &[0x0F, 0x01, 3]);
        cmd(&mut f, &[0x08]);
        assert_eq!(results(&mut f)[0], 0x20 | 0x40 | 0x10 | 1);
        let _ = std::fs::remove_file(p);
    }
}
