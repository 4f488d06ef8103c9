//! The emulation side of an interactive run: runs the machine in slices, feeds it the
//! host's input at the pace a real keyboard or serial line would, runs the script, and
//! publishes what the frontends show (frames, the text screen, speed and state) at the
//! guest's refresh rate. Publishing only swaps a buffer under a short lock, so a slow
//! frontend never stalls the guest.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::script::{Action, Script};
use super::{Frame, TextView};
use crate::machine::{Machine, Outcome};
use crate::Result;

/// The runner looks at the host (input, frames, quit requests) whenever the guest's
/// instruction count crosses a multiple of this: a few milliseconds of guest time. Fixed
/// points in guest time, not host time, keep runs reproducible: where a slice ends is
/// where pending interrupts are looked at, so it must not depend on the host's speed.
const SLICE: u64 = 1 << 16;

/// Set by the Ctrl-C (SIGINT) handler: the run ends cleanly at the next slice.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler once (later calls keep the first).
pub fn install_ctrl_c() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// What the host sends the emulation thread.
#[derive(Debug)]
pub enum Input {
    /// Set-1 scancodes, delivered one byte at a time as the controller takes them.
    Keys(Vec<u8>),
    /// Bytes for COM1's receiver, paced the same way.
    Serial(Vec<u8>),
    /// Save the screen (as the guest's VRAM shows it now) to this file.
    Screenshot(PathBuf),
    TogglePause,
    Mouse {
        dx: i32,
        dy: i32,
        buttons: u8,
    },
    Quit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    Paused,
    /// The run is over but the screen stays (the guest halted for good).
    Halted,
    /// The run is over.
    Ended,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Paused => "paused",
            State::Halted => "halted",
            State::Ended => "ended",
        }
    }
}

/// What the frontends read: the latest frame or text screen and the status line.
pub struct Shared {
    /// Frame number (bumped at each publish) and the frame.
    pub frame: Mutex<(u64, Frame)>,
    pub text: Mutex<(u64, Option<TextView>)>,
    pub status: Mutex<Status>,
    pub state_done: AtomicBool,
}

#[derive(Clone, Copy, Debug)]
pub struct Status {
    pub mips: f64,
    pub state: State,
    /// Frames published and the host time spent rendering them.
    pub frames: u64,
    pub render_time: Duration,
}

impl Shared {
    pub fn new() -> Arc<Shared> {
        Arc::new(Shared {
            frame: Mutex::new((0, Frame::default())),
            text: Mutex::new((0, None)),
            status: Mutex::new(Status {
                mips: 0.0,
                state: State::Running,
                frames: 0,
                render_time: Duration::ZERO,
            }),
            state_done: AtomicBool::new(false),
        })
    }

    pub fn status(&self) -> Status {
        *self.status.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn done(&self) -> bool {
        self.state_done.load(Ordering::SeqCst)
    }
}

/// Which picture the frontend wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publish {
    Frame,
    Text,
    Nothing,
}

fn screenshot(machine: &Machine, path: &std::path::Path) {
    match machine.screenshot(path) {
        Ok(()) => eprintln!("emu: screenshot saved to {}", path.display()),
        Err(e) => eprintln!("emu: screenshot failed: {e}"),
    }
}

pub struct Runner<'a> {
    pub machine: &'a mut Machine,
    pub inputs: Receiver<Input>,
    pub shared: Arc<Shared>,
    pub script: Option<Script>,
    pub publish: Publish,
    /// `--until-screen`: the run ends once the text screen shows this.
    pub until_screen: Option<String>,
    /// `--timeout`: the run ends at this host time.
    pub deadline: Option<Instant>,
}

