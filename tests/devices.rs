//! Device test guests (test-suites/devices/*.asm): NASM boot floppies that drive the PC's
//! controllers themselves and compare the results with the BIOS's INT 13h, reporting TAP
//! lines on port 0xE9 and exiting through isa-debug-exit with their failure count. The same
//! guests pass in QEMU (see docs/devices.md).

mod common;
use std::path::PathBuf;
use std::process::Command;

use emu::machine::{Machine, MachineConfig, Outcome};

/// A scratch path of its own for each call: tests run in parallel threads and two of them
/// may build the same guest (a shared image would be refused by emu's image lock).
fn tmp(name: &str) -> PathBuf {
    static FILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = FILES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{n}-{name}", std::process::id()))
}

/// Assembles a guest and pads it to a 1.44 MB boot floppy.
fn floppy(source: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-suites/devices");
    let bin = tmp(&format!("{source}.bin"));
    let status = Command::new("nasm")
        .arg("-i")
        .arg(format!("{}/", dir.display()))
        .args(["-f", "bin", "-o"])
        .arg(&bin)
        .arg(dir.join(source))
        .status()
        .expect("nasm is needed (apt-get install nasm)");
    assert!(status.success(), "nasm failed on {source}");
    let mut bytes = std::fs::read(&bin).unwrap();
    bytes.resize(1_474_560, 0);
    let img = tmp(&format!("{source}.img"));
    std::fs::write(&img, bytes).unwrap();
    img
}

