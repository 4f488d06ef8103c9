//! Disk images: media detection from size and content, CHS geometry, and sector access that
//! writes through to the image file (nothing is cached, so nothing is lost on exit).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub const SECTOR: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Floppy,
    HardDisk,
    CdRom,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub cylinders: u32,
    pub heads: u32,
    pub sectors: u32,
}

/// The standard floppy formats by image size: (bytes, cylinders, heads, sectors, CMOS type).
const FLOPPIES: [(u64, u32, u32, u32, u8); 8] = [
    (163_840, 40, 1, 8, 1),
    (184_320, 40, 1, 9, 1),
    (327_680, 40, 2, 8, 1),
    (368_640, 40, 2, 9, 1),
    (737_280, 80, 2, 9, 3),
    (1_228_800, 80, 2, 15, 2),
    (1_474_560, 80, 2, 18, 4),
    (2_949_120, 80, 2, 36, 5),
];

/// The CHS geometry the BIOS reports for a hard disk of `sectors` sectors (INT 13h AH=08h,
/// CHS transfers, the INT 41h/46h tables and CMOS), as a BIOS of the EDD era does:
///
/// - When sector 0 holds a partition table whose CHS fields all agree with their LBA fields
///   under one geometry, that geometry: the tool that partitioned the image (sfdisk, fdisk,
///   DOS FDISK) wrote it, and boot code that reads the partition's CHS address or its
///   boot sector's BPB geometry expects it back. (QEMU guesses from the partition table too,
///   but only from the end head and sector, which modern tools no longer align.)
/// - Otherwise LBA-assisted translation from the size: 63 sectors per track and 16, 32, 64,
///   128 or 255 heads, the fewest that bring the cylinders to 1024 (so CHS reaches 504 MiB,
///   1 GiB, ... up to 7.8 GiB).
///
/// The cylinders are at most 1024 (INT 13h's 10-bit cylinder number).
pub fn bios_geometry(sectors: u64, mbr: Option<&[u8; SECTOR]>) -> Geometry {
    let (heads, spt) = mbr
        .and_then(|m| partition_table_geometry(m, sectors))
        .unwrap_or_else(|| {
            let heads = [16u32, 32, 64, 128, 255]
                .into_iter()
                .find(|&h| sectors <= 1024 * h as u64 * 63)
                .unwrap_or(255);
            (heads, 63)
        });
    Geometry {
        cylinders: (sectors / (heads as u64 * spt as u64)).clamp(1, 1024) as u32,
        heads,
        sectors: spt,
    }
}

/// The (heads, sectors per track) under which every CHS address in an MBR partition table
/// matches its LBA (addresses past cylinder 1023 saturate at 1023/H-1/S, or 1023/255/63),
/// None when there is no partition table or no geometry fits. Common geometries are tried
/// first; then every one.
fn partition_table_geometry(mbr: &[u8; SECTOR], sectors: u64) -> Option<(u32, u32)> {
    if mbr[510..512] != [0x55, 0xAA] {
        return None;
    }
    // (cylinder, head, sector) and the LBA it should be.
    let mut points = Vec::new();
    for e in mbr[446..510].chunks_exact(16) {
        if e[0] & 0x7F != 0 {
            return None; // not a boot flag: boot code, not a partition table
        }
        let start = u32::from_le_bytes([e[8], e[9], e[10], e[11]]) as u64;
        let len = u32::from_le_bytes([e[12], e[13], e[14], e[15]]) as u64;
        if e[4] == 0 || len == 0 {
            continue;
        }
        let chs = |b: &[u8]| {
            (
                b[2] as u64 | ((b[1] as u64 & 0xC0) << 2),
                b[0] as u64,
                b[1] as u64 & 0x3F,
            )
        };
        points.push((chs(&e[1..4]), start));
        points.push((chs(&e[5..8]), start + len - 1));
    }
    if points.is_empty() {
        return None;
    }
    let fits = |heads: u64, spt: u64| {
        sectors >= heads * spt
            && points.iter().all(|&((c, h, s), lba)| {
                let beyond = lba >= 1024 * heads * spt;
                if c == 1023 && beyond {
                    return true;
                }
                s >= 1 && s <= spt && h < heads && (c * heads + h) * spt + s - 1 == lba
            })
    };
    let common = [
        (255, 63),
        (240, 63),
        (128, 63),
        (64, 63),
        (32, 63),
        (16, 63),
        (64, 32),
        (128, 32),
        (255, 32),
        (16, 17),
    ];
    let all = (1..=63u64)
        .rev()
        .flat_map(|s| (1..=255u64).rev().map(move |h| (h, s)));
    common
        .into_iter()
        .chain(all)
        .find(|&(h, s)| fits(h, s))
        .map(|(h, s)| (h as u32, s as u32))
}

