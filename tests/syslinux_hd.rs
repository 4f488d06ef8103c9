//! SYSLINUX from a partitioned hard-disk image, built the way a user would without root or
//! loop devices: a sparse file, one bootable FAT partition at sector 2048 made by `sfdisk`,
//! formatted by `mkfs.fat --offset`, SYSLINUX installed by `syslinux --install --offset`,
//! Debian's MBR (or our CHS-only one) written over the first 440 bytes, files added with
//! mtools. emu must boot it to SYSLINUX's `boot:` prompt and run COM32 modules typed there.
//!
//! The tools come from Debian's syslinux, syslinux-common, dosfstools, fdisk and mtools
//! packages (scripts/test.sh installs them). Without them the tests say SKIPPED, unless
//! EMU_TEST_REQUIRE_TOOLS is set (scripts/test.sh sets it): then they fail.

mod common;
use common::{assemble, emu};

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const MBR: &str = "/usr/lib/syslinux/mbr/mbr.bin";
const MODULES: &str = "/usr/lib/syslinux/modules/bios";
/// The partition's first sector, as fdisk and sfdisk place it today.
const START: u64 = 2048;

struct Tools {
    sfdisk: PathBuf,
    mkfs_fat: PathBuf,
    syslinux: PathBuf,
    mcopy: PathBuf,
}

/// A program on PATH or in the sbin directories (not on a normal user's PATH on Debian).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The tools, or None after saying which are missing (a failure when they are required).
fn tools() -> Option<Tools> {
    let found = |name: &str, package: &str, missing: &mut Vec<String>| {
        let p = find_tool(name);
        if p.is_none() {
            missing.push(format!("{name} ({package})"));
        }
        p.unwrap_or_default()
    };
    let mut missing = Vec::new();
    let t = Tools {
        sfdisk: found("sfdisk", "fdisk", &mut missing),
        mkfs_fat: found("mkfs.fat", "dosfstools", &mut missing),
        syslinux: found("syslinux", "syslinux", &mut missing),
        mcopy: found("mcopy", "mtools", &mut missing),
    };
    for (file, package) in [
        (MBR.to_string(), "syslinux-common"),
        (format!("{MODULES}/ls.c32"), "syslinux-common"),
    ] {
        if !Path::new(&file).is_file() {
            missing.push(format!("{file} ({package})"));
        }
    }
    if missing.is_empty() {
        return Some(t);
    }
    let msg = format!(
        "the SYSLINUX hard-disk test needs {} (apt-get install syslinux syslinux-common dosfstools fdisk mtools; scripts/test.sh installs them)",
        missing.join(", ")
    );
    if std::env::var_os("EMU_TEST_REQUIRE_TOOLS").is_some() {
        panic!("{msg}");
    }
    eprintln!("SKIPPED: {msg}");
    None
}

