//! Script commands (`--script FILE`): drive a run without a person at the keyboard, for
//! tests and demos. One command a line, `#` starts a comment:
//!
//! | command | what it does |
//! |---|---|
//! | `wait "TEXT"`, `wait-text TEXT` | waits until TEXT appears on the text screen |
//! | `wait-serial TEXT` | waits until COM1 output contains TEXT |
//! | `type "TEXT"` | types TEXT (US layout; `\n` Enter, `\t` Tab, `\e` Esc, `\\`) |
//! | `key CHORD` | presses and releases a key chord, e.g. `ctrl+alt+delete`, `f5` |
//! | `screenshot FILE` | saves the screen as a PNG |
//! | `sleep MS` | waits MS milliseconds of host time |
//! | `timeout SECS` | how long later waits may take before the run fails (default 120) |
//! | `echo TEXT` | prints TEXT on stderr (tests wait for it) |
//! | `pause` / `resume` | stops and restarts the CPU (the screen stays) |
//! | `quit` | ends the run |
//!
//! A TEXT argument is either quoted — `"..."` with the escapes `\n \r \t \e \\ \" \xHH`,
//! where a backslash before any other character stands for itself (`"A:\>"`) — or the rest
//! of the line: as written for `wait`/`wait-text`/`echo`, with the escapes (and no quote
//! escape) for `type` and `wait-serial`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::keymap;
use crate::machine::Machine;
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    WaitText(String),
    WaitSerial(String),
    Keys(Vec<u8>),
    Screenshot(PathBuf),
    Sleep(Duration),
    Timeout(Duration),
    Echo(String),
    Pause(bool),
    Quit,
}

/// What the run loop must do for the script.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing more now: run the guest on.
    Continue,
    /// Scancodes to queue for the keyboard.
    Keys(Vec<u8>),
    Screenshot(PathBuf),
    Pause(bool),
    Quit,
}

pub struct Script {
    /// Commands with their line numbers.
    commands: Vec<(usize, Command)>,
    next: usize,
    timeout: Duration,
    /// When the current wait began.
    waiting_since: Option<Instant>,
}

/// Expands `\n`, `\r`, `\t`, `\e`, `\\` and `\xHH` in a `type` argument.
fn unescape(s: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('e') => out.push('\x1B'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let v = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?;
                out.push(v as char);
            }
            other => return Err(format!("bad escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

/// A quoted string: `"` ... `"` with the escapes of `unescape` plus `\"`; a backslash
/// before any other character is kept as it is, so `"A:\>"` is `A:\>`. Nothing but blanks
/// or a `#` comment may follow the closing quote.
fn quoted(arg: &str) -> std::result::Result<String, String> {
    let mut chars = arg
        .trim_start()
        .strip_prefix('"')
        .ok_or("expected a quoted string")?
        .chars();
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err("the quoted string has no closing \"".into()),
            Some('"') => break,
            Some('\\') => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('e') => out.push('\x1B'),
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    let v =
                        u8::from_str_radix(&hex, 16).map_err(|_| format!("bad escape \\x{hex}"))?;
                    out.push(v as char);
                }
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return Err("the quoted string has no closing \"".into()),
            },
            Some(c) => out.push(c),
        }
    }
    let rest = chars.as_str().trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(format!("unexpected {rest:?} after the quoted string"));
    }
    Ok(out)
}

/// A TEXT argument: quoted, or else the rest of the line through `unquoted`.
fn text(
    arg: &str,
    unquoted: impl Fn(&str) -> std::result::Result<String, String>,
) -> std::result::Result<String, String> {
    if arg.trim_start().starts_with('"') {
        quoted(arg)
    } else {
        unquoted(arg)
    }
}

