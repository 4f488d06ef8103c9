//! ATAPI CD-ROM packet commands (SFF-8020i / MMC subset) on an ISO image with 2048-byte
//! blocks: TEST UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY, READ(10)/(12), MODE
//! SENSE(6/10) (capabilities page), READ TOC (format 0, LBA or MSF), START STOP UNIT,
//! PREVENT ALLOW MEDIUM REMOVAL. Anything else fails with ILLEGAL REQUEST / invalid opcode.
//! The PACKET protocol itself (interrupt reason, byte counts) is in ata.rs.

use crate::storage::Disk;

pub const BLOCK: usize = 2048;

/// Sense key, additional sense code and qualifier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sense(pub u8, pub u8, pub u8);

const ILLEGAL_OPCODE: Sense = Sense(0x05, 0x20, 0x00);
const INVALID_FIELD: Sense = Sense(0x05, 0x24, 0x00);
const LBA_OUT_OF_RANGE: Sense = Sense(0x05, 0x21, 0x00);
const READ_ERROR: Sense = Sense(0x03, 0x11, 0x00);

/// What a packet asks the drive to send.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// Nothing to transfer: success.
    Done,
    Data(Vec<u8>),
    /// `blocks` blocks from `lba` (read in chunks by the channel).
    Read {
        lba: u64,
        blocks: u64,
    },
    Error(Sense),
}

fn be16(b: &[u8]) -> u64 {
    u16::from_be_bytes([b[0], b[1]]) as u64
}

fn be32(b: &[u8]) -> u64 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64
}

/// Blocks on the disc.
pub fn blocks(disk: &Disk) -> u64 {
    disk.sectors
}

/// Reads `n` blocks from `lba` into a new buffer.
pub fn read_blocks(disk: &mut Disk, lba: u64, n: u64) -> Result<Vec<u8>, Sense> {
    let mut data = vec![0u8; n as usize * BLOCK];
    disk.read(lba * (BLOCK / 512) as u64, &mut data)
        .map_err(|_| READ_ERROR)?;
    Ok(data)
}

fn truncate(mut v: Vec<u8>, alloc: u64) -> Reply {
    v.truncate(alloc as usize);
    Reply::Data(v)
}

fn msf(lba: u64) -> [u8; 4] {
    let f = lba + 150;
    [0, (f / 75 / 60) as u8, (f / 75 % 60) as u8, (f % 75) as u8]
}

/// Executes a 12-byte packet; `sense` is the drive's last sense (REQUEST SENSE returns it).
pub fn execute(packet: &[u8; 12], disk: &Disk, sense: Sense) -> Reply {
    let total = blocks(disk);
    match packet[0] {
        0x00 | 0x1B | 0x1E => Reply::Done,
        0x03 => {
            let mut d = vec![0u8; 18];
            d[0] = 0x70;
            d[2] = sense.0;
            d[7] = 10;
            d[12] = sense.1;
            d[13] = sense.2;
            truncate(d, packet[4] as u64)
        }
        0x12 => {
            let mut d = vec![0u8; 36];
            d[0] = 0x05; // CD/DVD device
            d[1] = 0x80; // removable
            d[3] = 0x21; // ATAPI, response format 1
            d[4] = 31;
            d[8..16].copy_from_slice(b"EMU     ");
            d[16..32].copy_from_slice(b"EMU CD-ROM      ");
            d[32..36].copy_from_slice(b"1.0 ");
            truncate(d, packet[4] as u64)
        }
        0x25 => {
            let mut d = vec![0u8; 8];
            d[0..4].copy_from_slice(&(total.saturating_sub(1) as u32).to_be_bytes());
            d[4..8].copy_from_slice(&(BLOCK as u32).to_be_bytes());
            Reply::Data(d)
        }
        0x28 | 0xA8 => {
            let lba = be32(&packet[2..6]);
            let n = if packet[0] == 0x28 {
                be16(&packet[7..9])
            } else {
                be32(&packet[6..10])
            };
            if lba + n > total {
                Reply::Error(LBA_OUT_OF_RANGE)
            } else if n == 0 {
                Reply::Done
            } else {
                Reply::Read { lba, blocks: n }
            }
        }
        0x1A | 0x5A => {
            let ten = packet[0] == 0x5A;
            let page = packet[2] & 0x3F;
            let alloc = if ten {
                be16(&packet[7..9])
            } else {
                packet[4] as u64
            };
            if page != 0x2A && page != 0x3F {
                return Reply::Error(INVALID_FIELD);
            }
            // CD capabilities page: reads CD-R/RW media, tray loader, no audio play.
            let mut p = vec![0u8; 20];
            p[0] = 0x2A;
            p[1] = 18;
            p[6] = 0x29; // lock, eject supported, tray
            p[8..10].copy_from_slice(&(706u16).to_be_bytes()); // 4x in kB/s
            p[12..14].copy_from_slice(&(706u16).to_be_bytes());
            let mut d = if ten {
                let mut h = vec![0u8; 8];
                h[0..2].copy_from_slice(&((6 + p.len()) as u16).to_be_bytes());
                h[2] = 0x01; // 120 mm data disc
                h
            } else {
                vec![(3 + p.len()) as u8, 0x01, 0, 0]
            };
            d.extend(p);
            truncate(d, alloc)
        }
        0x43 => {
            let use_msf = packet[1] & 0x02 != 0;
            let format = packet[9] >> 6 | packet[2] & 0x0F;
            let alloc = be16(&packet[7..9]);
            if format != 0 {
                return Reply::Error(INVALID_FIELD);
            }
            let start = packet[6];
            if start > 1 && start != 0xAA {
                return Reply::Error(INVALID_FIELD);
            }
            let mut d = vec![0u8, 0, 1, 1];
            let mut track = |num: u8, lba: u64| {
                d.extend([0, 0x14, num, 0]); // data track, digital copy allowed
                if use_msf {
                    d.extend(msf(lba));
                } else {
                    d.extend((lba as u32).to_be_bytes());
                }
            };
            if start <= 1 {
                track(1, 0);
            }
            track(0xAA, total);
            let len = (d.len() - 2) as u16;
            d[0..2].copy_from_slice(&len.to_be_bytes());
            truncate(d, alloc)
        }
        _ => Reply::Error(ILLEGAL_OPCODE),
    }
}