/// A hard disk image of pseudo-random bytes (xorshift), `sectors` long.
fn random_disk(name: &str, sectors: usize) -> PathBuf {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let bytes: Vec<u8> = (0..sectors * 512)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let p = tmp(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs a guest and checks that every test in `expected` reported ok and nothing failed.
fn run_guest(config: MachineConfig, expected: &[&str]) {
    let mut m = Machine::new(MachineConfig {
        echo_console: false,
        rtc_start: Some(1_700_000_000),
        max_instructions: config.max_instructions.or(Some(50_000_000)),
        ..config
    })
    .unwrap();
    let outcome = m.run();
    let out = String::from_utf8_lossy(m.console()).into_owned();
    for (i, name) in expected.iter().enumerate() {
        let line = format!("ok {} - {name}\n", i + 1);
        assert!(
            out.lines().any(|l| format!("{l}\n") == line),
            "missing {line:?} in:\n{out}"
        );
    }
    assert!(
        out.contains(&format!("1..{}\n", expected.len())),
        "plan: {out}"
    );
    assert!(!out.contains("not ok"), "{out}");
    assert_eq!(outcome, Outcome::Exit(1), "{out}");
}

#[test]
fn ata_pio_reads_and_writes_match_int13() {
    let fd = floppy("ata.asm");
    let hd = random_disk("ata-hd.img", 16 * 63 * 4);
    let before = std::fs::read(&hd).unwrap();
    run_guest(
        MachineConfig {
            floppies: [Some(fd.clone()), None],
            hard_disks: [Some(hd.clone()), None],
            ..MachineConfig::default()
        },
        &[
            "BIOS: one hard disk in the BDA and INT 13h AH=08h",
            "IDENTIFY DEVICE: LBA capacity equals INT 13h AH=48h, LBA bit set",
            "READ SECTORS (LBA28, 4 sectors, REP INSW) matches INT 13h",
            "READ SECTORS (CHS 0/1/1) matches INT 13h",
            "SET MULTIPLE 4 + READ MULTIPLE (8 sectors, REP INSD) matches INT 13h",
            "IRQ14 (INT 76h) announces the data of a READ SECTORS",
            "WRITE SECTORS then INT 13h AH=42h reads the same bytes back",
            "absent slave reads status 0, empty secondary channel reads FFh (or 00h)",
            "SRST: device 0 selected, signature 1/1/0/0, DRDY",
            "INT 41h table heads/sectors match INT 13h AH=08h; CMOS 12h F0h, 19h 47",
            "IDENTIFY: 48-bit feature set (words 83/86 bit 10), words 100-103 = INT 13h AH=48h",
            "HOB: the register pairs read back the previous bytes; a register write clears HOB",
            "WRITE SECTORS EXT (2 sectors) read back by READ SECTORS EXT and INT 13h AH=42h",
            "WRITE MULTIPLE EXT (6 sectors, blocks of 4) read back by READ MULTIPLE EXT and INT 13h",
            "READ SECTORS EXT count 0 (65536) 300 sectors before the end: 300 sectors, then ERR",
            "READ SECTORS EXT at LBA 1_0000_0000h (past the end): ERR with IDNF (QEMU: ABRT), no DRQ",
        ],
    );
    // The sectors written through ATA reached the file; nothing else changed.
    let after = std::fs::read(&hd).unwrap();
    let mut want = before.clone();
    let pattern: Vec<u8> = (0..512u32).map(|i| (i * 7 + 3) as u8).collect();
    want[100 * 512..101 * 512].copy_from_slice(&pattern);
    // The EXT writes: little-endian words (byte offset XOR key).
    for (lba, sectors, key) in [(3000, 2, 0x3CC3u16), (3100, 6, 0xA55A)] {
        let words = (0..sectors * 256u16).flat_map(|w| ((w * 2) ^ key).to_le_bytes());
        want[lba * 512..(lba + sectors as usize) * 512].copy_from_slice(&words.collect::<Vec<_>>());
    }
    assert!(after == want, "the image differs from the expected writes");
    assert_ne!(
        after[3000 * 512..3001 * 512],
        before[3000 * 512..3001 * 512]
    );
    let _ = std::fs::remove_file(fd);
    let _ = std::fs::remove_file(hd);
}

#[test]
fn fdc_dma_reads_and_writes_match_int13() {
    let fd = floppy("fdc.asm");
    // Random data after the guest (which fills track 0, head 0).
    let mut bytes = std::fs::read(&fd).unwrap();
    let noise = std::fs::read(random_disk("fdc-noise.img", 2880)).unwrap();
    bytes[18 * 512..].copy_from_slice(&noise[18 * 512..]);
    std::fs::write(&fd, &bytes).unwrap();
    run_guest(
        MachineConfig {
            floppies: [Some(fd.clone()), None],
            ..MachineConfig::default()
        },
        &[
            "DOR reset: IRQ6, four SENSE INTERRUPT polling statuses C0h-C3h",
            "VERSION reports 90h (82077AA)",
            "RECALIBRATE: IRQ6, ST0 20h, cylinder 0",
            "SEEK to cylinder 2: IRQ6, ST0 20h, cylinder 2",
            "READ DATA multi-track (36 sectors by DMA) matches INT 13h; result C3 H0 R1",
            "WRITE DATA by DMA, then INT 13h reads the same bytes back",
            "READ ID on cylinder 2 head 1",
            "DUMPREG shows PCN 2 and the SPECIFY step rate",
            "an invalid command answers 80h",
        ],
    );
    // C2 H1 S5 = LBA (2*2+1)*18+4 holds the pattern; nothing else changed.
    let after = std::fs::read(&fd).unwrap();
    let lba = (2 * 2 + 1) * 18 + 4;
    let pattern: Vec<u8> = (0..512u32).map(|i| (0x11 + i * 13) as u8).collect();
    assert_eq!(&after[lba * 512..(lba + 1) * 512], &pattern[..]);
    assert_eq!(after[..lba * 512], bytes[..lba * 512]);
    assert_eq!(after[(lba + 1) * 512..], bytes[(lba + 1) * 512..]);
    let _ = std::fs::remove_file(fd);
}

#[test]
fn rtc_interrupts_and_int15_waits_keep_time() {
    let fd = floppy("rtc.asm");
    run_guest(
        MachineConfig {
            floppies: [Some(fd.clone()), None],
            // Idle time counts as instructions (10 ns each): about 7 s of virtual time.
            max_instructions: Some(2_000_000_000),
            ..MachineConfig::default()
        },
        &[
            "INT 15h AH=86h waits 1 s (17-19 timer ticks)",
            "INT 15h AH=83h sets the flag byte after 200 ms (3-5 ticks)",
            "periodic IRQ8 at 1024 Hz: 540-580 interrupts in 10 ticks",
            "update-ended IRQ8: 3 interrupts 35-38 ticks apart (2 s)",
            "alarm IRQ8 two seconds ahead comes after 18-38 ticks",
        ],
    );
    let _ = std::fs::remove_file(fd);
}

#[test]
fn ps2_mouse_bios_services_and_irq12_handler() {
    let fd = floppy("mouse.asm");
    run_guest(
        MachineConfig {
            floppies: [Some(fd.clone()), None],
            ..MachineConfig::default()
        },
        &[
            "C205h initialise (3-byte packets), C201h reset answers AAh, id 0",
            "C204h device type 0",
            "C202h/C203h set 100/s and 4 counts/mm; C206h status reads them back",
            "C207h installs a handler, C200h enables the mouse",
            "IRQ12 packets (8042 D3h) reach the handler as status, X, Y words",
            "C200h disables reporting (C206h status bit 5 clear)",
        ],
    );
    let _ = std::fs::remove_file(fd);
}

/// Host mouse movement (Machine::mouse_event) reaches a guest that enabled the mouse:
/// after the mouse guest has run, the mouse is re-enabled and an event queued by the host
/// comes out of the 8042 as a packet with IRQ12.
#[test]
fn host_mouse_events_become_packets() {
    let fd = floppy("mouse.asm");
    let mut m = Machine::new(MachineConfig {
        echo_console: false,
        floppies: [Some(fd.clone()), None],
        max_instructions: Some(50_000_000),
        ..MachineConfig::default()
    })
    .unwrap();
    m.run();
    emu::machine::with_bus(&mut m.cpu, |_, bus| {
        bus.kbc.write(0x64, 0xD4);
        bus.kbc.write(0x60, 0xF4);
        assert_eq!(bus.kbc.read(0x60), 0xFA);
    });
    m.mouse_event(7, 3, 1);
    emu::machine::with_bus(&mut m.cpu, |_, bus| {
        assert!(bus.kbc.irq12);
        let p: Vec<u8> = (0..3).map(|_| bus.kbc.read(0x60)).collect();
        assert_eq!(p, vec![0x29, 7, (-3i8) as u8]);
    });
    let _ = std::fs::remove_file(fd);
}

/// Makes a no-emulation El Torito ISO (xorriso, installed by scripts/test.sh) whose boot
/// image is the whole assembled guest.
fn iso(source: &str) -> PathBuf {
    let dir = tmp(&format!("{source}-iso"));
    std::fs::create_dir_all(&dir).unwrap();
    let img = floppy(source);
    let mut bytes = std::fs::read(&img).unwrap();
    bytes.truncate(18 * 512);
    std::fs::write(dir.join("boot.bin"), &bytes).unwrap();
    let out = tmp(&format!("{source}.iso"));
    let _ = std::fs::remove_file(&out);
    let status = Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-b",
            "boot.bin",
            "-no-emul-boot",
        ])
        .args(["-boot-load-size", "18", "-o"])
        .arg(&out)
        .arg(&dir)
        .status()
        .expect("xorriso is needed (apt-get install xorriso)");
    assert!(status.success(), "xorriso failed");
    let _ = std::fs::remove_file(img);
    let _ = std::fs::remove_dir_all(dir);
    out
}

