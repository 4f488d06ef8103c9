//! The PC's devices and the port bus that routes I/O to them.
//!
//! Each device keeps its state in a plain struct (pic.rs, pit.rs, ...). `PcBus` owns them,
//! keeps virtual time (derived from the CPU's instruction count, so runs are reproducible),
//! turns device outputs into IRQ lines on the PIC, and tells the CPU about requests that
//! reach beyond the bus (A20, reset, BIOS service calls).

pub mod ata;
pub mod atapi;
pub mod cmos;
pub mod dma;
pub mod fdc;
pub mod kbc;
pub mod mouse;
pub mod pic;
pub mod pit;
pub mod uart;
pub mod vga;

#[cfg(test)]
mod fuzz;

use crate::io::debug::DebugPorts;
use crate::io::{BusRequest, PortBus};
use crate::mem::Memory;
use crate::storage::Disk;

/// The port a ROM stub of the built-in BIOS writes to hand a service call to the emulator.
pub const BIOS_SERVICE_PORT: u16 = 0xE7;

/// COM1-COM4 base ports and IRQs.
const UART_PORTS: [(u16, u8); 4] = [(0x3F8, 4), (0x2F8, 3), (0x3E8, 4), (0x2E8, 3)];

pub struct PcBus {
    pub pic: pic::Pic,
    pub pit: pit::Pit,
    pub cmos: cmos::Cmos,
    pub kbc: kbc::Kbc,
    pub uarts: [uart::Uart; 4],
    pub debug: DebugPorts,
    /// The primary and secondary ATA channels (they own the hard disks).
    pub ata: [ata::Channel; 2],
    /// The 8237A pair and the floppy controller (which owns drives A: and B:).
    pub dma: dma::Dma,
    pub fdc: fdc::Fdc,
    /// Virtual time is the CPU's instruction count times `ns_per_instr` (a halted CPU has
    /// its idle time added to the count by the machine).
    pub ns_per_instr: u64,
    now_ns: u64,
    request: Option<BusRequest>,
    /// The VGA; `Memory` holds the same device for the video window (see vga/mod.rs).
    pub vga: vga::SharedVga,
}

impl PcBus {
    pub fn new(start_secs: u64, ram_bytes: u64) -> PcBus {
        let mut cmos = cmos::Cmos::new(start_secs);
        cmos.set_memory(ram_bytes);
        PcBus {
            pic: pic::Pic::default(),
            pit: pit::Pit::default(),
            cmos,
            kbc: kbc::Kbc::default(),
            uarts: Default::default(),
            debug: DebugPorts::new(),
            ata: Default::default(),
            dma: dma::Dma::default(),
            fdc: fdc::Fdc::default(),
            ns_per_instr: 10,
            now_ns: 0,
            request: None,
            vga: vga::Vga::shared(),
        }
    }

    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    fn pit_now(&self) -> u64 {
        pit::ns_to_ticks(self.now_ns)
    }

    /// Sets virtual time from the instruction count (port accesses: devices read the time
    /// of the access; IRQ lines are updated by the accesses that change them).
    fn set_time(&mut self, icount: u64) {
        self.now_ns = self.now_ns.max(icount.saturating_mul(self.ns_per_instr));
    }

    /// Moves virtual time to instruction count `icount` and turns timer edges that passed
    /// into IRQs: the scheduler's step between slices.
    pub fn sync(&mut self, icount: u64) {
        self.set_time(icount);
        self.update_irqs();
    }

    /// When the next timer interrupt (PIT, RTC) or typematic repeat is due, in virtual
    /// nanoseconds.
    pub fn next_event_ns(&self) -> Option<u64> {
        let pit = self.pit.next_irq0(self.pit_now()).map(pit::ticks_to_ns);
        let rtc = self.cmos.next_event_ns(self.now_ns);
        let keyboard = self.kbc.next_event_ns();
        [pit, rtc, keyboard].into_iter().flatten().min()
    }

    /// Instructions until the next timer event (at least 1).
    pub fn instructions_until_event(&self) -> Option<u64> {
        let ns = self.next_event_ns()?;
        Some((ns.saturating_sub(self.now_ns) / self.ns_per_instr).max(1))
    }