fn run(cmd: &mut Command, stdin: Option<&str>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A hard-disk image of `mib` MiB with one bootable FAT`fat` partition from sector 2048 to
/// the end, SYSLINUX installed in it, `files` (name, content) copied to its root and
/// `mbr` as the master boot record's code.
fn build_image(
    t: &Tools,
    name: &str,
    mib: u64,
    fat: u32,
    files: &[(&str, Vec<u8>)],
    mbr: &Path,
) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("syslinux-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("hd.img");
    let sectors = mib * 2048;
    std::fs::File::create(&img)
        .unwrap()
        .set_len(sectors * 512)
        .unwrap();
    let kind = if fat == 32 { "c" } else { "6" };
    run(
        Command::new(&t.sfdisk).arg("-q").arg(&img),
        Some(&format!("start={START}, type={kind}, bootable\n")),
    );
    let kib = (sectors - START) / 2;
    run(
        Command::new(&t.mkfs_fat)
            .args(["-F", &fat.to_string(), "--offset", &START.to_string()])
            .arg(&img)
            .arg(kib.to_string()),
        None,
    );
    let fs = format!("{}@@{}", img.display(), START * 512);
    for (file, content) in files {
        let host = dir.join(file);
        std::fs::write(&host, content).unwrap();
        run(
            Command::new(&t.mcopy)
                .arg("-i")
                .arg(&fs)
                .arg(&host)
                .arg(format!("::{file}")),
            None,
        );
    }
    run(
        Command::new(&t.syslinux)
            .args(["--install", "--offset", &(START * 512).to_string()])
            .arg(&img),
        None,
    );
    // The MBR's code only: the partition table after byte 440 stays.
    let code = std::fs::read(mbr).unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(&code[..440]).unwrap();
    img
}

const CONFIG: &str = "# emu test configuration\nPROMPT 1\nTIMEOUT 0\n";

fn boot(args: &[&str], img_args: &[&std::ffi::OsStr]) -> Output {
    emu()
        .args(["boot", "--display", "none", "--rtc-start", "1700000000"])
        .args(["--timeout", "60", "--print-screen"])
        .args(args)
        .args(img_args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn check_banner(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{screen}");
    assert!(stderr.contains("awaited text"), "{stderr}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("SYSLINUX 6") && l.contains("H. Peter Anvin")),
        "no SYSLINUX banner:\n{screen}"
    );
    assert!(screen.lines().any(|l| l.starts_with("boot:")), "{screen}");
    eprintln!("{}", stderr.trim_end());
}

#[test]
fn syslinux_boots_from_a_partitioned_hard_disk_to_its_prompt() {
    let Some(t) = tools() else {
        return;
    };
    let img = build_image(
        &t,
        "fat16",
        32,
        16,
        &[("syslinux.cfg", CONFIG.into())],
        Path::new(MBR),
    );
    let out = boot(&["--until-screen", "boot:"], &[img.as_os_str()]);
    check_banner(&out);
    let _ = std::fs::remove_dir_all(img.parent().unwrap());
}

/// Debian's MBR reads with EDD (INT 13h AH=42h); this one only with CHS from the partition
/// table, which sfdisk wrote for 255 heads: the BIOS must report that geometry.
#[test]
fn a_chs_only_mbr_boots_an_image_partitioned_by_sfdisk() {
    let Some(t) = tools() else {
        return;
    };
    let mbr = assemble("test-suites/disk/chs-mbr.asm", "chs-mbr.bin");
    let img = build_image(&t, "chs", 32, 16, &[("syslinux.cfg", CONFIG.into())], &mbr);
    let out = boot(&["--until-screen", "boot:"], &[img.as_os_str()]);
    check_banner(&out);
    let _ = std::fs::remove_dir_all(img.parent().unwrap());
}

/// FAT32, given with --hda and --boot c; a script in the syntax runs COM32 modules
/// (protected mode, SYSLINUX's file system through INT 13h) from the prompt.
#[test]
fn syslinux_runs_com32_modules_typed_at_its_prompt() {
    let Some(t) = tools() else {
        return;
    };
    let mut files = vec![("syslinux.cfg", CONFIG.as_bytes().to_vec())];
    for m in ["ls.c32", "cat.c32", "libcom32.c32", "libutil.c32"] {
        files.push((m, std::fs::read(format!("{MODULES}/{m}")).unwrap()));
    }
    let img = build_image(&t, "fat32", 64, 32, &files, Path::new(MBR));
    let script = img.with_file_name("modules.script");
    std::fs::write(
        &script,
        "wait \"boot:\"\n\
         type \"cat.c32 syslinux.cfg\\n\"\n\
         wait \"# emu test configuration\"\n\
         type \"ls.c32\\n\"\n\
         wait \"libcom32.c32\"\n\
         quit\n",
    )
    .unwrap();
    let out = boot(
        &["--boot", "c", "--script", script.to_str().unwrap(), "--hda"],
        &[img.as_os_str()],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{screen}");
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    for want in [
        "boot: cat.c32 syslinux.cfg",
        "PROMPT 1",
        "boot: ls.c32",
        "ldlinux.c32",
        "libutil.c32",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    let _ = std::fs::remove_dir_all(img.parent().unwrap());
}
