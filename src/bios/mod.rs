//! The built-in BIOS: the Rust half. roms/bios.asm provides the ROM (reset vector, interrupt
//! handlers that must be guest code, and a table of 4-byte stubs that trap here through
//! port 0xE7); this module performs POST and the services behind the stubs.
//!
//! A service sees the guest's registers as the INT left them and answers by changing
//! registers, guest memory, and the FLAGS image on the stack (CF/ZF), which the stub's IRET
//! then restores. Calls we do not implement are logged once per AH/AL and fail with CF set.

mod disk;
mod eltorito;
pub mod font;
mod keyboard;
mod mouse;
mod rtc;
mod system;
mod tables;
mod vbe;
mod vga_gfx;
pub mod vga_modes;
mod vga_palette;
mod video;

use std::collections::HashSet;

use crate::cpu::state::{Flags, Seg, EAX, EBX, ECX, EDX, ESP};
use crate::cpu::Cpu;
use crate::devices::PcBus;
use crate::storage::Disk;

/// The BIOS ROM built from roms/bios.asm.
pub const BIOS_ROM: &[u8] = include_bytes!("../../roms/bios.bin");

/// Where the slot table lives in segment F000, and the internal service numbers.
const SLOTS: u32 = 0xE000;
const SLOT_COUNT: u32 = 0x110;
const SLOT_POST: u32 = 0x100;
const SLOT_KEY: u32 = 0x101;
const SLOT_MOUSE: u32 = 0x102;
/// The table of handler offsets roms/bios.asm keeps at F000:DF00.
const HANDLER_TABLE: u32 = 0xF_DF00;

/// The INT n vectors served by Rust (INT 40h is the floppy half of INT 13h); the others
/// point at an IRET.
const SERVICED: [u8; 13] = [
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x40, 0x70,
];

/// Which drive the BIOS boots from first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootDevice {
    Floppy,
    HardDisk,
    /// The ATAPI CD-ROM (El Torito, no emulation).
    CdRom,
}

pub struct Bios {
    pub boot_order: Vec<BootDevice>,
    /// Status of the last INT 13h operation per drive class (floppy, hard disk).
    last_status: [u8; 2],
    logged: HashSet<(u8, u8)>,
    /// What the last boot loaded from the CD (El Torito), with its emulated drive.
    cd_boot: Option<eltorito::CdBoot>,
}

/// What the machine does after a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum After {
    Resume,
    /// No bootable device: stop with this message.
    NoBoot(String),
}

impl Default for Bios {
    fn default() -> Self {
        Bios::new()
    }
}

impl Bios {
    /// The BIOS finds its disks on the bus (the floppy controller's drives, the ATA channels).
    pub fn new() -> Bios {
        Bios {
            boot_order: vec![BootDevice::Floppy, BootDevice::HardDisk],
            last_status: [0; 2],
            logged: HashSet::new(),
            cd_boot: None,
        }
    }

    /// The service a BIOS stub asked for, from the address just after its OUT.
    fn slot_of(cpu: &Cpu) -> Option<u32> {
        let cs = &cpu.seg[Seg::Cs as usize];
        let linear = cs.base.wrapping_add(cpu.eip);
        let off = linear.wrapping_sub(0xF_0000 + SLOTS + 2);
        if off < SLOT_COUNT * 4 && off & 3 == 0 {
            Some(off / 4)
        } else {
            None
        }
    }

    /// Performs the service the stub at CS:EIP asked for. Writes to port 0xE7 from
    /// anywhere else are ignored.
    pub fn service(&mut self, cpu: &mut Cpu, bus: &mut PcBus) -> After {
        let Some(slot) = Bios::slot_of(cpu) else {
            return After::Resume;
        };
        match slot {
            SLOT_POST => return self.post(cpu, bus),
            SLOT_KEY => keyboard::scancode(cpu, bus),
            SLOT_MOUSE => mouse::packet_byte(cpu, bus),
            0x10 => video::int10(self, cpu, bus),
            0x11 => {
                let equipment = rd16(cpu, 0x40, 0x10);
                set_ax(cpu, equipment);
            }
            0x12 => {
                let kib = rd16(cpu, 0x40, 0x13);
                set_ax(cpu, kib);
            }
            0x13 | 0x40 => disk::int13(self, cpu, bus),
            0x14 => system::int14(self, cpu, bus),
            0x15 => system::int15(self, cpu, bus),
            0x16 => keyboard::int16(self, cpu, bus),
            0x17 => {
                // No printer: "time-out" status.
                set_ah(cpu, 0x01);
            }
            0x18 => return After::NoBoot("INT 18h: no bootable disk (ROM BASIC requested)".into()),
            0x19 => return self.boot(cpu, bus),
            0x70 => rtc::int70(cpu, bus),
            0x1A => system::int1a(self, cpu, bus),
            _ => {
                self.unimplemented(cpu, slot as u8);
                set_cf(cpu, true);
            }
        }
        After::Resume
    }

