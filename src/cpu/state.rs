//! Architectural register state: general registers, segment registers with their hidden
//! descriptor caches, EFLAGS bits and control registers.

use bitflags::bitflags;

/// Index of a general register in `Regs::gpr` (x86 encoding order).
pub const EAX: usize = 0;
pub const ECX: usize = 1;
pub const EDX: usize = 2;
pub const EBX: usize = 3;
pub const ESP: usize = 4;
pub const EBP: usize = 5;
pub const ESI: usize = 6;
pub const EDI: usize = 7;

/// Segment register index (x86 encoding order, same as `iced_x86::Register::ES..GS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Seg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl Seg {
    pub const ALL: [Seg; 6] = [Seg::Es, Seg::Cs, Seg::Ss, Seg::Ds, Seg::Fs, Seg::Gs];

    #[inline]
    pub fn from_index(i: usize) -> Seg {
        Seg::ALL[i % 6]
    }
}

bitflags! {
    /// EFLAGS bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Flags: u32 {
        const CF = 1 << 0;
        const RESERVED1 = 1 << 1;
        const PF = 1 << 2;
        const AF = 1 << 4;
        const ZF = 1 << 6;
        const SF = 1 << 7;
        const TF = 1 << 8;
        const IF = 1 << 9;
        const DF = 1 << 10;
        const OF = 1 << 11;
        const IOPL = 3 << 12;
        const NT = 1 << 14;
        const RF = 1 << 16;
        const VM = 1 << 17;
        const AC = 1 << 18;
        const VIF = 1 << 19;
        const VIP = 1 << 20;
        const ID = 1 << 21;
    }
}

/// The six arithmetic status flags, which are evaluated lazily.
pub const STATUS_FLAGS: u32 = Flags::CF.bits()
    | Flags::PF.bits()
    | Flags::AF.bits()
    | Flags::ZF.bits()
    | Flags::SF.bits()
    | Flags::OF.bits();

bitflags! {
    /// CR0 bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Cr0: u32 {
        const PE = 1 << 0;
        const MP = 1 << 1;
        const EM = 1 << 2;
        const TS = 1 << 3;
        const ET = 1 << 4;
        const NE = 1 << 5;
        const WP = 1 << 16;
        const AM = 1 << 18;
        const NW = 1 << 29;
        const CD = 1 << 30;
        const PG = 1 << 31;
    }
}

/// A segment register: the visible selector and the hidden descriptor cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub selector: u16,
    pub base: u32,
    /// Effective limit in bytes (already scaled by the granularity bit).
    pub limit: u32,
    /// Descriptor attribute bits: type (bits 0-3), S (4), DPL (5-6), P (7), AVL (12),
    /// D/B (14), G (15) — the layout of bytes 5 and 6 of a descriptor.
    pub attrs: u16,
}

pub const ATTR_DB: u16 = 1 << 14;
pub const ATTR_PRESENT: u16 = 1 << 7;

impl Segment {
    /// A real-mode segment: base = selector * 16, 64 KiB limit, read/write data attributes.
    pub fn real(selector: u16) -> Segment {
        Segment {
            selector,
            base: (selector as u32) << 4,
            limit: 0xFFFF,
            attrs: ATTR_PRESENT | 0x13,
        }
    }

    /// True when the descriptor's D/B bit selects 32-bit operation.
    #[inline]
    pub fn is_32(&self) -> bool {
        self.attrs & ATTR_DB != 0
    }
}

impl Default for Segment {
    fn default() -> Self {
        Segment::real(0)
    }
}

/// Control registers CR0, CR2, CR3, CR4 (CR1 is reserved).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControlRegs {
    pub cr0: u32,
    pub cr2: u32,
    pub cr3: u32,
    pub cr4: u32,
}

/// Descriptor table register (GDTR / IDTR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TableReg {
    pub base: u32,
    pub limit: u16,
}
