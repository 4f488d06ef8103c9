//! Unit tests per instruction family in 32-bit operand and address size (and the 16-bit
//! forms where they behave differently), with hand-computed expected values.

use iced_x86::code_asm::*;

use crate::cpu::state::{Flags, EAX, EBP, EBX, ECX, EDI, EDX, ESI, ESP};
use crate::cpu::testutil::{assemble, load, run16, run32, run_to_halt, with_handler, STACK_TOP};
use crate::cpu::{CpuModel, Stop};

fn flag(cpu: &crate::cpu::Cpu, f: Flags) -> bool {
    cpu.eflags() & f.bits() != 0
}

#[test]
fn shifts_and_rotates_32() {
    let cpu = run32(|a| {
        a.mov(eax, 0x8000_0001u32).unwrap();
        a.shl(eax, 1).unwrap(); // 2, CF=1
        a.setc(bl).unwrap();
        a.mov(ecx, 0xF000_0000u32).unwrap();
        a.sar(ecx, 4).unwrap(); // FF00_0000
        a.mov(edx, 0x1234_5678u32).unwrap();
        a.rol(edx, 8).unwrap(); // 3456_7812
        a.mov(esi, 0x0000_00FFu32).unwrap();
        a.mov(edi, 0xABCD_0000u32).unwrap();
        a.shld(esi, edi, 16).unwrap(); // 00FF_ABCD
        a.mov(ebp, 1u32).unwrap();
        a.stc().unwrap();
        a.rcr(ebp, 1).unwrap(); // 8000_0000, CF=1
    });
    assert_eq!(cpu.gpr[EAX], 2);
    assert_eq!(cpu.gpr[EBX] & 0xFF, 1);
    assert_eq!(cpu.gpr[ECX], 0xFF00_0000);
    assert_eq!(cpu.gpr[EDX], 0x3456_7812);
    assert_eq!(cpu.gpr[ESI], 0x00FF_ABCD);
    assert_eq!(cpu.gpr[EBP], 0x8000_0000);
    assert!(flag(&cpu, Flags::CF));
}

#[test]
fn shift_counts_are_masked_on_286_not_on_8086() {
    // SHL AL by 9 with CL: 8086 shifts 9 times (AL=0), 286 masks to 9 (also 0 for 8 bits) —
    // use 33 to tell them apart: masked to 1 on the 286.
    let build = |a: &mut CodeAssembler| {
        a.mov(al, 1).unwrap();
        a.mov(cl, 33).unwrap();
        a.shl(al, cl).unwrap();
    };
    assert_eq!(run16(CpuModel::I8086, build).gpr[EAX] & 0xFF, 0);
    assert_eq!(run16(CpuModel::I286, build).gpr[EAX] & 0xFF, 2);
}

#[test]
fn multiply_and_divide_32() {
    let cpu = run32(|a| {
        a.mov(eax, 0x1_0000u32).unwrap();
        a.mov(ebx, 0x1_0000u32).unwrap();
        a.mul(ebx).unwrap(); // EDX:EAX = 1_0000_0000
        a.mov(esi, edx).unwrap();
        a.mov(ecx, 0xFFFF_FFFEu32).unwrap(); // -2
        a.imul_3(edi, ecx, 100).unwrap(); // -200
        a.mov(eax, 1000u32).unwrap();
        a.xor(edx, edx).unwrap();
        a.mov(ebx, 7u32).unwrap();
        a.div(ebx).unwrap(); // 142 r 6
        a.mov(ebp, edx).unwrap();
        a.mov(ecx, eax).unwrap();
        a.mov(eax, 0xFFFF_FC18u32).unwrap(); // -1000
        a.cdq().unwrap();
        a.idiv(ebx).unwrap(); // -142 r -6
    });
    assert_eq!(cpu.gpr[ESI], 1);
    assert_eq!(cpu.gpr[EDI], (-200i32) as u32);
    assert_eq!(cpu.gpr[ECX], 142);
    assert_eq!(cpu.gpr[EBP], 6);
    assert_eq!(cpu.gpr[EAX], (-142i32) as u32);
    assert_eq!(cpu.gpr[EDX], (-6i32) as u32);
}

