//! Helpers for unit tests: assemble guest code with iced-x86's CodeAssembler and run it.
//!
//! 16-bit code runs in real mode at 0000:1000. 32-bit code runs with CS and SS descriptor
//! caches set to 32-bit flat segments while CR0.PE stays clear (the "big real mode" state a
//! 386 can be put in), so 32-bit operand and address forms can be tested before protected
//! mode exists.

use iced_x86::code_asm::CodeAssembler;

use super::state::{Seg, ESP};
use super::{Cpu, CpuModel, Stop};

/// EFLAGS status bits as plain numbers, for comparing flag images in tests.
pub mod flag {
    pub const CF: u32 = 1;
    pub const PF: u32 = 4;
    pub const AF: u32 = 0x10;
    pub const ZF: u32 = 0x40;
    pub const SF: u32 = 0x80;
    pub const OF: u32 = 0x800;
}

pub const CODE_ADDR: u32 = 0x1000;
pub const STACK_TOP: u32 = 0x9000;

/// Assembles `build`'s code for `bitness`, appending HLT.
pub fn assemble(bitness: u32, build: impl FnOnce(&mut CodeAssembler)) -> Vec<u8> {
    let mut a = CodeAssembler::new(bitness).expect("bitness");
    build(&mut a);
    a.hlt().expect("hlt");
    a.assemble(CODE_ADDR as u64).expect("assemble")
}

/// A CPU with `code` loaded at CODE_ADDR, ready to run it.
pub fn load(model: CpuModel, bitness: u32, code: &[u8]) -> Cpu {
    let mut cpu = Cpu::new(model, 1 << 20);
    cpu.mem.load(CODE_ADDR, code);
    for s in Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    if bitness == 32 {
        cpu.set_flat32();
    }
    cpu.eip = CODE_ADDR;
    cpu.gpr[ESP] = STACK_TOP;
    cpu.flush_decode_cache();
    cpu
}

/// Runs until HLT (panics if the code does not halt within a million instructions).
pub fn run_to_halt(cpu: &mut Cpu) {
    let stop = cpu.run(1_000_000);
    assert_eq!(
        stop,
        Stop::Halted,
        "guest code did not reach HLT (eip={:#x})",
        cpu.eip
    );
}

/// Assembles and runs 16-bit code in real mode on `model`.
pub fn run16(model: CpuModel, build: impl FnOnce(&mut CodeAssembler)) -> Cpu {
    let code = assemble(16, build);
    let mut cpu = load(model, 16, &code);
    run_to_halt(&mut cpu);
    cpu
}

/// Assembles and runs 32-bit code (flat 32-bit CS/SS) on a P6.
pub fn run32(build: impl FnOnce(&mut CodeAssembler)) -> Cpu {
    let code = assemble(32, build);
    let mut cpu = load(CpuModel::P6, 32, &code);
    run_to_halt(&mut cpu);
    cpu
}

/// Assembles and runs `build` on `model` with interrupt vector `v` pointing at 0000:2000,
/// where a HLT waits (so a raised exception ends the run there).
pub fn with_handler(
    model: CpuModel,
    bits: u32,
    v: u8,
    build: impl FnOnce(&mut CodeAssembler),
) -> Cpu {
    let code = assemble(bits, build);
    let mut cpu = load(model, bits, &code);
    cpu.mem.write_u16(v as u32 * 4, 0x2000);
    cpu.mem.write_u16(v as u32 * 4 + 2, 0);
    cpu.mem.write_u8(0x2000, 0xF4);
    run_to_halt(&mut cpu);
    cpu
}
