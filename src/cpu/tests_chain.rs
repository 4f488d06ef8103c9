//! Tests of a block running as one chain of handlers (`exec::Chain`): where a fault in the
//! body or in the last instruction leaves EIP, the count and the state.

use iced_x86::code_asm::*;

use super::state::ESP;
use super::testutil::{assemble, load, run_to_halt, with_handler, CODE_ADDR, STACK_TOP};
use super::{CpuModel, Stop};

/// #DE in the middle of a block: the instructions before it ran and are counted, the
/// faulting one and the rest did not run, and the IP pushed is the DIV's.
#[test]
fn a_fault_in_the_body_stops_the_block_at_the_faulting_instruction() {
    let cpu = with_handler(CpuModel::P6, 16, 0, |a| {
        a.inc(ax).unwrap(); //  +0
        a.xor(dx, dx).unwrap(); // +1
        a.div(cx).unwrap(); //  +3: CX = 0
        a.inc(bx).unwrap();
        a.inc(bx).unwrap();
    });
    assert_eq!((cpu.gpr[0] & 0xFFFF, cpu.gpr[3] & 0xFFFF), (1, 0));
    let stack = cpu.gpr[ESP];
    assert_eq!(stack, STACK_TOP - 6, "FLAGS, CS and IP pushed");
    assert_eq!(
        cpu.mem.read_u16(stack),
        (CODE_ADDR + 3) as u16,
        "IP of the DIV"
    );
    // INC, XOR, the DIV (a faulting instruction counts, here as everywhere in the run
    // loop) and the handler's HLT.
    assert_eq!(cpu.icount, 4);
}

/// A block whose last instruction faults (the block ends there because the next
/// instruction starts a new page): same outcome as in the body.
#[test]
fn a_fault_in_the_last_instruction_of_a_block() {
    // INC AX at 0x1FFB, XOR DX,DX at 0x1FFC, DIV CX at 0x1FFE: the block ends at 0x2000.
    let body = assemble(16, |a| {
        a.inc(ax).unwrap();
        a.xor(dx, dx).unwrap();
        a.div(cx).unwrap();
    });
    let start = 0x2000 - (body.len() as u32 - 1);
    let mut cpu = load(CpuModel::P6, 16, &[]);
    cpu.mem.load(start, &body[..body.len() - 1]);
    // 0x2000: INC BX, HLT (not reached); the #DE handler at 0x3000: HLT.
    cpu.mem.load(0x2000, &[0x43, 0xF4]);
    cpu.mem.write_u16(0, 0x3000);
    cpu.mem.write_u16(2, 0);
    cpu.mem.write_u8(0x3000, 0xF4);
    cpu.eip = start;
    cpu.flush_decode_cache();
    run_to_halt(&mut cpu);
    assert_eq!(cpu.eip, 0x3001, "halted in the handler");
    assert_eq!((cpu.gpr[0] & 0xFFFF, cpu.gpr[3] & 0xFFFF), (1, 0));
    assert_eq!(cpu.mem.read_u16(cpu.gpr[ESP]), 0x1FFE, "IP of the DIV");
    // As in the body: INC, XOR, DIV, HLT.
    assert_eq!(cpu.icount, 4);
}

/// Runs 16-bit `code` with CS's limit just past it and a #GP handler (a HLT at 0x0800),
/// until that handler halts.
fn run_to_general_protection(code: &[u8]) -> super::Cpu {
    let mut cpu = load(CpuModel::P6, 16, code);
    cpu.mem.write_u16(13 * 4, 0x0800);
    cpu.mem.write_u16(13 * 4 + 2, 0);
    cpu.mem.write_u8(0x0800, 0xF4);
    cpu.seg[super::state::Seg::Cs as usize].limit = CODE_ADDR + 0x100;
    cpu.flush_decode_cache();
    run_to_halt(&mut cpu);
    assert_eq!(cpu.eip, 0x0801, "halted in the #GP handler");
    cpu
}

/// A compare-and-branch fused into a block's last op whose branch target lies beyond the
/// CS limit: #GP at the branch, with the compare done and counted.
#[test]
fn a_fused_branch_out_of_the_segment_faults_at_the_branch() {
    let code = assemble(16, |a| {
        a.mov(ax, 1).unwrap();
        a.cmp(eax, 1).unwrap();
        a.db(&[0x0F, 0x84, 0x00, 0x10]).unwrap(); // JE +0x1000: past the limit below
    });
    let cpu = run_to_general_protection(&code);
    let je = CODE_ADDR + code.windows(2).position(|w| w == [0x0F, 0x84]).unwrap() as u32;
    assert_eq!(cpu.mem.read_u16(cpu.gpr[ESP]), je as u16, "IP of the JE");
    assert_eq!(cpu.gpr[0] & 0xFFFF, 1);
    // MOV, CMP, JE (faulted, counted), the handler's HLT.
    assert_eq!(cpu.icount, 4);
}