#[test]
fn divide_error_is_delivered_through_the_ivt() {
    let cpu = with_handler(CpuModel::P6, 32, 0, |a| {
        a.xor(ecx, ecx).unwrap();
        a.mov(eax, 5u32).unwrap();
        a.div(ecx).unwrap();
    });
    assert_eq!(cpu.eip, 0x2001);
    // IP pushed = the DIV itself (at 0x1000 + 2 + 5 = 0x1007) on the 386 and later.
    assert_eq!(cpu.mem.read_u16(cpu.sp()), 0x1007);
    assert_eq!(cpu.sp(), STACK_TOP - 6);
}

#[test]
fn decimal_adjust() {
    let cpu = run16(CpuModel::I386, |a| {
        a.mov(al, 0x19).unwrap();
        a.add(al, 0x28).unwrap(); // 0x41 → DAA → 0x47
        a.daa().unwrap();
        a.mov(bl, al).unwrap();
        a.mov(al, 0x47).unwrap();
        a.sub(al, 0x19).unwrap(); // 0x2E → DAS → 0x28
        a.das().unwrap();
        a.mov(cl, al).unwrap();
        a.mov(ax, 0x0035u32).unwrap();
        a.aam(10).unwrap(); // AH=5, AL=3
        a.mov(dx, ax).unwrap();
        a.mov(ax, 0x0703u32).unwrap();
        a.aad(10).unwrap(); // AL=73
    });
    assert_eq!(cpu.gpr[EBX] & 0xFF, 0x47);
    assert_eq!(cpu.gpr[ECX] & 0xFF, 0x28);
    assert_eq!(cpu.gpr[EDX] & 0xFFFF, 0x0503);
    assert_eq!(cpu.gpr[EAX] & 0xFFFF, 73);
}

#[test]
fn bit_instructions_32() {
    let cpu = run32(|a| {
        a.mov(dword_ptr(0x3000), 0u32).unwrap();
        a.mov(dword_ptr(0x2FFC), 0u32).unwrap();
        a.mov(ebx, 0x3000u32).unwrap();
        a.mov(ecx, 0xFFFF_FFFFu32).unwrap(); // bit -1: bit 31 of the dword below
        a.bts(dword_ptr(ebx), ecx).unwrap();
        a.mov(edx, 40u32).unwrap(); // bit 40: bit 8 of the next dword
        a.bts(dword_ptr(ebx), edx).unwrap();
        a.bt(dword_ptr(ebx), edx).unwrap();
        a.setc(al).unwrap();
        a.mov(esi, 0x0010_0100u32).unwrap();
        a.bsf(edi, esi).unwrap(); // 8
        a.bsr(ebp, esi).unwrap(); // 20
        a.mov(esp, 0x1122_3344u32).unwrap();
        a.bswap(esp).unwrap();
    });
    assert_eq!(cpu.mem.read_u32(0x2FFC), 0x8000_0000);
    assert_eq!(cpu.mem.read_u32(0x3004), 0x100);
    assert_eq!(cpu.gpr[EAX] & 0xFF, 1);
    assert_eq!(cpu.gpr[EDI], 8);
    assert_eq!(cpu.gpr[EBP], 20);
    assert_eq!(cpu.gpr[ESP], 0x4433_2211);
}

#[test]
fn bsf_of_zero_sets_zf_and_keeps_the_destination() {
    let cpu = run32(|a| {
        a.mov(eax, 0x55u32).unwrap();
        a.xor(ebx, ebx).unwrap();
        a.bsf(eax, ebx).unwrap();
    });
    assert_eq!(cpu.gpr[EAX], 0x55);
    assert!(flag(&cpu, Flags::ZF));
}