/// IDENTIFY PACKET DEVICE data.
pub fn identify() -> [u8; 512] {
    let mut w = [0u16; 256];
    w[0] = 0x8580; // ATAPI, CD-ROM, removable, 12-byte packets, DRQ within 3 ms
    let put = |w: &mut [u16], s: &str| {
        let mut b = s.bytes().chain(std::iter::repeat(b' '));
        for x in w.iter_mut() {
            *x = (b.next().unwrap_or(b' ') as u16) << 8 | b.next().unwrap_or(b' ') as u16;
        }
    };
    put(&mut w[10..20], "EMUCD0000000001");
    put(&mut w[23..27], "1.0");
    put(&mut w[27..47], "EMU CD-ROM");
    w[49] = 0x0200; // LBA (no DMA)
    w[53] = 0x0002;
    w[64] = 0x0003;
    w[80] = 0x007E;
    let mut out = [0u8; 512];
    for (i, v) in w.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MediaKind;

    fn disc(blocks: usize) -> (std::path::PathBuf, Disk) {
        let p = std::env::temp_dir().join(format!("emu-atapi-{}-{blocks}.iso", std::process::id()));
        let mut bytes = vec![0u8; blocks * BLOCK];
        for (i, b) in bytes.chunks_mut(BLOCK).enumerate() {
            b[0] = i as u8;
        }
        std::fs::write(&p, bytes).unwrap();
        let d = Disk::open(&p, Some(MediaKind::CdRom)).unwrap();
        (p, d)
    }

    fn pkt(b: &[u8]) -> [u8; 12] {
        let mut p = [0u8; 12];
        p[..b.len()].copy_from_slice(b);
        p
    }

    #[test]
    fn capacity_toc_mode_sense_reads_and_errors() {
        let (p, mut d) = disc(100);
        let none = Sense::default();
        assert_eq!(
            execute(&pkt(&[0x25]), &d, none),
            Reply::Data(vec![0, 0, 0, 99, 0, 0, 8, 0])
        );
        // READ TOC, LBA form: header, track 1 at 0, lead-out at 100.
        let toc = execute(&pkt(&[0x43, 0, 0, 0, 0, 0, 0, 0, 100]), &d, none);
        assert_eq!(
            toc,
            Reply::Data(vec![
                0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xAA, 0, 0, 0, 0, 100
            ])
        );
        // MSF form: lead-out at 100 + 150 frames = 00:03:25.
        let Reply::Data(msf) = execute(&pkt(&[0x43, 2, 0, 0, 0, 0, 0, 0, 100]), &d, none) else {
            panic!()
        };
        assert_eq!(&msf[16..20], &[0, 0, 3, 25]);
        let Reply::Data(ms) = execute(&pkt(&[0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64]), &d, none) else {
            panic!()
        };
        assert_eq!((ms.len(), ms[1], ms[8]), (28, 26, 0x2A));
        assert_eq!(
            execute(&pkt(&[0x5A, 0, 0x05, 0, 0, 0, 0, 0, 64]), &d, none),
            Reply::Error(INVALID_FIELD)
        );
        assert_eq!(
            execute(&pkt(&[0x28, 0, 0, 0, 0, 98, 0, 0, 2]), &d, none),
            Reply::Read { lba: 98, blocks: 2 }
        );
        assert_eq!(
            execute(&pkt(&[0xA8, 0, 0, 0, 0, 99, 0, 0, 0, 2]), &d, none),
            Reply::Error(LBA_OUT_OF_RANGE)
        );
        assert_eq!(read_blocks(&mut d, 7, 1).unwrap()[0], 7);
        let Reply::Data(s) = execute(&pkt(&[0x03, 0, 0, 0, 18]), &d, ILLEGAL_OPCODE) else {
            panic!()
        };
        assert_eq!((s[2], s[12], s[13]), (5, 0x20, 0));
        assert_eq!(
            execute(&pkt(&[0xBB]), &d, none),
            Reply::Error(ILLEGAL_OPCODE)
        );
        let _ = std::fs::remove_file(p);
    }
}
