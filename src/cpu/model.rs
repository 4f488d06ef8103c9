//! CPU models: which generation we emulate, and the behaviour that differs between them.

use std::fmt;
use std::str::FromStr;

/// The CPU generation, selected with `--cpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuModel {
    I8086,
    I286,
    I386,
    I486,
    P6,
}

impl CpuModel {
    pub const NAMES: &'static str = "8086|286|386|486|p6";

    /// FLAGS bits that always read as one (8086: bits 12-15; 286 real mode: none;
    /// 386+: bit 1 only).
    pub fn flags_fixed_ones(self) -> u32 {
        match self {
            CpuModel::I8086 => 0xF002,
            _ => 0x0002,
        }
    }

    /// FLAGS bits that software can change with POPF/IRET in real mode.
    pub fn flags_writable(self) -> u32 {
        match self {
            CpuModel::I8086 => 0x0FD5,
            // The 286 in real mode keeps IOPL and NT at zero.
            CpuModel::I286 => 0x0FD5,
            // IOPL and NT; never RF or VM (POPF cannot set them).
            CpuModel::I386 => 0x0000_7FD5,
            // + AC
            CpuModel::I486 => 0x0004_7FD5,
            // + AC, ID
            CpuModel::P6 => 0x0024_7FD5,
        }
    }

    /// Whether 32-bit operand/address size prefixes and 32-bit registers exist.
    pub fn has_32bit(self) -> bool {
        self >= CpuModel::I386
    }

    /// Whether the 80186 instruction additions (PUSHA, ENTER, BOUND, shifts by immediate...)
    /// exist. On the 8086 their opcodes are aliases of other instructions.
    pub fn has_186(self) -> bool {
        self >= CpuModel::I286
    }

    /// Physical address bits the CPU drives.
    pub fn address_mask(self) -> u32 {
        match self {
            CpuModel::I8086 => 0x000F_FFFF,
            CpuModel::I286 => 0x00FF_FFFF,
            _ => 0xFFFF_FFFF,
        }
    }
}

impl fmt::Display for CpuModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CpuModel::I8086 => "8086",
            CpuModel::I286 => "286",
            CpuModel::I386 => "386",
            CpuModel::I486 => "486",
            CpuModel::P6 => "p6",
        })
    }
}

impl FromStr for CpuModel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "8086" | "8088" | "86" => Ok(CpuModel::I8086),
            "286" | "80286" => Ok(CpuModel::I286),
            "386" | "80386" => Ok(CpuModel::I386),
            "486" | "80486" => Ok(CpuModel::I486),
            "p6" | "686" | "pentiumpro" => Ok(CpuModel::P6),
            _ => Err(format!(
                "unknown CPU model '{s}' (expected {})",
                CpuModel::NAMES
            )),
        }
    }
}
