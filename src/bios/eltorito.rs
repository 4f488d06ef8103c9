//! El Torito CD boot (no emulation, floppy and hard disk emulation) and INT 13h for the CD drive (DL = E0h) through
//! the EDD packet functions with 2048-byte sectors. The CD is the ATAPI drive on the ATA
//! channels (normally the secondary master).

use super::{ah, dx, read_block, set_ah, set_cf, set_reg16, wr16, write_block};
use crate::cpu::state::{Flags, Seg, EBX, ECX, EDX, ESI, ESP};
use crate::cpu::Cpu;
use crate::devices::atapi::BLOCK;
use crate::devices::PcBus;
use crate::storage::{Disk, Geometry, MediaKind};

pub const CD_DRIVE: u8 = 0xE0;

/// The first ATAPI drive's disc.
pub fn cdrom(bus: &mut PcBus) -> Option<&mut Disk> {
    bus.ata
        .iter_mut()
        .flat_map(|c| c.drives.iter_mut())
        .flatten()
        .find(|d| d.atapi)
        .map(|d| &mut d.disk)
}

fn read_cd(disk: &mut Disk, lba: u64, buf: &mut [u8]) -> bool {
    lba.checked_mul((BLOCK / 512) as u64)
        .is_some_and(|s| disk.read(s, buf).is_ok())
}

/// The boot catalog's default entry.
struct Entry {
    /// 0 = no emulation, 1/2/3 = 1.2/1.44/2.88 MB floppy, 4 = hard disk.
    media: u8,
    seg: u16,
    /// Virtual (512-byte) sectors to load.
    count: u16,
    rba: u32,
}

