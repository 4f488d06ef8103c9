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
    ring3_round_trip(false);
}

/// The same with paging on and the ring-0 stack on a supervisor-only page: the interrupt
/// frame must be pushed with the privilege of the ring being entered.
#[test]
fn ring3_round_trip_with_supervisor_stack_page() {
    ring3_round_trip(true);
}

fn ring3_round_trip(paging: bool) {
    let mut cpu = Cpu::new(CpuModel::P6, 2 << 20);
    if paging {
        const PD: u32 = 0x10_0000;
        const PT: u32 = 0x10_1000;
        cpu.mem.write_u32(PD, PT | 7);
        for i in 0..1024u32 {
            cpu.mem.write_u32(PT + i * 4, i << 12 | 7);
        }
        // 0x6000-0x6FFF (the top of the ring-0 stack below ESP0 = 0x7000): supervisor only.
        cpu.mem.write_u32(PT + 6 * 4, 0x6000 | 3);
        cpu.cr.cr3 = PD;
    }
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
    a16.or(eax, if paging { 0x8000_0001u32 as i32 } else { 1 })
        .unwrap();
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

mod paging {
    use super::super::exception::{Exception, PF};
    use super::super::mmu::Access;
    use super::super::state::{Cr0, Seg, EAX, ESP};
    use super::super::{Cpu, CpuModel, Stop};
    use iced_x86::code_asm::*;

    const PD: u32 = 0x10_0000;
    const PT: u32 = 0x10_1000;

    /// Paging on, page directory at 1 MiB; the first 4 MiB identity-mapped with 4 KiB pages
    /// (user, writable) except for the pages the tests remap.
    fn paged_cpu() -> Cpu {
        let mut cpu = Cpu::new(CpuModel::P6, 2 << 20);
        cpu.mem.write_u32(PD, PT | 7);
        for i in 0..1024u32 {
            cpu.mem.write_u32(PT + i * 4, i << 12 | 7);
        }
        for s in Seg::ALL {
            cpu.load_seg_real(s, 0);
        }
        cpu.set_flat32();
        cpu.cr.cr3 = PD;
        cpu.cr.cr0 |= Cr0::PE.bits() | Cr0::PG.bits();
        cpu.flush_tlb(false);
        cpu
    }

    fn pf(code: u32) -> Exception {
        Exception::with_code(PF, code)
    }

    #[test]
    fn translation_faults_and_accessed_dirty_bits() {
        let mut cpu = paged_cpu();
        // 0x5000 → physical 0x8000; 0x6000 not present; 0x7000 read-only.
        cpu.mem.write_u32(PT + 5 * 4, 0x8000 | 7);
        cpu.mem.write_u32(PT + 6 * 4, 0);
        cpu.mem.write_u32(PT + 7 * 4, 0x7000 | 5);
        cpu.write32(Seg::Ds, 0x5010, 0xCAFE_F00D).unwrap();
        assert_eq!(cpu.mem.read_u32(0x8010), 0xCAFE_F00D);
        let pte = cpu.mem.read_u32(PT + 5 * 4);
        assert_eq!(pte & 0x60, 0x60, "accessed and dirty set by the write");
        assert_ne!(cpu.mem.read_u32(PD) & 0x20, 0, "PDE accessed");
        assert_eq!(cpu.read8(Seg::Ds, 0x6000), Err(pf(0)));
        assert_eq!(cpu.cr.cr2, 0x6000);
        // Supervisor write to a read-only page: allowed with WP clear, #PF with WP set.
        assert!(cpu.write8(Seg::Ds, 0x7000, 1).is_ok());
        cpu.cr.cr0 |= Cr0::WP.bits();
        cpu.flush_tlb(false);
        assert_eq!(cpu.write8(Seg::Ds, 0x7000, 1), Err(pf(3)));
    }

    #[test]
    fn user_accesses_need_user_pages() {
        let mut cpu = paged_cpu();
        cpu.mem.write_u32(PT + 9 * 4, 0x9000 | 3); // supervisor-only page
        assert!(cpu.read8(Seg::Ds, 0x9000).is_ok());
        cpu.seg[Seg::Cs as usize].selector = 3; // CPL 3
        cpu.refresh_fast_key();
        assert_eq!(cpu.read8(Seg::Ds, 0x9000), Err(pf(5)));
        assert_eq!(cpu.write8(Seg::Ds, 0x9000, 0), Err(pf(7)));
        assert!(cpu.read8(Seg::Ds, 0xA000).is_ok());
    }

    #[test]
    fn page_crossing_write_faults_before_writing() {
        let mut cpu = paged_cpu();
        cpu.mem.write_u32(PT + 0x21 * 4, 0); // 0x21000 not present
        cpu.mem.write_u32(0x20FFC, 0x1111_1111);
        assert_eq!(cpu.write32(Seg::Ds, 0x20FFE, 0xAAAA_BBBB), Err(pf(2)));
        assert_eq!(cpu.cr.cr2, 0x21000);
        assert_eq!(cpu.mem.read_u32(0x20FFC), 0x1111_1111, "nothing written");
        // Across two present pages mapped apart: 0x30000 → 0x30000, 0x31000 → 0x50000.
        cpu.mem.write_u32(PT + 0x31 * 4, 0x50000 | 7);
        cpu.write32(Seg::Ds, 0x30FFE, 0x4433_2211).unwrap();
        assert_eq!(cpu.mem.read_u16(0x30FFE), 0x2211);
        assert_eq!(cpu.mem.read_u16(0x50000), 0x4433);
        assert_eq!(cpu.read32(Seg::Ds, 0x30FFE), Ok(0x4433_2211));
    }

    /// A paged CPU with PGE on whose TLB holds 0x40000 → 0x60000 and the global page
    /// 0x41000 → 0x61000, after the page table was changed to map them to 0x70000/0x71000.
    fn remapped_after_caching() -> Cpu {
        let mut cpu = paged_cpu();
        cpu.cr.cr4 |= 1 << 7; // PGE
        cpu.mem.write_u32(PT + 0x40 * 4, 0x60000 | 7);
        cpu.mem.write_u32(PT + 0x41 * 4, 0x61000 | 7 | 0x100); // global
        assert_eq!(cpu.translate_access(0x40000, Access::Read), Ok(0x60000));
        assert_eq!(cpu.translate_access(0x41000, Access::Read), Ok(0x61000));
        cpu.mem.write_u32(PT + 0x40 * 4, 0x70000 | 7);
        cpu.mem.write_u32(PT + 0x41 * 4, 0x71000 | 7 | 0x100);
        cpu
    }

    #[test]
    fn tlb_is_flushed_by_invlpg_and_cr3_but_keeps_global_pages() {
        let mut cpu = remapped_after_caching();
        assert_eq!(
            cpu.translate_access(0x40000, Access::Read),
            Ok(0x60000),
            "cached"
        );
        cpu.invlpg(0x40000);
        assert_eq!(cpu.translate_access(0x40000, Access::Read), Ok(0x70000));
        cpu.flush_tlb(true); // what a CR3 write does
        assert_eq!(
            cpu.translate_access(0x41000, Access::Read),
            Ok(0x61000),
            "global kept"
        );
        cpu.flush_tlb(false);
        assert_eq!(cpu.translate_access(0x41000, Access::Read), Ok(0x71000));
    }

    #[test]
    fn a_read_opens_the_fast_path_for_writes_only_when_the_walk_allows_them() {
        let mut cpu = paged_cpu();
        // 0x50000: writable, dirty clear; 0x51000: writable, dirty set; 0x52000: read-only,
        // dirty set.
        cpu.mem.write_u32(PT + 0x50 * 4, 0x50000 | 7);
        cpu.mem.write_u32(PT + 0x51 * 4, 0x51000 | 7 | 0x40);
        cpu.mem.write_u32(PT + 0x52 * 4, 0x52000 | 5 | 0x40);
        for page in [0x50000, 0x51000, 0x52000] {
            cpu.read32(Seg::Ds, page).unwrap();
        }
        assert_eq!(
            cpu.mem.read_u32(PT + 0x50 * 4) & 0x60,
            0x20,
            "read: accessed only"
        );
        cpu.write32(Seg::Ds, 0x50000, 1).unwrap();
        assert_eq!(
            cpu.mem.read_u32(PT + 0x50 * 4) & 0x60,
            0x60,
            "write sets dirty"
        );
        cpu.write32(Seg::Ds, 0x51000, 2).unwrap();
        assert_eq!(cpu.mem.read_u32(0x51000), 2);
        // Supervisor writes to read-only pages: allowed while CR0.WP is clear.
        cpu.write32(Seg::Ds, 0x52000, 3).unwrap();
        cpu.cr.cr0 |= Cr0::WP.bits();
        cpu.flush_tlb(false);
        cpu.read32(Seg::Ds, 0x52000).unwrap();
        assert_eq!(cpu.write32(Seg::Ds, 0x52000, 4), Err(pf(3)));
        // Ring 3 after a ring-3 read of the read-only page.
        cpu.seg[Seg::Cs as usize].selector = 3;
        cpu.refresh_fast_key();
        cpu.read32(Seg::Ds, 0x52000).unwrap();
        assert_eq!(cpu.write32(Seg::Ds, 0x52000, 5), Err(pf(7)));
        assert_eq!(cpu.mem.read_u32(0x52000), 3);
    }

    #[test]
    fn flushes_by_generation_never_revive_old_entries() {
        let mut cpu = remapped_after_caching();
        // Enough flushes for the generation to wrap and come back round.
        for _ in 0..2500 {
            cpu.flush_tlb(true);
        }
        assert_eq!(cpu.translate_access(0x40000, Access::Read), Ok(0x70000));
        assert_eq!(
            cpu.translate_access(0x41000, Access::Read),
            Ok(0x61000),
            "global kept"
        );
        cpu.mem.write_u32(PT + 0x40 * 4, 0x80000 | 7);
        for _ in 0..1024 {
            cpu.flush_tlb(false);
        }
        assert_eq!(cpu.translate_access(0x40000, Access::Read), Ok(0x80000));
        assert_eq!(cpu.translate_access(0x41000, Access::Read), Ok(0x71000));
    }

    #[test]
    fn pse_four_megabyte_pages() {
        let mut cpu = paged_cpu();
        cpu.cr.cr4 |= 1 << 4; // PSE
        cpu.mem.write_u32(PD + 4, 0x87); // 4-8 MiB → 0-4 MiB, 4 MiB page
        assert_eq!(cpu.translate_access(0x40_1234, Access::Write), Ok(0x1234));
        assert_eq!(
            cpu.mem.read_u32(PD + 4) & 0x60,
            0x60,
            "accessed and dirty in the PDE"
        );
    }

    #[test]
    fn code_runs_through_mappings_and_self_modification_via_an_alias() {
        let mut cpu = paged_cpu();
        // Code lives at physical 0x3000, executed at linear 0x40_0000 (second page table
        // maps 4-8 MiB), and modified through its identity mapping at 0x3000.
        let pt2 = 0x10_2000;
        cpu.mem.write_u32(PD + 4, pt2 | 7);
        cpu.mem.write_u32(pt2, 0x3000 | 7);
        let mut a = CodeAssembler::new(32).unwrap();
        let mut patched = a.create_label();
        a.mov(byte_ptr(0x3000 + 7 + 1), 0x42u32).unwrap(); // 7 bytes: rewrites the imm below
        a.set_label(&mut patched).unwrap();
        a.mov(al, 0x11).unwrap();
        a.hlt().unwrap();
        let code = a.assemble(0x40_0000).unwrap();
        cpu.mem.load(0x3000, &code);
        cpu.eip = 0x40_0000;
        cpu.gpr[ESP] = 0x9000;
        cpu.flush_decode_cache();
        assert_eq!(cpu.run(100), Stop::Halted);
        assert_eq!(cpu.gpr[EAX] & 0xFF, 0x42);
    }

    #[test]
    fn fetch_from_a_missing_page_raises_page_fault_with_cr2() {
        let mut cpu = paged_cpu();
        cpu.mem.write_u32(PT + 0x50 * 4, 0);
        cpu.eip = 0x50000;
        // No IDT: the #PF cannot be delivered, so the run ends in a triple fault after CR2
        // was set by the fetch.
        assert_eq!(cpu.run(100), Stop::TripleFault);
        assert_eq!(cpu.cr.cr2, 0x50000);
    }

    #[test]
    fn instruction_straddling_into_a_missing_page_faults_on_that_page() {
        let mut cpu = paged_cpu();
        cpu.mem.write_u32(PT + 0x61 * 4, 0);
        // mov eax, 0x11223344 (B8 44 33 22 11) at 0x60FFE: three bytes on the next page;
        // the next page is physical 0x61000 once mapped.
        cpu.mem.load(0x60FFE, &[0xB8, 0x44]);
        cpu.mem.load(0x61000, &[0x33, 0x22, 0x11, 0xF4]);
        cpu.eip = 0x60FFE;
        cpu.gpr[ESP] = 0x9000;
        cpu.flush_decode_cache();
        assert_eq!(cpu.run(100), Stop::TripleFault);
        assert_eq!(cpu.cr.cr2, 0x61000);
        // Map the page: the same instruction now runs (the decoded block is re-checked).
        cpu.mem.write_u32(PT + 0x61 * 4, 0x61000 | 7);
        cpu.stop = None;
        cpu.halted = false;
        cpu.eip = 0x60FFE;
        cpu.gpr[ESP] = 0x9000;
        let stop = cpu.run(100);
        assert_eq!(
            stop,
            Stop::Halted,
            "eip {:#x} cr2 {:#x}",
            cpu.eip,
            cpu.cr.cr2
        );
        assert_eq!(cpu.gpr[EAX], 0x1122_3344);
    }
}
