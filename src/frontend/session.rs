//! Runs a machine under the frontend the user chose: picks the display (falling back to
//! the serial console when no window can be opened), starts the emulation thread, and takes
//! the end-of-run screenshot.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc::channel;

use super::runner::{self, Publish, Runner, Shared};
use super::script::Script;
use super::window::WindowFrontend;
use super::{headless, term};
use crate::devices::uart::Sink;
use crate::machine::{Machine, Outcome};
use crate::{Error, Result};

/// Where the guest's screen and keyboard go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisplayKind {
    /// A window (minifb).
    Window,
    /// The text screen drawn in this terminal.
    Term,
    /// No screen: the serial console on stdio.
    None,
}

impl std::str::FromStr for DisplayKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "window" => Ok(DisplayKind::Window),
            "term" => Ok(DisplayKind::Term),
            "none" => Ok(DisplayKind::None),
            _ => Err(format!("unknown display {s:?} (window, term or none)")),
        }
    }
}

/// Where the serial console (COM1) goes: `--serial stdio|file:PATH|null`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SerialKind {
    /// Output on stdout, stdin to COM1's receiver (raw mode when stdin is a terminal).
    Stdio,
    /// Output written to this file (created or truncated); no input.
    File(PathBuf),
    /// Output discarded; no input.
    Null,
}

impl std::str::FromStr for SerialKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "stdio" => Ok(SerialKind::Stdio),
            "null" => Ok(SerialKind::Null),
            _ => match s.strip_prefix("file:") {
                Some(path) if !path.is_empty() => Ok(SerialKind::File(PathBuf::from(path))),
                _ => Err(format!("--serial {s:?}: give stdio, file:PATH or null")),
            },
        }
    }
}

/// The user's frontend choices.
#[derive(Clone, Debug)]
pub struct Options {
    /// None: a window when a display is available, else the serial console.
    pub display: Option<DisplayKind>,
    /// Integer scale of the window's picture.
    pub scale: u32,
    /// Script commands to run (see script.rs).
    pub script: Option<PathBuf>,
    /// Save the screen here when the run ends.
    pub screenshot: Option<PathBuf>,
    /// End the run (exit code 0) once the text screen shows this.
    pub until_screen: Option<String>,
    /// End the run (exit code 124) after this much wall time.
    pub timeout: Option<std::time::Duration>,
    /// Print the text screen on stdout when the run ends.
    pub print_screen: bool,
    /// Where COM1 goes; None: stdio with no display, stdout only with a window, nowhere in
    /// the terminal display.
    pub serial: Option<SerialKind>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            display: Some(DisplayKind::None),
            scale: 1,
            script: None,
            screenshot: None,
            until_screen: None,
            timeout: None,
            print_screen: false,
            serial: None,
        }
    }
}

enum Chosen {
    Window(Box<WindowFrontend>),
    Term,
    None,
}

fn choose(opts: &Options) -> Chosen {
    match opts.display {
        Some(DisplayKind::None) => Chosen::None,
        Some(DisplayKind::Term) => Chosen::Term,
        Some(DisplayKind::Window) | None => {
            let explicit = opts.display.is_some();
            if !explicit && std::env::var_os("DISPLAY").is_none() {
                eprintln!("emu: no display (DISPLAY is not set); using --display none");
                return Chosen::None;
            }
            match WindowFrontend::open(opts.scale) {
                Ok(w) => Chosen::Window(Box::new(w)),
                Err(e) => {
                    let e = e.lines().next().unwrap_or("").to_string();
                    eprintln!("emu: cannot open a window ({e}); using --display none");
                    Chosen::None
                }
            }
        }
    }
}