fn boot_entry(disk: &mut Disk) -> Result<Entry, String> {
    let mut brvd = [0u8; BLOCK];
    if !read_cd(disk, 17, &mut brvd)
        || brvd[0] != 0
        || &brvd[1..6] != b"CD001"
        || !brvd[7..30].starts_with(b"EL TORITO SPECIFICATION")
    {
        return Err("no El Torito boot record".into());
    }
    let catalog = u32::from_le_bytes(brvd[0x47..0x4B].try_into().unwrap());
    let mut cat = [0u8; BLOCK];
    if !read_cd(disk, catalog as u64, &mut cat) || cat[0] != 1 || cat[30..32] != [0x55, 0xAA] {
        return Err("bad El Torito boot catalog".into());
    }
    let sum = cat[..32].chunks(2).fold(0u16, |a, w| {
        a.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    let e = &cat[32..64];
    if sum != 0 || e[0] != 0x88 {
        return Err("no bootable El Torito entry".into());
    }
    let media = e[1] & 0x0F;
    if media > 4 {
        return Err(format!("unknown El Torito boot media type {media}"));
    }
    let seg = match u16::from_le_bytes([e[2], e[3]]) {
        0 => 0x07C0,
        s => s,
    };
    let count = u16::from_le_bytes([e[6], e[7]]).max(1);
    let rba = u32::from_le_bytes(e[8..12].try_into().unwrap());
    Ok(Entry {
        media,
        seg,
        count,
        rba,
    })
}

/// What the BIOS booted from the CD: the fields of the El Torito specification packet
/// (INT 13h AX=4B01h) and, while emulation is on, the emulated drive.
pub struct CdBoot {
    /// 0 = no emulation, 1/2/3 = 1.2/1.44/2.88 MB floppy, 4 = hard disk.
    pub media: u8,
    /// The boot drive: E0h (no emulation), 00h (floppy) or 80h (hard disk emulation).
    pub drive: u8,
    /// The CD sector (2048 bytes) where the boot image starts.
    pub rba: u32,
    pub load_seg: u16,
    pub count: u16,
    /// The emulated drive's image (a read-only copy); None without emulation or after
    /// INT 13h AX=4B00h ended it.
    pub disk: Option<Disk>,
}

impl CdBoot {
    /// The emulated drive's number and disk, while emulation is on.
    pub fn emulated(&mut self) -> Option<(u8, &mut Disk)> {
        let drive = self.drive;
        self.disk.as_mut().map(|d| (drive, d))
    }
}

/// The image a floppy or hard disk emulation boot entry presents, copied from the CD.
fn emulated_disk(cd: &mut Disk, e: &Entry) -> Result<Disk, String> {
    let start = e.rba as u64 * (BLOCK / 512) as u64;
    let cd_sectors = cd.sectors * (BLOCK / 512) as u64; // in 512-byte sectors
    let avail = cd_sectors.saturating_sub(start);
    let read = |cd: &mut Disk, n: u64| -> Result<Vec<u8>, String> {
        if n == 0 || n > avail {
            return Err("the El Torito emulated image runs past the end of the CD".into());
        }
        let mut bytes = vec![0u8; n as usize * 512];
        cd.read(start, &mut bytes)
            .map_err(|e| format!("cannot read the El Torito emulated image: {e}"))?;
        Ok(bytes)
    };
    if e.media <= 3 {
        let size = [1_228_800u64, 1_474_560, 2_949_120][e.media as usize - 1];
        let (g, ftype) = Disk::floppy_format(size).unwrap();
        let bytes = read(cd, size / 512)?;
        return Ok(Disk::emulated(
            "(El Torito floppy emulation)",
            bytes,
            MediaKind::Floppy,
            g,
            ftype,
        ));
    }
    // Hard disk emulation: the geometry is the end of the first partition in the image's
    // MBR, and the disk is that many cylinders long (as SeaBIOS sizes it).
    let mbr = read(cd, 1)?;
    if mbr[510..512] != [0x55, 0xAA] {
        return Err("the El Torito hard disk image has no MBR".into());
    }
    let p = &mbr[0x1BE..0x1CE];
    let heads = p[5] as u32 + 1;
    let spt = (p[6] & 0x3F) as u32;
    let cyls = (((p[6] & 0xC0) as u32) << 2 | p[7] as u32) + 1;
    if spt == 0 {
        return Err("the El Torito hard disk image's partition table has no geometry".into());
    }
    let n = (cyls as u64 * heads as u64 * spt as u64).min(avail);
    if n > 1 << 21 {
        return Err("the El Torito hard disk image is larger than 1 GiB".into());
    }
    let bytes = read(cd, n)?;
    Ok(Disk::emulated(
        "(El Torito hard disk emulation)",
        bytes,
        MediaKind::HardDisk,
        Geometry {
            cylinders: cyls,
            heads,
            sectors: spt,
        },
        0,
    ))
}

/// Loads and starts the CD's boot image; an error says why it cannot boot. With floppy
/// (hard disk) emulation the image becomes drive 00h (80h) and its first sectors are
/// loaded and started at 0000:7C00 (the load segment, as a linear address) with DL = it.
pub fn boot(cpu: &mut Cpu, bus: &mut PcBus) -> Result<CdBoot, String> {
    let disk = cdrom(bus).ok_or("no CD-ROM drive")?;
    let e = boot_entry(disk)?;
    let bytes = e.count as usize * 512;
    let base = (e.seg as u32) << 4;
    if base as usize + bytes > 0xA0000 {
        return Err("El Torito boot image does not fit below 640 KiB".into());
    }
    let mut emulated = None;
    let mut image = vec![0u8; bytes.div_ceil(BLOCK) * BLOCK];
    if e.media == 0 {
        if !read_cd(disk, e.rba as u64, &mut image) {
            return Err("cannot read the El Torito boot image".into());
        }
    } else {
        let mut d = emulated_disk(disk, &e)?;
        if d.read(0, &mut image[..bytes]).is_err() {
            return Err("El Torito: the load count runs past the emulated image".into());
        }
        emulated = Some(d);
    }
    let drive = match e.media {
        0 => CD_DRIVE,
        1..=3 => 0x00,
        _ => 0x80,
    };
    cpu.mem.load(base, &image[..bytes]);
    cpu.flush_decode_cache();
    // No emulation starts at seg:0000 (as before); emulation at 0000:7C00 like a disk boot.
    let (cs, ip) = if e.media != 0 && base < 0x10000 {
        (0, base)
    } else {
        (e.seg, 0)
    };
    cpu.load_seg_real(Seg::Cs, cs);
    for s in [Seg::Ds, Seg::Es, Seg::Ss] {
        cpu.load_seg_real(s, 0);
    }
    cpu.gpr[ESP] = 0x7C00;
    cpu.gpr[EDX] = drive as u32;
    cpu.eip = ip;
    cpu.next_eip = ip;
    cpu.set_flag(Flags::IF, true);
    Ok(CdBoot {
        media: e.media,
        drive,
        rba: e.rba,
        load_seg: e.seg,
        count: e.count,
        disk: emulated,
    })
}

/// INT 13h AH=4Bh (any drive): AL=00h terminates disk emulation, AL=01h gets its status;
/// both write the 13h-byte specification packet at DS:SI. Returns the status.
pub fn int13_4b(cpu: &mut Cpu, boot: Option<&mut CdBoot>) -> u8 {
    let al = cpu.gpr[crate::cpu::state::EAX] as u8;
    if al > 1 {
        return 0x01;
    }
    let dl = dx(cpu) as u8;
    let ds = cpu.seg[Seg::Ds as usize].selector;
    let si = cpu.gpr[ESI] as u16;
    let mut p = [0u8; 0x13];
    p[0] = 0x13;
    match boot {
        Some(b) => {
            p[1] = b.media;
            p[2] = b.drive;
            p[3] = 1; // the secondary ATA channel ...
            p[4..8].copy_from_slice(&b.rba.to_le_bytes());
            p[8..10].copy_from_slice(&0u16.to_le_bytes()); // ... its master
            p[12..14].copy_from_slice(&b.load_seg.to_le_bytes());
            p[14..16].copy_from_slice(&b.count.to_le_bytes());
            if let Some(d) = &b.disk {
                // CH, CL and DH as INT 13h AH=08h gives them.
                let g = d.geometry;
                let maxc = g.cylinders.saturating_sub(1).min(1023);
                p[16] = maxc as u8;
                p[17] = (g.sectors & 0x3F) as u8 | ((maxc >> 2) & 0xC0) as u8;
                p[18] = (g.heads - 1) as u8;
            }
            if al == 0 {
                b.disk = None;
            }
        }
        // Not booted from the CD: only the CD drive itself answers (no emulation).
        None if dl == CD_DRIVE => p[2] = dl,
        None => return 0x01,
    }
    write_block(cpu, ds, si, &p);
    0
}

/// INT 13h for DL = E0h. Returns the status (the caller sets AH/CF).
pub fn int13(cpu: &mut Cpu, bus: &mut PcBus) -> u8 {
    let Some(disk) = cdrom(bus) else {
        return 0x80;
    };
    match ah(cpu) {
        0x00 | 0x01 | 0x0D | 0x10 | 0x44 | 0x47 => 0,
        0x41 if cpu.gpr[EBX] as u16 == 0x55AA => {
            set_reg16(cpu, EBX, 0xAA55);
            set_reg16(cpu, ECX, 0x0001);
            set_ah(cpu, 0x21);
            set_cf(cpu, false);
            0xFF // already answered
        }
        0x42 => {
            let ds = cpu.seg[Seg::Ds as usize].selector;
            let si = cpu.gpr[ESI] as u16;
            let mut p = [0u8; 16];
            read_block(cpu, ds, si, &mut p);
            let count = u16::from_le_bytes([p[2], p[3]]);
            let (off, seg) = (
                u16::from_le_bytes([p[4], p[5]]),
                u16::from_le_bytes([p[6], p[7]]),
            );
            let lba = u64::from_le_bytes(p[8..16].try_into().unwrap());
            cpu.icount += 100 + count as u64 * (BLOCK as u64 / 2);
            let mut buf = vec![0u8; BLOCK];
            for i in 0..count {
                let ok = lba
                    .checked_add(i as u64)
                    .filter(|&l| l < disk.sectors)
                    .is_some_and(|l| read_cd(disk, l, &mut buf));
                if !ok {
                    wr16(cpu, ds, si.wrapping_add(2), i);
                    return 0x04;
                }
                let lin = ((seg as u32) << 4) + off as u32 + i as u32 * BLOCK as u32;
                write_block(cpu, (lin >> 4) as u16, (lin & 0xF) as u16, &buf);
            }
            0
        }
        0x43 => 0x03, // write protected
        0x48 => {
            let ds = cpu.seg[Seg::Ds as usize].selector;
            let si = cpu.gpr[ESI] as u16;
            let mut p = [0u8; 26];
            p[0..2].copy_from_slice(&26u16.to_le_bytes());
            p[2..4].copy_from_slice(&0x0074u16.to_le_bytes()); // removable, lockable, change line
            p[4..16].copy_from_slice(&[0xFF; 12]);
            p[16..24].copy_from_slice(&disk.sectors.to_le_bytes());
            p[24..26].copy_from_slice(&(BLOCK as u16).to_le_bytes());
            write_block(cpu, ds, si, &p);
            0
        }
        _ => 0x01,
    }
}