#[test]
fn cmpxchg_xadd_cmpxchg8b_32() {
    let cpu = run32(|a| {
        a.mov(dword_ptr(0x3000), 10u32).unwrap();
        a.mov(eax, 10u32).unwrap();
        a.mov(ecx, 99u32).unwrap();
        a.cmpxchg(dword_ptr(0x3000), ecx).unwrap(); // equal: [3000]=99
        a.mov(eax, 1u32).unwrap();
        a.cmpxchg(dword_ptr(0x3000), ecx).unwrap(); // not equal: EAX=99
        a.mov(esi, eax).unwrap();
        a.mov(edx, 5u32).unwrap();
        a.xadd(dword_ptr(0x3000), edx).unwrap(); // [3000]=104, EDX=99
        a.mov(dword_ptr(0x3100), 1u32).unwrap();
        a.mov(dword_ptr(0x3104), 2u32).unwrap();
        a.mov(eax, 1u32).unwrap();
        a.mov(edx, 2u32).unwrap();
        a.mov(ebx, 0xAAu32).unwrap();
        a.mov(ecx, 0xBBu32).unwrap();
        a.cmpxchg8b(qword_ptr(0x3100)).unwrap();
    });
    assert_eq!(cpu.gpr[ESI], 99);
    assert_eq!(cpu.mem.read_u32(0x3000), 104);
    assert_eq!(cpu.gpr[EDX], 2);
    assert_eq!(cpu.mem.read_u32(0x3100), 0xAA);
    assert_eq!(cpu.mem.read_u32(0x3104), 0xBB);
    assert!(flag(&cpu, Flags::ZF));
}

#[test]
fn string_instructions_32bit_addresses() {
    let cpu = run32(|a| {
        a.mov(esi, 0x4000u32).unwrap();
        a.mov(dword_ptr(esi), 0x6463_6261u32).unwrap(); // "abcd"
        a.mov(edi, 0x5000u32).unwrap();
        a.mov(ecx, 4u32).unwrap();
        a.cld().unwrap();
        a.rep().movsb().unwrap();
        a.mov(esi, 0x4000u32).unwrap();
        a.mov(edi, 0x5000u32).unwrap();
        a.mov(byte_ptr(0x5002), 0x7Au32).unwrap();
        a.mov(ecx, 4u32).unwrap();
        a.repe().cmpsb().unwrap(); // stops after the 3rd byte
        a.mov(ebp, ecx).unwrap();
        a.mov(edi, 0x6003u32).unwrap();
        a.std().unwrap();
        a.mov(al, 0xEE).unwrap();
        a.mov(ecx, 4u32).unwrap();
        a.rep().stosb().unwrap();
        a.cld().unwrap();
    });
    assert_eq!(cpu.mem.read_u32(0x5000), 0x647A_6261);
    assert_eq!(cpu.gpr[EBP], 1);
    assert_eq!(cpu.gpr[ESI], 0x4003);
    assert_eq!(cpu.mem.read_u32(0x6000), 0xEEEE_EEEE);
    assert_eq!(cpu.gpr[EDI], 0x5FFF);
    assert_eq!(cpu.gpr[ECX], 0);
}

#[test]
fn rep_movsb_overlapping_forward_copy_fills() {
    // Copy from p to p+1 byte by byte: the first byte propagates.
    let cpu = run32(|a| {
        a.mov(byte_ptr(0x4000), 0x5Au32).unwrap();
        a.mov(esi, 0x4000u32).unwrap();
        a.mov(edi, 0x4001u32).unwrap();
        a.mov(ecx, 7u32).unwrap();
        a.rep().movsb().unwrap();
    });
    assert_eq!(cpu.mem.read_u32(0x4000), 0x5A5A_5A5A);
    assert_eq!(cpu.mem.read_u32(0x4004), 0x5A5A_5A5A);
}