fn parse_line(line: &str) -> std::result::Result<Option<Command>, String> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (word, arg) = line.split_once(' ').unwrap_or((line, ""));
    let arg = arg.trim_end_matches(['\r', '\n']);
    let need = |what: &str| {
        if arg.trim().is_empty() {
            Err(format!("{word} needs {what}"))
        } else {
            Ok(())
        }
    };
    let number = |what: &str| -> std::result::Result<u64, String> {
        arg.trim()
            .parse::<u64>()
            .map_err(|_| format!("{word} needs {what}, not {arg:?}"))
    };
    let raw = |a: &str| Ok::<String, String>(a.to_string());
    let nonempty = |t: String| {
        if t.is_empty() {
            Err(format!("{word} needs a text"))
        } else {
            Ok(t)
        }
    };
    let cmd = match word {
        "wait" | "wait-text" => {
            need("a text")?;
            Command::WaitText(nonempty(text(arg, raw)?)?)
        }
        "wait-serial" => {
            need("a text")?;
            Command::WaitSerial(nonempty(text(arg, unescape)?)?)
        }
        "type" => {
            need("a text")?;
            let text = text(arg, unescape)?;
            let mut codes = Vec::new();
            for c in text.chars() {
                codes.extend(keymap::type_char(c).ok_or(format!("cannot type {c:?}"))?);
            }
            Command::Keys(codes)
        }
        "key" => Command::Keys(
            keymap::chord_by_name(arg.trim()).ok_or(format!("unknown key chord {arg:?}"))?,
        ),
        "screenshot" => {
            need("a file name")?;
            Command::Screenshot(PathBuf::from(text(arg, |a| Ok(a.trim().to_string()))?))
        }
        "sleep" => Command::Sleep(Duration::from_millis(number("milliseconds")?)),
        "timeout" => Command::Timeout(Duration::from_secs(number("seconds")?)),
        "echo" => Command::Echo(text(arg, raw)?),
        "pause" => Command::Pause(true),
        "resume" => Command::Pause(false),
        "quit" => Command::Quit,
        _ => return Err(format!("unknown command {word:?}")),
    };
    Ok(Some(cmd))
}

impl Script {
    pub fn parse(text: &str) -> std::result::Result<Script, String> {
        let mut commands = Vec::new();
        for (i, line) in text.lines().enumerate() {
            match parse_line(line) {
                Ok(Some(cmd)) => commands.push((i + 1, cmd)),
                Ok(None) => {}
                Err(msg) => return Err(format!("line {}: {msg}", i + 1)),
            }
        }
        Ok(Script {
            commands,
            next: 0,
            timeout: Duration::from_secs(120),
            waiting_since: None,
        })
    }