/// A block that jumps back to its own start loops inside its chain: it still stops when
/// the run's budget ends, at the loop's start, having counted every instruction.
#[test]
fn a_block_looping_on_itself_stops_when_the_budget_ends() {
    let code = assemble(32, |a| {
        let mut l = a.create_label();
        a.set_label(&mut l).unwrap();
        a.inc(eax).unwrap();
        a.dec(ebx).unwrap();
        a.jmp(l).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 32, &code);
    for budget in [1000, 1, 5000] {
        let before = cpu.icount;
        assert_eq!(cpu.run(budget), Stop::Budget);
        // Blocks of three instructions: the run stops at the first block boundary at or
        // past the budget.
        assert!(cpu.icount >= before + budget && cpu.icount < before + budget + 3);
        assert_eq!(cpu.icount % 3, 0);
        assert_eq!(cpu.gpr[0] as u64, cpu.icount / 3);
        assert_eq!(cpu.gpr[3], 0u32.wrapping_sub(cpu.gpr[0]));
        assert_eq!(cpu.eip, CODE_ADDR);
    }
}

/// A tight loop (DEC + JNZ fused, back to the block's start) that patches its own first
/// instruction: the next iteration runs the patched code.
#[test]
fn a_looping_block_that_patches_itself_runs_the_new_code() {
    let l = CODE_ADDR as i32;
    let code = assemble(32, |a| {
        a.mov(al, 1).unwrap(); // l: B0 01 — the immediate at l+1 becomes 5
        a.add(bl, al).unwrap();
        a.mov(byte_ptr(l + 1), 5).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(CODE_ADDR as u64).unwrap();
    });
    let mut cpu = load(CpuModel::P6, 32, &code);
    cpu.gpr[1] = 3;
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[3] & 0xFF, 1 + 5 + 5);
    // Five instructions per iteration, and the HLT.
    assert_eq!(cpu.icount, 16);
}

/// A block goes on at the target of a direct JMP and CALL on its page: the instructions
/// there run in order, the CALL pushes its return address, and a fault there reports the
/// faulting instruction's own address.
#[test]
fn a_block_following_jmp_and_call_runs_the_targets() {
    let cpu = with_handler(CpuModel::P6, 16, 0, |a| {
        let mut sub = a.create_label();
        let mut there = a.create_label();
        a.mov(ax, 5).unwrap(); //             +0
        a.jmp(there).unwrap(); //              +3: 2 bytes
        a.mov(ax, 0x99).unwrap(); //           +5: skipped
        a.set_label(&mut sub).unwrap();
        a.inc(bx).unwrap(); //                 +8
        a.xor(dx, dx).unwrap(); //             +9
        a.div(cx).unwrap(); //                 +11: #DE (CX = 0)
        a.set_label(&mut there).unwrap();
        a.add(ax, 1).unwrap(); //              +13
        a.call(sub).unwrap(); //               +16: 3 bytes, returns to +19
        a.mov(ax, 0x77).unwrap();
    });
    assert_eq!((cpu.gpr[0] & 0xFFFF, cpu.gpr[3] & 0xFFFF), (6, 1));
    let stack = cpu.gpr[ESP];
    // The CALL's return address, then FLAGS, CS and IP of the DIV.
    assert_eq!(stack, STACK_TOP - 8);
    assert_eq!(
        cpu.mem.read_u16(stack),
        (CODE_ADDR + 11) as u16,
        "IP of the DIV"
    );
    assert_eq!(
        cpu.mem.read_u16(stack + 6),
        (CODE_ADDR + 19) as u16,
        "return address"
    );
    // MOV, JMP, ADD, CALL, INC, XOR, DIV, the handler's HLT.
    assert_eq!(cpu.icount, 8);
    // One block from the MOV to the DIV, one for the handler.
    assert_eq!(cpu.cache.live_blocks(), 2);
}

/// A write to code at the target of a JMP the running block follows is seen: the block
/// stops and the target runs as written.
#[test]
fn a_write_to_the_followed_part_of_a_block_is_seen() {
    use super::testutil::CODE_ADDR;
    let t = CODE_ADDR as u16 + 9;
    let mut code = vec![
        0xC6, 0x06, 0, 0, 0x22, // mov byte [t+1], 0x22
        0xEB, 0x02, //             jmp t
        0xB0, 0x99, //             mov al, 0x99 (skipped)
        0xB0, 0x11, //             t: mov al, 0x11 → 0x22
        0xF4,
    ];
    code[2..4].copy_from_slice(&(t + 1).to_le_bytes());
    let mut cpu = load(CpuModel::P6, 16, &code);
    run_to_halt(&mut cpu);
    assert_eq!(cpu.gpr[0] & 0xFF, 0x22);
    assert_eq!(cpu.icount, 4);
}

/// A near JMP (a block's last op, in its specialised last form) to a target past the CS
/// limit: #GP with the JMP's own address pushed.
#[test]
fn a_jump_out_of_the_segment_faults_at_the_jump() {
    let code = assemble(16, |a| {
        a.inc(ax).unwrap();
        a.db(&[0xE9, 0x00, 0x10]).unwrap(); // JMP +0x1000: past the limit below
    });
    let cpu = run_to_general_protection(&code);
    assert_eq!(cpu.gpr[0] & 0xFFFF, 1);
    assert_eq!(
        cpu.mem.read_u16(cpu.gpr[ESP]),
        (CODE_ADDR + 1) as u16,
        "IP of the JMP"
    );
}
