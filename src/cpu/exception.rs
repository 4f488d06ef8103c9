//! CPU exceptions as values: handlers return `Err(Exception)` and the run loop delivers it.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    pub vector: u8,
    /// Error code pushed by protected-mode delivery, when the exception has one.
    pub error_code: Option<u32>,
}

pub const DE: u8 = 0;
pub const DB: u8 = 1;
pub const BP: u8 = 3;
pub const OF: u8 = 4;
pub const BR: u8 = 5;
pub const UD: u8 = 6;
pub const NM: u8 = 7;
pub const DF: u8 = 8;
pub const TS: u8 = 10;
pub const NP: u8 = 11;
pub const SS: u8 = 12;
pub const GP: u8 = 13;
pub const PF: u8 = 14;
pub const MF: u8 = 16;
pub const AC: u8 = 17;

impl Exception {
    pub const fn new(vector: u8) -> Exception {
        Exception {
            vector,
            error_code: None,
        }
    }

    pub const fn with_code(vector: u8, code: u32) -> Exception {
        Exception {
            vector,
            error_code: Some(code),
        }
    }

    pub const fn divide_error() -> Exception {
        Exception::new(DE)
    }
    pub const fn invalid_opcode() -> Exception {
        Exception::new(UD)
    }
    pub const fn bound_range() -> Exception {
        Exception::new(BR)
    }
    pub const fn gp(code: u32) -> Exception {
        Exception::with_code(GP, code)
    }
    pub const fn ss(code: u32) -> Exception {
        Exception::with_code(SS, code)
    }
    pub const fn np(code: u32) -> Exception {
        Exception::with_code(NP, code)
    }
    pub const fn ts(code: u32) -> Exception {
        Exception::with_code(TS, code)
    }

    /// Contributory exceptions: two of them in a row make a double fault.
    pub fn is_contributory(&self) -> bool {
        matches!(self.vector, DE | TS | NP | SS | GP)
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.vector {
            DE => "#DE",
            DB => "#DB",
            BP => "#BP",
            OF => "#OF",
            BR => "#BR",
            UD => "#UD",
            NM => "#NM",
            DF => "#DF",
            TS => "#TS",
            NP => "#NP",
            SS => "#SS",
            GP => "#GP",
            PF => "#PF",
            MF => "#MF",
            AC => "#AC",
            _ => "exception",
        };
        match self.error_code {
            Some(c) => write!(f, "{name}({c:#x}) vector {}", self.vector),
            None => write!(f, "{name} vector {}", self.vector),
        }
    }
}

/// Result of executing one instruction.
pub type Exec = Result<(), Exception>;
