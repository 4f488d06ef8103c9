//! x87 instruction-level tests: model gating (no FPU on the 8086/286, FCOMI/FCMOV only on
//! the P6), #NM from CR0.EM/TS, #MF at the next waiting instruction with CR0.NE, the FERR#
//! latch without it, and a few results checked by hand.

use iced_x86::code_asm::*;

use crate::cpu::exception;
use crate::cpu::fpu::F80;
use crate::cpu::state::{Flags, EAX, EDX};
use crate::cpu::testutil::{run16, run32, with_handler};
use crate::cpu::{CpuModel, Stop};

#[test]
fn no_fpu_on_8086_and_286_fnstsw_leaves_ax() {
    for model in [CpuModel::I8086, CpuModel::I286] {
        let cpu = run16(model, |a| {
            a.mov(ax, 0x5A5Au32).unwrap();
            a.fninit().unwrap();
            a.fnstsw(ax).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0x5A5A, "{model:?}");
    }
    for model in [CpuModel::I386, CpuModel::I486, CpuModel::P6] {
        let cpu = run16(model, |a| {
            a.mov(ax, 0x5A5Au32).unwrap();
            a.fninit().unwrap();
            a.fnstsw(ax).unwrap();
        });
        assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0, "{model:?}");
    }
}

#[test]
fn fcomi_is_invalid_before_the_p6() {
    let cpu = with_handler(CpuModel::I486, 16, exception::UD, |a| {
        a.fninit().unwrap();
        a.fld1().unwrap();
        a.fldz().unwrap();
        a.fcomi(st0, st1).unwrap();
    });
    assert_eq!(cpu.eip, 0x2001, "#UD handler reached");
    let cpu = run16(CpuModel::P6, |a| {
        a.fninit().unwrap();
        a.fld1().unwrap();
        a.fldz().unwrap();
        a.fcomi(st0, st1).unwrap(); // 0 < 1: CF
        a.fcmovb(st0, st1).unwrap();
    });
    assert!(cpu.eflags() & Flags::CF.bits() != 0);
    assert!(cpu.eflags() & Flags::ZF.bits() == 0);
    assert_eq!(cpu.fpu.st(0), F80::ONE);
}

#[test]
fn em_and_ts_raise_nm() {
    for bit in [4u32, 8] {
        let cpu = with_handler(CpuModel::I486, 32, exception::NM, |a| {
            a.mov(eax, cr0).unwrap();
            a.or(eax, bit).unwrap();
            a.mov(cr0, eax).unwrap();
            a.fld1().unwrap();
        });
        assert_eq!(cpu.eip, 0x2001);
        assert!(
            cpu.fpu.is_empty(0) || cpu.fpu.tag == 0x5555,
            "nothing pushed"
        );
    }
}

#[test]
fn unmasked_exception_raises_mf_at_the_next_waiting_instruction() {
    let cpu = with_handler(CpuModel::P6, 32, exception::MF, |a| {
        a.mov(eax, cr0).unwrap();
        a.or(eax, 0x20u32).unwrap(); // NE
        a.mov(cr0, eax).unwrap();
        a.fninit().unwrap();
        a.push(0x037Bu32).unwrap(); // ZE unmasked
        a.fldcw(word_ptr(esp)).unwrap();
        a.fld1().unwrap();
        a.fldz().unwrap();
        a.fdivp(st1, st0).unwrap(); // no #MF yet
        a.fnstsw(ax).unwrap(); // control instruction: no #MF
        a.mov(edx, 1u32).unwrap();
        a.wait().unwrap(); // #MF here
        a.mov(edx, 2u32).unwrap();
    });
    assert_eq!(cpu.eip, 0x2001);
    assert_eq!(cpu.gpr[EDX], 1);
    assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0xB084, "B, TOP=6, ES, ZE");
    // ZE unmasked: the destination keeps its operand and nothing is popped.
    assert_eq!(cpu.fpu.st(1), F80::ONE);
}

