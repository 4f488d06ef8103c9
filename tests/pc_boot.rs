//! Booting real guests on the built-in BIOS: the mips32 benchmark (protected mode, paging,
//! COM1) and the FreeDOS boot floppies from ../shared/guests. The images are copied first,
//! so the shared copies are never written.

use std::path::PathBuf;
use std::process::Command;

use emu::machine::{Machine, MachineConfig};

mod common;
use common::emu;

/// A private, writable copy of a shared guest image; None (with a note) when the shared
/// directory is not beside the repository.
fn guest_copy(name: &str) -> Option<PathBuf> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/guests")
        .join(name);
    if !src.exists() {
        eprintln!(
            "note: {} not found; this test needs ../shared/guests",
            src.display()
        );
        return None;
    }
    // Tests run in parallel threads: each copy gets a name of its own (a shared one would
    // have two machines writing one image; emu's image lock refuses that).
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dst = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}-{n}-{name}", std::process::id()));
    std::fs::copy(&src, &dst).unwrap();
    let mut perms = std::fs::metadata(&dst).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&dst, perms).unwrap();
    Some(dst)
}

#[test]
fn mips32_benchmark_prints_its_checksum_on_com1_and_exits() {
    let Some(img) = guest_copy("mips32.img") else {
        return;
    };
    let out = emu()
        .arg("boot")
        .arg(&img)
        .args(["--max-instructions", "100000000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The README's expected output (identical in QEMU and Bochs).
    assert!(
        stdout.contains("CHECKSUM 9259d7b0\n"),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
}

fn boots_to_dos_prompt(name: &str) {
    let Some(img) = guest_copy(name) else {
        return;
    };
    let mut m = Machine::new(MachineConfig {
        echo_console: false,
        max_instructions: Some(30_000_000),
        floppies: [Some(img), None],
        ..MachineConfig::default()
    })
    .unwrap();
    m.run();
    let screen = m.text_screen();
    assert!(
        screen.iter().any(|l| l.starts_with("A:\\>")),
        "no DOS prompt on the screen:\n{}",
        screen.join("\n")
    );
}

#[test]
fn freedos_144_boots_to_the_prompt() {
    boots_to_dos_prompt("freedos-1.44.img");
}

#[test]
fn freedos_360k_boots_to_the_prompt() {
    boots_to_dos_prompt("freedos-360k.img");
}

fn tool(name: &str) -> Command {
    Command::new(name)
}

/// FreeDOS runs a program from AUTOEXEC.BAT that prints through DOS, writes a file to the
/// boot floppy and ends the run through isa-debug-exit; the file must be in the image
/// afterwards (read back with mtools).
#[test]
fn freedos_runs_a_program_whose_disk_writes_reach_the_image() {
    let Some(img) = guest_copy("freedos-1.44.img") else {
        return;
    };
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let com = tmp.join(format!("{}-HELLO.COM", std::process::id()));
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-suites/dos/hello.asm");
    let st = tool("nasm")
        .args(["-f", "bin", "-o"])
        .arg(&com)
        .arg(&src)
        .status()
        .expect("nasm is needed (apt-get install nasm)");
    assert!(st.success());
    let mcopy = |args: &[&std::ffi::OsStr]| {
        let st = tool("mcopy")
            .args(args)
            .status()
            .expect("mtools is needed (apt-get install mtools)");
        assert!(st.success(), "mcopy {args:?}");
    };
    let autoexec = tmp.join(format!("{}-AUTOEXEC.BAT", std::process::id()));
    let i = img.as_os_str();
    mcopy(&[
        "-i".as_ref(),
        i,
        "::AUTOEXEC.BAT".as_ref(),
        autoexec.as_os_str(),
    ]);
    let mut text = std::fs::read(&autoexec).unwrap();
    // The last line of the stock AUTOEXEC.BAT has no line break.
    text.extend_from_slice(b"\r\nHELLO.COM\r\n");
    std::fs::write(&autoexec, &text).unwrap();
    mcopy(&[
        "-o".as_ref(),
        "-i".as_ref(),
        i,
        autoexec.as_os_str(),
        "::AUTOEXEC.BAT".as_ref(),
    ]);
    mcopy(&["-i".as_ref(), i, com.as_os_str(), "::HELLO.COM".as_ref()]);

    let mut m = Machine::new(MachineConfig {
        echo_console: false,
        max_instructions: Some(100_000_000),
        floppies: [Some(img.clone()), None],
        ..MachineConfig::default()
    })
    .unwrap();
    let outcome = m.run();
    let screen = m.text_screen().join("\n");
    assert_eq!(
        outcome,
        emu::machine::Outcome::Exit(0x2A << 1 | 1),
        "screen:\n{screen}"
    );
    assert!(screen.contains("HELLO FROM DOS"), "screen:\n{screen}");
    drop(m);
    let out = tmp.join(format!("{}-OUT.TXT", std::process::id()));
    mcopy(&["-i".as_ref(), i, "::OUT.TXT".as_ref(), out.as_os_str()]);
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written, "written by a DOS program running in emu\r\n");
}
