//! The benchmark guests written here (benches/guests/*.asm) boot on the built-in BIOS and
//! print the checksums QEMU 7.2 (TCG) and Bochs 2.7 printed for the same images (obtained
//! by running both on the images built with these ITERS values).

mod common;
use common::emu;

use std::path::PathBuf;
use std::process::Command;

/// Builds `benches/guests/NAME.asm` with `-DITERS=iters`; None (with a note) without nasm.
fn build(name: &str, iters: u32) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("benches/guests").join(format!("{name}.asm"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}-{name}-{iters}.img", std::process::id()));
    let status = Command::new("nasm")
        .args(["-f", "bin", &format!("-DITERS={iters}"), "-o"])
        .arg(&out)
        .arg(&src)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        _ => {
            eprintln!("note: nasm not available; skipping {name}");
            None
        }
    }
}

fn boot(img: &PathBuf) -> (String, String, Option<i32>) {
    let out = emu()
        .args(["boot", "--display", "none"])
        .arg(img)
        .args(["--max-instructions", "50000000"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn real16_benchmark_checksum_matches_qemu_and_bochs() {
    let Some(img) = build("real16", 200) else {
        return;
    };
    let (stdout, stderr, code) = boot(&img);
    assert!(
        stdout.contains("CHECKSUM f1e8\n"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stderr.contains("guest exit code 1"), "{stderr}");
    assert_eq!(code, Some(1));
}

#[test]
fn paging_benchmark_checksum_matches_qemu_and_bochs() {
    let Some(img) = build("paging", 20) else {
        return;
    };
    let (stdout, stderr, code) = boot(&img);
    assert!(
        stdout.contains("CHECKSUM 8f6f62db\n"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(code, Some(1));
}
