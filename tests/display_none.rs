//! `--display none`: the serial console on stdio (FreeDOS moved to COM1 with `ctty aux`
//! answers `ver` read from stdin on stdout), `--serial file:PATH|null|stdio`, and Ctrl-C
//! (SIGINT) ending a run cleanly.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::emu;

/// A private copy of the FreeDOS floppy and a directory for the test's files.
fn setup(name: &str) -> Option<(PathBuf, PathBuf)> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return None;
    }
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("fd.img");
    std::fs::copy(&src, &img).unwrap();
    let mut perms = std::fs::metadata(&img).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&img, perms).unwrap();
    Some((dir, img))
}

#[test]
fn stdin_reaches_com1_and_com1_reaches_stdout() {
    let Some((dir, img)) = setup("serial") else {
        return;
    };
    let script = dir.join("script.txt");
    std::fs::write(
        &script,
        "wait-text A:\\>\ntype ctty aux\\n\nwait-serial FreeCom version\nsleep 100\nquit\n",
    )
    .unwrap();
    let mut child = emu()
        .args([
            "boot",
            "--display",
            "none",
            "--rtc-start",
            "1700000000",
            "--script",
        ])
        .arg(&script)
        .arg(&img)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Sent at once: the frontend holds the bytes until DOS reads them from COM1.
    child.stdin.take().unwrap().write_all(b"ver\r").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("A:\\>ver\r\n"), "{stdout:?}");
    assert!(
        stdout.contains("\r\nFreeCom version 0.82 pl 3"),
        "{stdout:?}"
    );
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigint_ends_the_run_cleanly() {
    let Some((dir, img)) = setup("sigint") else {
        return;
    };
    let script = dir.join("script.txt");
    std::fs::write(&script, "wait-text A:\\>\necho READY\n").unwrap();
    let mut child = emu()
        .args(["boot", "--display", "none", "--script"])
        .arg(&script)
        .arg(&img)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    while !log.contains("READY") {
        assert!(stderr.read_line(&mut log).unwrap() > 0, "{log}");
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "emu ignored SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
    log.push_str(&rest);
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("emu: stopped at"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_frontend_flags_are_one_line_errors() {
    for (args, want) in [
        (&["--display", "vga"][..], "unknown display"),
        (&["--scale", "0"][..], "--scale 0 out of range"),
        (&["--display", "term"][..], "needs a terminal"),
        (
            &["--script", "/nonexistent/script.txt"][..],
            "/nonexistent/script.txt",
        ),
    ] {
        let out = emu()
            .arg("boot")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    // A script with a bad line is refused before the guest runs, naming the line.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let script = dir.join(format!("bad-script-{}.txt", std::process::id()));
    std::fs::write(&script, "wait-text A:\\>\nfrobnicate\n").unwrap();
    let out = emu()
        .args(["boot", "--display", "none", "--script"])
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2: unknown command \"frobnicate\""),
        "{stderr}"
    );
    let _ = std::fs::remove_file(&script);
}

/// The mips32 benchmark guest from ../shared/guests (None, with a note, if absent). Runs
/// use --snapshot, so the shared image is only read.
fn mips32() -> Option<PathBuf> {
    let img = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/mips32.img");
    if !img.exists() {
        eprintln!("SKIPPED: {} not found", img.display());
        return None;
    }
    Some(img)
}

fn boot_mips32(img: &PathBuf, serial: &[&str]) -> std::process::Output {
    emu()
        .args(["boot", "--display", "none", "--snapshot"])
        .args(serial)
        .arg(img)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn serial_file_receives_com1_and_stdout_stays_empty() {
    let Some(img) = mips32() else {
        return;
    };
    let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serial-{}.log", std::process::id()));
    // An existing file is truncated.
    std::fs::write(&log, "old content that must go\n".repeat(100)).unwrap();
    let arg = format!("file:{}", log.display());
    let out = boot_mips32(&img, &["--serial", &arg]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let written = std::fs::read_to_string(&log).unwrap();
    assert!(written.contains("CHECKSUM 9259d7b0"), "{written:?}");
    assert!(!written.contains("old content"), "{written:?}");
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_file(&log);
    // The default with --display none, and --serial stdio: on stdout.
    for serial in [&[][..], &["--serial", "stdio"][..]] {
        let out = boot_mips32(&img, serial);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("CHECKSUM 9259d7b0"), "{serial:?}: {stdout}");
    }
}

#[test]
fn serial_null_discards_com1() {
    let Some(img) = mips32() else {
        return;
    };
    let out = boot_mips32(&img, &["--serial", "null"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn bad_serial_values_are_one_line_errors() {
    for (value, want) in [
        ("tty", "--serial \"tty\": give stdio, file:PATH or null"),
        ("file:", "give stdio, file:PATH or null"),
        (
            "file:/nonexistent/dir/com1.log",
            "/nonexistent/dir/com1.log",
        ),
    ] {
        let out = emu()
            .args(["boot", "--display", "none", "--serial", value])
            .args(["--max-instructions", "1000", "--bios"])
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("roms/demo.bin"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{value}: {stderr}");
        assert!(stderr.contains(want), "{value}: {stderr}");
        assert!(out.stdout.is_empty(), "{value}");
    }
    // The terminal display owns stdio.
    let out = emu()
        .args(["boot", "--display", "term", "--serial", "stdio", "--bios"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("roms/demo.bin"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot share the terminal"), "{stderr}");
}
