//! The BIOS's use of the RTC interrupt: INT 15h AH=83h (event wait: set a flag byte after
//! an interval), AH=86h (wait an interval) and the IRQ8 handler INT 70h that counts the
//! periodic interrupts (1024 Hz, 976 us each) down. The state lives in the BIOS data area
//! where AT BIOSes keep it: 40:98h user flag pointer, 40:9Ch microseconds left, 40:A0h
//! wait flag (bit 0 active, bit 7 elapsed).

use super::{al, cx, dx, rd16, rd8, set_ah, set_cf, wait_and_retry, wr16, wr8};
use crate::cpu::state::{Seg, EBX};
use crate::cpu::Cpu;
use crate::devices::PcBus;

const FLAG_PTR: u16 = 0x98;
const COUNT: u16 = 0x9C;
const WAIT_FLAG: u16 = 0xA0;
/// Microseconds per periodic interrupt at the 1024 Hz rate.
const TICK_US: u32 = 976;

fn set_periodic(bus: &mut PcBus, on: bool) {
    let now = bus.now_ns();
    let b = bus.cmos.read_reg(0x0B, now);
    if on {
        // 32.768 kHz time base, 1024 Hz periodic rate.
        bus.cmos.write_reg(0x0A, 0x26);
        bus.cmos.write_reg(0x0B, b | 0x40);
    } else {
        bus.cmos.write_reg(0x0B, b & !0x40);
    }
}

/// Starts a wait of CX:DX microseconds that ends by setting bit 7 of seg:off.
fn start(cpu: &mut Cpu, bus: &mut PcBus, seg: u16, off: u16) {
    wr16(cpu, 0x40, FLAG_PTR, off);
    wr16(cpu, 0x40, FLAG_PTR + 2, seg);
    wr16(cpu, 0x40, COUNT, dx(cpu));
    wr16(cpu, 0x40, COUNT + 2, cx(cpu));
    wr8(cpu, 0x40, WAIT_FLAG, 0x01);
    set_periodic(bus, true);
}

/// INT 15h AH=83h: AL=0 starts an event wait (flag at ES:BX), AL=1 cancels it.
pub fn event_wait(cpu: &mut Cpu, bus: &mut PcBus) {
    match al(cpu) {
        0x00 => {
            if rd8(cpu, 0x40, WAIT_FLAG) & 1 != 0 {
                set_ah(cpu, 0x80); // a wait is already running
                set_cf(cpu, true);
                return;
            }
            let es = cpu.seg[Seg::Es as usize].selector;
            let bx = cpu.gpr[EBX] as u16;
            start(cpu, bus, es, bx);
            set_cf(cpu, false);
        }
        0x01 => {
            wr8(cpu, 0x40, WAIT_FLAG, 0);
            set_periodic(bus, false);
            set_cf(cpu, false);
        }
        _ => {
            set_ah(cpu, 0x86);
            set_cf(cpu, true);
        }
    }
}

/// INT 15h AH=86h: waits CX:DX microseconds with interrupts on. The service starts an
/// event wait on the BIOS's own flag (40:A0h) and halts; each interrupt brings it back here
/// until INT 70h marks the time as elapsed.
pub fn wait(cpu: &mut Cpu, bus: &mut PcBus) {
    let flag = rd8(cpu, 0x40, WAIT_FLAG);
    let ours = rd16(cpu, 0x40, FLAG_PTR) == WAIT_FLAG && rd16(cpu, 0x40, FLAG_PTR + 2) == 0x40;
    if ours && flag & 0x80 != 0 {
        wr8(cpu, 0x40, WAIT_FLAG, 0);
        set_cf(cpu, false);
        return;
    }
    if ours && flag & 1 != 0 {
        wait_and_retry(cpu);
        return;
    }
    if flag & 1 != 0 {
        set_ah(cpu, 0x83); // an INT 15h AH=83h wait is running
        set_cf(cpu, true);
        return;
    }
    if cx(cpu) == 0 && dx(cpu) == 0 {
        set_cf(cpu, false);
        return;
    }
    start(cpu, bus, 0x40, WAIT_FLAG);
    wait_and_retry(cpu);
}

/// INT 70h (IRQ8): acknowledges the RTC and counts a running wait down.
pub fn int70(cpu: &mut Cpu, bus: &mut PcBus) {
    let c = bus.cmos.read_reg(0x0C, bus.now_ns());
    if c & 0x40 != 0 && rd8(cpu, 0x40, WAIT_FLAG) & 1 != 0 {
        let left = rd16(cpu, 0x40, COUNT) as u32 | (rd16(cpu, 0x40, COUNT + 2) as u32) << 16;
        match left.checked_sub(TICK_US) {
            Some(l) if l > 0 => {
                wr16(cpu, 0x40, COUNT, l as u16);
                wr16(cpu, 0x40, COUNT + 2, (l >> 16) as u16);
            }
            _ => {
                wr8(cpu, 0x40, WAIT_FLAG, 0);
                set_periodic(bus, false);
                let off = rd16(cpu, 0x40, FLAG_PTR);
                let seg = rd16(cpu, 0x40, FLAG_PTR + 2);
                let v = rd8(cpu, seg, off);
                wr8(cpu, seg, off, v | 0x80);
            }
        }
    }
    bus.pic.write(0xA0, 0x20);
    bus.pic.write(0x20, 0x20);
}
