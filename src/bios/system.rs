//! INT 14h (serial ports), INT 15h (system services: memory sizes and map, A20, block move,
//! configuration, waits) and INT 1Ah (timer ticks and the real-time clock; no PCI BIOS).

use super::{
    ah, al, cx, dx, rd16, rd8, set_ah, set_al, set_ax, set_cf, set_reg16, wr16, wr8, Bios,
};
use crate::cpu::state::{Seg, EAX, EBX, ECX, EDI, EDX};
use crate::cpu::Cpu;
use crate::devices::PcBus;

pub fn int14(bios: &mut Bios, cpu: &mut Cpu, bus: &mut PcBus) {
    let port = dx(cpu) as usize;
    if port >= 4 {
        set_ah(cpu, 0x80);
        return;
    }
    let base = rd16(cpu, 0x40, 2 * port as u16);
    if base == 0 {
        set_ah(cpu, 0x80);
        return;
    }
    let uart = &mut bus.uarts[port];
    let status = |u: &mut crate::devices::uart::Uart| -> u16 {
        let lsr = u.read(5) as u16;
        let msr = u.read(6) as u16;
        lsr << 8 | msr
    };
    match ah(cpu) {
        0x00 => {
            // Initialise: baud rate bits 7-5, parity, stop bits, word length.
            const DIVISORS: [u16; 8] = [0x417, 0x300, 0x180, 0xC0, 0x60, 0x30, 0x18, 0x0C];
            let a = al(cpu);
            let div = DIVISORS[(a >> 5) as usize];
            uart.write(3, 0x80);
            uart.write(0, div as u8);
            uart.write(1, (div >> 8) as u8);
            uart.write(3, a & 0x1F);
            let s = status(uart);
            set_ax(cpu, s);
        }
        0x01 => {
            uart.write(0, al(cpu));
            let s = status(uart);
            set_ah(cpu, (s >> 8) as u8);
        }
        0x02 => {
            let lsr = uart.read(5);
            if lsr & 1 != 0 {
                let b = uart.read(0);
                set_al(cpu, b);
                set_ah(cpu, lsr & 0x1E);
            } else {
                set_ah(cpu, 0x80 | lsr); // time-out
            }
        }
        0x03 => {
            let s = status(uart);
            set_ax(cpu, s);
        }
        _ => bios.unimplemented(cpu, 0x14),
    }
}

/// The E820 map: conventional memory, the EBDA/ROM hole, RAM above 1 MiB.
fn e820_entries(ram: u64) -> [(u64, u64, u32); 3] {
    [
        (0, 0x9_FC00, 1),
        (0xF_0000, 0x1_0000, 2),
        (0x10_0000, ram.saturating_sub(0x10_0000), 1),
    ]
}

