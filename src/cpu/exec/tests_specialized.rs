//! Every specialised handler against the generic handler of the same instruction: both run
//! from the same random state (registers, flags including a pending lazy record, memory)
//! and must leave identical registers, materialised EFLAGS, next EIP, result and memory.
//! The chained forms too: each specialised op runs in a chain as a body op (followed by a
//! NOP) and as a block's last op.

use iced_x86::code_asm::*;
use iced_x86::{Decoder, DecoderOptions};

use super::{table, Chain, Op};
use crate::cpu::flags::{FlagOp, MASK32};
use crate::cpu::state::{Seg, ATTR_DB, ESP, STATUS_FLAGS};
use crate::cpu::{Cpu, CpuModel};

const CODE: u64 = 0x1000;
const DATA: u32 = 0x4000;

/// xorshift64*: a fixed sequence, so a failure repeats.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// Values that reach the edges of shifts and carries more often than uniform ones.
    fn value(&mut self) -> u32 {
        match self.next() % 6 {
            0 => 0,
            1 => 0xFFFF_FFFF,
            2 => 0x8000_0000 | (self.next() & 0xFF),
            3 => self.next() & 0xFF,
            _ => self.next(),
        }
    }
}

fn instrs(bitness: u32, build: impl FnOnce(&mut CodeAssembler)) -> Vec<iced_x86::Instruction> {
    let mut a = CodeAssembler::new(bitness).unwrap();
    build(&mut a);
    let bytes = a.assemble(CODE).unwrap();
    let mut d = Decoder::with_ip(bitness, &bytes, CODE, DecoderOptions::NONE);
    let mut out = Vec::new();
    while d.can_decode() {
        out.push(d.decode());
    }
    out
}

/// A P6 in the state `rng` gives: 32-bit flat (or 16-bit real) segments, random registers
/// except the base register EBX and the stack, which point into RAM.
fn state(rng: &mut Rng, bitness: u32) -> Cpu {
    let mut cpu = Cpu::new(CpuModel::P6, 1 << 20);
    if bitness == 32 {
        cpu.set_flat32();
        if rng.next() & 1 != 0 {
            // Flat 32-bit data segments too (SS is one already), so the handlers take
            // their flat-segment path for DS and ES as well.
            for s in [Seg::Ds, Seg::Es] {
                cpu.seg[s as usize].attrs |= ATTR_DB;
            }
            cpu.refresh_flat_data();
            assert!(cpu.is_flat(Seg::Ds) && cpu.is_flat(Seg::Ss));
        }
    }
    for r in 0..8 {
        cpu.gpr[r] = rng.value();
    }
    cpu.gpr[3] = DATA + (rng.next() & 0xFF);
    cpu.gpr[6] = (cpu.gpr[6] & !0xFFFF) | (DATA + 8 + (rng.next() & 0xFF));
    cpu.gpr[7] = (cpu.gpr[7] & !0xFFFF) | (DATA + 8 + (rng.next() & 0xFF));
    cpu.gpr[ESP] = 0x8000 + (rng.next() & 0x3F);
    for k in 0..0x400u32 {
        cpu.mem.write_u8(DATA + k, rng.next() as u8);
        cpu.mem.write_u8(0x7F80 + k % 0x100, rng.next() as u8);
    }
    if rng.next() & 1 != 0 {
        // Open the fast path to the data and stack pages (a read and a write of what is
        // there), so handlers take it as well as their checked fallback.
        for (seg, off) in [(Seg::Ds, DATA), (Seg::Ss, 0x7FF0), (Seg::Ss, 0x8000)] {
            let v = cpu.read8(seg, off).unwrap();
            cpu.write8(seg, off, v).unwrap();
            assert!(cpu.fast_write_at(seg, off, 1).is_some(), "fast path opened");
        }
    }
    let df = if rng.next() & 1 != 0 { 0x400 } else { 0 };
    cpu.load_eflags_raw(rng.next() & STATUS_FLAGS | df | 2);
    if rng.next() & 1 != 0 {
        // A pending lazy record, so CF/OF reads go through it.
        let (a, b) = (rng.value(), rng.value());
        cpu.set_lazy(FlagOp::Sub, MASK32, a, b, a.wrapping_sub(b));
    }
    cpu
}

