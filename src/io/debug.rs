//! The guest-visible debug ports: 0xE9 console, 0xF4 isa-debug-exit, 0x80/0x190 POST codes.
//! Unmapped ports read as all ones, as on an ISA bus with nothing driving it.

use super::PortBus;
use std::io::Write;

#[derive(Default)]
pub struct DebugPorts {
    /// Bytes written to port 0xE9 (the first `RECORD_LIMIT`).
    pub console: Vec<u8>,
    /// Copy port 0xE9 output to the host's stdout as it arrives.
    pub echo: bool,
    /// Last value written to port 0x80 and to port 0x190.
    pub post_code: Option<u8>,
    pub post_code_190: Option<u8>,
    /// Log every write to ports 0x80 and 0x190 on stderr (repeated values too).
    pub log_post: bool,
    exit: Option<i32>,
}

impl DebugPorts {
    pub fn new() -> DebugPorts {
        DebugPorts::default()
    }
}

impl PortBus for DebugPorts {
    fn read(&mut self, port: u16, size: u8) -> u32 {
        match port {
            // Bochs: reading 0xE9 returns 0xE9 so guests can detect the console.
            0xE9 => 0xE9,
            _ => match size {
                1 => 0xFF,
                2 => 0xFFFF,
                _ => 0xFFFF_FFFF,
            },
        }
    }

    fn write(&mut self, port: u16, _size: u8, value: u32) {
        match port {
            0xE9 => {
                if self.console.len() < super::RECORD_LIMIT {
                    self.console.push(value as u8);
                }
                if self.echo {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(&[value as u8]);
                    let _ = out.flush();
                }
            }
            0xF4 => self.exit = Some((((value & 0xFF) << 1) | 1) as i32),
            0x80 | 0x190 => {
                if port == 0x80 {
                    self.post_code = Some(value as u8);
                } else {
                    self.post_code_190 = Some(value as u8);
                }
                if self.log_post {
                    eprintln!("POST {port:#x}: {:#04x}", value as u8);
                }
            }
            _ => {}
        }
    }

    fn exit_request(&self) -> Option<i32> {
        self.exit
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
