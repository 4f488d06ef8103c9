//! The window frontend in a real X server (Xvfb): FreeDOS boots in a minifb window, keys
//! typed with xdotool through the X server (Shift included) reach DOS, the Ctrl+Alt+S screenshot equals the
//! reference the script renders from the same (paused) VRAM, the X server's own framebuffer
//! shows that picture scaled to 4:3, and Ctrl+Alt+Q ends the run. scripts/test.sh installs
//! Xvfb and xdotool; without them the test says so and skips.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Kills a child the test started when the test ends, however it ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_png(path: &Path) -> (u32, u32, Vec<u32>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let px = buf[..info.buffer_size()]
        .chunks(3)
        .map(|c| (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32)
        .collect();
    (info.width, info.height, px)
}

/// The screen of an Xvfb started with -fbdir: an XWD file (big-endian header, colour map,
/// then 32-bit pixels in the header's byte order).
fn read_xwd(path: &Path) -> (usize, usize, Vec<u32>) {
    let d = std::fs::read(path).unwrap();
    let field = |i: usize| u32::from_be_bytes(d[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    let (header, width, height) = (field(0), field(4), field(5));
    let (byte_order, bpp, stride, ncolors) = (field(7), field(11), field(12), field(19));
    assert_eq!(bpp, 32, "Xvfb depth 24 stores 32-bit pixels");
    let data = &d[header + ncolors * 12..];
    let mut px = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let b: [u8; 4] = data[y * stride + x * 4..][..4].try_into().unwrap();
            let v = if byte_order == 0 {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            };
            px.push(v & 0xFF_FFFF);
        }
    }
    (width, height, px)
}

fn wait_line(lines: &Receiver<String>, want: &str, log: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(180);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            log.push(line.clone());
            if line.contains(want) {
                return;
            }
        }
    }
    panic!("no {want:?} from emu; its stderr:\n{}", log.join("\n"));
}

fn wait_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // A moment more: the file is written by another process.
    std::thread::sleep(Duration::from_millis(300));
    assert!(path.exists(), "{} was not written", path.display());
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .unwrap();
    assert!(out.status.success(), "xdotool {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn freedos_in_a_window_under_xvfb() {
    if !have("Xvfb") || !have("xdotool") {
        eprintln!("SKIPPED: Xvfb or xdotool not installed (scripts/test.sh installs them)");
        return;
    }
    if std::env::var("EMU_TEST_RUNNER").is_ok_and(|r| !r.is_empty()) {
        eprintln!(
            "SKIPPED: the window test needs a native build (no X libraries under the cross runner)"
        );
        return;
    }
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/guests/freedos-1.44.img");
    if !src.exists() {
        eprintln!("SKIPPED: {} not found", src.display());
        return;
    }
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("window-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("fb")).unwrap();
    let img = dir.join("fd.img");
    std::fs::copy(&src, &img).unwrap();
    let mut perms = std::fs::metadata(&img).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&img, perms).unwrap();

    // A display number nobody uses.
    let n = (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .unwrap();
    let display = format!(":{n}");
    let _xvfb = Reap(
        Command::new("Xvfb")
            .args([
                &display,
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
                "-fbdir",
            ])
            .arg(dir.join("fb"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
        assert!(Instant::now() < deadline, "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(100));
    }

    // The script waits for the prompt, lets the test type `ver` through X, waits for DOS
    // to echo it (only keys that went through the window can put it there), then freezes
    // the guest and renders the reference from its VRAM.
    std::fs::write(
        dir.join("script.txt"),
        "wait-text A:\\>\necho READY\nwait-text A:\\>Ver\nwait-text FreeCom version\nsleep 200\npause\nscreenshot ref.png\necho PAUSED\n",
    )
    .unwrap();
    // No --display: with a display available the window is the default.
    let mut emu = Command::new(env!("CARGO_BIN_EXE_emu"));
    emu.args([
        "boot",
        "--rtc-start",
        "1700000000",
        "--script",
        "script.txt",
        "--screenshot",
        "end.png",
    ])
    .arg(&img)
    .current_dir(&dir)
    .env("DISPLAY", &display)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = Reap(emu.spawn().unwrap());
    let stderr = child.0.stderr.take().unwrap();
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    wait_line(&lines, "READY", &mut log);

    let window = xdotool(&display, &["search", "--sync", "--name", "^emu"]);
    let window = window.lines().next().unwrap().trim().to_string();
    xdotool(&display, &["windowfocus", "--sync", &window]);
    // Shift+V too: modifiers travel as their own make and break codes.
    xdotool(&display, &["type", "--delay", "80", "Ver"]);
    xdotool(&display, &["key", "--delay", "80", "Return"]);
    wait_line(&lines, "PAUSED", &mut log);
    // The window shows frames while paused; give it a few to catch up.
    std::thread::sleep(Duration::from_millis(500));
    xdotool(&display, &["key", "ctrl+alt+s"]);
    let shot = dir.join("emu-screenshot-1.png");
    wait_file(&shot);

    let (rw, rh, reference) = read_png(&dir.join("ref.png"));
    let (sw, sh, from_window) = read_png(&shot);
    assert_eq!((sw, sh), (rw, rh));
    assert!(
        from_window == reference,
        "the window's screenshot differs from the VRAM render"
    );
    assert!(
        reference.iter().any(|&p| p != reference[0]),
        "the reference is a blank screen"
    );

    // What the X server itself shows: the reference scaled to 4:3 at the window's place.
    let geometry = xdotool(&display, &["getwindowgeometry", "--shell", &window]);
    let get = |key: &str| -> usize {
        geometry
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (wx, wy, ww, wh) = (get("X"), get("Y"), get("WIDTH"), get("HEIGHT"));
    let base_w = if rw <= 400 { rw * 2 } else { rw } as usize;
    assert_eq!(
        (ww, wh),
        (base_w, base_w * 3 / 4),
        "window size for {rw}x{rh}"
    );
    let (xw, _xh, screen) = read_xwd(&dir.join("fb/Xvfb_screen0"));
    let mut wrong = 0;
    for y in 0..wh {
        for x in 0..ww {
            let want = reference[(y * rh as usize / wh) * rw as usize + x * rw as usize / ww];
            if screen[(wy + y) * xw + wx + x] != want {
                wrong += 1;
            }
        }
    }
    assert_eq!(
        wrong, 0,
        "{wrong} pixels on the X screen differ from the scaled reference"
    );

    xdotool(&display, &["key", "ctrl+alt+q"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "emu did not quit on Ctrl+Alt+Q");
        std::thread::sleep(Duration::from_millis(100));
    };
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
        log.push(line);
    }
    assert!(status.success(), "{status}; stderr:\n{}", log.join("\n"));
    assert!(
        log.iter().any(|l| l.contains("emu: stopped at")),
        "{}",
        log.join("\n")
    );
    // --screenshot: the final screen, the same paused picture.
    let (_, _, end) = read_png(&dir.join("end.png"));
    assert!(
        end == reference,
        "--screenshot differs from the paused screen"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