    /// Device outputs to PIC inputs.
    fn update_irqs(&mut self) {
        let now = self.pit_now();
        if self.pit.take_irq0_edges(now) > 0 {
            self.pic.pulse_irq(0);
        }
        self.kbc.tick(self.now_ns);
        self.pic.set_irq(1, self.kbc.irq1);
        self.pic.set_irq(12, self.kbc.irq12);
        let com24 = self.uarts[1].irq() || self.uarts[3].irq();
        let com13 = self.uarts[0].irq() || self.uarts[2].irq();
        self.pic.set_irq(3, com24);
        self.pic.set_irq(4, com13);
        self.pic.set_irq(6, self.fdc.irq());
        self.cmos.update(self.now_ns);
        self.pic.set_irq(8, self.cmos.irq());
        self.pic.set_irq(14, self.ata[0].irq());
        self.pic.set_irq(15, self.ata[1].irq());
        let raised = std::mem::take(&mut self.fdc.raised)
            | self.ata.iter_mut().any(|c| std::mem::take(&mut c.raised));
        if raised && self.request.is_none() {
            self.request = Some(BusRequest::Interrupt);
        }
    }

    /// Runs a DMA transfer a device is waiting for (the machine calls this between CPU
    /// slices, where it has both the bus and memory). Returns whether memory was written.
    pub fn run_dma(&mut self, mem: &mut Memory) -> bool {
        if !self.fdc.wants_dma() {
            return false;
        }
        let wrote = self.fdc.run_dma(&mut self.dma, mem);
        self.update_irqs();
        wrote
    }

    /// Floppy drive A: or B:.
    pub fn floppy(&mut self, n: usize) -> Option<&mut Disk> {
        self.fdc.drives.get_mut(n)?.as_mut()
    }

    /// How many floppy drives are attached.
    pub fn floppy_count(&self) -> usize {
        self.fdc.drives.iter().filter(|d| d.is_some()).count()
    }

    /// The hard disk the BIOS calls drive 80h + `n`: primary master, primary slave,
    /// secondary master, secondary slave.
    pub fn hard_disk(&mut self, n: usize) -> Option<&mut Disk> {
        let (ch, dev) = (n / 2, n % 2);
        let d = self.ata.get_mut(ch)?.drives[dev].as_mut()?;
        (!d.atapi).then_some(&mut d.disk)
    }

    /// How many hard disks are attached (they are numbered without gaps from 80h).
    pub fn hard_disk_count(&mut self) -> usize {
        (0..4).take_while(|&n| self.hard_disk(n).is_some()).count()
    }

    /// Which ATA channel and register an I/O port is: (channel, register, control block).
    fn ata_port(port: u16) -> Option<(usize, u16, bool)> {
        match port {
            0x1F0..=0x1F7 => Some((0, port - 0x1F0, false)),
            0x170..=0x177 => Some((1, port - 0x170, false)),
            0x3F6 => Some((0, 0, true)),
            0x376 => Some((1, 0, true)),
            _ => None,
        }
    }

