//! Micro-benchmarks of the execute loop. Each reports guest instructions per second
//! (criterion's "elements/s"): a register ALU loop, a memory loop, and REP MOVSD.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use emu::cpu::state::{Seg, ESP};
use emu::cpu::{Cpu, CpuModel, Stop};
use iced_x86::code_asm::*;

const CODE: u32 = 0x1000;
const ITERS: u32 = 100_000;

/// A P6 with flat 32-bit segments and `code` at 0x1000.
fn machine(code: &[u8]) -> Cpu {
    let mut cpu = Cpu::new(CpuModel::P6, 4 << 20);
    cpu.mem.load(CODE, code);
    for s in Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    cpu.set_flat32();
    cpu
}

/// Runs the program from the start to HLT and returns the instructions executed.
fn run(cpu: &mut Cpu) -> u64 {
    cpu.eip = CODE;
    cpu.gpr[ESP] = 0x8000;
    cpu.halted = false;
    let before = cpu.icount;
    let stop = cpu.run(u64::MAX);
    assert_eq!(stop, Stop::Halted);
    cpu.icount - before
}

fn program(build: impl FnOnce(&mut CodeAssembler)) -> Vec<u8> {
    let mut a = CodeAssembler::new(32).unwrap();
    build(&mut a);
    a.hlt().unwrap();
    a.assemble(CODE as u64).unwrap()
}

fn alu_loop() -> Vec<u8> {
    program(|a| {
        let mut top = a.create_label();
        a.mov(ecx, ITERS).unwrap();
        a.mov(ebx, 0x1234_5678u32).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(eax, ebx).unwrap();
        a.xor(edx, eax).unwrap();
        a.sub(ebx, 3).unwrap();
        a.and(edx, 0x00FF_FFFF).unwrap();
        a.inc(esi).unwrap();
        a.or(edi, esi).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
    })
}

fn memory_loop() -> Vec<u8> {
    program(|a| {
        let mut top = a.create_label();
        a.mov(ecx, ITERS).unwrap();
        a.mov(esi, 0x10_0000).unwrap();
        a.set_label(&mut top).unwrap();
        a.mov(eax, dword_ptr(esi)).unwrap();
        a.add(dword_ptr(esi + 4), eax).unwrap();
        a.mov(ebx, dword_ptr(esi + ecx * 4 - 4)).unwrap();
        a.mov(dword_ptr(esi + 8), ebx).unwrap();
        a.add(esi, 4).unwrap();
        a.and(esi, 0x10_FFFC).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
    })
}

fn rep_movsd() -> Vec<u8> {
    program(|a| {
        let mut top = a.create_label();
        a.mov(edx, 200).unwrap();
        a.set_label(&mut top).unwrap();
        a.mov(esi, 0x10_0000).unwrap();
        a.mov(edi, 0x20_0000).unwrap();
        a.mov(ecx, 16384).unwrap();
        a.rep().movsd().unwrap();
        a.dec(edx).unwrap();
        a.jnz(top).unwrap();
    })
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("execute");
    for (name, code) in [("alu_loop", alu_loop()), ("memory_loop", memory_loop())] {
        let mut cpu = machine(&code);
        // Count once; the number is the same on every run.
        let per_run = run(&mut cpu);
        group.throughput(Throughput::Elements(per_run));
        group.bench_function(name, |b| b.iter(|| run(&mut cpu)));
    }
    // A REP MOVSD is one instruction that moves 64 KiB: report bytes per second.
    let mut cpu = machine(&rep_movsd());
    run(&mut cpu);
    group.throughput(Throughput::Bytes(200 * 16384 * 4));
    group.bench_function("rep_movsd", |b| b.iter(|| run(&mut cpu)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
