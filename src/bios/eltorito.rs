//! El Torito CD boot (no-emulation mode) and INT 13h for the CD drive (DL = E0h) through
//! the EDD packet functions with 2048-byte sectors. The CD is the ATAPI drive on the ATA
//! channels (normally the secondary master).

use super::{ah, dx, read_block, set_ah, set_cf, set_reg16, wr16, write_block};
use crate::cpu::state::{Flags, Seg, EBX, ECX, EDX, ESI, ESP};
use crate::cpu::Cpu;
use crate::devices::atapi::BLOCK;
use crate::devices::PcBus;
use crate::storage::Disk;

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

/// The boot image of a no-emulation El Torito CD: (load segment, 512-byte sectors, RBA).
fn boot_entry(disk: &mut Disk) -> Result<(u16, u16, u32), String> {
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
    if e[1] & 0x0F != 0 {
        return Err("El Torito floppy/hard disk emulation is not supported".into());
    }
    let seg = match u16::from_le_bytes([e[2], e[3]]) {
        0 => 0x07C0,
        s => s,
    };
    let count = u16::from_le_bytes([e[6], e[7]]).max(1);
    let rba = u32::from_le_bytes(e[8..12].try_into().unwrap());
    Ok((seg, count, rba))
}

/// Loads and starts the CD's boot image; an error says why it cannot boot.
pub fn boot(cpu: &mut Cpu, bus: &mut PcBus) -> Result<(), String> {
    let disk = cdrom(bus).ok_or("no CD-ROM drive")?;
    let (seg, count, rba) = boot_entry(disk)?;
    let bytes = count as usize * 512;
    let mut image = vec![0u8; bytes.div_ceil(BLOCK) * BLOCK];
    if !read_cd(disk, rba as u64, &mut image) {
        return Err("cannot read the El Torito boot image".into());
    }
    let base = (seg as u32) << 4;
    if base as usize + bytes > 0xA0000 {
        return Err("El Torito boot image does not fit below 640 KiB".into());
    }
    cpu.mem.load(base, &image[..bytes]);
    cpu.flush_decode_cache();
    cpu.load_seg_real(Seg::Cs, seg);
    for s in [Seg::Ds, Seg::Es, Seg::Ss] {
        cpu.load_seg_real(s, 0);
    }
    cpu.gpr[ESP] = 0x7C00;
    cpu.gpr[EDX] = CD_DRIVE as u32;
    cpu.eip = 0;
    cpu.next_eip = 0;
    cpu.set_flag(Flags::IF, true);
    Ok(())
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
        0x4B => {
            // Terminate disk emulation / get status: the specification packet.
            let ds = cpu.seg[Seg::Ds as usize].selector;
            let si = cpu.gpr[ESI] as u16;
            let mut p = [0u8; 0x13];
            p[0] = 0x13;
            p[1] = 0x00; // no emulation
            p[2] = dx(cpu) as u8;
            write_block(cpu, ds, si, &p);
            0
        }
        _ => 0x01,
    }
}
