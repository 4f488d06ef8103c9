//! `--display term` in a real terminal (tmux): FreeDOS shows its prompt, `ver` typed into
//! the terminal reaches DOS as scancodes and prints the FreeCom version line, Ctrl-A s saves
//! a screenshot, and Ctrl-A x ends the run cleanly. scripts/test.sh installs tmux; without
//! it the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "emu"]).stdout).into_owned()
    }

    fn wait_for(&self, want: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let screen = self.screen();
            if want(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "no {what}; the terminal shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

#[test]
fn freedos_in_the_terminal_under_tmux() {
    let have_tmux = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_tmux {
        eprintln!("SKIPPED: tmux not installed (scripts/test.sh installs it)");
        return;
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return;
    }
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("term-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("fd.img");
    std::fs::copy(&src, &img).unwrap();
    let mut perms = std::fs::metadata(&img).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&img, perms).unwrap();

    let runner = std::env::var("EMU_TEST_RUNNER").unwrap_or_default();
    if !runner.is_empty() {
        // qemu-user does not implement the TCSETS2 ioctl that raw mode uses (termios2).
        eprintln!("SKIPPED: raw terminal mode does not work under {runner} (no TCSETS2)");
        return;
    }
    let err = dir.join("stderr.txt");
    let status = dir.join("status.txt");
    let command = format!(
        "{} boot --display term --rtc-start 1700000000 {} 2>{}; echo $? >{}",
        shell_quote(Path::new(env!("CARGO_BIN_EXE_emu"))),
        shell_quote(&img),
        shell_quote(&err),
        shell_quote(&status),
    );
    let tmux = Tmux {
        socket: format!("emu-test-{}", std::process::id()),
    };
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "emu",
        "-x",
        "100",
        "-y",
        "30",
        "-c",
        dir.to_str().unwrap(),
        &command,
    ]);
    assert!(out.status.success(), "tmux: {out:?}");

    // AUTOEXEC.BAT ends by clearing the screen: the prompt alone on the first line.
    let screen = tmux.wait_for(
        |s| s.lines().next().map(str::trim_end) == Some("A:\\>"),
        "FreeDOS prompt on a cleared screen",
    );
    assert!(!screen.contains("FreeCom version"), "{screen}");
    // Typed into the terminal: the frontend turns the characters into scancodes.
    tmux.cmd(&["send-keys", "-t", "emu", "ver", "Enter"]);
    let screen = tmux.wait_for(
        |s| {
            s.lines()
                .any(|l| l.starts_with("FreeCom version 0.82 pl 3"))
        },
        "version line",
    );
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("FreeCom version"))
        .unwrap();
    assert_eq!(lines[at - 2].trim_end(), "A:\\>ver", "{screen}");

    // Ctrl-A s: a screenshot in the working directory.
    tmux.cmd(&["send-keys", "-t", "emu", "C-a", "s"]);
    let shot = dir.join("emu-screenshot-1.png");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !shot.exists() {
        assert!(Instant::now() < deadline, "no screenshot after Ctrl-A s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    // Ctrl-A x: the run ends, the terminal is given back.
    tmux.cmd(&["send-keys", "-t", "emu", "C-a", "x"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !status.exists() {
        assert!(Instant::now() < deadline, "emu did not end on Ctrl-A x");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(200));
    let code = std::fs::read_to_string(&status).unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap();
    assert_eq!(code.trim(), "0", "{stderr}");
    assert!(stderr.contains("emu: stopped at"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
