//! Helpers shared by the integration tests (each test crate uses some of them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The emu binary; under a cross runner (EMU_TEST_RUNNER=qemu-aarch64) through that runner.
/// Headless even on a developer's desktop: no window opens.
pub fn emu() -> Command {
    let mut c = match std::env::var("EMU_TEST_RUNNER") {
        Ok(runner) if !runner.is_empty() => {
            let mut c = Command::new(runner);
            c.arg(env!("CARGO_BIN_EXE_emu"));
            c
        }
        _ => Command::new(env!("CARGO_BIN_EXE_emu")),
    };
    c.env_remove("DISPLAY");
    c
}

/// Assembles a NASM source from test-suites/ into the test's temporary directory.
pub fn assemble(source: &str, name: &str) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(source);
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let status = Command::new("nasm")
        .arg("-f")
        .arg("bin")
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("nasm is needed to build {source} (apt-get install nasm): {e}"));
    assert!(status.success(), "nasm failed on {source}");
    out
}
