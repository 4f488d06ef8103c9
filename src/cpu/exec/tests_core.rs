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

/// Every integer instruction a Pentium Pro has in 16/32-bit mode must have a handler: walks
/// all of iced's Codes and lists the ones that fall back to the "unimplemented" handler.
#[test]
fn handler_table_covers_the_p6_integer_instruction_set() {
    use iced_x86::{Code, EncodingKind};
    let mut missing = Vec::new();
    for code in Code::values() {
        let info = code.op_code();
        if !info.is_instruction() || info.encoding() != EncodingKind::Legacy {
            continue;
        }
        if !(info.mode16() || info.mode32()) {
            continue;
        }
        let features = code.cpuid_features();
        let integer_p6 = features.iter().all(|&f| super::model_has(CpuModel::P6, f));
        if !integer_p6 {
            continue;
        }
        if !super::is_implemented(code) {
            missing.push(format!("{code:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "{} Codes without a handler: {}",
        missing.len(),
        missing.join(" ")
    );
}

#[test]
fn mov_family_32bit_forms() {
    let cpu = run32(|a| {
        a.mov(ebx, 0x2000).unwrap();
        a.mov(esi, 3).unwrap();
        a.mov(dword_ptr(ebx + esi * 4 + 8), 0x8081_8283u32).unwrap();
        a.movzx(eax, byte_ptr(ebx + esi * 4 + 8)).unwrap();
        a.movsx(ecx, byte_ptr(ebx + esi * 4 + 8)).unwrap();
        a.movsx(edx, word_ptr(ebx + esi * 4 + 10)).unwrap();
        a.lea(edi, ptr(ebx + esi * 8 - 1)).unwrap();
        a.xchg(eax, ecx).unwrap();
        a.mov(dword_ptr(0x3000), 0x1111_2222u32).unwrap();
        a.xchg(dword_ptr(0x3000), ebp).unwrap();
    });
    assert_eq!(cpu.gpr[ECX], 0x83);
    assert_eq!(cpu.gpr[EAX], 0xFFFF_FF83);
    assert_eq!(cpu.gpr[EDX], 0xFFFF_8081);
    assert_eq!(cpu.gpr[7], 0x2017);
    assert_eq!(cpu.gpr[5], 0x1111_2222);
    assert_eq!(cpu.mem.read_u32(0x3000), 0);
}

#[test]
fn mov_family_16bit_forms_and_segments() {
    let cpu = run16(CpuModel::I386, |a| {
        a.mov(word_ptr(0x2000), 0x1234u32).unwrap();
        a.mov(word_ptr(0x2002), 0x0050u32).unwrap();
        a.les(di, ptr(0x2000)).unwrap();
        a.mov(ax, es).unwrap();
        a.mov(bx, 0x2000).unwrap();
        a.mov(byte_ptr(0x2005), 0x77u32).unwrap();
        a.mov(si, ax).unwrap();
        a.mov(al, 5).unwrap();
        a.xlatb().unwrap();
        a.lea(cx, ptr(bx + si + 0x10)).unwrap();
        a.mov(dx, 0xFFFF_u32).unwrap();
        a.mov(ds, dx).unwrap();
        a.mov(byte_ptr(0x0F), 0xABu32).unwrap();
    });
    assert_eq!(cpu.gpr[7] & 0xFFFF, 0x1234);
    assert_eq!(cpu.seg[0].selector, 0x50);
    assert_eq!(cpu.seg[0].base, 0x500);
    assert_eq!(cpu.gpr[EAX] & 0xFF, 0x77);
    assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0x2060);
    // FFFF:000F is linear 0xFFFFF.
    assert_eq!(cpu.mem.read_u8(0xF_FFFF), 0xAB);
}

#[test]
fn cmov_moves_only_when_the_condition_holds() {
    let cpu = run32(|a| {
        a.mov(eax, 1).unwrap();
        a.mov(ebx, 2).unwrap();
        a.mov(ecx, 10).unwrap();
        a.mov(edx, 20).unwrap();
        a.cmp(eax, ebx).unwrap();
        a.cmovb(ecx, ebx).unwrap();
        a.cmova(edx, eax).unwrap();
        a.cmovne(si, bx).unwrap();
    });
    assert_eq!(cpu.gpr[ECX], 2);
    assert_eq!(cpu.gpr[EDX], 20);
    assert_eq!(cpu.gpr[6] & 0xFFFF, 2);
}

#[test]
fn lea_register_operand_and_mov_cs_are_invalid_on_286() {
    // 8D C0 (lea ax, ax) and 8E C8 (mov cs, ax) raise #UD; the handler at 0000:2000 counts.
    let code = [0x8D, 0xC0, 0x8E, 0xC8, 0xF4];
    let mut cpu = crate::cpu::testutil::load(CpuModel::I286, 16, &code);
    cpu.mem.write_u16(6 * 4, 0x2000);
    cpu.mem.write_u16(6 * 4 + 2, 0);
    // Handler: inc bx; add word [ss:sp], 2 is awkward in 16-bit, so pop/adjust/push: pop ax;
    // add ax, 2; push ax; iret.
    cpu.mem
        .load(0x2000, &[0x43, 0x58, 0x05, 0x02, 0x00, 0x50, 0xCF]);
    crate::cpu::testutil::run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[EBX] & 0xFFFF, 2);
}

#[test]
fn endless_fetch_faults_still_end_the_run() {
    // CS limit below EIP, and the #GP handler also beyond it: every delivery faults on fetch.
    let mut cpu = crate::cpu::Cpu::new(CpuModel::I386, 1 << 20);
    for s in crate::cpu::Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    cpu.seg[crate::cpu::Seg::Cs as usize].limit = 0x100;
    cpu.eip = 0x200;
    cpu.gpr[4] = 0x8000;
    cpu.mem.write_u16(13 * 4, 0x300);
    assert_eq!(cpu.run(1000), crate::cpu::Stop::Budget);
}
