//! Tests of the fast paths: block chaining, the fast-path TLB and what must stay off it.

use iced_x86::code_asm::*;

use super::mmu::Tlb;
use super::state::Seg;
use super::testutil::{assemble, load, run_to_halt};
use super::{Cpu, CpuModel};

#[test]
fn code_patched_in_a_chained_successor_is_seen() {
    // 0x3000: mov al, 1 / add bl, al / ret — the loop patches the immediate after the
    // first call, when the call's block already links to this one.
    let code = assemble(16, |a| {
        a.xor(bx, bx).unwrap();
        // A store to the page before it holds code: the fast path may take writes to it.
        a.mov(byte_ptr(0x3005), 0).unwrap();
        a.mov(cx, 3).unwrap();
        let mut l = a.create_label();
        a.set_label(&mut l).unwrap();
        a.call(0x3000).unwrap();
        a.mov(byte_ptr(0x3001), 7).unwrap();
        a.loop_(l).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    cpu.mem.load(0x3000, &[0xB0, 0x01, 0x00, 0xC3, 0xC3]);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[3] & 0xFF, 1 + 7 + 7);
}

/// A CPU with paging on (PE and PG set, CPL 0): linear 0x400000 maps to `phys`.
fn paged(phys: u32) -> Cpu {
    let mut cpu = Cpu::new(CpuModel::P6, 1 << 20);
    cpu.set_flat32();
    cpu.mem.write_u32(0x8004, 0x9007);
    cpu.mem.write_u32(0x9000, phys | 7);
    cpu.cr.cr3 = 0x8000;
    cpu.cr.cr0 |= 0x8000_0001;
    cpu.flush_tlb(false);
    cpu
}

#[test]
fn remapped_page_is_seen_after_invlpg() {
    let mut cpu = paged(0x10000);
    cpu.mem.write_u32(0x10000, 0x1111_1111);
    cpu.mem.write_u32(0x20000, 0x2222_2222);
    assert_eq!(cpu.read32(Seg::Ds, 0x40_0000), Ok(0x1111_1111));
    assert_eq!(cpu.read32(Seg::Ds, 0x40_0000), Ok(0x1111_1111));
    cpu.mem.write_u32(0x9000, 0x20007);
    cpu.invlpg(0x40_0000);
    assert_eq!(cpu.read32(Seg::Ds, 0x40_0000), Ok(0x2222_2222));
    cpu.write32(Seg::Ds, 0x40_0004, 0x3333_3333).unwrap();
    cpu.write32(Seg::Ds, 0x40_0008, 0x4444_4444).unwrap();
    assert_eq!(cpu.mem.read_u32(0x20004), 0x3333_3333);
    assert_eq!(cpu.mem.read_u32(0x20008), 0x4444_4444);
}

#[test]
fn user_access_to_a_supervisor_page_faults_after_a_supervisor_hit() {
    let mut cpu = paged(0x10000);
    cpu.mem.write_u32(0x9000, 0x10003); // supervisor-only
    assert!(cpu.read32(Seg::Ds, 0x40_0000).is_ok());
    cpu.seg[Seg::Cs as usize].selector |= 3; // CPL 3
                                             // Poking CS directly bypasses the far transfers that refresh the cached key.
    cpu.refresh_fast_key();
    let e = cpu.read32(Seg::Ds, 0x40_0000).unwrap_err();
    assert_eq!(e.vector(), super::exception::PF);
}

#[test]
fn mmio_pages_stay_off_the_fast_path() {
    let mut cpu = load(CpuModel::P6, 16, &[0xF4]);
    cpu.mem.set_mmio_pages(0xA0000, 0xC0000, true);
    cpu.load_seg_real(Seg::Ds, 0xA000);
    cpu.read8(Seg::Ds, 0x10).unwrap();
    cpu.write8(Seg::Ds, 0x10, 1).unwrap();
    let f = cpu.tlb.fast[Tlb::fast_index(0xA0010)];
    assert_eq!((f.rtag, f.wtag), (0, 0));
    // An ordinary RAM page does enter it.
    cpu.load_seg_real(Seg::Ds, 0x5000);
    cpu.write8(Seg::Ds, 0x10, 1).unwrap();
    let f = cpu.tlb.fast[Tlb::fast_index(0x50010)];
    assert_ne!((f.rtag, f.wtag), (0, 0));
}

#[test]
fn rom_pages_are_read_but_never_written_through_the_fast_path() {
    let mut cpu = Cpu::new(CpuModel::P6, 2 << 20);
    cpu.mem.load_rom(&[0x5A; 0x1_0000]).unwrap();
    cpu.load_seg_real(Seg::Ds, 0xF000);
    assert_eq!(cpu.read8(Seg::Ds, 0x100), Ok(0x5A));
    cpu.write8(Seg::Ds, 0x100, 1).unwrap();
    cpu.write8(Seg::Ds, 0x100, 2).unwrap();
    assert_eq!(cpu.read8(Seg::Ds, 0x100), Ok(0x5A));
}

#[test]
fn data_breakpoints_disable_the_fast_path() {
    let mut cpu = load(CpuModel::P6, 16, &[0xF4]);
    cpu.load_seg_real(Seg::Ds, 0x5000);
    cpu.write8(Seg::Ds, 0x10, 1).unwrap();
    cpu.dr[0] = 0x50010;
    cpu.dr[7] = 0x1 | 0x1 << 16; // L0, write breakpoint, 1 byte
    cpu.update_debug_state();
    cpu.write8(Seg::Ds, 0x10, 2).unwrap();
    assert_ne!(cpu.pending_data_breakpoints, 0);
}

#[test]
fn far_jump_to_another_segment_leaves_chained_blocks_behind() {
    // The same EIP in two code segments: chaining must not carry one segment's block into
    // the other after a far transfer.
    let code = assemble(16, |a| {
        a.jmp_far(0x0200, 0x0000).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    // 0200:0000 (0x2000): mov al, 0x22 / jmp far 0300:0000
    cpu.mem
        .load(0x2000, &[0xB0, 0x22, 0xEA, 0x00, 0x00, 0x00, 0x03]);
    // 0300:0000 (0x3000): add al, 0x11 / hlt
    cpu.mem.load(0x3000, &[0x04, 0x11, 0xF4]);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[0] & 0xFF, 0x33);
    assert_eq!(cpu.seg[Seg::Cs as usize].selector, 0x0300);
}

#[test]
fn rep_movsb_onto_itself_repeats_the_pattern() {
    // DI = SI + 1: each byte copies the one just written, as element by element.
    let code = assemble(16, |a| {
        a.mov(si, 0x4000).unwrap();
        a.mov(di, 0x4001).unwrap();
        a.mov(cx, 100).unwrap();
        a.cld().unwrap();
        a.rep().movsb().unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    cpu.mem.write_u8(0x4000, 0xAB);
    run_to_halt(&mut cpu);
    assert!((0x4000..0x4065).all(|a| cpu.mem.read_u8(a) == 0xAB));
    assert_eq!(cpu.gpr[1] & 0xFFFF, 0);
    assert_eq!(cpu.gpr[7] & 0xFFFF, 0x4065);
}

#[test]
fn rep_stosw_and_movsw_cross_pages_and_wrap_like_element_copies() {
    let code = assemble(16, |a| {
        a.mov(ax, 0x1234).unwrap();
        a.mov(di, 0x4FF0).unwrap();
        a.mov(cx, 0x1000).unwrap(); // 8 KiB: three pages
        a.rep().stosw().unwrap();
        a.mov(si, 0x4FF0).unwrap();
        a.mov(di, 0x8000).unwrap();
        a.mov(cx, 0x1000).unwrap();
        a.rep().movsw().unwrap();
        // DI wraps at 64 KiB inside ES.
        a.mov(di, 0xFFFC).unwrap();
        a.mov(cx, 4).unwrap();
        a.mov(ax, 0x5555).unwrap();
        a.rep().stosw().unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    run_to_halt(&mut cpu);
    assert!((0x4FF0..0x6FF0)
        .step_by(2)
        .all(|a| cpu.mem.read_u16(a) == 0x1234));
    assert!((0x8000..0xA000)
        .step_by(2)
        .all(|a| cpu.mem.read_u16(a) == 0x1234));
    assert_eq!(cpu.mem.read_u16(0xFFFC), 0x5555);
    assert_eq!(cpu.mem.read_u16(0xFFFE), 0x5555);
    assert_eq!(cpu.mem.read_u16(0x0000), 0x5555);
    assert_eq!(cpu.mem.read_u16(0x0002), 0x5555);
    assert_eq!(cpu.gpr[7] & 0xFFFF, 0x0004);
}

#[test]
fn rep_movs_into_decoded_code_is_seen() {
    // Copies "mov al, 0x77" over "mov al, 0x11" at 0x3000 after it ran once.
    let code = assemble(16, |a| {
        a.call(0x3000).unwrap();
        a.mov(si, 0x5000).unwrap();
        a.mov(di, 0x3000).unwrap();
        a.mov(cx, 2).unwrap();
        a.rep().movsb().unwrap();
        a.call(0x3000).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    cpu.mem.load(0x3000, &[0xB0, 0x11, 0xC3]);
    cpu.mem.load(0x5000, &[0xB0, 0x77]);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[0] & 0xFF, 0x77);
}

#[test]
fn decoded_instructions_stay_small() {
    // The decode cache's memory bound (MAX_OPS instructions) assumes this size.
    assert!(std::mem::size_of::<super::exec::Op>() <= 104);
}

#[test]
fn rep_longer_than_one_handler_call_finishes_before_the_next_instruction() {
    // REP STOSB of 0x20000 bytes takes several handler calls (each re-executes the
    // instruction): the INC after it must run once, after the whole fill.
    let code = assemble(32, |a| {
        a.mov(edi, 0x2_0000u32).unwrap();
        a.mov(ecx, 0x2_0000u32).unwrap();
        a.mov(al, 0x5A).unwrap();
        a.rep().stosb().unwrap();
        a.inc(ebx).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 32, &code);
    cpu.gpr[3] = 0;
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[1], 0, "ECX counted down to zero");
    assert_eq!(cpu.gpr[3], 1, "INC ran once");
    assert_eq!(cpu.mem.read_u8(0x3_FFFF), 0x5A);
}

/// A loop whose block ends in DEC + JNZ (fused into one op): run as blocks it counts every
/// instruction; stepped one at a time it stops between the DEC and the JNZ.
#[test]
fn fused_compare_and_branch_counts_and_steps_as_two_instructions() {
    let code = assemble(32, |a| {
        a.mov(ecx, 3).unwrap();
        let mut l = a.create_label();
        a.set_label(&mut l).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(l).unwrap();
    });
    // mov, 3 x (dec, jnz), hlt
    let mut cpu = load(CpuModel::P6, 32, &code);
    run_to_halt(&mut cpu);
    assert_eq!((cpu.gpr[1], cpu.icount), (0, 8));

    let mut cpu = load(CpuModel::P6, 32, &code);
    let dec = super::testutil::CODE_ADDR + 5;
    let mut eips = Vec::new();
    while cpu.step() != super::Stop::Halted {
        eips.push(cpu.eip - dec);
        assert!(eips.len() < 20, "no halt: {eips:?}");
    }
    // After the MOV: at DEC (0); after DEC: at JNZ (1); after a taken JNZ: at DEC again;
    // then at HLT (3) and past it (4).
    assert_eq!(eips, [0, 1, 0, 1, 0, 1, 3, 4]);
    assert_eq!(cpu.icount, 8);
}

/// A segment load in the middle of a block is seen by the next instruction's fast path:
/// DS starts flat (base 0, 4 GiB, B set: the flat-segment shortcut applies), then MOV DS
/// and POP DS give it other bases.
#[test]
fn segment_loads_inside_a_block_end_the_flat_shortcut() {
    let code = assemble(16, |a| {
        a.mov(byte_ptr(0x10), 0x11).unwrap();
        a.mov(ax, 0x1000).unwrap();
        a.mov(ds, ax).unwrap();
        a.mov(byte_ptr(0x10), 0x22).unwrap();
        a.push(0x2000).unwrap();
        a.pop(ds).unwrap();
        a.mov(byte_ptr(0x10), 0x33).unwrap();
        a.hlt().unwrap();
    });
    let mut cpu = load(CpuModel::P6, 16, &code);
    let d = &mut cpu.seg[Seg::Ds as usize];
    d.limit = u32::MAX;
    d.attrs |= super::state::ATTR_DB;
    run_to_halt(&mut cpu);
    assert_eq!(
        [0x10, 0x10010, 0x20010].map(|a| cpu.mem.read_u8(a)),
        [0x11, 0x22, 0x33]
    );
}

/// A body instruction that writes the next instruction of its own block stops the block:
/// the patched instruction runs as written, whether the write came through a specialised
/// handler's checked path (MOV to a page holding code), a generic one (INC m8, which
/// reports code writes through its wrapper) or a push onto a stack inside the code.
#[test]
fn writes_to_the_rest_of_the_running_block_are_seen() {
    use super::testutil::CODE_ADDR;
    let a = CODE_ADDR as u16;
    let mut code = vec![
        0xC6, 0x06, 0, 0, 0x22, // mov byte [a+7], 0x22     (specialised MOV m8, imm8)
        0xB0, 0x11, //             a+5: mov al, 0x11 → 0x22
        0xFE, 0x06, 0, 0, //       inc byte [a+12]          (generic INC m8)
        0xB3, 0x33, //             a+11: mov bl, 0x33 → 0x34
        0xBC, 0, 0, //             mov sp, a+22
        0x68, 0x44, 0xF4, //       push 0xF444: writes 44 F4 at a+20
        0xB1, 0x55, //             a+19: mov cl, 0x55 → mov cl, 0x44
        0x90, //                   a+21: nop → hlt
        0xF4,
    ];
    let addr = |off: u16| (a + off).to_le_bytes();
    code[2..4].copy_from_slice(&addr(6));
    code[9..11].copy_from_slice(&addr(12));
    code[14..16].copy_from_slice(&addr(22));
    let mut cpu = load(CpuModel::P6, 16, &code);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[0] & 0xFF, 0x22, "MOV patched the next instruction");
    assert_eq!(cpu.gpr[3] & 0xFF, 0x34, "INC patched the next instruction");
    assert_eq!(cpu.gpr[1] & 0xFF, 0x44, "PUSH patched the next instruction");
}

/// The 8086's PUSH SP (its own path in the specialised PUSH handler) reports a write to the
/// next instruction of its block like every other push.
#[test]
fn push_sp_on_the_8086_patching_its_block_is_seen() {
    use super::testutil::CODE_ADDR;
    let a = CODE_ADDR as u16;
    let mut code = vec![
        0xBC, 0, 0,    //       mov sp, a+7
        0x54, //             push sp: the 8086 stores SP after the decrement, a+5, at a+5
        0xB9, 0x55, 0x55, // a+4: mov cx, 0x5555 → mov cx, a+5
        0xF4,
    ];
    code[1..3].copy_from_slice(&(a + 7).to_le_bytes());
    let mut cpu = load(CpuModel::I8086, 16, &code);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[1] & 0xFFFF, (a + 5) as u32);
}

/// An instruction that straddles into a page mapped to a physical page that does not follow
/// its first one: a write to its tail there drops its block.
#[test]
fn writes_to_the_tail_of_a_straddling_instruction_are_seen() {
    let mut cpu = paged(0x10000);
    for s in Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    cpu.set_flat32();
    // Linear 0x401000 → physical 0x30000 (not 0x11000).
    cpu.mem.write_u32(0x9004, 0x30007);
    cpu.flush_tlb(false);
    // 0x400FFD: mov eax, 0x11223344 — its last two bytes on the second page.
    cpu.mem.load(0x10FFD, &[0xB8, 0x44, 0x33]);
    cpu.mem.load(0x30000, &[0x22, 0x11]);
    // 0x401002: mov byte [0x401000], 0x55 / dec ecx / jnz 0x400FFD / hlt
    cpu.mem.load(
        0x30002,
        &[
            0xC6, 0x05, 0x00, 0x10, 0x40, 0x00, 0x55, 0x49, 0x75, 0xF1, 0xF4,
        ],
    );
    cpu.gpr[1] = 2;
    cpu.eip = 0x40_0FFD;
    cpu.flush_decode_cache();
    super::testutil::run_to_halt(&mut cpu);
    assert_eq!((cpu.gpr[0], cpu.gpr[1]), (0x1155_3344, 0));
}
