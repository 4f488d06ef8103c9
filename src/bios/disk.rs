//! INT 13h: floppy and hard disk services on the attached images — reset, status, CHS
//! read/write/verify, drive parameters, drive type, disk change, and the EDD extensions
//! (41h-44h, 47h, 48h) with LBA packets.

use super::{ah, al, bx, cx, dx, read_block, set_ah, set_al, set_cf, set_reg16, write_block, Bios};
use crate::cpu::state::{Seg, EBX, ECX, EDX, ESI};
use crate::cpu::Cpu;
use crate::devices::PcBus;
use crate::storage::{Disk, SECTOR};

const OK: u8 = 0x00;
const BAD_COMMAND: u8 = 0x01;
const SECTOR_NOT_FOUND: u8 = 0x04;
const WRITE_PROTECTED: u8 = 0x03;
const NO_MEDIA: u8 = 0x80;

/// The disk behind BIOS drive `dl`. While a CD's floppy (hard disk) emulation is on, the
/// emulated image is drive 00h (80h) and the real drives of its kind move up by one (a
/// second real floppy is then hidden; hard disks stop at 83h).
fn drive_mut<'a>(bios: &'a mut Bios, bus: &'a mut PcBus, dl: u8) -> Option<&'a mut Disk> {
    let mut dl = dl;
    if let Some((emu, disk)) = bios.cd_boot.as_mut().and_then(|b| b.emulated()) {
        if emu == dl {
            return Some(disk);
        }
        if (emu ^ dl) & 0x80 == 0 && dl > emu {
            dl -= 1;
        }
    }
    match dl {
        0x00 | 0x01 => bus.floppy(dl as usize),
        0x80..=0x83 => bus.hard_disk((dl - 0x80) as usize),
        _ => None,
    }
}

fn finish(bios: &mut Bios, cpu: &mut Cpu, dl: u8, status: u8) {
    bios.last_status[(dl >= 0x80) as usize] = status;
    set_ah(cpu, status);
    set_cf(cpu, status != OK);
    if dl >= 0x80 {
        super::wr8(cpu, 0x40, 0x74, status);
    } else {
        super::wr8(cpu, 0x40, 0x41, status);
    }
}

/// Reads or writes `count` sectors from `lba` at ES:BX. Returns the status and how many
/// sectors were transferred.
fn transfer(
    disk: &mut Disk,
    cpu: &mut Cpu,
    write: bool,
    lba: u64,
    count: u16,
    seg: u16,
    off: u16,
) -> (u8, u16) {
    let mut buf = [0u8; SECTOR];
    // Charge the copy as a REP MOVSW would cost, plus the controller's command overhead.
    cpu.icount += 100 + count as u64 * (SECTOR as u64 / 2);
    for i in 0..count {
        // The LBA comes from the guest (64 bits in an EDD packet): no wrap-around.
        let l = match lba.checked_add(i as u64) {
            Some(l) if l < disk.sectors => l,
            _ => return (SECTOR_NOT_FOUND, i),
        };
        // Linear addressing: a transfer may run past the end of the 64 KiB segment.
        let lin = ((seg as u32) << 4) + off as u32 + i as u32 * SECTOR as u32;
        let (seg, o) = ((lin >> 4) as u16, (lin & 0xF) as u16);
        if write {
            read_block(cpu, seg, o, &mut buf);
            if disk.write(l, &buf).is_err() {
                return (WRITE_PROTECTED, i);
            }
        } else {
            if disk.read(l, &mut buf).is_err() {
                return (SECTOR_NOT_FOUND, i);
            }
            write_block(cpu, seg, o, &buf);
        }
    }
    (OK, count)
}