fn run(cpu: &mut Cpu, op: &Op) -> String {
    cpu.next_eip = op.next_eip;
    let r = (op.handler)(cpu, op);
    outcome(cpu, r)
}

/// Runs `chain` from its first op; the result as `run` reports it.
fn run_chain(cpu: &mut Cpu, chain: &Chain) -> String {
    cpu.next_eip = chain[0].next_eip;
    let r = chain.ops().run(cpu, 0).map_err(|(_, e)| e);
    outcome(cpu, r)
}

fn outcome(cpu: &mut Cpu, r: crate::cpu::Exec) -> String {
    let mut mem = 0u64;
    for k in 0..0x400u32 {
        mem = mem.rotate_left(5) ^ cpu.mem.read_u8(DATA + k) as u64;
        mem = mem.rotate_left(5) ^ cpu.mem.read_u8(0x7F80 + k % 0x100) as u64;
    }
    format!(
        "{r:?} gpr={:08x?} eflags={:08x} next={:x} mem={mem:x}",
        cpu.gpr,
        cpu.eflags(),
        cpu.next_eip
    )
}

/// The chains `op` runs in: as a body op before a NOP (which leaves the next EIP as `op`
/// would), unless it is a branch, and alone as a block's last op.
fn chains(op: &Op, bitness: u32) -> Vec<Chain> {
    let mut out = vec![Chain::new(vec![op.clone()], 0, 1, false, |_| false)];
    if !op.last_form {
        let nop = instrs(bitness, |a| a.nop().unwrap())[0];
        let mut nop = Op::new(
            nop,
            table()[nop.code() as usize],
            op.next_eip,
            bitness == 32,
        );
        nop.next_eip = op.next_eip;
        out.push(Chain::new(vec![op.clone(), nop], 0, 2, false, |_| false));
    }
    out
}

fn check(bitness: u32, build: impl FnOnce(&mut CodeAssembler)) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for instr in instrs(bitness, build) {
        let generic = table()[instr.code() as usize];
        let fast = Op::new(instr, generic, instr.next_ip() as u32, bitness == 32);
        assert!(
            fast.handler as usize != generic as usize,
            "{instr} has no specialised handler"
        );
        let mut slow = fast.clone();
        slow.handler = generic;
        let chains = chains(&fast, bitness);
        for case in 0..300 {
            let seed = rng.next() as u64 | 1;
            let a = run(&mut state(&mut Rng(seed), bitness), &fast);
            let b = run(&mut state(&mut Rng(seed), bitness), &slow);
            assert_eq!(a, b, "{instr}, case {case}: specialised vs generic");
            for (n, chain) in chains.iter().enumerate() {
                let c = run_chain(&mut state(&mut Rng(seed), bitness), chain);
                assert_eq!(c, b, "{instr}, case {case}: chained form {n} vs generic");
            }
        }
    }
}

#[test]
fn shifts_of_32_bit_registers() {
    check(32, |a| {
        for c in [0u32, 1, 5, 31, 32, 33] {
            a.shl(eax, c).unwrap();
            a.shr(edx, c).unwrap();
            a.sar(esi, c).unwrap();
        }
        a.shl(ebx, cl).unwrap();
        a.shr(eax, cl).unwrap();
        a.sar(edi, cl).unwrap();
    });
}

#[test]
fn alu_with_memory_operands() {
    check(32, |a| {
        let m = dword_ptr(ebx + 8);
        let b = byte_ptr(ebx + 3);
        a.add(eax, m).unwrap();
        a.or(m, ecx).unwrap();
        a.adc(m, 0x1234_5678).unwrap();
        a.sbb(edx, m).unwrap();
        a.and(m, -3).unwrap();
        a.sub(m, esi).unwrap();
        a.xor(edi, m).unwrap();
        a.cmp(m, eax).unwrap();
        a.test(m, ebp).unwrap();
        a.cmp(m, 7).unwrap();
        a.add(al, b).unwrap();
        a.sub(b, ah).unwrap();
        a.adc(b, bl).unwrap();
        a.sbb(ch, b).unwrap();
        a.cmp(b, 0x80).unwrap();
        a.xor(b, 0x55).unwrap();
        a.test(b, dh).unwrap();
        a.and(dl, b).unwrap();
    });
}