#[test]
fn rep_fault_leaves_completed_iterations_on_386() {
    // REP STOSW with DI running into offset 0xFFFF of a 64 KiB segment on a 386: the
    // word at 0xFFFF faults after two words were stored.
    let code = assemble(16, |a| {
        a.mov(di, 0xFFFBu32).unwrap();
        a.mov(cx, 5u32).unwrap();
        a.mov(ax, 0x1234u32).unwrap();
        a.rep().stosw().unwrap();
    });
    let mut cpu = load(CpuModel::I386, 16, &code);
    cpu.mem.write_u16(13 * 4, 0x2000);
    cpu.mem.write_u8(0x2000, 0xF4);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.eip, 0x2001, "#GP delivered");
    assert_eq!(cpu.gpr[EDI] & 0xFFFF, 0xFFFF);
    assert_eq!(cpu.gpr[ECX] & 0xFFFF, 3);
    assert_eq!(cpu.mem.read_u16(0xFFFB), 0x1234);
    assert_eq!(cpu.mem.read_u16(0xFFFD), 0x1234);
}

#[test]
fn stack_instructions_32() {
    let cpu = run32(|a| {
        a.mov(eax, 1u32).unwrap();
        a.mov(ecx, 2u32).unwrap();
        a.mov(edx, 3u32).unwrap();
        a.mov(ebx, 4u32).unwrap();
        a.mov(ebp, 6u32).unwrap();
        a.mov(esi, 7u32).unwrap();
        a.mov(edi, 8u32).unwrap();
        a.pushad().unwrap();
        a.xor(eax, eax).unwrap();
        a.xor(ebx, ebx).unwrap();
        a.popad().unwrap();
        a.push(0x1234_5678u32).unwrap();
        a.pop(dword_ptr(0x3000)).unwrap();
        a.pushfd().unwrap();
        a.pop(esi).unwrap();
        a.enter(8, 0).unwrap();
        a.mov(edi, ebp).unwrap();
        a.leave().unwrap();
    });
    assert_eq!(cpu.gpr[EAX], 1);
    assert_eq!(cpu.gpr[EBX], 4);
    assert_eq!(cpu.mem.read_u32(0x3000), 0x1234_5678);
    assert_eq!(cpu.gpr[ESI] & 2, 2, "EFLAGS bit 1 reads as one");
    assert_eq!(cpu.gpr[EDI], STACK_TOP - 4);
    assert_eq!(cpu.gpr[EBP], 6);
    assert_eq!(cpu.gpr[ESP], STACK_TOP);
}

#[test]
fn enter_with_nesting_copies_frame_pointers() {
    let cpu = run16(CpuModel::I286, |a| {
        a.mov(bp, 0x8000u32).unwrap();
        a.mov(word_ptr(0x7FFE), 0xAAAAu32).unwrap();
        a.mov(word_ptr(0x7FFC), 0xBBBBu32).unwrap();
        a.enter(4, 3).unwrap();
    });
    // push bp (0x8000) at 8FFE; copies of [7FFE], [7FFC] at 8FFC, 8FFA; frame 8FFE at 8FF8.
    assert_eq!(cpu.mem.read_u16(0x8FFE), 0x8000);
    assert_eq!(cpu.mem.read_u16(0x8FFC), 0xAAAA);
    assert_eq!(cpu.mem.read_u16(0x8FFA), 0xBBBB);
    assert_eq!(cpu.mem.read_u16(0x8FF8), 0x8FFE);
    assert_eq!(cpu.gpr[EBP] & 0xFFFF, 0x8FFE);
    assert_eq!(cpu.gpr[ESP] & 0xFFFF, 0x8FF8 - 4);
}

#[test]
fn push_sp_differs_between_8086_and_286() {
    let b = |a: &mut CodeAssembler| {
        a.push(sp).unwrap();
        a.pop(ax).unwrap();
    };
    assert_eq!(run16(CpuModel::I8086, b).gpr[EAX] & 0xFFFF, STACK_TOP - 2);
    assert_eq!(run16(CpuModel::I286, b).gpr[EAX] & 0xFFFF, STACK_TOP);
}

