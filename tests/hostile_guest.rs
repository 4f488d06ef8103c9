//! Guest input is hostile: random code must never panic or hang the CPU, on any model, in
//! 16- and 32-bit code. Every run ends by its instruction budget, a halt, an exit request
//! or a triple fault.

use emu::cpu::{Cpu, CpuModel, Seg, Segment, Stop};

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
            Stop::Halted | Stop::Exit(_) | Stop::TripleFault | Stop::Reset | Stop::BiosCall => {
                break
            }
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

/// The modes the long random run covers.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Real,
    Protected,
    Paged,
    V86,
}

const RAM: usize = 2 << 20;
const GDT: u32 = 0x1000;
const IDT: u32 = 0x2000;
const TSS: u32 = 0x3000;
const PD: u32 = 0x10_0000;
const PT: u32 = 0x10_1000;

fn descriptor(base: u32, limit: u32, access: u8, flags: u8) -> u64 {
    (limit as u64 & 0xFFFF)
        | (base as u64 & 0xFF_FFFF) << 16
        | (access as u64) << 40
        | ((limit as u64 >> 16) & 0xF) << 48
        | (flags as u64 & 0xF) << 52
        | (base as u64 >> 24) << 56
}

/// A CPU in `mode` whose memory is random bytes except for the system tables that mode
/// needs: a GDT with ring-0/ring-3 code and data and a TSS, an IDT whose gates all lead
/// into the random bytes (so exceptions keep running hostile code), page tables with some
/// pages missing, read-only or supervisor-only.
fn hostile_cpu(mode: Mode, rng: &mut Rng) -> Cpu {
    let mut cpu = Cpu::new(CpuModel::P6, RAM);
    // Random bytes in the low 1 MiB, where all code, stacks and handlers point.
    for addr in (0..1u32 << 20).step_by(8) {
        cpu.mem.load(addr, &rng.next().to_le_bytes());
    }
    cpu.reset();
    cpu.gpr = [0; 8].map(|_: u32| rng.next() as u32);
    if let Mode::Real = mode {
        for s in Seg::ALL {
            cpu.load_seg_real(s, rng.next() as u16 & 0x3FFF);
        }
        cpu.eip = rng.next() as u32 & 0xFFFF;
        cpu.flush_decode_cache();
        return cpu;
    }
    let gdt = [
        0,
        descriptor(0, 0xFFFFF, 0x9A, 0xC),      // 0x08 ring-0 code
        descriptor(0, 0xFFFFF, 0x92, 0xC),      // 0x10 ring-0 data
        descriptor(0, 0xFFFFF, 0xFA, 0xC),      // 0x18 ring-3 code
        descriptor(0, 0xFFFFF, 0xF2, 0xC),      // 0x20 ring-3 data
        descriptor(TSS, 0x2088, 0x89, 0),       // 0x28 TSS
        descriptor(0, 0xFFFF, 0x9A, 0),         // 0x30 16-bit ring-0 code
        descriptor(TSS + 0x100, 0x67, 0x89, 0), // 0x38 a second TSS (task switches)
    ];
    for (i, d) in gdt.iter().enumerate() {
        cpu.mem.load(GDT + 8 * i as u32, &d.to_le_bytes());
    }
    cpu.gdtr.base = GDT;
    cpu.gdtr.limit = (gdt.len() * 8 - 1) as u16;
    for v in 0..256u32 {
        // Gates into the low 1 MiB of random code; a few are traps, a few DPL 3, some
        // task gates to the second TSS.
        let r = rng.next();
        let target = r as u32 & 0xF_FFFF;
        let kind: u64 = match (r >> 32) % 8 {
            0 => 0x85, // task gate
            1 => 0xEF, // DPL-3 trap gate
            2 => 0x8F,
            _ => 0x8E,
        };
        let sel = if kind == 0x85 { 0x38u64 } else { 0x08 };
        let gate = (target as u64 & 0xFFFF) | sel << 16 | kind << 40 | (target as u64 >> 16) << 48;
        cpu.mem.load(IDT + 8 * v, &gate.to_le_bytes());
    }
    cpu.idtr.base = IDT;
    cpu.idtr.limit = 0x7FF;
    // TSS: ring-0 stack, I/O bitmap offset; the bitmaps themselves stay random.
    cpu.mem
        .write_u32(TSS + 4, 0x8_0000 + (rng.next() as u32 & 0xFFFC));
    cpu.mem.write_u32(TSS + 8, 0x10);
    cpu.mem.write_u16(TSS + 0x66, 0x88);
    // The second TSS: a ring-0 task in the random code.
    let t2 = TSS + 0x100;
    cpu.mem.write_u32(t2 + 0x1C, PD);
    cpu.mem.write_u32(t2 + 0x20, rng.next() as u32 & 0xF_FFFF);
    cpu.mem.write_u32(t2 + 0x24, 2);
    cpu.mem.write_u32(t2 + 0x38, 0x9_0000);
    for (i, sel) in [0x10u32, 0x08, 0x10, 0x10, 0x10, 0x10].iter().enumerate() {
        cpu.mem.write_u32(t2 + 0x48 + 4 * i as u32, *sel);
    }
    cpu.mem.write_u32(t2 + 0x60, 0);
    cpu.cr.cr0 |= 1;
    let tr_d = gdt[5];
    cpu.mem.load(GDT + 0x28, &(tr_d | 1 << 41).to_le_bytes()); // busy
    cpu.tr = Segment {
        selector: 0x28,
        base: TSS,
        limit: 0x2088,
        attrs: 0x8B,
    };
    let flat = |selector: u16, access: u16| Segment {
        selector,
        base: 0,
        limit: 0xFFFF_FFFF,
        attrs: access | 0xC000,
    };
    let ring3 = rng.next() & 1 == 0;
    if ring3 {
        cpu.seg = [flat(0x23, 0xF3); 6];
        cpu.seg[Seg::Cs as usize] = flat(0x1B, 0xFB);
    } else {
        cpu.seg = [flat(0x10, 0x93); 6];
        cpu.seg[Seg::Cs as usize] = flat(0x08, 0x9B);
    }
    cpu.gpr[4] = 0x9_0000 + (rng.next() as u32 & 0xFFFC);
    cpu.eip = rng.next() as u32 & 0xF_FFFF;
    let iopl = (rng.next() % 4) as u32;
    cpu.load_eflags_raw(0x2 | iopl << 12);
    if matches!(mode, Mode::Paged | Mode::V86) {
        cpu.mem.write_u32(PD, PT | 7);
        for i in 0..1024u32 {
            let r = rng.next();
            // Mostly user-writable; some pages read-only, supervisor-only or missing.
            let flags = match r % 16 {
                0 => 0,
                1 => 3,
                2 => 5,
                _ => 7,
            };
            let flags = if (0x100..0x102).contains(&i) || i < 0x10 {
                7
            } else {
                flags
            };
            cpu.mem.write_u32(PT + 4 * i, i << 12 | flags);
        }
        cpu.cr.cr3 = PD;
        cpu.cr.cr0 |= 0x8000_0000;
        cpu.cr.cr4 = (rng.next() as u32) & 0x93; // VME, PVI, PSE, PGE at random
    }
    if let Mode::V86 = mode {
        cpu.load_eflags_raw(cpu.eflags() | 1 << 17);
        for s in Seg::ALL {
            cpu.seg[s as usize] = emu::cpu::v86::v86_segment(rng.next() as u16 & 0xFFF);
        }
        cpu.eip &= 0xFFFF;
        cpu.gpr[4] &= 0xFFFF;
    }
    cpu.flush_tlb(false);
    cpu.flush_decode_cache();
    cpu
}

