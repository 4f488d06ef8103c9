//! `--display none`: the serial console. COM1's output goes to stdout (the UART echoes it),
//! stdin goes to COM1's receiver; when stdin is a terminal it is put in raw mode (keys go to
//! the guest as typed, Ctrl-C included) and Ctrl-A x quits, as in QEMU (Ctrl-A s saves a
//! screenshot).

use std::io::{IsTerminal, Read};
use std::sync::mpsc::Sender;

use super::runner::Input;

/// What a byte typed after Ctrl-A does.
#[derive(Debug, PartialEq, Eq)]
pub enum Escape {
    /// Bytes for the guest.
    Send(Vec<u8>),
    Screenshot,
    Quit,
}

/// Splits host input into guest bytes and the Ctrl-A escapes (`x` quits, `s` saves a
/// screenshot, `a` sends Ctrl-A).
#[derive(Default)]
pub struct EscapeFilter {
    after_ctrl_a: bool,
}

impl EscapeFilter {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Escape> {
        let mut out = Vec::new();
        let mut plain = Vec::new();
        for &b in bytes {
            if self.after_ctrl_a {
                self.after_ctrl_a = false;
                match b {
                    b'x' | b'X' => {
                        out.push(Escape::Send(std::mem::take(&mut plain)));
                        out.push(Escape::Quit);
                        return out;
                    }
                    b's' | b'S' => {
                        out.push(Escape::Send(std::mem::take(&mut plain)));
                        out.push(Escape::Screenshot);
                    }
                    0x01 | b'a' => plain.push(0x01),
                    _ => {}
                }
            } else if b == 0x01 {
                self.after_ctrl_a = true;
            } else {
                plain.push(b);
            }
        }
        out.push(Escape::Send(plain));
        out
    }
}

/// Raw mode for the life of the run, restored on drop.
pub struct RawStdin {
    raw: bool,
}

impl RawStdin {
    pub fn enter() -> RawStdin {
        let raw = std::io::stdin().is_terminal() && crossterm::terminal::enable_raw_mode().is_ok();
        if raw {
            eprint!("emu: serial console on this terminal; Ctrl-A x quits\r\n");
        }
        RawStdin { raw }
    }
}

impl Drop for RawStdin {
    fn drop(&mut self) {
        if self.raw {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Reads stdin on a thread of its own (it blocks) and sends it to COM1. The thread ends at
/// end of input; a blocked read does not keep the process alive.
pub fn spawn_stdin_reader(inputs: Sender<Input>) {
    std::thread::spawn(move || {
        let mut filter = EscapeFilter::default();
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            for esc in filter.feed(&buf[..n]) {
                let msg = match esc {
                    Escape::Send(b) if b.is_empty() => continue,
                    Escape::Send(b) => Input::Serial(b),
                    Escape::Screenshot => Input::Screenshot(super::window::next_screenshot_name()),
                    Escape::Quit => Input::Quit,
                };
                if inputs.send(msg).is_err() {
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_a_escapes() {
        let mut f = EscapeFilter::default();
        assert_eq!(f.feed(b"dir\r"), [Escape::Send(b"dir\r".to_vec())]);
        assert_eq!(
            f.feed(b"ab\x01"),
            [Escape::Send(b"ab".to_vec())],
            "Ctrl-A waits for the next byte"
        );
        assert_eq!(f.feed(b"a\x03"), [Escape::Send(vec![0x01, 0x03])]);
        assert_eq!(
            f.feed(b"1\x01s2"),
            [
                Escape::Send(b"1".to_vec()),
                Escape::Screenshot,
                Escape::Send(b"2".to_vec())
            ]
        );
        assert_eq!(
            f.feed(b"q\x01x rest"),
            [Escape::Send(b"q".to_vec()), Escape::Quit]
        );
    }
}
