//! The BIOS's pointing-device services: INT 15h AH=C2h (enable/disable, reset, sample rate,
//! resolution, type, initialise, status/scaling, set handler) on the PS/2 mouse behind the
//! 8042, and the packet collector the IRQ12 handler (roms/bios-mouse.inc) calls. State in
//! the EBDA as AT BIOSes keep it: 22h far handler, 26h bytes collected, 27h flags (bit 7
//! handler installed, bits 0-2 packet size - 1), 28h-2Fh packet bytes.

use super::tables::EBDA_SEG;
use super::{al, rd8, set_ah, set_al, set_cf, set_reg16, wr16, wr8};
use crate::cpu::state::{Seg, EBX, ECX, EDX};
use crate::cpu::Cpu;
use crate::devices::PcBus;

const HANDLER: u16 = 0x22;
const INDEX: u16 = 0x26;
const FLAGS: u16 = 0x27;
const PACKET: u16 = 0x28;

/// Sends bytes to the mouse through the 8042 and returns its answer (consumed here, so the
/// IRQ12 handler does not see it).
fn mouse(bus: &mut PcBus, bytes: &[u8]) -> Vec<u8> {
    let mut answer = Vec::new();
    for &b in bytes {
        bus.kbc.write(0x64, 0xD4);
        bus.kbc.write(0x60, b);
        while bus.kbc.read(0x64) & 0x21 == 0x21 {
            answer.push(bus.kbc.read(0x60));
        }
    }
    answer
}

/// Lets mouse bytes interrupt: 8042 command byte bit 1 on, aux port on, IRQ12 unmasked.
fn enable_irq12(bus: &mut PcBus) {
    bus.kbc.write(0x64, 0x20);
    let cb = bus.kbc.read(0x60);
    bus.kbc.write(0x64, 0x60);
    bus.kbc.write(0x60, (cb | 0x02) & !0x20);
    let mask = bus.pic.read(0xA1);
    bus.pic.write(0xA1, mask & !0x10);
    let mask = bus.pic.read(0x21);
    bus.pic.write(0x21, mask & !0x04);
}

fn packet_size(cpu: &Cpu) -> u8 {
    (rd8(cpu, EBDA_SEG, FLAGS) & 7) + 1
}

/// INT 15h AH=C2h.
pub fn int15_c2(cpu: &mut Cpu, bus: &mut PcBus) {
    let bh = (cpu.gpr[EBX] >> 8) as u8;
    let ok = match al(cpu) {
        0x00 => match bh {
            0 => mouse(bus, &[0xF5]).first() == Some(&0xFA),
            1 if rd8(cpu, EBDA_SEG, FLAGS) & 0x80 == 0 => {
                set_ah(cpu, 0x05); // no handler installed
                set_cf(cpu, true);
                return;
            }
            1 => {
                enable_irq12(bus);
                mouse(bus, &[0xF4]).first() == Some(&0xFA)
            }
            _ => false,
        },
        0x01 | 0x05 => {
            if al(cpu) == 0x05 {
                if !(1..=8).contains(&bh) {
                    set_ah(cpu, 0x02);
                    set_cf(cpu, true);
                    return;
                }
                let f = rd8(cpu, EBDA_SEG, FLAGS) & 0x80;
                wr8(cpu, EBDA_SEG, FLAGS, f | (bh - 1));
            }
            wr8(cpu, EBDA_SEG, INDEX, 0);
            let a = mouse(bus, &[0xFF]);
            if a.len() >= 3 && a[0] == 0xFA && a[1] == 0xAA {
                if al(cpu) == 0x01 {
                    set_reg16(cpu, EBX, 0x00AA | (a[2] as u16) << 8);
                }
                true
            } else {
                false
            }
        }
        0x02 if bh <= 6 => {
            let rate = [10u8, 20, 40, 60, 80, 100, 200][bh as usize];
            mouse(bus, &[0xF3, rate]) == [0xFA, 0xFA]
        }
        0x03 if bh <= 3 => mouse(bus, &[0xE8, bh]) == [0xFA, 0xFA],
        0x04 => {
            let a = mouse(bus, &[0xF2]);
            let id = a.get(1).copied().unwrap_or(0);
            cpu.gpr[EBX] = (cpu.gpr[EBX] & !0xFF00) | (id as u32) << 8;
            a.first() == Some(&0xFA)
        }
        0x06 => match bh {
            0 => {
                let a = mouse(bus, &[0xE9]);
                if a.len() == 4 {
                    cpu.gpr[EBX] = (cpu.gpr[EBX] & !0xFF) | a[1] as u32;
                    cpu.gpr[ECX] = (cpu.gpr[ECX] & !0xFF) | a[2] as u32;
                    cpu.gpr[EDX] = (cpu.gpr[EDX] & !0xFF) | a[3] as u32;
                    true
                } else {
                    false
                }
            }
            1 => mouse(bus, &[0xE6]) == [0xFA],
            2 => mouse(bus, &[0xE7]) == [0xFA],
            _ => false,
        },
        0x07 => {
            let es = cpu.seg[Seg::Es as usize].selector;
            let bx = cpu.gpr[EBX] as u16;
            wr16(cpu, EBDA_SEG, HANDLER, bx);
            wr16(cpu, EBDA_SEG, HANDLER + 2, es);
            let f = rd8(cpu, EBDA_SEG, FLAGS) & 0x7F;
            let installed = (es != 0 || bx != 0) as u8;
            wr8(cpu, EBDA_SEG, FLAGS, f | installed << 7);
            wr8(cpu, EBDA_SEG, INDEX, 0);
            true
        }
        _ => {
            set_ah(cpu, 0x01); // invalid function
            set_cf(cpu, true);
            return;
        }
    };
    set_ah(cpu, if ok { 0x00 } else { 0x03 });
    set_cf(cpu, !ok);
}

/// The IRQ12 handler's service: AL is the byte from the 8042. Answers AL = 1 with the
/// packet in BX (status), CX (X), DX (Y) when a packet is complete and a handler is set.
pub fn packet_byte(cpu: &mut Cpu, _bus: &mut PcBus) {
    let byte = al(cpu);
    let mut index = rd8(cpu, EBDA_SEG, INDEX);
    let size = packet_size(cpu);
    set_al(cpu, 0);
    if index == 0 && byte & 0x08 == 0 {
        return; // not a first byte: resynchronise
    }
    if index >= size {
        index = 0;
    }
    wr8(cpu, EBDA_SEG, PACKET + index as u16, byte);
    index += 1;
    if index < size {
        wr8(cpu, EBDA_SEG, INDEX, index);
        return;
    }
    wr8(cpu, EBDA_SEG, INDEX, 0);
    if rd8(cpu, EBDA_SEG, FLAGS) & 0x80 != 0 {
        let b = |i: u16| rd8(cpu, EBDA_SEG, PACKET + i) as u16;
        let (status, x, y) = (b(0), b(1), b(2));
        set_reg16(cpu, EBX, status);
        set_reg16(cpu, ECX, x);
        set_reg16(cpu, EDX, y);
        set_al(cpu, 1);
    }
}
