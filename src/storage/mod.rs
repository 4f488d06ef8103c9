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
                    Error::format(path, format!("{size} bytes is not a floppy size"))
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
                let (heads, spt) = (16u64, 63u64);
                let cylinders = (disk.sectors / (heads * spt)).clamp(1, 1024);
                disk.geometry = Geometry {
                    cylinders: cylinders as u32,
                    heads: heads as u32,
                    sectors: spt as u32,
                };
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

    pub fn read(&mut self, lba: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = lba * SECTOR as u64;
        match &mut self.backing {
            Backing::File(file) => {
                file.seek(SeekFrom::Start(start))?;
                file.read_exact(buf)
            }
            Backing::Memory(bytes) => {
                let range = start as usize..start as usize + buf.len();
                let src = bytes.get(range).ok_or(std::io::ErrorKind::UnexpectedEof)?;
                buf.copy_from_slice(src);
                Ok(())
            }
        }
    }

    /// Writes whole sectors straight to the image file.
    pub fn write(&mut self, lba: u64, buf: &[u8]) -> std::io::Result<()> {
        if self.read_only {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "read-only image",
            ));
        }
        let start = lba * SECTOR as u64;
        match &mut self.backing {
            Backing::File(file) => {
                file.seek(SeekFrom::Start(start))?;
                file.write_all(buf)?;
                file.flush()
            }
            Backing::Memory(bytes) => {
                let range = start as usize..start as usize + buf.len();
                let dst = bytes
                    .get_mut(range)
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
}
