//! A command typed at the FreeDOS prompt by a `--script` runs a small .COM program that the
//! test put on a copy of the floppy with mtools: the keystrokes go through the window-less
//! keyboard path (8042 scancodes), DOS loads the program from the image, and the program
//! ends the run through isa-debug-exit with 0x2A (exit code 85).

mod common;
use common::{assemble, emu};

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_typed_command_runs_a_com_program_added_with_mtools() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("typed-command-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("fd.img");
    std::fs::write(&img, std::fs::read(&src).unwrap()).unwrap();
    let com = assemble("test-suites/dos/hello.asm", "typed-HELLO.COM");
    let st = Command::new("mcopy")
        .arg("-i")
        .arg(&img)
        .arg(&com)
        .arg("::HELLO.COM")
        .status()
        .expect("mtools is needed (apt-get install mtools)");
    assert!(st.success());
    let script = dir.join("hello.script");
    std::fs::write(&script, "wait-text A:\\>\ntype hello\\n\n").unwrap();
    let out = emu()
        .args(["boot", "--display", "none", "--rtc-start", "1700000000"])
        .args(["--max-instructions", "200000000", "--script"])
        .arg(&script)
        .arg(&img)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(85), "stderr: {stderr}");
    // The program also wrote OUT.TXT to the image.
    let listing = Command::new("mdir")
        .arg("-i")
        .arg(&img)
        .arg("::")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("OUT      TXT"), "mdir: {listing}");
}