/// The geometry an ATA disk reports in IDENTIFY DEVICE (16 heads, 63 sectors, at most
/// 16383 cylinders), which EDD calls the physical geometry (INT 13h AH=48h).
pub fn ata_geometry(sectors: u64) -> Geometry {
    Geometry {
        cylinders: (sectors / (16 * 63)).clamp(1, 16383) as u32,
        heads: 16,
        sectors: 63,
    }
}

/// Where a disk's bytes live: an image file (written through) or memory (built-in media).
enum Backing {
    File(File),
    Memory(Vec<u8>),
}

pub struct Disk {
    pub path: PathBuf,
    backing: Backing,
    pub kind: MediaKind,
    pub geometry: Geometry,
    pub sectors: u64,
    pub read_only: bool,
    /// CMOS drive type for floppies (1 = 360K ... 5 = 2.88M).
    pub floppy_type: u8,
}

impl Disk {
    /// Opens an image and decides what it is: a floppy by its exact size, a CD-ROM by the
    /// ISO 9660 signature, otherwise a hard disk (which must be whole sectors).
    ///
    /// A writable image is locked (advisory, exclusive) for as long as it is open, so two
    /// emu processes cannot write the same image; a read-only one is opened read-only.
    pub fn open(path: &Path, force: Option<MediaKind>) -> Result<Disk> {
        let (file, read_only) = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => (f, false),
            Err(_) => (File::open(path).map_err(|e| Error::io(path, e))?, true),
        };
        if !read_only {
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::Usage(format!(
                        "{}: the image is in use by another process (use --snapshot to share it read-only)",
                        path.display()
                    )))
                }
                // File systems without locks: go on unlocked.
                Err(std::fs::TryLockError::Error(_)) => {}
            }
        }
        Self::classify(path, file, read_only, force)
    }

    /// What the image is, without locking or keeping it open (for choosing its drive).
    pub fn probe(path: &Path) -> Result<MediaKind> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::classify(path, file, true, None)?.kind)
    }

    /// Opens an image for a `--snapshot` run: its bytes are read into memory, guest writes
    /// stay there, and the file is never written (nor locked).
    pub fn open_snapshot(path: &Path, force: Option<MediaKind>) -> Result<Disk> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut disk = Self::classify(path, file, true, force)?;
        let mut bytes = Vec::new();
        if let Backing::File(f) = &mut disk.backing {
            f.seek(SeekFrom::Start(0))
                .and_then(|_| f.read_to_end(&mut bytes))
                .map_err(|e| Error::io(path, e))?;
        }
        disk.backing = Backing::Memory(bytes);
        disk.read_only = disk.kind == MediaKind::CdRom;
        Ok(disk)
    }

    fn classify(
        path: &Path,
        file: File,
        read_only: bool,
        force: Option<MediaKind>,
    ) -> Result<Disk> {
        let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut disk = Disk {
            path: path.to_path_buf(),
            backing: Backing::File(file),
            kind: MediaKind::HardDisk,
            geometry: Geometry {
                cylinders: 0,
                heads: 0,
                sectors: 0,
            },
            sectors: size / SECTOR as u64,
            read_only,
            floppy_type: 0,
        };
        let floppy = FLOPPIES.iter().find(|f| f.0 == size);
        let kind = match force {
            Some(k) => k,
            None if floppy.is_some() => MediaKind::Floppy,
            None if disk.is_iso9660() => MediaKind::CdRom,
            None => MediaKind::HardDisk,
        };
        disk.kind = kind;
        match kind {
            MediaKind::Floppy => {
                let f = floppy.ok_or_else(|| {
                    Error::format(
                        path,
                        format!(
                            "{size} bytes is not a floppy size (160K, 180K, 320K, 360K, 720K, \
                             1.2M, 1.44M or 2.88M: {} bytes)",
                            FLOPPIES.map(|f| f.0.to_string()).join(", ")
                        ),
                    )
                })?;
                disk.geometry = Geometry {
                    cylinders: f.1,
                    heads: f.2,
                    sectors: f.3,
                };
                disk.floppy_type = f.4;
            }
            MediaKind::HardDisk => {
                if size == 0 || size % SECTOR as u64 != 0 {
                    return Err(Error::format(
                        path,
                        format!("unknown image format: {size} bytes is neither a floppy size nor whole 512-byte sectors"),
                    ));
                }
                let mut mbr = [0u8; SECTOR];
                let mbr = disk.read(0, &mut mbr).ok().map(|()| &mbr);
                disk.geometry = bios_geometry(disk.sectors, mbr);
            }
            MediaKind::CdRom => {
                disk.read_only = true;
                disk.sectors = size / 2048;
            }
        }
        Ok(disk)
    }

    /// A 1.44 MB floppy held in memory, starting with `content` (the built-in demo disk).
    pub fn memory_floppy(name: &str, content: &[u8]) -> Disk {
        let mut bytes = vec![0u8; 1_474_560];
        let n = content.len().min(bytes.len());
        bytes[..n].copy_from_slice(&content[..n]);
        Disk {
            path: PathBuf::from(name),
            backing: Backing::Memory(bytes),
            kind: MediaKind::Floppy,
            geometry: Geometry {
                cylinders: 80,
                heads: 2,
                sectors: 18,
            },
            sectors: 2880,
            read_only: false,
            floppy_type: 4,
        }
    }

    /// A read-only disk held in memory: the image an El Torito CD emulates (a floppy or a
    /// hard disk), copied from the CD at boot. `floppy_type` is the CMOS type of a floppy.
    pub fn emulated(
        name: &str,
        bytes: Vec<u8>,
        kind: MediaKind,
        geometry: Geometry,
        floppy_type: u8,
    ) -> Disk {
        Disk {
            path: PathBuf::from(name),
            sectors: (bytes.len() / SECTOR) as u64,
            backing: Backing::Memory(bytes),
            kind,
            geometry,
            read_only: true,
            floppy_type,
        }
    }

    /// The geometry and CMOS type of a floppy of `bytes` bytes.
    pub fn floppy_format(bytes: u64) -> Option<(Geometry, u8)> {
        FLOPPIES.iter().find(|f| f.0 == bytes).map(|f| {
            (
                Geometry {
                    cylinders: f.1,
                    heads: f.2,
                    sectors: f.3,
                },
                f.4,
            )
        })
    }

    fn is_iso9660(&mut self) -> bool {
        let mut sig = [0u8; 5];
        let Backing::File(file) = &mut self.backing else {
            return false;
        };
        file.seek(SeekFrom::Start(0x8001)).is_ok()
            && file.read_exact(&mut sig).is_ok()
            && &sig == b"CD001"
    }

    /// LBA of a CHS address, or None outside the geometry.
    pub fn chs_to_lba(&self, c: u32, h: u32, s: u32) -> Option<u64> {
        let g = self.geometry;
        if s == 0 || s > g.sectors || h >= g.heads || c >= g.cylinders.max(1) {
            return None;
        }
        Some(((c * g.heads + h) * g.sectors + s - 1) as u64)
    }

    /// The byte offset of sector `lba` for a transfer of `len` bytes; an error when the
    /// transfer would end beyond 2^64 (the callers check guest LBAs against the disk, this
    /// keeps a wrong one from wrapping around).
    fn offset(lba: u64, len: usize) -> std::io::Result<u64> {
        lba.checked_mul(SECTOR as u64)
            .filter(|start| start.checked_add(len as u64).is_some())
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "sector out of range")
            })
    }

    pub fn read(&mut self, lba: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = Self::offset(lba, buf.len())?;
        match &mut self.backing {
            Backing::File(file) => {
                file.seek(SeekFrom::Start(start))?;
                file.read_exact(buf)
            }
            Backing::Memory(bytes) => {
                let src = usize::try_from(start)
                    .ok()
                    .and_then(|a| bytes.get(a..a.checked_add(buf.len())?))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }

    /// Writes whole sectors straight to the image file; never past its end (the image
    /// does not grow).
    pub fn write(&mut self, lba: u64, buf: &[u8]) -> std::io::Result<()> {
        if self.read_only {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "read-only image",
            ));
        }
        let start = Self::offset(lba, buf.len())?;
        if start + buf.len() as u64 > self.sectors.saturating_mul(SECTOR as u64) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "write past the end of the image",
            ));
        }
        match &mut self.backing {
            Backing::File(file) => {
                file.seek(SeekFrom::Start(start))?;
                file.write_all(buf)?;
                file.flush()
            }
            Backing::Memory(bytes) => {
                let dst = usize::try_from(start)
                    .ok()
                    .and_then(|a| bytes.get_mut(a..a.checked_add(buf.len())?))
                    .ok_or(std::io::ErrorKind::UnexpectedEof)?;
                dst.copy_from_slice(buf);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_image(name: &str, size: usize) -> PathBuf {
        let p = std::env::temp_dir().join(format!("emu-{}-{name}", std::process::id()));
        std::fs::write(&p, vec![0u8; size]).unwrap();
        p
    }

    #[test]
    fn media_by_size_and_geometry() {
        let p = temp_image("fd.img", 1_474_560);
        let d = Disk::open(&p, None).unwrap();
        assert_eq!(d.kind, MediaKind::Floppy);
        assert_eq!(d.geometry.sectors, 18);
        assert_eq!(d.chs_to_lba(1, 1, 1), Some(54));
        assert_eq!(d.chs_to_lba(0, 0, 19), None);
        let _ = std::fs::remove_file(&p);
        let p = temp_image("hd.img", 16 * 63 * 512 * 20);
        let d = Disk::open(&p, None).unwrap();
        assert_eq!(d.kind, MediaKind::HardDisk);
        assert_eq!(d.geometry.cylinders, 20);
        let _ = std::fs::remove_file(&p);
        let p = temp_image("odd.img", 1000);
        assert!(Disk::open(&p, None).is_err());
        let _ = std::fs::remove_file(&p);
    }

    /// An MBR with one partition, its CHS fields written for `heads`/63 as sfdisk does.
    fn mbr(start: u64, len: u64, heads: u64) -> [u8; SECTOR] {
        let chs = |lba: u64| {
            let c = (lba / (heads * 63)).min(1023);
            let (h, s) = if lba / (heads * 63) > 1023 {
                (heads - 1, 63)
            } else {
                (lba / 63 % heads, lba % 63 + 1)
            };
            [h as u8, (s | (c >> 2 & 0xC0)) as u8, c as u8]
        };
        let mut m = [0u8; SECTOR];
        let e = &mut m[446..462];
        e[0] = 0x80;
        e[1..4].copy_from_slice(&chs(start));
        e[4] = 0x06;
        e[5..8].copy_from_slice(&chs(start + len - 1));
        e[8..12].copy_from_slice(&(start as u32).to_le_bytes());
        e[12..16].copy_from_slice(&(len as u32).to_le_bytes());
        m[510] = 0x55;
        m[511] = 0xAA;
        m
    }

    #[test]
    fn hard_disk_geometry_from_the_partition_table_or_the_size() {
        let g = |c, h, s| Geometry {
            cylinders: c,
            heads: h,
            sectors: s,
        };
        // By size: 16 heads up to 504 MiB, then LBA-assisted translation.
        assert_eq!(bios_geometry(65536, None), g(65, 16, 63));
        assert_eq!(bios_geometry(1024 * 16 * 63, None), g(1024, 16, 63));
        assert_eq!(bios_geometry(4 << 20, None), g(520, 128, 63)); // 2 GiB
        assert_eq!(bios_geometry(4 << 21, None), g(522, 255, 63)); // 4 GiB
        assert_eq!(bios_geometry(64 << 21, None), g(1024, 255, 63)); // 64 GiB
                                                                     // A 32 MiB image partitioned by sfdisk (255 heads, partition at 2048 to the end):
                                                                     // its CHS fields only fit 255/63, which the BIOS then reports.
        let m = mbr(2048, 65536 - 2048, 255);
        assert_eq!(bios_geometry(65536, Some(&m)), g(4, 255, 63));
        // The bytes sfdisk 2.38 wrote for that image.
        assert_eq!(
            m[446..462],
            [0x80, 0x20, 0x21, 0x00, 0x06, 0x14, 0x10, 0x04, 0, 8, 0, 0, 0, 0xF8, 0, 0]
        );
        // Partitioned for 16 heads: 16 heads.
        let m = mbr(63, 65536 - 63, 16);
        assert_eq!(bios_geometry(65536, Some(&m)), g(65, 16, 63));
        // Past cylinder 1023 the CHS fields saturate; the start still decides (2 GiB disk,
        // partition at sector 1200000, LBA-only end).
        let m = mbr(1_200_000, (4 << 20) - 1_200_000, 255);
        assert_eq!(bios_geometry(4 << 20, Some(&m)), g(261, 255, 63));
        // A boot sector (boot code where the table would be) or CHS fields that fit no
        // geometry: the size decides.
        let mut m = mbr(2048, 1000, 255);
        m[446] = 0x33;
        assert_eq!(bios_geometry(65536, Some(&m)), g(65, 16, 63));
        let mut m = mbr(2048, 1000, 255);
        m[447] = 0x3F; // start sector 63 in head 32: LBA 2078, not 2048
        assert_eq!(bios_geometry(65536, Some(&m)), g(65, 16, 63));
    }

    #[test]
    fn a_floppy_drive_refuses_other_sizes_naming_the_sizes() {
        let p = temp_image("notfd.img", 1_000_448);
        let e = Disk::open(&p, Some(MediaKind::Floppy))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("1000448 bytes is not a floppy size"), "{e}");
        assert!(e.contains("1474560"), "{e}");
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn writes_reach_the_file() {
        let p = temp_image("w.img", 368_640);
        let mut d = Disk::open(&p, None).unwrap();
        d.write(3, &[0xAB; 512]).unwrap();
        drop(d);
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes[3 * 512], 0xAB);
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn out_of_range_sectors_fail_without_wrapping_or_growing_the_image() {
        // Regression (device audit): the byte offset was lba * 512 unchecked (an overflow
        // panic in debug builds, a wrapped offset in release), and a write past the end
        // extended the file. The controllers check LBAs first; this is the backstop.
        let p = temp_image("range.img", 368_640);
        let mut d = Disk::open(&p, None).unwrap();
        let mut buf = [0u8; 512];
        for lba in [u64::MAX, u64::MAX / 512, 1 << 55, 720] {
            assert!(d.read(lba, &mut buf).is_err(), "read {lba}");
            assert!(d.write(lba, &buf).is_err(), "write {lba}");
        }
        assert!(
            d.write(719, &[0u8; 1024]).is_err(),
            "a write across the end"
        );
        d.write(719, &buf).unwrap();
        drop(d);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 368_640);
        let mut m = Disk::memory_floppy("mem", &[]);
        assert!(m.read(u64::MAX, &mut buf).is_err());
        assert!(m.write(u64::MAX, &buf).is_err());
        let _ = std::fs::remove_file(&p);
    }
}