pub fn int15(bios: &mut Bios, cpu: &mut Cpu, bus: &mut PcBus) {
    let ram = cpu.mem.size() as u64;
    match ah(cpu) {
        0x24 => match al(cpu) {
            0x00 | 0x01 => {
                let on = al(cpu) == 1;
                cpu.mem.set_a20(on);
                cpu.flush_decode_cache();
                cpu.flush_tlb(false);
                bus.kbc.a20 = on;
                set_ah(cpu, 0);
                set_cf(cpu, false);
            }
            0x02 => {
                let on = cpu.mem.a20();
                set_al(cpu, on as u8);
                set_ah(cpu, 0);
                set_cf(cpu, false);
            }
            0x03 => {
                set_reg16(cpu, EBX, 0x0003); // keyboard controller and port 0x92
                set_ah(cpu, 0);
                set_cf(cpu, false);
            }
            _ => {
                set_ah(cpu, 0x86);
                set_cf(cpu, true);
            }
        },
        0x4F => set_cf(cpu, true), // keyboard intercept: process the key
        0x83 => super::rtc::event_wait(cpu, bus),
        0xC2 => super::mouse::int15_c2(cpu, bus),
        0x86 => super::rtc::wait(cpu, bus),
        0x87 => {
            // Block move: CX words between the descriptors at ES:SI+10h and +18h.
            let es = cpu.seg[Seg::Es as usize].selector;
            let si = cpu.gpr[crate::cpu::state::ESI] as u16;
            let base = |off: u16| -> u32 {
                rd16(cpu, es, si.wrapping_add(off + 2)) as u32
                    | (rd8(cpu, es, si.wrapping_add(off + 4)) as u32) << 16
                    | (rd8(cpu, es, si.wrapping_add(off + 7)) as u32) << 24
            };
            let (src, dst) = (base(0x10), base(0x18));
            let bytes = cx(cpu) as u32 * 2;
            for i in 0..bytes {
                let v = cpu.mem.read_u8(src.wrapping_add(i));
                cpu.mem.write_u8(dst.wrapping_add(i), v);
            }
            cpu.sync_code_writes();
            set_ah(cpu, 0);
            set_cf(cpu, false);
        }
        0x88 => {
            let kib = (ram.saturating_sub(1 << 20) / 1024).min(0xFC00) as u16;
            set_ax(cpu, kib);
            set_cf(cpu, false);
        }
        0x90 | 0x91 => {
            set_ah(cpu, 0);
            set_cf(cpu, false);
        }
        0xC0 => {
            let table = rd16(cpu, 0xF000, 0xDF00 + 12);
            cpu.load_seg_real(Seg::Es, 0xF000);
            set_reg16(cpu, EBX, table);
            set_ah(cpu, 0);
            set_cf(cpu, false);
        }
        0xE8 if al(cpu) == 0x01 => {
            // E801: KiB between 1 and 16 MiB, 64 KiB blocks above 16 MiB.
            let low = (ram.saturating_sub(1 << 20) / 1024).min(15 * 1024) as u16;
            let high = (ram.saturating_sub(16 << 20) / 65_536).min(0xFFFF) as u16;
            for r in [EAX, ECX] {
                set_reg16(cpu, r, low);
            }
            for r in [EBX, EDX] {
                set_reg16(cpu, r, high);
            }
            set_cf(cpu, false);
        }
        0xE8 if al(cpu) == 0x20 && cpu.gpr[EDX] == 0x534D_4150 => {
            let entries = e820_entries(ram);
            let i = cpu.gpr[EBX] as usize;
            let Some(&(base, len, kind)) = entries.get(i) else {
                set_cf(cpu, true);
                return;
            };
            let es = cpu.seg[Seg::Es as usize].selector;
            let di = cpu.gpr[EDI] as u16;
            let mut e = [0u8; 20];
            e[0..8].copy_from_slice(&base.to_le_bytes());
            e[8..16].copy_from_slice(&len.to_le_bytes());
            e[16..20].copy_from_slice(&kind.to_le_bytes());
            super::write_block(cpu, es, di, &e);
            cpu.gpr[EAX] = 0x534D_4150;
            cpu.gpr[ECX] = 20;
            cpu.gpr[EBX] = if i + 1 < entries.len() {
                i as u32 + 1
            } else {
                0
            };
            set_cf(cpu, false);
        }
        _ => {
            bios.unimplemented(cpu, 0x15);
            set_ah(cpu, 0x86);
            set_cf(cpu, true);
        }
    }
}

pub fn int1a(bios: &mut Bios, cpu: &mut Cpu, bus: &mut PcBus) {
    let mut rtc = |reg: u8| {
        bus.cmos.write(0x70, reg);
        bus.cmos.read(0x71, bus.now_ns())
    };
    match ah(cpu) {
        0x00 => {
            let lo = rd16(cpu, 0x40, 0x6C);
            let hi = rd16(cpu, 0x40, 0x6E);
            let midnight = rd8(cpu, 0x40, 0x70);
            wr8(cpu, 0x40, 0x70, 0);
            set_reg16(cpu, ECX, hi);
            set_reg16(cpu, EDX, lo);
            set_al(cpu, midnight);
        }
        0x01 => {
            let (c, d) = (cx(cpu), dx(cpu));
            wr16(cpu, 0x40, 0x6C, d);
            wr16(cpu, 0x40, 0x6E, c);
            wr8(cpu, 0x40, 0x70, 0);
        }
        0x02 => {
            let (h, m, s) = (rtc(4), rtc(2), rtc(0));
            set_reg16(cpu, ECX, (h as u16) << 8 | m as u16);
            set_reg16(cpu, EDX, (s as u16) << 8);
            set_cf(cpu, false);
        }
        0x04 => {
            let (c, y, mo, d) = (rtc(0x32), rtc(9), rtc(8), rtc(7));
            set_reg16(cpu, ECX, (c as u16) << 8 | y as u16);
            set_reg16(cpu, EDX, (mo as u16) << 8 | d as u16);
            set_cf(cpu, false);
        }
        0x03 | 0x05 => set_cf(cpu, false), // setting the clock: accepted, not kept
        0xB1 => {
            // PCI BIOS: this PC has no PCI bus ("function not supported").
            set_ah(cpu, 0x81);
            set_cf(cpu, true);
        }
        _ => {
            bios.unimplemented(cpu, 0x1A);
            set_cf(cpu, true);
        }
    }
}