/// Runs `machine` to its end under the chosen frontend.
pub fn run(machine: &mut Machine, opts: &Options) -> Result<Outcome> {
    if !(1..=16).contains(&opts.scale) {
        return Err(Error::Usage(format!(
            "--scale {} out of range (1..=16)",
            opts.scale
        )));
    }
    let script = opts.script.as_deref().map(Script::load).transpose()?;
    if opts.display == Some(DisplayKind::Term) && opts.serial == Some(SerialKind::Stdio) {
        return Err(Error::Usage(
            "--serial stdio and --display term cannot share the terminal".into(),
        ));
    }
    if opts.display == Some(DisplayKind::Term)
        && !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal())
    {
        return Err(Error::Usage(
            "--display term needs a terminal on stdin and stdout".into(),
        ));
    }
    // A bad file name is an error before anything runs.
    let serial_file = match &opts.serial {
        Some(SerialKind::File(path)) => Some(std::sync::Arc::new(
            std::fs::File::create(path).map_err(|e| Error::io(path, e))?,
        )),
        _ => None,
    };
    runner::install_ctrl_c();
    let shared = Shared::new();
    let (tx, rx) = channel();
    let chosen = choose(opts);
    // COM1: the user's choice, else what suits the display. `stdin` says whether host
    // input goes to COM1 (the terminal in raw mode).
    let (sink, stdin) = match (&opts.serial, &chosen) {
        (Some(SerialKind::Stdio), _) | (None, Chosen::None) => (Sink::Stdout, true),
        (Some(SerialKind::File(_)), _) => (Sink::File(serial_file.expect("opened above")), false),
        (Some(SerialKind::Null), _) | (None, Chosen::Term) => (Sink::Discard, false),
        // A window: COM1's output on stdout, as a log beside the window.
        (None, Chosen::Window(_)) => (Sink::Stdout, false),
    };
    machine.set_serial_sink(sink);
    let serial_console = || {
        if stdin {
            let raw = headless::RawStdin::enter();
            headless::spawn_stdin_reader(tx.clone());
            Some(raw)
        } else {
            None
        }
    };
    let publish = match chosen {
        Chosen::Window(_) => Publish::Frame,
        Chosen::Term => Publish::Text,
        Chosen::None => Publish::Nothing,
    };
    let deadline = opts
        .timeout
        .and_then(|t| std::time::Instant::now().checked_add(t));
    let runner = |machine, inputs, shared, script| Runner {
        machine,
        inputs,
        shared,
        script,
        publish,
        until_screen: opts.until_screen.clone(),
        deadline,
    };
    let outcome = match chosen {
        Chosen::None => {
            let _raw = serial_console();
            drop(tx);
            runner(&mut *machine, rx, shared, script).run()
        }
        Chosen::Window(window) => {
            let _raw = serial_console();
            let front_shared = shared.clone();
            let outcome = std::thread::scope(|s| {
                let emu = s.spawn(|| runner(&mut *machine, rx, shared, script).run());
                window.run(front_shared.clone(), tx);
                emu.join()
            });
            report_render_cost(&front_shared);
            outcome.unwrap_or_else(|_| Err(panicked()))
        }
        Chosen::Term => {
            // The terminal shows the screen: COM1 never writes over it (checked above).
            let front_shared = shared.clone();
            let (outcome, term_result) = std::thread::scope(|s| {
                let emu = s.spawn(|| runner(&mut *machine, rx, shared, script).run());
                let quit = tx.clone();
                let r = term::run(front_shared.clone(), tx);
                // However the terminal side ended, the guest stops with it.
                let _ = quit.send(runner::Input::Quit);
                (emu.join(), r)
            });
            if let Err(e) = term_result {
                eprintln!("emu: terminal: {e}");
            }
            report_render_cost(&front_shared);
            outcome.unwrap_or_else(|_| Err(panicked()))
        }
    };
    if let Some(path) = &opts.screenshot {
        machine.screenshot(path)?;
    }
    outcome
}

fn panicked() -> Error {
    Error::Usage("internal error: the emulation thread panicked".into())
}

/// One line on what drawing the screen cost the emulation thread.
fn report_render_cost(shared: &Shared) {
    let st = shared.status();
    if st.frames > 0 {
        eprintln!(
            "emu: {} frames drawn, {:.2} ms each on the emulation thread",
            st.frames,
            st.render_time.as_secs_f64() * 1e3 / st.frames as f64
        );
    }
}
