//! emu: a pure-software x86 PC emulator. The CPU is an interpreter on iced-x86.

pub mod bios;
pub mod cpu;
pub mod devices;
pub mod error;
pub mod frontend;
pub mod io;
pub mod machine;
pub mod mem;
pub mod storage;
pub mod testsuite;

pub use error::{Error, Result};