    pub fn load(path: &Path) -> Result<Script> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Script::parse(&text).map_err(|msg| Error::format(path, msg))
    }

    /// Runs the script as far as it can go now; called between slices of the guest.
    pub fn poll(&mut self, machine: &Machine) -> Result<Action> {
        let Some((line, cmd)) = self.commands.get(self.next) else {
            return Ok(Action::Continue);
        };
        let line = *line;
        let done = match cmd {
            Command::WaitText(text) => machine.text_screen().iter().any(|l| l.contains(text)),
            Command::WaitSerial(text) => {
                let out = String::from_utf8_lossy(machine.serial_output());
                out.contains(text.as_str())
            }
            Command::Sleep(d) => self.waiting_since.is_some_and(|t| t.elapsed() >= *d),
            _ => true,
        };
        if !done {
            let since = *self.waiting_since.get_or_insert_with(Instant::now);
            let is_sleep = matches!(cmd, Command::Sleep(_));
            if !is_sleep && since.elapsed() > self.timeout {
                return Err(Error::Usage(format!(
                    "script line {line}: still waiting after {} s ({cmd:?}); the screen shows:\n{}",
                    self.timeout.as_secs(),
                    machine.text_screen().join("\n")
                )));
            }
            return Ok(Action::Continue);
        }
        self.waiting_since = None;
        self.next += 1;
        Ok(match cmd {
            Command::Keys(codes) => Action::Keys(codes.clone()),
            Command::Screenshot(path) => Action::Screenshot(path.clone()),
            Command::Pause(on) => Action::Pause(*on),
            Command::Quit => Action::Quit,
            Command::Echo(text) => {
                eprintln!("{text}");
                Action::Continue
            }
            Command::Timeout(d) => {
                self.timeout = *d;
                Action::Continue
            }
            Command::WaitText(_) | Command::WaitSerial(_) | Command::Sleep(_) => Action::Continue,
        })
    }

    /// Every command has run.
    pub fn finished(&self) -> bool {
        self.next >= self.commands.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_escapes() {
        let s = Script::parse(
            "# comment\n\nwait-text A:\\>\ntype ver\\n\nkey ctrl+alt+delete\nsleep 10\nscreenshot x.png\nquit\n",
        )
        .unwrap();
        let cmds: Vec<Command> = s.commands.into_iter().map(|(_, c)| c).collect();
        assert_eq!(cmds[0], Command::WaitText("A:\\>".into()));
        assert_eq!(
            cmds[1],
            Command::Keys(vec![0x2F, 0xAF, 0x12, 0x92, 0x13, 0x93, 0x1C, 0x9C])
        );
        assert_eq!(
            cmds[2],
            Command::Keys(vec![0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D])
        );
        assert_eq!(cmds[3], Command::Sleep(Duration::from_millis(10)));
        assert_eq!(cmds[4], Command::Screenshot("x.png".into()));
        assert_eq!(cmds[5], Command::Quit);
    }

    fn commands(text: &str) -> Vec<Command> {
        Script::parse(text)
            .unwrap()
            .commands
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    /// The syntax of the project's issue: quoted texts, `wait`, `sleep` in milliseconds.
    #[test]
    fn parses_the_quoted_syntax() {
        let cmds = commands(
            "wait \"A:\\>\"\ntype \"dir\\n\"\nwait \"bytes free\"\nsleep 250\nscreenshot out.png\nquit\n",
        );
        assert_eq!(
            cmds,
            [
                Command::WaitText("A:\\>".into()),
                Command::Keys(vec![0x20, 0xA0, 0x17, 0x97, 0x13, 0x93, 0x1C, 0x9C]),
                Command::WaitText("bytes free".into()),
                Command::Sleep(Duration::from_millis(250)),
                Command::Screenshot("out.png".into()),
                Command::Quit,
            ]
        );
        // The same keys from the unquoted form, and the unquoted wait-text kept as written.
        assert_eq!(commands("type dir\\n")[0], cmds[1]);
        assert_eq!(commands("wait-text A:\\>")[0], cmds[0]);
        assert_eq!(commands("wait-text \"A:\\>\"")[0], cmds[0]);
        // Escapes inside quotes: quote, backslash, CR, tab, Esc, \xHH; spaces kept; a
        // comment may follow.
        assert_eq!(
            commands(r#"wait "say \"hi\" \\ \r\t\e\x41  " # comment"#)[0],
            Command::WaitText("say \"hi\" \\ \r\t\x1BA  ".into())
        );
        assert_eq!(
            commands(r#"wait-serial "login:\n""#)[0],
            Command::WaitSerial("login:\n".into())
        );
        assert_eq!(
            commands(r#"echo "a # b""#)[0],
            Command::Echo("a # b".into())
        );
        assert_eq!(
            commands(r#"screenshot "my shot.png""#)[0],
            Command::Screenshot("my shot.png".into())
        );
        // A typed quote: Shift and the apostrophe key.
        assert_eq!(
            commands(r#"type "\"""#)[0],
            Command::Keys(vec![0x2A, 0x28, 0xA8, 0xAA])
        );
    }

    #[test]
    fn bad_quoted_lines_are_named() {
        for (text, want) in [
            (
                "wait \"A:\\>",
                "line 1: the quoted string has no closing \"",
            ),
            (
                "wait \"x\" y",
                "line 1: unexpected \"y\" after the quoted string",
            ),
            ("type \"\\xZZ\"", "line 1: bad escape \\xZZ"),
            ("wait \"\"", "line 1: wait needs a text"),
            ("wait", "line 1: wait needs a text"),
        ] {
            assert_eq!(Script::parse(text).err().unwrap(), want, "{text}");
        }
    }

    #[test]
    fn bad_lines_are_named() {
        assert_eq!(
            Script::parse("quit\nfrobnicate\n").err().unwrap(),
            "line 2: unknown command \"frobnicate\""
        );
        assert!(Script::parse("type é")
            .err()
            .unwrap()
            .contains("cannot type"));
        assert!(Script::parse("key ctrl+nope").is_err());
        assert!(Script::parse("sleep soon").is_err());
        assert!(Script::parse("wait-text").is_err());
        assert!(Script::parse("type \\q").is_err());
    }
}