/// The address forms the memory handlers tell apart: simple (`[base+disp]`, 32-bit) and
/// full (an index register, or 16-bit addressing). Every one lands in the compared data.
#[test]
fn moves_with_memory_operands() {
    check(32, |a| {
        for (m, b) in [
            (dword_ptr(ebx + 8), byte_ptr(ebx + 3)),
            (dword_ptr(ebx * 2 - 0x3FF8), byte_ptr(ebx * 2 - 0x3FF0)),
            (
                dword_ptr(ebx + ebx - 0x3FF4),
                byte_ptr(ebx + ebx * 1 - 0x3FFF),
            ),
        ] {
            a.mov(m, ecx).unwrap();
            a.mov(esi, m).unwrap();
            a.mov(b, dh).unwrap();
            a.mov(b, 0x5A).unwrap();
            a.mov(ch, b).unwrap();
            a.movzx(edi, b).unwrap();
            a.add(m, eax).unwrap();
            a.sub(edx, m).unwrap();
            a.cmp(m, 0x1234).unwrap();
            a.xor(b, cl).unwrap();
            a.test(b, 0x81).unwrap();
            a.lea(ebp, m).unwrap();
            a.lea(dx, m).unwrap();
        }
    });
    check(16, |a| {
        for b in [byte_ptr(bx + 3), byte_ptr(bx + si - 0x10)] {
            a.mov(b, dh).unwrap();
            a.mov(b, 0x5A).unwrap();
            a.mov(ch, b).unwrap();
            a.add(al, b).unwrap();
            a.sub(b, 0x11).unwrap();
            a.lea(di, b).unwrap();
            a.lea(eax, b).unwrap();
        }
    });
}

#[test]
fn alu_and_mov_on_8_bit_registers() {
    check(32, |a| {
        a.add(al, bl).unwrap();
        a.or(ah, cl).unwrap();
        a.adc(dh, 0x7F).unwrap();
        a.sbb(bl, ah).unwrap();
        a.and(ch, 0x0F).unwrap();
        a.sub(dl, dh).unwrap();
        a.xor(bh, bh).unwrap();
        a.cmp(al, 0).unwrap();
        a.test(cl, 0x80).unwrap();
        a.test(ah, bl).unwrap();
        a.mov(al, ch).unwrap();
        a.mov(bh, 0x12).unwrap();
    });
}

#[test]
fn stack_and_near_branches_32() {
    check(32, |a| {
        a.push(eax).unwrap();
        a.push(esp).unwrap();
        a.pop(ecx).unwrap();
        a.pop(esp).unwrap();
        a.push(ax).unwrap();
        a.pop(sp).unwrap();
        a.call(0x1234).unwrap();
        a.ret().unwrap();
        a.ret_1(12).unwrap();
        a.jmp(0x2000).unwrap();
        a.loop_(0x1080).unwrap();
    });
}

#[test]
fn lods_and_stos_without_rep() {
    // 32-bit addressing (ESI/EDI whole) and, with a 67h prefix, 16-bit (SI/DI wrap).
    check(32, |a| {
        a.lodsb().unwrap();
        a.lodsw().unwrap();
        a.lodsd().unwrap();
        a.stosb().unwrap();
        a.stosw().unwrap();
        a.stosd().unwrap();
    });
    check(16, |a| {
        a.lodsb().unwrap();
        a.lodsw().unwrap();
        a.stosb().unwrap();
        a.stosw().unwrap();
    });
}

#[test]
fn stack_and_near_branches_16() {
    check(16, |a| {
        a.push(bx).unwrap();
        a.push(sp).unwrap();
        a.pop(di).unwrap();
        a.pop(sp).unwrap();
        a.call(0x1234).unwrap();
        a.ret().unwrap();
        a.ret_1(6).unwrap();
        a.jmp(0x1100).unwrap();
        a.loop_(0x1180).unwrap();
    });
}