impl Runner<'_> {
    /// Runs to the end of the guest, a quit request or Ctrl-C.
    pub fn run(mut self) -> Result<Outcome> {
        // Even if this thread panicked, the frontend must learn that the run is over.
        struct Done(Arc<Shared>);
        impl Drop for Done {
            fn drop(&mut self) {
                self.0.state_done.store(true, Ordering::SeqCst);
            }
        }
        let _done = Done(self.shared.clone());
        let result = self.run_loop();
        // A last picture, so the frontend shows the final screen.
        let mut scratch = Frame::default();
        self.publish_now(&mut scratch);
        let mut st = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        st.state = match result {
            Ok(Outcome::Halted) => State::Halted,
            _ => State::Ended,
        };
        drop(st);
        result
    }

    fn run_loop(&mut self) -> Result<Outcome> {
        let mut keys: VecDeque<u8> = VecDeque::new();
        let mut serial: VecDeque<u8> = VecDeque::new();
        let mut paused = false;
        let mut scratch = Frame::default();
        let mut next_frame = Instant::now();
        let (mut speed_t, mut speed_n) = (Instant::now(), self.machine.cpu.icount);
        loop {
            if INTERRUPTED.load(Ordering::SeqCst) {
                return Ok(Outcome::Stopped);
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(Outcome::Timeout);
            }
            if let Some(text) = &self.until_screen {
                if self
                    .machine
                    .text_screen()
                    .iter()
                    .any(|l| l.contains(text.as_str()))
                {
                    return Ok(Outcome::ScreenMatched);
                }
            }
            while let Ok(input) = self.inputs.try_recv() {
                match input {
                    Input::Keys(k) => keys.extend(k),
                    Input::Serial(b) => serial.extend(b),
                    Input::Screenshot(path) => screenshot(self.machine, &path),
                    Input::TogglePause => paused = !paused,
                    Input::Mouse { dx, dy, buttons } => self.machine.mouse_event(dx, dy, buttons),
                    Input::Quit => return Ok(Outcome::Stopped),
                }
            }
            if let Some(script) = &mut self.script {
                loop {
                    match script.poll(&*self.machine)? {
                        Action::Continue => break,
                        Action::Keys(k) => keys.extend(k),
                        Action::Screenshot(path) => screenshot(self.machine, &path),
                        Action::Pause(on) => paused = on,
                        Action::Quit => return Ok(Outcome::Stopped),
                    }
                }
            }
            if paused {
                std::thread::sleep(Duration::from_millis(5));
            } else {
                // One byte per slice at most: the guest's interrupt handler takes it first.
                if !keys.is_empty() && self.machine.keyboard_ready() {
                    let b = keys.pop_front().unwrap_or(0);
                    self.machine.key_bytes(&[b]);
                }
                if !serial.is_empty() && self.machine.serial_ready() {
                    let b = serial.pop_front().unwrap_or(0);
                    self.machine.serial_input(0, &[b]);
                }
                let to_boundary = SLICE - self.machine.cpu.icount % SLICE;
                if let Some(outcome) = self.machine.run_for(to_boundary) {
                    return Ok(outcome);
                }
            }
            let now = Instant::now();
            if now >= next_frame {
                self.publish_now(&mut scratch);
                let period = Duration::from_secs_f64(1.0 / self.machine.refresh_hz().max(1.0));
                // Behind by more than a frame (a slow host): skip frames, never queue them.
                next_frame = (next_frame + period).max(now);
            }
            let elapsed = now.duration_since(speed_t);
            if elapsed >= Duration::from_millis(500) {
                let n = self.machine.cpu.icount - speed_n;
                let mut st = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
                st.mips = n as f64 / elapsed.as_secs_f64() / 1e6;
                st.state = if paused {
                    State::Paused
                } else {
                    State::Running
                };
                drop(st);
                (speed_t, speed_n) = (now, self.machine.cpu.icount);
            }
        }
    }

    /// Renders into `scratch` and swaps it with the shared frame (the lock is held only
    /// for the swap).
    fn publish_now(&mut self, scratch: &mut Frame) {
        let start = Instant::now();
        match self.publish {
            Publish::Frame => {
                self.machine.render(scratch);
                let mut slot = self.shared.frame.lock().unwrap_or_else(|e| e.into_inner());
                slot.0 += 1;
                std::mem::swap(&mut slot.1, scratch);
            }
            Publish::Text => {
                let view = self.machine.text_view();
                let mut slot = self.shared.text.lock().unwrap_or_else(|e| e.into_inner());
                slot.0 += 1;
                slot.1 = view;
            }
            Publish::Nothing => return,
        }
        let mut st = self.shared.status.lock().unwrap_or_else(|e| e.into_inner());
        st.frames += 1;
        st.render_time += start.elapsed();
    }
}
