//! The controller set-up AT guests read at boot: the extended BIOS data area with the fixed
//! disk parameter tables (INT 41h/46h vectors), the CMOS hard disk types (12h, 19h/1Ah,
//! user-type parameters 1Bh-2Ch) and the CMOS checksum.

use super::{wr16, wr8};
use crate::cpu::Cpu;
use crate::devices::PcBus;

/// The extended BIOS data area: the last KiB of conventional memory.
pub const EBDA_SEG: u16 = 0x9FC0;
/// Offsets of the two fixed disk parameter tables inside it.
const FDPT: [u16; 2] = [0x3D, 0x4D];

/// The CHS geometry a hard disk reports to old software (at most 1024 cylinders).
fn legacy_geometry(bus: &mut PcBus, n: usize) -> Option<(u16, u8, u8)> {
    let g = bus.hard_disk(n)?.geometry;
    Some((g.cylinders.min(1024) as u16, g.heads as u8, g.sectors as u8))
}

pub fn setup(cpu: &mut Cpu, bus: &mut PcBus) {
    // Base memory shrinks by the EBDA's KiB; 40:0Eh points at it, its first byte is its size.
    wr16(cpu, 0x40, 0x13, 639);
    wr16(cpu, 0x40, 0x0E, EBDA_SEG);
    for off in 0..0x400u16 {
        wr8(cpu, EBDA_SEG, off, 0);
    }
    wr8(cpu, EBDA_SEG, 0, 1);
    let mut types = 0u8;
    for n in 0..2 {
        let vector = [0x41u16, 0x46][n];
        let Some((cyl, heads, spt)) = legacy_geometry(bus, n) else {
            wr16(cpu, 0, vector * 4, 0);
            wr16(cpu, 0, vector * 4 + 2, 0);
            continue;
        };
        // Fixed disk parameter table (16 bytes).
        let t = FDPT[n];
        wr16(cpu, EBDA_SEG, t, cyl);
        wr8(cpu, EBDA_SEG, t + 2, heads);
        wr16(cpu, EBDA_SEG, t + 5, 0xFFFF); // no write precompensation
        wr8(cpu, EBDA_SEG, t + 8, if heads > 8 { 0x08 } else { 0 });
        wr16(cpu, EBDA_SEG, t + 12, cyl); // landing zone
        wr8(cpu, EBDA_SEG, t + 14, spt);
        wr16(cpu, 0, vector * 4, t);
        wr16(cpu, 0, vector * 4 + 2, EBDA_SEG);
        // CMOS: type 15 in register 12h means "see 19h/1Ah"; 47 is the user-defined type
        // whose parameters follow at 1Bh (drive 0) and 24h (drive 1).
        types |= 0xF0 >> (4 * n);
        let ram = &mut bus.cmos.ram;
        ram[0x19 + n] = 47;
        let p = 0x1B + 9 * n;
        ram[p..p + 9].copy_from_slice(&[
            cyl as u8,
            (cyl >> 8) as u8,
            heads,
            0xFF,
            0xFF,
            if heads > 8 { 0x08 } else { 0 },
            cyl as u8,
            (cyl >> 8) as u8,
            spt,
        ]);
    }
    bus.cmos.ram[0x12] = types;
    // The checksum over 10h-2Dh, big-endian at 2Eh.
    let sum: u16 = bus.cmos.ram[0x10..0x2E].iter().map(|&b| b as u16).sum();
    bus.cmos.ram[0x2E] = (sum >> 8) as u8;
    bus.cmos.ram[0x2F] = sum as u8;
}