#[test]
fn without_ne_the_error_goes_to_ferr() {
    let code = crate::cpu::testutil::assemble(32, |a| {
        a.fninit().unwrap();
        a.push(0x037Bu32).unwrap();
        a.fldcw(word_ptr(esp)).unwrap();
        a.fld1().unwrap();
        a.fldz().unwrap();
        a.fdivp(st1, st0).unwrap();
        a.wait().unwrap();
        a.mov(edx, 7u32).unwrap();
    });
    let mut cpu = crate::cpu::testutil::load(CpuModel::P6, 32, &code);
    // The run ends early (after the block) so that the machine can raise IRQ 13.
    assert_eq!(cpu.run(1_000_000), Stop::Budget);
    assert!(cpu.ferr);
    assert_eq!(cpu.run(1_000_000), Stop::Halted);
    assert_eq!(cpu.gpr[EDX], 7);
}

#[test]
fn fist_and_fxtract_by_hand() {
    let cpu = run32(|a| {
        a.fninit().unwrap();
        a.push(-7i32 as u32).unwrap();
        a.fild(dword_ptr(esp)).unwrap();
        a.fld1().unwrap();
        a.fadd_2(st0, st0).unwrap(); // 2
        a.fdivp(st1, st0).unwrap(); // -3.5
        a.fist(dword_ptr(esp)).unwrap(); // nearest even: -4
        a.pop(edx).unwrap();
        a.fxtract().unwrap(); // ST0 = -1.75, ST1 = 1
    });
    assert_eq!(cpu.gpr[EDX] as i32, -4);
    assert_eq!(cpu.fpu.st(0), F80::new(true, 0x3FFF, 0xE000_0000_0000_0000));
    assert_eq!(cpu.fpu.st(1), F80::ONE);
}

#[test]
fn cpuid_reports_the_fpu_on_486_and_p6() {
    let cpu = run32(|a| {
        a.mov(eax, 1u32).unwrap();
        a.cpuid().unwrap();
    });
    assert_eq!(cpu.gpr[EDX] & 1, 1);
}

/// Every escape opcode (D8-DF with every ModRM byte, and the FWAIT-prefixed control forms)
/// that a P6 has must run without #UD from a state with two values on the stack.
#[test]
fn every_p6_escape_opcode_has_a_handler() {
    use iced_x86::{CpuidFeature as F, Decoder, DecoderOptions};
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    for esc in 0xD8u8..=0xDF {
        for modrm in 0..=255u8 {
            // Memory forms use [0x0400] (mod 00, r/m 110 in 16-bit addressing).
            let modrm = if modrm < 0xC0 {
                (modrm & 0x38) | 0x06
            } else {
                modrm
            };
            patterns.push(vec![esc, modrm, 0x00, 0x04]);
        }
    }
    for tail in [[0xDB, 0xE2], [0xDB, 0xE3], [0xDF, 0xE0]] {
        patterns.push(vec![0x9B, tail[0], tail[1]]);
    }
    let mut failures = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for bytes in patterns {
        let mut d = Decoder::new(16, &bytes, DecoderOptions::NONE);
        let instr = d.decode();
        if instr.is_invalid() || !seen.insert(instr.code()) {
            continue;
        }
        let p6 = instr
            .cpuid_features()
            .iter()
            .all(|f| matches!(f, F::FPU | F::FPU287 | F::FPU387 | F::CMOV));
        if !p6 {
            continue;
        }
        let code = &bytes[..instr.len()];
        let mut cpu = crate::cpu::testutil::load(CpuModel::P6, 16, code);
        cpu.fpu.init();
        cpu.fpu.push(F80::ONE);
        cpu.fpu.push(F80::ONE);
        cpu.step();
        let want = crate::cpu::testutil::CODE_ADDR + instr.len() as u32;
        if cpu.eip != want {
            failures.push(format!("{:?}", instr.code()));
        }
    }
    assert!(seen.len() >= 140, "only {} codes decoded", seen.len());
    assert!(failures.is_empty(), "no handler: {}", failures.join(" "));
}