    /// Logs a call we do not implement, once per (vector, AH).
    fn unimplemented(&mut self, cpu: &Cpu, vector: u8) {
        let ah = ah(cpu);
        if self.logged.insert((vector, ah)) {
            eprintln!(
                "emu: BIOS INT {vector:02X}h AH={ah:02X}h AL={:02X}h is not implemented",
                cpu.gpr[EAX] as u8
            );
        }
    }

    /// POST: interrupt vectors, BIOS data area, interrupt controller and timer, the
    /// screen, then the boot.
    fn post(&mut self, cpu: &mut Cpu, bus: &mut PcBus) -> After {
        let handler = |i: u32| -> u16 {
            let a = HANDLER_TABLE + 2 * i;
            cpu_mem_u16(cpu, a)
        };
        let (int08, int09, irq_master, irq_slave, dummy, dpt, _config, int74) = (
            handler(0),
            handler(1),
            handler(2),
            handler(3),
            handler(4),
            handler(5),
            handler(6),
            handler(7),
        );
        let int75 = handler(8);
        // Interrupt vectors.
        for v in 0..256u32 {
            let off = match v {
                0x08 => int08,
                0x09 => int09,
                0x0A..=0x0F => irq_master,
                0x74 if int74 != 0 => int74,
                0x75 if int75 != 0 => int75,
                0x70..=0x77 => irq_slave,
                _ => dummy,
            };
            wr16(cpu, 0, (v * 4) as u16, off);
            wr16(cpu, 0, (v * 4 + 2) as u16, 0xF000);
        }
        for &v in SERVICED.iter() {
            wr16(cpu, 0, v as u16 * 4, (SLOTS + 4 * v as u32) as u16);
        }
        wr16(cpu, 0, 0x1E * 4, dpt);
        // The BIOS data area.
        for off in 0..0x100u16 {
            wr8(cpu, 0x40, off, 0);
        }
        let coms = [0x3F8u16, 0x2F8, 0x3E8, 0x2E8];
        for (i, port) in coms.iter().enumerate() {
            wr16(cpu, 0x40, 2 * i as u16, *port);
        }
        let nfloppy = bus.floppy_count() as u16;
        let mut equipment = 0x0020 | 4 << 9; // 80x25 colour, four serial ports
        if nfloppy > 0 {
            equipment |= 1 | (nfloppy - 1) << 6;
        }
        if cpu.model >= crate::cpu::CpuModel::I386 {
            equipment |= 2; // math coprocessor
        }
        wr16(cpu, 0x40, 0x10, equipment);
        wr16(cpu, 0x40, 0x13, 640);
        wr16(cpu, 0x40, 0x1A, 0x1E);
        wr16(cpu, 0x40, 0x1C, 0x1E);
        wr16(cpu, 0x40, 0x80, 0x1E);
        wr16(cpu, 0x40, 0x82, 0x3E);
        let nhd = bus.hard_disk_count() as u8;
        wr8(cpu, 0x40, 0x75, nhd);
        // Ticks since midnight from the RTC.
        let secs = {
            let mut r = |reg: u8| {
                bus.cmos.write(0x70, reg);
                let v = bus.cmos.read(0x71, bus.now_ns());
                ((v >> 4) * 10 + (v & 0xF)) as u64
            };
            r(4) * 3600 + r(2) * 60 + r(0)
        };
        let ticks = (secs * 1_193_182 / 65_536) as u32;
        wr16(cpu, 0x40, 0x6C, ticks as u16);
        wr16(cpu, 0x40, 0x6E, (ticks >> 16) as u16);
        // CMOS: floppy types and equipment.
        let ft = |d: &Option<Disk>| d.as_ref().map(|d| d.floppy_type).unwrap_or(0);
        bus.cmos.ram[0x10] = ft(&bus.fdc.drives[0]) << 4 | ft(&bus.fdc.drives[1]);
        bus.cmos.ram[0x14] = (equipment & 0xFF) as u8;
        for (port, v) in crate::devices::pic::AT_PROGRAMMING {
            bus.pic.write(port, v);
        }
        tables::setup(cpu, bus);
        // IRQ8 (the RTC, for INT 15h waits) unmasked.
        bus.pic.write(0xA1, 0xFE);
        // DMA: the second 8237's channel 4 cascades the first (unmasked, as PC BIOSes
        // leave it, so floppy and sound drivers only program their own channel).
        bus.dma.write(0xD6, 0xC0);
        bus.dma.write(0xD4, 0x00);
        // PIT channel 0: mode 3, 65536 -> 18.2 Hz.
        let now = crate::devices::pit::ns_to_ticks(bus.now_ns());
        bus.pit.write(0x43, 0x36, now);
        bus.pit.write(0x40, 0, now);
        bus.pit.write(0x40, 0, now);
        // A20 stays off, as on a PC at boot.
        video::set_mode(cpu, 3);
        self.boot(cpu, bus)
    }

