//! Tests of the core loop, ALU and MOV families through assembled guest code.

use iced_x86::code_asm::*;

use crate::cpu::state::{Flags, EAX, EBX, ECX, EDX};
use crate::cpu::testutil::{run16, run32};
use crate::cpu::CpuModel;

#[test]
fn alu_32bit_forms() {
    let cpu = run32(|a| {
        a.mov(eax, 0x7FFF_FFFFu32).unwrap();
        a.add(eax, 1).unwrap();
        a.mov(ebx, 0x1000).unwrap();
        a.mov(dword_ptr(ebx + 0x100), 5u32).unwrap();
        a.sub(dword_ptr(ebx + 0x100), 7).unwrap();
        a.mov(ecx, dword_ptr(ebx + 0x100)).unwrap();
        a.mov(edx, 0xF0F0).unwrap();
        a.xor(edx, 0xFF).unwrap();
    });
    assert_eq!(cpu.gpr[EAX], 0x8000_0000);
    assert_eq!(cpu.gpr[ECX], 0xFFFF_FFFE);
    assert_eq!(cpu.gpr[EDX], 0xF00F);
    assert_eq!(cpu.gpr[EBX], 0x1000);
    let f = cpu.eflags();
    assert_eq!(f & Flags::CF.bits(), 0);
    assert_ne!(
        f & Flags::PF.bits(),
        0,
        "0x0F has four bits set: even parity"
    );
}

#[test]
fn alu_16bit_adc_sbb_chain() {
    let cpu = run16(CpuModel::I8086, |a| {
        a.mov(ax, 0xFFFFu32).unwrap();
        a.add(ax, 1).unwrap();
        a.mov(bx, 0).unwrap();
        a.adc(bx, 0).unwrap();
        a.mov(cx, 0).unwrap();
        a.sub(cx, 1).unwrap();
        a.mov(dx, 5).unwrap();
        a.sbb(dx, 0).unwrap();
    });
    assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0);
    assert_eq!(cpu.gpr[EBX] & 0xFFFF, 1);
    assert_eq!(cpu.gpr[EDX] & 0xFFFF, 4);
}

#[test]
fn self_modifying_code_next_instruction_in_same_block() {
    // mov byte [next+1], 0x42 rewrites the immediate of the following "mov al, 0x11".
    let cpu = run16(CpuModel::I386, |a| {
        let mut target = a.create_label();
        a.mov(byte_ptr(0x1000 + 5 + 1), 0x42u32).unwrap();
        a.set_label(&mut target).unwrap();
        a.mov(al, 0x11).unwrap();
    });
    assert_eq!(cpu.gpr[EAX] & 0xFF, 0x42);
}
