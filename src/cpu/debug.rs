//! Debug registers: DR0–DR3 instruction and data breakpoints with their DR7 enables,
//! lengths and kinds, the DR6 status bits, general detect (DR7.GD) and the resume flag.
//!
//! Breakpoints cost nothing while DR7 enables none: `debug_active` is false and the run
//! loop executes blocks. When one is enabled, instructions run one at a time through the
//! single-step path, which checks instruction breakpoints before each instruction and
//! delivers data-breakpoint traps after it; memory accesses report matches through
//! `watch`.

use super::Cpu;

/// DR6 status bits.
pub const DR6_BD: u32 = 1 << 13;
pub const DR6_BS: u32 = 1 << 14;
pub const DR6_BT: u32 = 1 << 15;
/// DR6 bits that read as 1 on the P6 (4–11, 16–31).
pub const DR6_FIXED: u32 = 0xFFFF_0FF0;
/// DR7 general detect: MOV to or from a debug register raises #DB first.
pub const DR7_GD: u32 = 1 << 13;
/// DR7 bit 10 reads as 1.
pub const DR7_FIXED: u32 = 1 << 10;
/// The local enables (L0–L3, LE), which a task switch clears.
pub const DR7_LOCAL: u32 = 0x155;

/// Breakpoint kinds from DR7's R/W fields.
const KIND_EXEC: u32 = 0;
const KIND_WRITE: u32 = 1;
const KIND_READ_WRITE: u32 = 3;

impl Cpu {
    /// Recomputes whether any breakpoint is enabled (after DR7 changes).
    pub fn update_debug_state(&mut self) {
        self.debug_active = self.dr[7] & 0xFF != 0;
        if self.debug_active {
            self.tlb.drop_fast();
        }
    }

    /// Breakpoint `i`: enabled, its kind and its length in bytes.
    fn breakpoint(&self, i: usize) -> Option<(u32, u32)> {
        let dr7 = self.dr[7];
        if dr7 >> (2 * i) & 3 == 0 {
            return None;
        }
        let kind = dr7 >> (16 + 4 * i) & 3;
        let len = match dr7 >> (18 + 4 * i) & 3 {
            0 => 1,
            1 => 2,
            2 => 8,
            _ => 4,
        };
        Some((kind, len))
    }

    /// DR6 bits of the instruction breakpoints set at linear address `linear`.
    pub(crate) fn instruction_breakpoints(&self, linear: u32) -> u32 {
        let mut bits = 0;
        for i in 0..4 {
            if let Some((KIND_EXEC, _)) = self.breakpoint(i) {
                if self.dr[i] == linear {
                    bits |= 1 << i;
                }
            }
        }
        bits
    }

    /// Records data breakpoints hit by an access of `size` bytes at `linear`.
    #[cold]
    pub(crate) fn watch(&mut self, linear: u32, size: u32, write: bool) {
        for i in 0..4 {
            let Some((kind, len)) = self.breakpoint(i) else {
                continue;
            };
            let hit_kind = kind == KIND_READ_WRITE || (kind == KIND_WRITE && write);
            if !hit_kind {
                continue;
            }
            let start = self.dr[i] & !(len - 1);
            let overlaps =
                linear <= start.wrapping_add(len - 1) && start <= linear.wrapping_add(size - 1);
            if overlaps {
                self.pending_data_breakpoints |= 1 << i;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cpu::exception;
    use crate::cpu::state::{EAX, EBX, ECX};
    use crate::cpu::testutil::{assemble, load, run_to_halt};
    use crate::cpu::CpuModel;
    use iced_x86::code_asm::*;

    /// A #DB handler at 0x3000 (real mode IVT) that counts in EBX, copies DR6 into ECX,
    /// clears it and returns with IRET (16-bit: no RF needed for data/step traps).
    fn install_db_counter(cpu: &mut crate::cpu::Cpu) {
        let handler = assemble(16, |a| {
            a.inc(ebx).unwrap();
            a.mov(ecx, dr6).unwrap();
            a.xor(eax, eax).unwrap();
            a.mov(dr6, eax).unwrap();
            a.iret().unwrap();
        });
        cpu.mem.load(0x3000, &handler);
        cpu.mem.write_u16(exception::DB as u32 * 4, 0x3000);
        cpu.mem.write_u16(exception::DB as u32 * 4 + 2, 0);
    }

    #[test]
    fn data_write_breakpoint_traps_after_the_write() {
        let code = assemble(16, |a| {
            a.mov(eax, 0x2000).unwrap();
            a.mov(dr1, eax).unwrap();
            // L1, R/W1 = write, LEN1 = 2 bytes.
            a.mov(eax, 0x0050_0004).unwrap();
            a.mov(dr7, eax).unwrap();
            a.mov(word_ptr(0x2004), 1).unwrap(); // no hit
            a.mov(byte_ptr(0x2001), 7).unwrap(); // hit: inside the 2-byte range
            a.mov(al, byte_ptr(0x2000)).unwrap(); // a read: no hit for a write breakpoint
            a.hlt().unwrap();
        });
        let mut cpu = load(CpuModel::P6, 16, &code);
        install_db_counter(&mut cpu);
        run_to_halt(&mut cpu);
        assert_eq!(cpu.gpr[EBX], 1, "one data breakpoint hit");
        assert_eq!(cpu.gpr[ECX] & 0xF, 2, "DR6.B1");
        // The trap comes after the write: the byte is written and AL read it back.
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0);
        assert_eq!(cpu.mem.read_u8(0x2001), 7);
    }

    #[test]
    fn single_step_counts_instructions_and_sets_bs() {
        let code = assemble(16, |a| {
            a.pushf().unwrap();
            a.pop(ax).unwrap();
            a.or(ax, 0x100).unwrap();
            a.push(ax).unwrap();
            a.popf().unwrap(); // TF on: the trap starts after the next instruction
            a.nop().unwrap();
            a.nop().unwrap();
            a.nop().unwrap();
            a.hlt().unwrap();
        });
        let mut cpu = load(CpuModel::P6, 16, &code);
        install_db_counter(&mut cpu);
        run_to_halt(&mut cpu);
        // POPF setting TF does not trap; each NOP does; HLT ends the run.
        assert_eq!(cpu.gpr[EBX], 3);
        assert_ne!(cpu.gpr[ECX] & super::DR6_BS, 0);
    }
}