#[test]
fn popf_writable_bits_per_model() {
    let b = |a: &mut CodeAssembler| {
        // Everything but TF (which would single-step into an empty IVT).
        a.mov(ax, 0xFEFFu32).unwrap();
        a.push(ax).unwrap();
        a.popf().unwrap();
        a.pushf().unwrap();
        a.pop(bx).unwrap();
        a.cli().unwrap();
        a.cld().unwrap();
    };
    let high_bits = |m| run16(m, b).gpr[EBX] & 0xF000;
    assert_eq!(high_bits(CpuModel::I8086), 0xF000);
    assert_eq!(high_bits(CpuModel::I286), 0x0000);
    assert_eq!(high_bits(CpuModel::I386), 0x7000);
}

#[test]
fn call_ret_loop_and_far_transfers() {
    let code = assemble(32, |a| {
        let mut func = a.create_label();
        let mut top = a.create_label();
        let mut done = a.create_label();
        a.xor(ebx, ebx).unwrap();
        a.call(func).unwrap();
        a.mov(ecx, 5u32).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(ebx, 10).unwrap();
        a.loop_(top).unwrap();
        a.jecxz(done).unwrap();
        a.mov(ebx, 0xDEADu32).unwrap();
        a.set_label(&mut done).unwrap();
        a.hlt().unwrap();
        a.set_label(&mut func).unwrap();
        a.mov(edx, 0x77u32).unwrap();
        a.ret_1(4).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 32, &code);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[EBX], 50);
    assert_eq!(cpu.gpr[EDX], 0x77);
    assert_eq!(cpu.gpr[ESP], STACK_TOP + 4, "RET 4 popped four more bytes");
}

#[test]
fn far_call_and_retf_in_real_mode() {
    // 16-bit: call far 0200:0010 (linear 0x2010) which does retf.
    // call far 0200:0010; mov ax, cs; hlt
    let code = [0x9A, 0x10, 0x00, 0x00, 0x02, 0x8C, 0xC8, 0xF4];
    let mut cpu = load(CpuModel::I286, 16, &code);
    cpu.mem.write_u8(0x2010, 0xCB);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[EAX] & 0xFFFF, 0);
    assert_eq!(cpu.gpr[ESP] & 0xFFFF, STACK_TOP);
}

#[test]
fn jcc_conditions_after_compare() {
    let cpu = run32(|a| {
        let labels: Vec<_> = (0..6).map(|_| a.create_label()).collect();
        let mut l = labels.into_iter();
        let (mut l0, mut l1, mut l2, mut l3, mut l4, mut l5) = (
            l.next().unwrap(),
            l.next().unwrap(),
            l.next().unwrap(),
            l.next().unwrap(),
            l.next().unwrap(),
            l.next().unwrap(),
        );
        a.xor(esi, esi).unwrap();
        a.mov(eax, 0xFFFF_FFFFu32).unwrap();
        a.cmp(eax, 1).unwrap(); // unsigned above, signed less
        a.ja(l0).unwrap();
        a.or(esi, 1).unwrap();
        a.set_label(&mut l0).unwrap();
        a.jl(l1).unwrap();
        a.or(esi, 2).unwrap();
        a.set_label(&mut l1).unwrap();
        a.jg(l2).unwrap();
        a.jb(l2).unwrap();
        a.je(l2).unwrap();
        a.jmp(l3).unwrap();
        a.set_label(&mut l2).unwrap();
        a.or(esi, 4).unwrap();
        a.set_label(&mut l3).unwrap();
        a.test(eax, eax).unwrap();
        a.js(l4).unwrap();
        a.or(esi, 8).unwrap();
        a.set_label(&mut l4).unwrap();
        a.jp(l5).unwrap(); // PF of 0xFF: even
        a.or(esi, 16).unwrap();
        a.set_label(&mut l5).unwrap();
    });
    assert_eq!(cpu.gpr[ESI], 0);
}

