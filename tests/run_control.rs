//! How a user ends and inspects unattended runs from the command line: `--until-screen`,
//! `--timeout`, `--print-screen` and a `--script` that types at the FreeDOS prompt, plus the
//! serial console of the mips32 guest on stdout.

mod common;
use common::emu;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// A private copy of a guest image from ../shared/guests (None, with a note, if absent).
fn guest_copy(name: &str) -> Option<PathBuf> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/guests")
        .join(name);
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return None;
    }
    // One copy per call: the tests run in parallel and a shared image would be locked.
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dst = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("run-control-{}-{n}-{name}", std::process::id()));
    std::fs::write(&dst, std::fs::read(&src).unwrap()).unwrap();
    Some(dst)
}

fn boot(img: &PathBuf, args: &[&str]) -> Output {
    emu()
        .args(["boot", "--display", "none", "--rtc-start", "1700000000"])
        .args(args)
        .arg(img)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn until_screen_ends_freedos_boots_at_the_prompt() {
    for name in ["freedos-1.44.img", "freedos-360k.img"] {
        let Some(img) = guest_copy(name) else {
            return;
        };
        let out = boot(
            &img,
            &[
                "--until-screen",
                "A:\\>",
                "--print-screen",
                "--max-instructions",
                "200000000",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        assert!(stderr.contains("awaited text"), "{name}: {stderr}");
        let screen = String::from_utf8_lossy(&out.stdout);
        assert!(
            screen.lines().any(|l| l.starts_with("A:\\>")),
            "{name}: {screen}"
        );
        let _ = std::fs::remove_file(img);
    }
}

#[test]
fn a_script_types_dir_and_waits_for_the_listing() {
    let Some(img) = guest_copy("freedos-1.44.img") else {
        return;
    };
    let script = img.with_extension("dir.script");
    std::fs::write(
        &script,
        "wait-text A:\\>\ntype dir\\n\nwait-text bytes free\nquit\n",
    )
    .unwrap();
    let out = boot(
        &img,
        &[
            "--script",
            script.to_str().unwrap(),
            "--print-screen",
            "--max-instructions",
            "300000000",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Ended by the script's quit, not by the instruction limit.
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("A:\\>dir"), "{screen}");
    assert!(screen.contains("KERNEL"), "{screen}");
    assert!(screen.contains("bytes free"), "{screen}");
    let _ = std::fs::remove_file(img);
}

/// The script syntax of the project's issue: quoted texts with escapes, `wait`.
#[test]
fn a_script_in_the_quoted_syntax_types_dir_and_waits_for_the_listing() {
    let Some(img) = guest_copy("freedos-1.44.img") else {
        return;
    };
    let script = img.with_extension("quoted.script");
    std::fs::write(
        &script,
        r#"wait "A:\>"
type "dir\n"
wait "bytes free"
quit
"#,
    )
    .unwrap();
    let out = boot(
        &img,
        &[
            "--script",
            script.to_str().unwrap(),
            "--print-screen",
            "--max-instructions",
            "300000000",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("A:\\>dir"), "{screen}");
    assert!(screen.contains("COMMAND  COM"), "{screen}");
    assert!(screen.contains("bytes free"), "{screen}");
    let _ = std::fs::remove_file(script);
    let _ = std::fs::remove_file(img);
}

#[test]
fn timeout_ends_a_run_that_never_ends_with_code_124() {
    let Some(img) = guest_copy("freedos-360k.img") else {
        return;
    };
    let start = Instant::now();
    let out = boot(&img, &["--timeout", "1"]);
    let took = start.elapsed();
    assert_eq!(
        out.status.code(),
        Some(124),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    let _ = std::fs::remove_file(img);
}

#[test]
fn mips32_prints_its_checksum_on_the_serial_console_and_exits_1() {
    let Some(img) = guest_copy("mips32.img") else {
        return;
    };
    let out = boot(&img, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CHECKSUM 9259d7b0"), "{stdout}");
    let _ = std::fs::remove_file(img);
}
