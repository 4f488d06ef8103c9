//! x87 instruction-level tests: model gating (no FPU on the 8086/286, FCOMI/FCMOV only on
//! the P6), #NM from CR0.EM/TS, #MF at the next waiting instruction with CR0.NE, the FERR#
//! latch without it, and a few results checked by hand.

use iced_x86::code_asm::*;

use crate::cpu::exception;
use crate::cpu::fpu::F80;
use crate::cpu::state::{Flags, EAX, EDX};
use crate::cpu::testutil::{run16, run32, with_handler};
use crate::cpu::CpuModel;

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
    let cpu = run32(|a| {
        a.fninit().unwrap();
        a.push(0x037Bu32).unwrap();
        a.fldcw(word_ptr(esp)).unwrap();
        a.fld1().unwrap();
        a.fldz().unwrap();
        a.fdivp(st1, st0).unwrap();
        a.wait().unwrap();
        a.mov(edx, 7u32).unwrap();
    });
    assert!(cpu.ferr);
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
