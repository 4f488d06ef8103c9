//! A protected-mode round trip assembled here: enter protected mode, load segments and the
//! TSS, IRET to ring 3, call a ring-0 service through an interrupt gate (stack switch from
//! the TSS), and take a #GP from a privileged instruction in ring 3.

use iced_x86::code_asm::*;

use super::state::{Seg, EBX, ECX, EDX, ESP};
use super::{Cpu, CpuModel, Stop};

const GDT: u32 = 0x500;
const TSS: u32 = 0x600;
const IDT: u32 = 0x800;
const PM_CODE: u32 = 0x2000;

fn gate(handler: u32, selector: u16, access: u32) -> u64 {
    let lo = (selector as u32) << 16 | (handler & 0xFFFF);
    let hi = (handler & 0xFFFF_0000) | access << 8;
    (hi as u64) << 32 | lo as u64
}

#[test]
fn ring3_round_trip_through_gates() {
    let mut cpu = Cpu::new(CpuModel::P6, 1 << 20);
    let gdt: [u64; 6] = [
        0,
        0x00CF_9A00_0000_FFFF,                             // 0x08 code, ring 0
        0x00CF_9200_0000_FFFF,                             // 0x10 data, ring 0
        0x00CF_FA00_0000_FFFF,                             // 0x18 code, ring 3
        0x00CF_F200_0000_FFFF,                             // 0x20 data, ring 3
        0x0000_8900_0000_0000 | (TSS as u64) << 16 | 0x67, // 0x28 32-bit TSS
    ];
    for (i, d) in gdt.iter().enumerate() {
        cpu.mem.load(GDT + i as u32 * 8, &d.to_le_bytes());
    }
    cpu.mem.write_u32(TSS + 4, 0x7000); // ESP0
    cpu.mem.write_u32(TSS + 8, 0x10); // SS0
                                      // Pseudo-descriptors for LGDT/LIDT at 0x400.
    cpu.mem.write_u16(0x400, gdt.len() as u16 * 8 - 1);
    cpu.mem.write_u32(0x402, GDT);
    cpu.mem.write_u16(0x408, 256 * 8 - 1);
    cpu.mem.write_u32(0x40A, IDT);

    // 16-bit real-mode entry at 0x1000: lgdt, lidt, set PE, far jump to 0008:2000.
    let mut a16 = CodeAssembler::new(16).unwrap();
    a16.lgdt(ptr(0x400)).unwrap();
    a16.lidt(ptr(0x408)).unwrap();
    a16.mov(eax, cr0).unwrap();
    a16.or(eax, 1).unwrap();
    a16.mov(cr0, eax).unwrap();
    let mut entry = a16.assemble(0x1000).unwrap();
    entry.extend_from_slice(&[0x66, 0xEA]);
    entry.extend_from_slice(&PM_CODE.to_le_bytes());
    entry.extend_from_slice(&0x08u16.to_le_bytes());
    cpu.mem.load(0x1000, &entry);

    const USER: u32 = 0x3000;
    const INT80: u32 = 0x3100;
    const GP: u32 = 0x3200;
    let asm32 = |at: u32, build: &dyn Fn(&mut CodeAssembler)| {
        let mut a = CodeAssembler::new(32).unwrap();
        build(&mut a);
        a.assemble(at as u64).unwrap()
    };
    let kernel = asm32(PM_CODE, &|a| {
        a.mov(ax, 0x10).unwrap();
        a.mov(ds, ax).unwrap();
        a.mov(es, ax).unwrap();
        a.mov(ss, ax).unwrap();
        a.mov(esp, 0x9000).unwrap();
        a.mov(ax, 0x28).unwrap();
        a.ltr(ax).unwrap();
        a.push(0x23).unwrap(); // user SS
        a.push(0x8800).unwrap(); // user ESP
        a.pushfd().unwrap();
        a.push(0x1B).unwrap(); // user CS
        a.push(USER).unwrap();
        a.iretd().unwrap();
    });
    let user = asm32(USER, &|a| {
        a.mov(eax, 5).unwrap();
        a.int(0x80).unwrap();
        a.mov(ebx, eax).unwrap();
        a.mov(ecx, 0).unwrap();
        a.mov(cx, cs).unwrap();
        a.hlt().unwrap(); // privileged in ring 3: #GP(0)
    });
    let int80 = asm32(INT80, &|a| {
        a.add(eax, 1).unwrap();
        a.iretd().unwrap();
    });
    let gp = asm32(GP, &|a| {
        a.mov(edx, dword_ptr(esp)).unwrap();
        a.hlt().unwrap();
    });
    for (at, code) in [
        (PM_CODE, &kernel),
        (USER, &user),
        (INT80, &int80),
        (GP, &gp),
    ] {
        cpu.mem.load(at, code);
    }
    cpu.mem
        .load(IDT + 0x80 * 8, &gate(INT80, 0x08, 0xEE).to_le_bytes()); // DPL 3
    cpu.mem
        .load(IDT + 13 * 8, &gate(GP, 0x08, 0x8E).to_le_bytes()); // DPL 0

    for s in Seg::ALL {
        cpu.load_seg_real(s, 0);
    }
    cpu.eip = 0x1000;
    cpu.gpr[ESP] = 0x7C00;
    cpu.flush_decode_cache();
    assert_eq!(cpu.run(10_000), Stop::Halted, "eip={:#x}", cpu.eip);

    assert_eq!(cpu.cpl(), 0, "the #GP handler runs in ring 0");
    assert_eq!(
        cpu.gpr[EBX], 6,
        "INT 0x80 ran the ring-0 service and returned"
    );
    assert_eq!(cpu.gpr[ECX], 0x1B, "ring 3 saw CS = 0x1B");
    assert_eq!(cpu.gpr[EDX], 0, "#GP error code 0");
    // The #GP frame on the TSS stack: error code, EIP, CS, EFLAGS, ESP, SS.
    let frame = cpu.gpr[ESP];
    assert_eq!(frame, 0x7000 - 24);
    assert_eq!(cpu.mem.read_u32(frame + 8), 0x1B);
    assert_eq!(cpu.mem.read_u32(frame + 16), 0x8800);
    assert_eq!(cpu.mem.read_u32(frame + 20), 0x23);
    assert_eq!(cpu.seg[Seg::Ss as usize].selector, 0x10);
}