    /// INT 19h / the end of POST: loads the first sector of the first bootable drive to
    /// 0000:7C00 and jumps there with DL = the drive.
    fn boot(&mut self, cpu: &mut Cpu, bus: &mut PcBus) -> After {
        let order = self.boot_order.clone();
        let mut why = None;
        self.cd_boot = None;
        for dev in order {
            if dev == BootDevice::CdRom {
                match eltorito::boot(cpu, bus) {
                    Ok(b) => {
                        // The emulated drive joins the BIOS's drive counts.
                        if b.drive == 0x00 {
                            let n = (bus.floppy_count() as u16 + 1).min(2);
                            let eq = rd16(cpu, 0x40, 0x10) & !0xC1 | 1 | (n - 1) << 6;
                            wr16(cpu, 0x40, 0x10, eq);
                        } else if b.drive == 0x80 {
                            let n = (bus.hard_disk_count() as u8 + 1).min(4);
                            wr8(cpu, 0x40, 0x75, n);
                        }
                        self.cd_boot = Some(b);
                        return After::Resume;
                    }
                    Err(e) => why = Some(e),
                }
                continue;
            }
            let (drive, disk) = match dev {
                BootDevice::Floppy => (0x00u8, bus.floppy(0)),
                BootDevice::HardDisk => (0x80u8, bus.hard_disk(0)),
                BootDevice::CdRom => continue,
            };
            let Some(disk) = disk else {
                continue;
            };
            let mut sector = [0u8; 512];
            if disk.read(0, &mut sector).is_err() {
                continue;
            }
            // Hard disks must carry the boot signature; floppies are trusted, as PC BIOSes do.
            if drive == 0x80 && sector[510..512] != [0x55, 0xAA] {
                continue;
            }
            cpu.mem.load(0x7C00, &sector);
            cpu.flush_decode_cache();
            cpu.load_seg_real(Seg::Cs, 0);
            for s in [Seg::Ds, Seg::Es, Seg::Ss] {
                cpu.load_seg_real(s, 0);
            }
            cpu.gpr[ESP] = 0x7C00;
            cpu.gpr[EDX] = drive as u32;
            cpu.eip = 0x7C00;
            cpu.next_eip = 0x7C00;
            cpu.set_flag(Flags::IF, true);
            return After::Resume;
        }
        let msg = match why {
            Some(e) => format!("No bootable device (CD-ROM: {e})"),
            None => "No bootable device: attach a floppy or hard disk image".to_string(),
        };
        video::print(cpu, &msg);
        After::NoBoot(msg)
    }
}

// ---- guest access ------------------------------------------------------------------------

/// The physical address of a linear one (paging may be on under a V86 monitor).
fn phys(cpu: &Cpu, linear: u32) -> u32 {
    cpu.peek_linear(linear).unwrap_or(linear)
}

fn cpu_mem_u16(cpu: &Cpu, linear: u32) -> u16 {
    cpu.mem.read_u8(linear) as u16 | (cpu.mem.read_u8(linear.wrapping_add(1)) as u16) << 8
}

pub(crate) fn rd8(cpu: &Cpu, seg: u16, off: u16) -> u8 {
    let lin = ((seg as u32) << 4).wrapping_add(off as u32);
    cpu.mem.read_u8(phys(cpu, lin))
}

pub(crate) fn rd16(cpu: &Cpu, seg: u16, off: u16) -> u16 {
    rd8(cpu, seg, off) as u16 | (rd8(cpu, seg, off.wrapping_add(1)) as u16) << 8
}