const CDROM_TESTS: &[&str] = &[
    "booted with DL = E0h; INT 13h AH=41h/48h: EDD, 2048-byte sectors",
    "INT 13h AH=42h reads the primary volume descriptor (CD001)",
    "ATAPI signature 14h/EBh after SRST on the secondary channel",
    "IDENTIFY PACKET DEVICE: ATAPI CD-ROM; IDENTIFY DEVICE aborts",
    "PACKET READ(10) of LBA 16 matches INT 13h",
    "INQUIRY type 05h; READ CAPACITY equals the INT 13h AH=48h sector count",
    "an unknown packet fails; REQUEST SENSE gives 05h/20h",
];

#[test]
fn el_torito_boot_and_atapi_packets() {
    let cd = iso("cdrom.asm");
    run_guest(
        MachineConfig {
            cdrom: Some(cd.clone()),
            boot_cdrom_first: true,
            ..MachineConfig::default()
        },
        CDROM_TESTS,
    );
    // `emu boot x.iso` recognises the CD and boots it: the guest exits with 0 failures.
    let out = common::emu()
        .args(["boot", "--display", "none"])
        .arg(&cd)
        .args(["--max-instructions", "50000000"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(cd);
}

/// Serial input from the host raises COM1's receive interrupt (IRQ4) once the guest has
/// enabled it (IER bit 0, MCR OUT2), and the byte reads back from the receive register.
#[test]
fn serial_input_raises_irq4() {
    use emu::devices::PcBus;
    use emu::io::PortBus;
    let mut bus = PcBus::new(0, 1 << 20);
    for (port, v) in emu::devices::pic::AT_PROGRAMMING {
        bus.write(port, 1, v as u32);
    }
    bus.write(0x21, 1, 0xEF); // only IRQ4
    bus.uarts[0].receive(b"A");
    bus.sync(10);
    assert!(!bus.pic.pending(), "receive interrupt not enabled yet");
    bus.write(0x3F9, 1, 0x01);
    bus.write(0x3FC, 1, 0x08);
    bus.sync(20);
    assert!(bus.pic.pending());
    assert_eq!(bus.pic.acknowledge(), 0x0C);
    assert_eq!(bus.read(0x3FD, 1) & 1, 1, "LSR data ready");
    assert_eq!(bus.read(0x3F8, 1), b'A' as u32);
    assert_eq!(bus.read(0x3FD, 1) & 1, 0);
}

/// Makes an El Torito ISO whose boot image is the floppy (or hard disk) image `img`, with
/// emulation: `xorriso -as mkisofs -b` alone gives 1.44 MB floppy emulation (the image
/// size decides the floppy type), `extra` may add e.g. `-hard-disk-boot`.
fn emulation_iso(img: &std::path::Path, name: &str, extra: &[&str]) -> PathBuf {
    let dir = tmp(&format!("{name}-emul-iso"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(img, dir.join("boot.img")).unwrap();
    let out = tmp(&format!("{name}-emul.iso"));
    let _ = std::fs::remove_file(&out);
    let status = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-b", "boot.img"])
        .args(extra)
        .arg("-o")
        .arg(&out)
        .arg(&dir)
        .status()
        .expect("xorriso is needed (apt-get install xorriso)");
    assert!(status.success(), "xorriso failed");
    let _ = std::fs::remove_dir_all(dir);
    out
}

const ELTORITO_FLOPPY_TESTS: &[&str] = &[
    "booted with DL = 00h; AH=08h: 1.44 MB (BL = 04h, CX = 4F12h, DH = 01h)",
    "AH=02h by CHS: sector 1 is the boot sector, C79/H1/S18 reads, C80 fails",
    "AH=03h write fails with AH = 03h (write protected)",
    "AX=4B01h: packet 13h, media 2, drive 00h, controller 1/0, segment 07C0h, 1 sector",
    "the packet's image LBA, read from the CD (DL = E0h, AH=42h), is this boot sector",
    "AH=15h: floppy with change line (AH = 01h or 02h)",
    "the real floppy (REAL...) is drive 01h; after AX=4B00h it is drive 00h again",
];

/// El Torito 1.44 MB floppy emulation: the guest, a boot floppy image on the CD, runs as
/// drive 00h; writes fail and AX=4B01h describes the emulation. The real floppy A: moves
/// to drive 01h and comes back as 00h when AX=4B00h ends the emulation.
#[test]
fn el_torito_floppy_emulation() {
    let img = floppy("eltorito.asm");
    let cd = emulation_iso(&img, "eltorito", &[]);
    let mut real = b"REAL FLOPPY".to_vec();
    real.resize(1_474_560, 0);
    let real_fd = tmp("eltorito-real.img");
    std::fs::write(&real_fd, real).unwrap();
    run_guest(
        MachineConfig {
            floppies: [Some(real_fd.clone()), None],
            cdrom: Some(cd.clone()),
            boot_cdrom_first: true,
            ..MachineConfig::default()
        },
        ELTORITO_FLOPPY_TESTS,
    );
    let _ = std::fs::remove_file(real_fd);
    let _ = std::fs::remove_file(img);
    let _ = std::fs::remove_file(cd);
}

/// The FreeDOS boot floppy, put on a CD with floppy emulation, boots to its A:\> prompt.
#[test]
fn el_torito_floppy_emulation_boots_freedos() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return;
    }
    let cd = emulation_iso(&src, "freedos", &[]);
    let out = common::emu()
        .args(["boot", "--display", "none", "--rtc-start", "1700000000"])
        .arg(&cd)
        .args(["--until-screen", "A:\\>", "--timeout", "60"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(cd);
}

const ELTORITO_HD_TESTS: &[&str] = &[
    "booted with DL = 80h; AH=08h: CX = 0912h (SeaBIOS 0812h), DH = 01h",
    "AH=02h: C9/H1/S18 reads, C10/H0/S1 fails",
    "AH=03h write fails with AH = 03h (write protected)",
    "AX=4B01h: packet 13h, media 4, drive 80h, segment 07C0h, CHS 09h/12h/01h (SeaBIOS 01h/12h/09h)",
];

/// El Torito hard disk emulation: a 10 x 2 x 18 disk image whose partition table gives its
/// geometry, on a CD made with `-hard-disk-boot`, runs as drive 80h.
#[test]
fn el_torito_hard_disk_emulation() {
    let fd = floppy("eltorito_hd.asm");
    let mut bytes = std::fs::read(&fd).unwrap();
    bytes.truncate(360 * 512);
    assert!(
        bytes[0x1BE..0x1FE].iter().all(|&b| b == 0),
        "the guest's boot sector overlaps the partition table"
    );
    // One partition from C0/H0/S2 to C9/H1/S18 (LBA 1, 359 sectors).
    bytes[0x1BE..0x1C6].copy_from_slice(&[0x80, 0, 2, 0, 0x01, 1, 18, 9]);
    bytes[0x1C6..0x1CA].copy_from_slice(&1u32.to_le_bytes());
    bytes[0x1CA..0x1CE].copy_from_slice(&359u32.to_le_bytes());
    let img = tmp("eltorito_hd.img");
    std::fs::write(&img, bytes).unwrap();
    let cd = emulation_iso(&img, "eltorito_hd", &["-hard-disk-boot"]);
    run_guest(
        MachineConfig {
            cdrom: Some(cd.clone()),
            boot_cdrom_first: true,
            ..MachineConfig::default()
        },
        ELTORITO_HD_TESTS,
    );
    for p in [fd, img, cd] {
        let _ = std::fs::remove_file(p);
    }
}
