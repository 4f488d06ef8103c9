//! CPU exceptions as values: handlers return `Err(Exception)` and the run loop delivers it.

use std::fmt;
use std::num::NonZeroU32;

/// An exception packed into one non-zero 32-bit word, so that `Result<(), Exception>` and
/// `Result<u32, Exception>` are returned in registers by every handler and memory access:
/// bits 24–31 the vector, bit 17 always set (the word is never zero), bit 16 whether there is
/// an error code, bits 0–15 the error code (x86 error codes are selectors, IDT offsets or
/// page-fault bits: all fit in 16 bits).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Exception(NonZeroU32);

const PRESENT: u32 = 1 << 17;
const HAS_CODE: u32 = 1 << 16;
/// Set only in `Exception::CODE_WRITTEN` and `Exception::SLOW_PATH`, never in a real
/// exception.
const NOT_AN_EXCEPTION: u32 = 1 << 18;
const SLOW: u32 = 1 << 19;

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
    /// Not an exception: the instruction completed, and code pages were written since the
    /// block began (see `Cpu::report_code_writes`). The run loop then checks whether the
    /// write hit the running block; it is never delivered.
    pub const CODE_WRITTEN: Exception = match NonZeroU32::new(PRESENT | NOT_AN_EXCEPTION) {
        Some(w) => Exception(w),
        None => unreachable!(),
    };

    /// Not an exception: a specialised handler's chained form found its fast path closed
    /// and changed nothing; the plain handler runs instead (see `exec::then_next_or_slow`).
    /// Never leaves the chain.
    pub const SLOW_PATH: Exception = match NonZeroU32::new(PRESENT | NOT_AN_EXCEPTION | SLOW) {
        Some(w) => Exception(w),
        None => unreachable!(),
    };

    pub const fn new(vector: u8) -> Exception {
        match NonZeroU32::new((vector as u32) << 24 | PRESENT) {
            Some(w) => Exception(w),
            None => unreachable!(),
        }
    }

    /// An exception with an error code (only its low 16 bits are kept; see the type).
    pub const fn with_code(vector: u8, code: u32) -> Exception {
        match NonZeroU32::new((vector as u32) << 24 | PRESENT | HAS_CODE | (code & 0xFFFF)) {
            Some(w) => Exception(w),
            None => unreachable!(),
        }
    }

    #[inline(always)]
    pub const fn vector(&self) -> u8 {
        (self.0.get() >> 24) as u8
    }

    /// The error code pushed by protected-mode delivery, when the exception has one.
    #[inline(always)]
    pub const fn error_code(&self) -> Option<u32> {
        let w = self.0.get();
        if w & HAS_CODE != 0 {
            Some(w & 0xFFFF)
        } else {
            None
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
        matches!(self.vector(), DE | TS | NP | SS | GP)
    }
}

impl fmt::Display for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.vector() {
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
        match self.error_code() {
            Some(c) => write!(f, "{name}({c:#x}) vector {}", self.vector()),
            None => write!(f, "{name} vector {}", self.vector()),
        }
    }
}

impl fmt::Debug for Exception {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exception")
            .field("vector", &self.vector())
            .field("error_code", &self.error_code())
            .finish()
    }
}

/// Result of executing one instruction.
pub type Exec = Result<(), Exception>;