#[test]
fn data_segment_loads_check_privilege_and_presence() {
    let mut cpu = Cpu::new(CpuModel::I386, 1 << 20);
    let gdt: [u64; 4] = [
        0,
        0x00CF_9200_0000_FFFF, // 0x08 data ring 0
        0x00CF_1200_0000_FFFF, // 0x10 data ring 0, not present
        0x00CF_9A00_0000_FFFF, // 0x18 code ring 0 (readable)
    ];
    for (i, d) in gdt.iter().enumerate() {
        cpu.mem.load(GDT + i as u32 * 8, &d.to_le_bytes());
    }
    cpu.gdtr.base = GDT;
    cpu.gdtr.limit = 31;
    cpu.cr.cr0 |= 1;
    assert!(cpu.load_seg(Seg::Ds, 0x08).is_ok());
    assert_eq!(cpu.seg[Seg::Ds as usize].limit, 0xFFFF_FFFF);
    assert_eq!(cpu.load_seg(Seg::Ds, 0x10), Err(super::Exception::np(0x10)));
    assert_eq!(cpu.load_seg(Seg::Ss, 0x18), Err(super::Exception::gp(0x18)));
    assert_eq!(cpu.load_seg(Seg::Es, 0x40), Err(super::Exception::gp(0x40)));
    assert!(
        cpu.load_seg(Seg::Es, 0x18).is_ok(),
        "readable code may be loaded into ES"
    );
    assert_eq!(cpu.load_seg(Seg::Ss, 0), Err(super::Exception::gp(0)));
    // A null DS loads, and any access through it faults.
    assert!(cpu.load_seg(Seg::Ds, 0).is_ok());
    assert_eq!(cpu.read8(Seg::Ds, 0), Err(super::Exception::gp(0)));
    // The accessed bit was set in the descriptor of 0x08.
    assert_ne!(cpu.mem.read_u8(GDT + 8 + 5) & 1, 0);
}