#[test]
fn int_iret_bound_and_into() {
    // INT 0x21 handler at 0000:2000: inc bx; iret.
    let code = assemble(16, |a| {
        a.int(0x21).unwrap();
        a.int(0x21).unwrap();
        a.mov(ax, 0x7FFFu32).unwrap();
        a.add(ax, 1).unwrap();
        a.into().unwrap(); // OF set → vector 4 → 0000:2100: mov cx, 0x44; iret
        a.mov(word_ptr(0x3000), 1u32).unwrap();
        a.mov(word_ptr(0x3002), 5u32).unwrap();
        a.mov(dx, 3u32).unwrap();
        a.bound(dx, ptr(0x3000)).unwrap();
        a.mov(dx, 9u32).unwrap();
        a.bound(dx, ptr(0x3000)).unwrap(); // #BR → vector 5 → 0000:2200: hlt
    });
    let mut cpu = load(CpuModel::I286, 16, &code);
    for (v, addr) in [(0x21u32, 0x2000u16), (4, 0x2100), (5, 0x2200)] {
        cpu.mem.write_u16(v * 4, addr);
        cpu.mem.write_u16(v * 4 + 2, 0);
    }
    cpu.mem.load(0x2000, &[0x43, 0xCF]);
    cpu.mem.load(0x2100, &[0xB9, 0x44, 0x00, 0xCF]);
    cpu.mem.write_u8(0x2200, 0xF4);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[EBX] & 0xFFFF, 2);
    assert_eq!(cpu.gpr[ECX] & 0xFFFF, 0x44);
    assert_eq!(cpu.eip, 0x2201);
}

#[test]
fn port_io_debug_console_and_exit() {
    let code = assemble(32, |a| {
        a.mov(al, b'h' as u32).unwrap();
        a.out(0xE9, al).unwrap();
        a.mov(dx, 0xE9u32).unwrap();
        a.mov(al, b'i' as u32).unwrap();
        a.out(dx, al).unwrap();
        a.in_(al, dx).unwrap();
        a.mov(bl, al).unwrap();
        a.mov(al, 0x21).unwrap();
        a.out(0xF4, al).unwrap();
        a.mov(ecx, 1u32).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 32, &code);
    assert_eq!(cpu.run(1000), Stop::Exit(0x43));
    assert_eq!(cpu.debug_ports().unwrap().console, b"hi");
    assert_eq!(cpu.gpr[EBX] & 0xFF, 0xE9);
    assert_eq!(cpu.gpr[ECX], 0, "the run stops right after the OUT");
}

#[test]
fn misc_flags_sign_extension_cpuid_rdtsc() {
    let cpu = run32(|a| {
        a.mov(ax, 0x8000u32).unwrap();
        a.cwde().unwrap();
        a.cdq().unwrap();
        a.mov(esi, edx).unwrap();
        a.mov(edi, eax).unwrap();
        a.mov(ah, 0xD5).unwrap();
        a.sahf().unwrap();
        a.lahf().unwrap();
        a.mov(byte_ptr(0x3000), ah).unwrap();
        a.cmc().unwrap();
        a.xor(eax, eax).unwrap();
        a.cpuid().unwrap();
        a.mov(ebp, ebx).unwrap();
        a.rdtsc().unwrap();
    });
    assert_eq!(cpu.gpr[EDI], 0xFFFF_8000);
    assert_eq!(cpu.gpr[ESI], 0xFFFF_FFFF);
    assert_eq!(cpu.mem.read_u8(0x3000), 0xD7);
    assert_eq!(cpu.gpr[EBP], 0x756E_6547, "GenuineIntel");
    assert!(cpu.gpr[EAX] > 0, "RDTSC counts retired instructions");
    assert!(!flag(&cpu, Flags::CF));
}

#[test]
fn movs_on_286_keeps_advanced_index_after_fault() {
    // MOVSW with SI=0xFFFF on the 286: #GP, and SI already advanced (as the hardware does).
    let code = assemble(16, |a| {
        a.mov(si, 0xFFFFu32).unwrap();
        a.mov(di, 0x100u32).unwrap();
        a.movsw().unwrap();
    });
    let mut cpu = load(CpuModel::I286, 16, &code);
    cpu.mem.write_u16(13 * 4, 0x2000);
    cpu.mem.write_u8(0x2000, 0xF4);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.eip, 0x2001);
    assert_eq!(cpu.gpr[ESI] & 0xFFFF, 1);
    assert_eq!(cpu.gpr[EDI] & 0xFFFF, 0x100);
}