pub fn int13(bios: &mut Bios, cpu: &mut Cpu, bus: &mut PcBus) {
    let dl = dx(cpu) as u8;
    if ah(cpu) == 0x4B {
        // El Torito: terminate disk emulation / get its status, for any drive.
        let status = super::eltorito::int13_4b(cpu, bios.cd_boot.as_mut());
        set_ah(cpu, status);
        set_cf(cpu, status != OK);
        return;
    }
    if dl == super::eltorito::CD_DRIVE {
        match super::eltorito::int13(cpu, bus) {
            0xFF => {}
            status => {
                set_ah(cpu, status);
                set_cf(cpu, status != OK);
            }
        }
        return;
    }
    let function = ah(cpu);
    if function == 0x01 {
        let s = bios.last_status[(dl >= 0x80) as usize];
        set_ah(cpu, s);
        set_cf(cpu, s != OK);
        return;
    }
    let emu = bios
        .cd_boot
        .as_ref()
        .and_then(|b| b.disk.as_ref().map(|_| b.drive));
    let floppy_count = (bus.floppy_count() as u16 + (emu == Some(0x00)) as u16).min(2);
    let hard_disk_count = (bus.hard_disk_count() as u16 + (emu == Some(0x80)) as u16).min(4);
    if function == 0x08 && dl < 0x80 && drive_mut(bios, bus, dl).is_none() && dl < 2 {
        // Parameters of an empty floppy drive: report the drive count anyway.
        set_reg16(cpu, EDX, floppy_count);
        set_reg16(cpu, ECX, 0);
        finish(bios, cpu, dl, OK);
        return;
    }
    let Some(disk) = drive_mut(bios, bus, dl) else {
        if function == 0x15 {
            set_ah(cpu, 0);
            set_cf(cpu, false);
            return;
        }
        finish(bios, cpu, dl, NO_MEDIA);
        return;
    };
    let g = disk.geometry;
    let status = match function {
        0x00 | 0x0D => OK,
        0x02..=0x04 => {
            let (c, d) = (cx(cpu), dx(cpu));
            let cyl = (c >> 8) as u32 | ((c & 0xC0) as u32) << 2;
            let sec = (c & 0x3F) as u32;
            let head = (d >> 8) as u32;
            let count = al(cpu) as u16;
            match disk.chs_to_lba(cyl, head, sec) {
                None => {
                    set_al(cpu, 0);
                    SECTOR_NOT_FOUND
                }
                Some(lba) if function == 0x04 => {
                    let ok = lba + count as u64 <= disk.sectors; // CHS LBAs are small
                    if ok {
                        OK
                    } else {
                        SECTOR_NOT_FOUND
                    }
                }
                Some(lba) => {
                    let es = cpu.seg[Seg::Es as usize].selector;
                    let (st, done) = transfer(disk, cpu, function == 0x03, lba, count, es, bx(cpu));
                    set_al(cpu, done as u8);
                    st
                }
            }
        }
        0x08 => {
            let maxc = g.cylinders.saturating_sub(1).min(1023);
            let cl = (g.sectors & 0x3F) as u16 | ((maxc >> 2) & 0xC0) as u16;
            set_reg16(cpu, ECX, ((maxc & 0xFF) as u16) << 8 | cl);
            let count = if dl >= 0x80 {
                hard_disk_count
            } else {
                floppy_count
            };
            set_reg16(cpu, EDX, ((g.heads - 1) as u16) << 8 | count);
            if dl < 0x80 {
                let t = disk.floppy_type;
                cpu.gpr[EBX] = (cpu.gpr[EBX] & !0xFF) | t as u32;
                // ES:DI -> the diskette parameter table.
                let dpt = super::rd16(cpu, 0, 0x1E * 4);
                cpu.load_seg_real(Seg::Es, 0xF000);
                set_reg16(cpu, crate::cpu::state::EDI, dpt);
            }
            OK
        }
        0x15 => {
            if dl < 0x80 {
                set_ah(cpu, 0x02); // floppy with change-line support
            } else {
                let n = disk.sectors as u32;
                set_ah(cpu, 0x03);
                set_reg16(cpu, ECX, (n >> 16) as u16);
                set_reg16(cpu, EDX, n as u16);
            }
            set_cf(cpu, false);
            return;
        }
        0x16 => OK, // the medium never changes under the guest
        0x41 if bx(cpu) == 0x55AA => {
            set_reg16(cpu, EBX, 0xAA55);
            set_ah(cpu, 0x21); // EDD 1.1
            set_reg16(cpu, ECX, 0x0001); // packet functions
            set_cf(cpu, false);
            return;
        }
        0x42 | 0x43 => {
            let ds = cpu.seg[Seg::Ds as usize].selector;
            let si = cpu.gpr[ESI] as u16;
            let mut packet = [0u8; 16];
            read_block(cpu, ds, si, &mut packet);
            let count = u16::from_le_bytes([packet[2], packet[3]]);
            let off = u16::from_le_bytes([packet[4], packet[5]]);
            let seg = u16::from_le_bytes([packet[6], packet[7]]);
            let lba = u64::from_le_bytes(packet[8..16].try_into().unwrap());
            let (st, done) = transfer(disk, cpu, function == 0x43, lba, count, seg, off);
            super::wr16(cpu, ds, si.wrapping_add(2), done);
            st
        }
        0x44 | 0x47 => OK,
        0x48 => {
            let ds = cpu.seg[Seg::Ds as usize].selector;
            let si = cpu.gpr[ESI] as u16;
            // The physical geometry: a floppy's own, a hard disk's as its ATA IDENTIFY
            // reports it (not the translated one of AH=08h).
            let g = if dl >= 0x80 {
                crate::storage::ata_geometry(disk.sectors)
            } else {
                g
            };
            let mut p = [0u8; 26];
            p[0..2].copy_from_slice(&26u16.to_le_bytes());
            p[2..4].copy_from_slice(&2u16.to_le_bytes()); // CHS information valid
            p[4..8].copy_from_slice(&g.cylinders.to_le_bytes());
            p[8..12].copy_from_slice(&g.heads.to_le_bytes());
            p[12..16].copy_from_slice(&g.sectors.to_le_bytes());
            p[16..24].copy_from_slice(&disk.sectors.to_le_bytes());
            p[24..26].copy_from_slice(&(SECTOR as u16).to_le_bytes());
            write_block(cpu, ds, si, &p);
            OK
        }
        _ => {
            bios.unimplemented(cpu, 0x13);
            BAD_COMMAND
        }
    };
    finish(bios, cpu, dl, status);
}