    fn read8(&mut self, port: u16) -> u8 {
        if dma::Dma::claims(port) {
            return self.dma.read(port);
        }
        if matches!(port, 0x3F0..=0x3F5 | 0x3F7) {
            let v = self.fdc.read(port);
            self.update_irqs();
            return v;
        }
        if let Some((ch, reg, ctl)) = Self::ata_port(port) {
            let v = if ctl {
                self.ata[ch].read_alt_status()
            } else {
                self.ata[ch].read(reg)
            };
            self.update_irqs();
            return v;
        }
        match port {
            0x20 | 0x21 | 0xA0 | 0xA1 | 0x4D0 | 0x4D1 => self.pic.read(port),
            0x40..=0x43 => {
                let now = self.pit_now();
                self.pit.read(port, now)
            }
            0x60 | 0x64 | 0x92 => {
                let v = self.kbc.read(port);
                if port == 0x60 {
                    // The 8042 drops its interrupt line when the byte is read and raises
                    // it again for the next one: an edge per byte.
                    self.pic.set_irq(1, false);
                    self.pic.set_irq(12, false);
                }
                self.update_irqs();
                v
            }
            0x61 => {
                let out2 = self.pit.channels[2].output(self.pit_now());
                self.kbc.read61(out2)
            }
            0x70 | 0x71 => {
                let v = self.cmos.read(port, self.now_ns);
                self.update_irqs();
                v
            }
            0x3B0..=0x3DF | 0x1CE | 0x1CF => vga::lock(&self.vga).read_port(port, self.now_ns),
            _ => {
                for (i, (base, _)) in UART_PORTS.iter().enumerate() {
                    if (*base..*base + 8).contains(&port) {
                        let v = self.uarts[i].read(port - base);
                        self.update_irqs();
                        return v;
                    }
                }
                self.debug.read(port, 1) as u8
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        if dma::Dma::claims(port) {
            self.dma.write(port, v);
            if self.fdc.wants_dma() && self.request.is_none() {
                // The guest may unmask the channel after the command: run it now.
                self.request = Some(BusRequest::Interrupt);
            }
            return;
        }
        if matches!(port, 0x3F0..=0x3F5 | 0x3F7) {
            self.fdc.write(port, v);
            self.update_irqs();
            return;
        }
        if let Some((ch, reg, ctl)) = Self::ata_port(port) {
            if ctl {
                self.ata[ch].write_control(v);
            } else {
                self.ata[ch].write(reg, v);
            }
            self.update_irqs();
            return;
        }
        match port {
            0x20 | 0x21 | 0xA0 | 0xA1 | 0x4D0 | 0x4D1 => self.pic.write(port, v),
            0x40..=0x43 => {
                let now = self.pit_now();
                self.pit.write(port, v, now);
            }
            0x60 | 0x64 | 0x92 => {
                match self.kbc.write(port, v) {
                    kbc::KbcAction::A20(on) => self.request = Some(BusRequest::A20(on)),
                    kbc::KbcAction::Reset => self.request = Some(BusRequest::Reset),
                    kbc::KbcAction::None => {}
                }
                self.update_irqs();
            }
            0x61 => {
                self.kbc.port61 = v;
                let now = self.pit_now();
                self.pit.set_gate2(v & 1 != 0, now);
            }
            0x70 | 0x71 => {
                self.cmos.write(port, v);
                self.update_irqs();
            }
            // Clears the FPU error latch (FERR# -> IRQ 13), as on the PC/AT.
            0xF0 => self.pic.set_irq(13, false),
            BIOS_SERVICE_PORT => self.request = Some(BusRequest::BiosCall),
            0x3B0..=0x3DF | 0x1CE | 0x1CF => vga::lock(&self.vga).write_port(port, v, self.now_ns),
            _ => {
                for (i, (base, _)) in UART_PORTS.iter().enumerate() {
                    if (*base..*base + 8).contains(&port) {
                        self.uarts[i].write(port - base, v);
                        self.update_irqs();
                        return;
                    }
                }
                self.debug.write(port, 1, v as u32);
            }
        }
    }
}

impl PortBus for PcBus {
    fn read(&mut self, port: u16, size: u8) -> u32 {
        if let Some(ch) = [0x1F0u16, 0x170].iter().position(|&p| p == port) {
            // 16- and 32-bit data port accesses move 2 or 4 bytes of the sector buffer.
            let v = self.ata[ch].read_data(size);
            self.update_irqs();
            return v;
        }
        if size == 2 && matches!(port, 0x1CE | 0x1CF) {
            // The dispi registers are 16 bits wide.
            return vga::lock(&self.vga).read_port16(port, self.now_ns) as u32;
        }
        let mut v = 0u32;
        for k in 0..size as u16 {
            v |= (self.read8(port.wrapping_add(k)) as u32) << (8 * k);
        }
        v
    }

    fn write(&mut self, port: u16, size: u8, value: u32) {
        if matches!(port, 0xE9 | 0xF4 | 0x80 | 0x190) {
            // Debug ports take the whole value at once.
            self.debug.write(port, size, value);
            return;
        }
        if let Some(ch) = [0x1F0u16, 0x170].iter().position(|&p| p == port) {
            self.ata[ch].write_data(size, value);
            self.update_irqs();
            return;
        }
        if size == 2 && matches!(port, 0x1CE | 0x1CF) {
            vga::lock(&self.vga).write_port16(port, value as u16, self.now_ns);
            return;
        }
        for k in 0..size as u16 {
            self.write8(port.wrapping_add(k), (value >> (8 * k)) as u8);
        }
    }

    fn tick(&mut self, icount: u64) {
        self.set_time(icount);
    }

    fn exit_request(&self) -> Option<i32> {
        self.debug.exit_request()
    }

    fn take_request(&mut self) -> Option<BusRequest> {
        self.request.take()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}