/// Every fused compare-and-branch against its two instructions run one after the other by
/// their generic handlers: same registers, flags, next EIP and result, and a branch beyond
/// the CS limit faults at the branch's own EIP with the compare done.
#[test]
fn fused_compare_and_branch() {
    let firsts: [fn(&mut CodeAssembler); 13] = [
        |a| a.cmp(eax, ecx).unwrap(),
        |a| a.cmp(edx, 7).unwrap(),
        |a| a.cmp(esi, 0x1234_5678).unwrap(),
        |a| a.test(eax, eax).unwrap(),
        |a| a.test(ebx, 0x8000_0001u32 as i32).unwrap(),
        |a| a.sub(edi, ecx).unwrap(),
        |a| a.sub(ecx, 1).unwrap(),
        |a| a.add(eax, edx).unwrap(),
        |a| a.and(edx, 0xFF).unwrap(),
        |a| a.or(esi, edi).unwrap(),
        |a| a.xor(eax, 0x55).unwrap(),
        |a| a.inc(ecx).unwrap(),
        |a| a.dec(ebx).unwrap(),
    ];
    let branches: [fn(&mut CodeAssembler, u64); 16] = [
        |a, t| a.jo(t).unwrap(),
        |a, t| a.jno(t).unwrap(),
        |a, t| a.jb(t).unwrap(),
        |a, t| a.jae(t).unwrap(),
        |a, t| a.je(t).unwrap(),
        |a, t| a.jne(t).unwrap(),
        |a, t| a.jbe(t).unwrap(),
        |a, t| a.ja(t).unwrap(),
        |a, t| a.js(t).unwrap(),
        |a, t| a.jns(t).unwrap(),
        |a, t| a.jp(t).unwrap(),
        |a, t| a.jnp(t).unwrap(),
        |a, t| a.jl(t).unwrap(),
        |a, t| a.jge(t).unwrap(),
        |a, t| a.jle(t).unwrap(),
        |a, t| a.jg(t).unwrap(),
    ];
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut fused_count = 0;
    for first in firsts {
        for branch in branches {
            let pair = instrs(32, |a| {
                first(a);
                branch(a, 0x9000);
            });
            let [alu, jcc] = [0, 1].map(|k| {
                let i = pair[k];
                Op::new(i, table()[i.code() as usize], i.next_ip() as u32, true)
            });
            let fused = super::fused::fuse(&alu, &jcc).expect("pair not fused");
            let chain = Chain::new(vec![fused.clone()], 0, 2, false, |_| false);
            fused_count += 1;
            for case in 0..16 {
                let seed = rng.next() as u64 | 1;
                // Every fourth case, a CS limit below the branch target.
                let limit = if case % 4 == 0 { 0x8FFF } else { u32::MAX };
                let mut one = state(&mut Rng(seed), 32);
                one.seg[crate::cpu::Seg::Cs as usize].limit = limit;
                let a = run(&mut one, &fused);
                // The fused op as a block's last, in its chained form: the same.
                let mut three = state(&mut Rng(seed), 32);
                three.seg[crate::cpu::Seg::Cs as usize].limit = limit;
                let c = run_chain(&mut three, &chain);
                assert_eq!(c, a, "case {case}: chained fused op vs fused op");
                // A fault is the branch's, at its own EIP (after a completed block the run
                // loop sets EIP to the next EIP).
                if c.starts_with("Err") {
                    assert_eq!(three.eip, jcc.ip() as u32, "case {case}: EIP of the fault");
                }
                let mut two = state(&mut Rng(seed), 32);
                two.seg[crate::cpu::Seg::Cs as usize].limit = limit;
                let mut slow = alu.clone();
                slow.handler = table()[alu.code() as usize];
                let first_result = run(&mut two, &slow);
                assert!(first_result.starts_with("Ok"), "{first_result}");
                let mut slow_jcc = jcc.clone();
                slow_jcc.handler = table()[jcc.code() as usize];
                let b = run(&mut two, &slow_jcc);
                let name = format!("{} / {}", pair[0], pair[1]);
                if b.starts_with("Err") {
                    assert_eq!(one.eip, jcc.ip() as u32, "{name}, case {case}: fault EIP");
                    // The run loop leaves next EIP alone on a fault; compare the rest.
                    let cut = |s: &str| s.split(" next=").next().unwrap().to_string();
                    assert_eq!(cut(&a), cut(&b), "{name}, case {case}: fused vs two");
                } else {
                    assert_eq!(a, b, "{name}, case {case}: fused vs two");
                }
            }
        }
    }
    assert_eq!(fused_count, 13 * 16);
}
