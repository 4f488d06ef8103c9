//! Guest input is hostile: random code must never panic or hang the CPU, on any model, in
//! 16- and 32-bit code. Every run ends by its instruction budget, a halt, an exit request
//! or a triple fault.

use emu::cpu::{Cpu, CpuModel, Stop};

/// xorshift64*: a small seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn run_random(model: CpuModel, flat32: bool, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut cpu = Cpu::new(model, 1 << 20);
    // Random bytes over the IVT, the code and the stack area.
    for addr in (0..0x1_0000u32).step_by(8) {
        cpu.mem.load(addr, &rng.next().to_le_bytes());
    }
    cpu.reset();
    for s in emu::cpu::Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    if flat32 && model >= CpuModel::I386 {
        cpu.set_flat32();
    }
    cpu.eip = (rng.next() as u32) & 0xFFF0;
    cpu.gpr = [0; 8].map(|_: u32| rng.next() as u32);
    cpu.flush_decode_cache();
    let mut budget = 20_000u64;
    while budget > 0 {
        let before = cpu.icount;
        match cpu.run(2_000) {
            Stop::Budget => {}
            // Nothing can wake a halted CPU here; an exit or a triple fault ends the run.
            Stop::Halted | Stop::Exit(_) | Stop::TripleFault => break,
        }
        let ran = cpu.icount - before;
        assert!(ran > 0, "no progress at {:#x}", cpu.eip);
        budget = budget.saturating_sub(ran);
    }
}

#[test]
fn random_code_never_panics() {
    for seed in 0..200u64 {
        for model in [
            CpuModel::I8086,
            CpuModel::I286,
            CpuModel::I386,
            CpuModel::P6,
        ] {
            run_random(model, false, seed * 7 + 1);
            run_random(model, true, seed * 13 + 5);
        }
    }
}
