//! Guest disk writes: a file copied at the FreeDOS prompt is in the image after the run
//! (read back with mtools); with `--snapshot` the image stays byte for byte the same; a
//! second emu on an image that one already writes is refused with a one-line error.

mod common;
use common::emu;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const SCRIPT: &str = "wait-text A:\\>\ntype copy kernel.sys k2.sys\\n\nwait-text => k2.sys\n\
                      type dir k2.sys\\n\nwait-text 1 file(s)\nquit\n";

fn freedos_copy(tag: &str) -> Option<(PathBuf, PathBuf)> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("disk-writes-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("fd.img");
    std::fs::write(&img, std::fs::read(&src).unwrap()).unwrap();
    let script = dir.join("copy.script");
    std::fs::write(&script, SCRIPT).unwrap();
    Some((img, script))
}

fn run(img: &PathBuf, script: &PathBuf, extra: &[&str]) -> Output {
    emu()
        .args(["boot", "--display", "none", "--timeout", "120", "--script"])
        .arg(script)
        .args(extra)
        .arg(img)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn has_k2(img: &PathBuf) -> bool {
    let out = Command::new("mdir")
        .arg("-i")
        .arg(img)
        .arg("::")
        .output()
        .expect("mtools is needed (apt-get install mtools)");
    String::from_utf8_lossy(&out.stdout).contains("K2       SYS")
}

#[test]
fn a_copied_file_reaches_the_image() {
    let Some((img, script)) = freedos_copy("write") else {
        return;
    };
    assert!(!has_k2(&img));
    let out = run(&img, &script, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    assert!(has_k2(&img), "K2.SYS is not in the image");
}

#[test]
fn snapshot_leaves_the_image_untouched() {
    let Some((img, script)) = freedos_copy("snapshot") else {
        return;
    };
    let before = std::fs::read(&img).unwrap();
    let out = run(&img, &script, &["--snapshot", "--print-screen"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The guest saw its write (DIR lists the copy) ...
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(screen.contains("K2       SYS"), "{screen}");
    // ... but the file did not change.
    assert!(std::fs::read(&img).unwrap() == before, "the image changed");
    assert!(!has_k2(&img));
}

#[test]
fn a_second_writer_of_the_same_image_is_refused() {
    let Some((img, _)) = freedos_copy("lock") else {
        return;
    };
    // The first emu waits at the FreeDOS prompt until killed.
    let mut first = emu()
        .args(["boot", "--display", "none", "--timeout", "60"])
        .arg(&img)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Give it time to open (and lock) the image.
    let mut refused = None;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let out = emu()
            .args(["boot", "--display", "none", "--max-instructions", "1000"])
            .arg(&img)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.code() == Some(2) {
            refused = Some(String::from_utf8_lossy(&out.stderr).into_owned());
            break;
        }
    }
    let _ = first.kill();
    let _ = first.wait();
    let msg = refused.expect("the second emu was never refused");
    assert_eq!(msg.lines().count(), 1, "{msg}");
    assert!(msg.contains("in use by another process"), "{msg}");
}