pub(crate) fn wr8(cpu: &mut Cpu, seg: u16, off: u16, v: u8) {
    let lin = ((seg as u32) << 4).wrapping_add(off as u32);
    let p = phys(cpu, lin);
    cpu.mem.write_u8(p, v);
}

pub(crate) fn wr16(cpu: &mut Cpu, seg: u16, off: u16, v: u16) {
    wr8(cpu, seg, off, v as u8);
    wr8(cpu, seg, off.wrapping_add(1), (v >> 8) as u8);
}

/// Copies guest memory at seg:off (linear, byte by byte so 64 KiB wrap-around and paging
/// are respected) into `buf`.
pub(crate) fn read_block(cpu: &Cpu, seg: u16, off: u16, buf: &mut [u8]) {
    let base = (seg as u32) << 4;
    for (i, b) in buf.iter_mut().enumerate() {
        *b = cpu
            .mem
            .read_u8(phys(cpu, base.wrapping_add(off as u32 + i as u32)));
    }
}

pub(crate) fn write_block(cpu: &mut Cpu, seg: u16, off: u16, buf: &[u8]) {
    let base = (seg as u32) << 4;
    for (i, &b) in buf.iter().enumerate() {
        let p = phys(cpu, base.wrapping_add(off as u32 + i as u32));
        cpu.mem.write_u8(p, b);
    }
    cpu.sync_code_writes();
}

pub(crate) fn ah(cpu: &Cpu) -> u8 {
    (cpu.gpr[EAX] >> 8) as u8
}
pub(crate) fn al(cpu: &Cpu) -> u8 {
    cpu.gpr[EAX] as u8
}
pub(crate) fn set_ah(cpu: &mut Cpu, v: u8) {
    cpu.gpr[EAX] = (cpu.gpr[EAX] & !0xFF00) | (v as u32) << 8;
}
pub(crate) fn set_al(cpu: &mut Cpu, v: u8) {
    cpu.gpr[EAX] = (cpu.gpr[EAX] & !0xFF) | v as u32;
}
pub(crate) fn set_ax(cpu: &mut Cpu, v: u16) {
    cpu.gpr[EAX] = (cpu.gpr[EAX] & !0xFFFF) | v as u32;
}
pub(crate) fn reg16(cpu: &Cpu, r: usize) -> u16 {
    cpu.gpr[r] as u16
}
pub(crate) fn set_reg16(cpu: &mut Cpu, r: usize, v: u16) {
    cpu.gpr[r] = (cpu.gpr[r] & !0xFFFF) | v as u32;
}
pub(crate) fn bx(cpu: &Cpu) -> u16 {
    reg16(cpu, EBX)
}
pub(crate) fn cx(cpu: &Cpu) -> u16 {
    reg16(cpu, ECX)
}
pub(crate) fn dx(cpu: &Cpu) -> u16 {
    reg16(cpu, EDX)
}

/// The FLAGS image the stub's IRET will restore: at SS:SP+4.
fn stacked_flags_addr(cpu: &Cpu) -> u32 {
    let ss = &cpu.seg[Seg::Ss as usize];
    let sp = cpu.gpr[ESP] & 0xFFFF;
    ss.base.wrapping_add((sp + 4) & 0xFFFF)
}

fn update_stacked_flags(cpu: &mut Cpu, bit: u32, on: bool) {
    let a = stacked_flags_addr(cpu);
    let p = phys(cpu, a);
    let p1 = phys(cpu, a.wrapping_add(1));
    let mut f = cpu.mem.read_u8(p) as u32 | (cpu.mem.read_u8(p1) as u32) << 8;
    if on {
        f |= bit;
    } else {
        f &= !bit;
    }
    cpu.mem.write_u8(p, f as u8);
    cpu.mem.write_u8(p1, (f >> 8) as u8);
}

/// Sets the carry flag the caller will see.
pub(crate) fn set_cf(cpu: &mut Cpu, on: bool) {
    update_stacked_flags(cpu, Flags::CF.bits(), on);
}

/// Sets the zero flag the caller will see.
pub(crate) fn set_zf(cpu: &mut Cpu, on: bool) {
    update_stacked_flags(cpu, Flags::ZF.bits(), on);
}

/// Makes the stub run again after the next interrupt (a service that waits, such as
/// INT 16h AH=00h with an empty buffer): back to the OUT, halted with interrupts on.
pub(crate) fn wait_and_retry(cpu: &mut Cpu) {
    cpu.eip = cpu.eip.wrapping_sub(2);
    cpu.next_eip = cpu.eip;
    cpu.set_flag(Flags::IF, true);
    cpu.halted = true;
}