/// At least 10 million random instructions, 2.5 million from each starting mode (real,
/// protected, paged, V86; a run may leave its mode, as random code does): every run ends
/// by its budget, a halt or a triple fault, and nothing panics.
#[test]
fn ten_million_random_instructions_across_modes() {
    const PER_MODE: u64 = 2_500_000;
    for (k, mode) in [Mode::Real, Mode::Protected, Mode::Paged, Mode::V86]
        .into_iter()
        .enumerate()
    {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ k as u64);
        let mut executed = 0u64;
        let mut runs = 0u32;
        while executed < PER_MODE {
            runs += 1;
            assert!(runs < 100_000, "{mode:?}: runs keep ending at once");
            let mut cpu = hostile_cpu(mode, &mut rng);
            let before = cpu.icount;
            // Budgets of a few thousand instructions: random code soon loses control of
            // the machine state, and a fresh start covers more of the mode's rules.
            match cpu.run(20_000) {
                Stop::Budget
                | Stop::Halted
                | Stop::Exit(_)
                | Stop::TripleFault
                | Stop::Reset
                | Stop::BiosCall => {}
            }
            executed += cpu.icount - before;
        }
        eprintln!("{mode:?}: {executed} random instructions in {runs} runs");
    }
}

/// Random BIOS calls: boot sectors made of random register loads and INT 10h-1Ah calls
/// (with random ES), run on the whole PC with the built-in BIOS. Every run must end by
/// its budget or cleanly, without a panic, whatever the registers ask for.
#[test]
fn random_bios_calls_never_panic() {
    const VECTORS: [u8; 10] = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x1A, 0x13];
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let img = dir.join(format!("{}-random-bios.img", std::process::id()));
    let mut rng = Rng(0xB105_F00D);
    for _ in 0..150 {
        let mut disk = vec![0u8; 1_474_560];
        for chunk in disk.chunks_mut(8).take(4096) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        let mut code = Vec::new();
        while code.len() < 480 {
            let r = rng.next();
            match r % 9 {
                // mov r16, imm16 for AX, CX, DX, BX, SI, DI
                0..=5 => {
                    let reg = [0xB8u8, 0xB9, 0xBA, 0xBB, 0xBE, 0xBF][(r % 9) as usize];
                    code.extend_from_slice(&[reg, (r >> 8) as u8, (r >> 16) as u8]);
                }
                // mov ax, imm16; mov es, ax
                6 => code.extend_from_slice(&[0xB8, (r >> 8) as u8, (r >> 16) as u8, 0x8E, 0xC0]),
                _ => code.extend_from_slice(&[0xCD, VECTORS[((r >> 8) % 10) as usize]]),
            }
        }
        code.extend_from_slice(&[0xEA, 0x00, 0x7C, 0x00, 0x00]); // and again
        disk[..code.len()].copy_from_slice(&code);
        std::fs::write(&img, &disk).unwrap();
        let mut m = emu::machine::Machine::new(emu::machine::MachineConfig {
            echo_console: false,
            ram_mib: 4,
            max_instructions: Some(300_000),
            floppies: [Some(img.clone()), None],
            ..emu::machine::MachineConfig::default()
        })
        .unwrap();
        let _ = m.run();
    }
    let _ = std::fs::remove_file(&img);
}
