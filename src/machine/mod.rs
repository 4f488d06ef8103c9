//! Builds a PC from options and runs it: the CPU, RAM, the devices on the port bus, the
//! firmware (the built-in BIOS when disks are attached, the demo ROM when nothing is, or a
//! user's ROM), and the run loop that schedules virtual time, delivers interrupts and hands
//! BIOS service calls to the Rust BIOS.

use std::path::PathBuf;

use crate::bios::{After, Bios, BootDevice};
use crate::cpu::{Cpu, CpuModel, Stop};
use crate::devices::ata::AtaDrive;
use crate::devices::PcBus;
use crate::frontend::{Frame, TextView};
use crate::io::OpenBus;
use crate::storage::{Disk, MediaKind};
use crate::{Error, Result};

mod host;
mod trace;

/// The demo firmware built from roms/demo.asm (a ROM-only guest: `--bios roms/demo.bin`).
pub const DEMO_ROM: &[u8] = include_bytes!("../../roms/demo.bin");

/// The demo disk built from roms/demo-disk.asm, booted when no image is given.
pub const DEMO_DISK: &[u8] = include_bytes!("../../roms/demo-disk.bin");

/// What a reset costs, in instruction-count time.
const RESET_COST: u64 = 1000;

/// Instructions executed between two checks of the outside world.
const SLICE: u64 = 1 << 20;

#[derive(Clone, Debug)]
pub struct MachineConfig {
    pub cpu: CpuModel,
    pub ram_mib: u32,
    /// Firmware image; `None` runs the demo ROM.
    pub bios: Option<PathBuf>,
    /// Stop after this many instructions.
    pub max_instructions: Option<u64>,
    /// Log every write to the POST code ports 0x80 and 0x190 on stderr.
    pub post_codes: bool,
    /// Copy COM1's output to stdout, and port 0xE9's for firmware images run with `bios`.
    pub echo_console: bool,
    /// Print the CPU registers when the run ends.
    pub dump_state: bool,
    /// Stop on a triple fault instead of resetting the machine.
    pub no_reboot: bool,
    /// Write an instruction trace to this file (slow: steps one instruction at a time).
    pub trace: Option<PathBuf>,
    /// Floppy images for drives A: and B:.
    pub floppies: [Option<PathBuf>; 2],
    /// Hard disk images for drives C: and D:.
    pub hard_disks: [Option<PathBuf>; 2],
    /// Boot from the hard disk before the floppy.
    pub boot_hard_disk_first: bool,
    /// An ISO image in the ATAPI CD-ROM drive (the secondary master).
    pub cdrom: Option<PathBuf>,
    /// Boot from the CD-ROM first (El Torito).
    pub boot_cdrom_first: bool,
    /// Wall-clock time of the RTC at power-on, in seconds since 1970 (None: the host's
    /// clock). A fixed value makes runs reproducible.
    pub rtc_start: Option<u64>,
    /// Keep guest disk writes in memory: image files are read, never written.
    pub snapshot: bool,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            cpu: CpuModel::P6,
            ram_mib: 32,
            bios: None,
            max_instructions: None,
            post_codes: false,
            echo_console: true,
            dump_state: false,
            no_reboot: false,
            trace: None,
            floppies: [None, None],
            hard_disks: [None, None],
            boot_hard_disk_first: false,
            cdrom: None,
            boot_cdrom_first: false,
            rtc_start: None,
            snapshot: false,
        }
    }
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest wrote to the isa-debug-exit port; the process should exit with this code.
    Exit(i32),
    /// HLT with interrupts disabled: nothing can wake the CPU.
    Halted,
    /// The instruction limit was reached.
    InstructionLimit,
    /// A triple fault with `no_reboot` set.
    TripleFault,
    /// The BIOS found nothing to boot.
    NoBootDevice(String),
    /// The user ended the run (quit key, Ctrl-C, `quit` script command).
    Stopped,
    /// The text screen showed the `--until-screen` text.
    ScreenMatched,
    /// `--timeout` seconds of wall time passed.
    Timeout,
}

pub struct Machine {
    pub cpu: Cpu,
    config: MachineConfig,
    tracer: Option<trace::Tracer>,
    /// The built-in BIOS and its disks (None when running a user's or the demo ROM).
    pub bios: Option<Bios>,
}

/// Runs `f` with the CPU and the PC bus it owns, borrowed separately.
pub fn with_bus<R>(cpu: &mut Cpu, f: impl FnOnce(&mut Cpu, &mut PcBus) -> R) -> R {
    let mut io = std::mem::replace(&mut cpu.io, Box::new(OpenBus));
    let r = {
        let bus = io
            .as_any_mut()
            .and_then(|a| a.downcast_mut::<PcBus>())
            .expect("the machine's bus is a PcBus");
        f(cpu, bus)
    };
    cpu.io = io;
    r
}

impl Machine {
    pub fn new(config: MachineConfig) -> Result<Machine> {
        if !(1..=4096).contains(&config.ram_mib) {
            return Err(Error::Usage(format!(
                "memory size {} MiB out of range (1..=4096)",
                config.ram_mib
            )));
        }
        let open = |p: &Option<PathBuf>, kind: MediaKind| -> Result<Option<Disk>> {
            p.as_ref()
                .map(|p| {
                    if config.snapshot {
                        Disk::open_snapshot(p, Some(kind))
                    } else {
                        Disk::open(p, Some(kind))
                    }
                })
                .transpose()
        };
        let mut floppies = [
            open(&config.floppies[0], MediaKind::Floppy)?,
            open(&config.floppies[1], MediaKind::Floppy)?,
        ];
        let [hda, hdb] = [
            open(&config.hard_disks[0], MediaKind::HardDisk)?,
            open(&config.hard_disks[1], MediaKind::HardDisk)?,
        ];
        let cdrom = open(&config.cdrom, MediaKind::CdRom)?;
        let nothing_given = floppies
            .iter()
            .chain([&hda, &hdb, &cdrom])
            .all(|d| d.is_none());
        if config.bios.is_none() && nothing_given {
            // No image at all: boot our own demo disk.
            floppies[0] = Some(Disk::memory_floppy("(built-in demo disk)", DEMO_DISK));
        }
        // The built-in BIOS runs unless the user gave a firmware image.
        let builtin_bios = config.bios.is_none();
        let (image, name) = match &config.bios {
            Some(path) => (
                std::fs::read(path).map_err(|e| Error::io(path, e))?,
                path.clone(),
            ),
            None => (crate::bios::BIOS_ROM.to_vec(), "roms/bios.bin".into()),
        };
        // The 80286's 24 address lines end in the firmware's high alias: at most 15 MiB of
        // RAM fit below it (as on AT machines); the 8086 sees 1 MiB whatever is installed.
        let ram_mib = match config.cpu {
            CpuModel::I8086 => config.ram_mib.min(1),
            CpuModel::I286 => config.ram_mib.min(15),
            _ => config.ram_mib,
        };
        let ram = ram_mib as usize * 1024 * 1024;
        let start_secs = config.rtc_start.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        let mut bus = PcBus::new(start_secs, ram as u64);
        // With the built-in BIOS the serial console (COM1) is the guest's stdout; port 0xE9
        // is still recorded but only echoed for firmware images, which have no other output.
        bus.debug.echo = config.echo_console && !builtin_bios;
        bus.debug.log_post = config.post_codes;
        if config.echo_console {
            bus.uarts[0].sink = crate::devices::uart::Sink::Stdout;
        }
        bus.fdc.drives = floppies;
        bus.ata[0].drives = [hda.map(AtaDrive::new), hdb.map(AtaDrive::new)];
        bus.ata[1].drives[0] = cdrom.map(AtaDrive::cdrom);
        let vga = bus.vga.clone();
        let mut cpu = Cpu::with_bus(config.cpu, ram, Box::new(bus));
        cpu.mem.attach_vga(vga);
        cpu.mem
            .load_rom(&image)
            .map_err(|msg| Error::format(name, msg))?;
        cpu.reset();
        let tracer = match &config.trace {
            Some(path) => Some(trace::Tracer::create(path).map_err(|e| Error::io(path, e))?),
            None => None,
        };
        let bios = builtin_bios.then(|| {
            let mut b = Bios::new();
            if config.boot_hard_disk_first {
                b.boot_order = vec![BootDevice::HardDisk, BootDevice::Floppy];
            }
            if config.boot_cdrom_first {
                b.boot_order.insert(0, BootDevice::CdRom);
            } else if config.cdrom.is_some() {
                b.boot_order.push(BootDevice::CdRom);
            }
            b
        });
        Ok(Machine {
            cpu,
            config,
            tracer,
            bios,
        })
    }

    /// Runs until the guest exits, halts for good, or the instruction limit.
    pub fn run(&mut self) -> Outcome {
        loop {
            if let Some(outcome) = self.run_for(u64::MAX) {
                return outcome;
            }
        }
    }

    /// Runs about `n` more instructions (idle time counts), then returns None so a frontend
    /// can look at the machine; Some when the run has ended.
    pub fn run_for(&mut self, n: u64) -> Option<Outcome> {
        let limit = self.config.max_instructions.unwrap_or(u64::MAX);
        let pause_at = self.cpu.icount.saturating_add(n);
        loop {
            let left = limit.saturating_sub(self.cpu.icount);
            if left == 0 {
                return Some(Outcome::InstructionLimit);
            }
            if self.cpu.icount >= pause_at {
                return None;
            }
            let left = left.min(pause_at - self.cpu.icount);
            // Between slices: time, interrupts, and a halted CPU waiting for one.
            let (budget, idle) = with_bus(&mut self.cpu, |cpu, bus| {
                bus.sync(cpu.icount);
                if bus.run_dma(&mut cpu.mem) {
                    cpu.sync_code_writes();
                }
                if cpu.ferr {
                    // FPU error with CR0.NE clear: FERR# drives IRQ 13 until port F0h.
                    cpu.ferr = false;
                    bus.pic.set_irq(13, true);
                }
                if cpu.halted && cpu.interrupts_enabled() && !bus.pic.pending() {
                    // Nothing to do until the next timer event: the idle time passes as
                    // instruction counts (like the TSC), so the instruction limit also
                    // bounds a guest that waits for an interrupt that is masked.
                    if let Some(n) = bus.instructions_until_event() {
                        cpu.icount += n.min(left);
                        bus.sync(cpu.icount);
                    }
                }
                if bus.pic.pending() && cpu.can_take_interrupt() {
                    let vector = bus.pic.acknowledge();
                    cpu.halted = false;
                    let eip = cpu.eip;
                    if cpu.deliver_interrupt(vector, eip, None).is_err() {
                        cpu.stop = Some(Stop::TripleFault);
                    }
                }
                let until = bus.instructions_until_event().unwrap_or(SLICE);
                (
                    until.clamp(1, SLICE),
                    cpu.halted && !cpu.interrupts_enabled(),
                )
            });
            if idle {
                return Some(Outcome::Halted);
            }
            let stop = match &mut self.tracer {
                Some(t) => {
                    // A failed trace write ends tracing, not the run.
                    if t.record(&mut self.cpu).is_err() {
                        self.tracer = None;
                    }
                    self.cpu.step()
                }
                None => self.cpu.run(left.min(budget)),
            };
            match stop {
                Stop::Budget => {}
                Stop::Exit(code) => return Some(Outcome::Exit(code)),
                Stop::Halted => {
                    // Woken by the next interrupt, if one can come.
                    let hopeless = with_bus(&mut self.cpu, |cpu, bus| {
                        !cpu.interrupts_enabled()
                            || (bus.next_event_ns().is_none() && !bus.pic.pending())
                    });
                    if hopeless {
                        return Some(Outcome::Halted);
                    }
                }
                Stop::TripleFault if self.config.no_reboot => return Some(Outcome::TripleFault),
                Stop::TripleFault | Stop::Reset => {
                    if stop == Stop::TripleFault {
                        eprintln!(
                            "emu: triple fault at {:04x}:{:08x}; resetting the CPU",
                            self.cpu.seg[crate::cpu::Seg::Cs as usize].selector,
                            self.cpu.eip
                        );
                    }
                    self.cpu.reset();
                    // A reset takes time too; charging it keeps a guest that resets at once
                    // forever within the instruction limit.
                    self.cpu.icount += RESET_COST;
                }
                Stop::BiosCall => {
                    if let Some(bios) = self.bios.as_mut() {
                        let after = with_bus(&mut self.cpu, |cpu, bus| bios.service(cpu, bus));
                        if let After::NoBoot(msg) = after {
                            return Some(Outcome::NoBootDevice(msg));
                        }
                    }
                }
            }
        }
    }

    /// The PC bus (devices), for inspection.
    pub fn bus(&self) -> &PcBus {
        self.cpu
            .io
            .as_any()
            .and_then(|a| a.downcast_ref::<PcBus>())
            .expect("the machine's bus is a PcBus")
    }

    /// The text screen as character cells from the VGA's text state (CRTC geometry, start
    /// address and cursor), None in graphics modes.
    pub fn text_view(&self) -> Option<TextView> {
        crate::devices::vga::lock(&self.bus().vga).text_view()
    }

    /// Renders the display at its native resolution.
    pub fn render(&self, frame: &mut Frame) {
        crate::devices::vga::lock(&self.bus().vga).render(frame);
    }

    /// Saves the display as a PNG.
    /// The vertical retrace rate of the current video mode, in Hz (frontends refresh at it).
    pub fn refresh_hz(&self) -> f64 {
        crate::devices::vga::lock(&self.bus().vga).refresh_hz()
    }

    pub fn screenshot(&self, path: &std::path::Path) -> Result<()> {
        let mut frame = Frame::default();
        self.render(&mut frame);
        crate::frontend::screenshot::save_png(&frame, path)
    }

    /// The text screen as lines of text (trailing blanks trimmed).
    pub fn text_screen(&self) -> Vec<String> {
        match self.text_view() {
            Some(view) => (0..view.rows).map(|r| view.row_text(r)).collect(),
            None => Vec::new(),
        }
    }

    /// Scancode bytes (set 1, as the guest reads them) from the host keyboard.
    pub fn key_bytes(&mut self, bytes: &[u8]) {
        with_bus(&mut self.cpu, |_, bus| bus.kbc.key_bytes(bytes));
    }

    /// Mouse movement and buttons from the host, for the PS/2 mouse: `dx` right and `dy`
    /// down in mouse counts, `buttons` bit 0 left, 1 right, 2 middle.
    pub fn mouse_event(&mut self, dx: i32, dy: i32, buttons: u8) {
        with_bus(&mut self.cpu, |_, bus| bus.kbc.mouse_event(dx, dy, buttons));
    }

    /// Bytes from the host arriving on serial port `com` (0 = COM1).
    pub fn serial_input(&mut self, com: usize, bytes: &[u8]) {
        with_bus(&mut self.cpu, |_, bus| {
            if let Some(u) = bus.uarts.get_mut(com) {
                u.receive(bytes);
            }
        });
    }

    /// Bytes the guest wrote to the debug console.
    pub fn console(&self) -> &[u8] {
        &self.bus().debug.console
    }
}

/// `emu boot`: runs the machine and returns the process exit code.
pub fn boot_cli(
    image: Option<&std::path::Path>,
    mut config: MachineConfig,
    frontend: &crate::frontend::Options,
) -> Result<u8> {
    if let Some(path) = image {
        // The image goes where its size and content say: floppy, hard disk or CD-ROM.
        match Disk::probe(path)? {
            MediaKind::Floppy if config.floppies[0].is_none() => {
                config.floppies[0] = Some(path.to_path_buf())
            }
            MediaKind::HardDisk if config.hard_disks[0].is_none() => {
                config.hard_disks[0] = Some(path.to_path_buf());
                config.boot_hard_disk_first |= config.floppies[0].is_none();
            }
            MediaKind::CdRom if config.cdrom.is_none() => {
                config.cdrom = Some(path.to_path_buf());
                config.boot_cdrom_first = true;
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{}: that drive is already given by --fda/--hda",
                    path.display()
                )))
            }
        }
    }
    let mut machine = Machine::new(config)?;
    let start = std::time::Instant::now();
    let outcome = crate::frontend::run(&mut machine, frontend)?;
    let secs = start.elapsed().as_secs_f64();
    let n = machine.cpu.icount;
    let mips = n as f64 / secs.max(1e-9) / 1e6;
    let cs = machine.cpu.seg[crate::cpu::Seg::Cs as usize].selector;
    let eip = machine.cpu.eip;
    if frontend.print_screen {
        for line in machine.text_screen() {
            println!("{line}");
        }
    }
    if machine.config.dump_state {
        eprintln!("{}", machine.cpu.state_dump());
        if machine.bios.is_some() {
            eprintln!("text screen:");
            for line in machine.text_screen() {
                eprintln!("|{line}");
            }
        }
    }
    let code = match outcome {
        Outcome::Exit(code) => {
            eprintln!("emu: guest exit code {code} after {n} instructions ({mips:.1} MIPS)");
            code.clamp(0, 255) as u8
        }
        Outcome::Halted => {
            eprintln!(
                "emu: CPU halted at {cs:04x}:{eip:08x} after {n} instructions ({mips:.1} MIPS)"
            );
            0
        }
        Outcome::InstructionLimit => {
            eprintln!("emu: instruction limit reached at {cs:04x}:{eip:08x} ({n} instructions)");
            0
        }
        Outcome::TripleFault => {
            eprintln!(
                "emu: triple fault at {cs:04x}:{eip:08x} after {n} instructions (--no-reboot)"
            );
            1
        }
        Outcome::NoBootDevice(msg) => {
            eprintln!("emu: {msg}");
            1
        }
        Outcome::Stopped => {
            eprintln!("emu: stopped at {cs:04x}:{eip:08x} after {n} instructions ({mips:.1} MIPS)");
            0
        }
        Outcome::ScreenMatched => {
            eprintln!("emu: the screen shows the awaited text after {n} instructions");
            0
        }
        Outcome::Timeout => {
            eprintln!("emu: timeout at {cs:04x}:{eip:08x} after {n} instructions ({mips:.1} MIPS)");
            124
        }
    };
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_rom_config(model: CpuModel) -> MachineConfig {
        MachineConfig {
            cpu: model,
            ram_mib: 1,
            bios: Some(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("roms/demo.bin")),
            echo_console: false,
            max_instructions: Some(10_000_000),
            ..MachineConfig::default()
        }
    }

    #[test]
    fn demo_rom_prints_primes_and_halts() {
        let mut m = Machine::new(demo_rom_config(CpuModel::P6)).unwrap();
        assert_eq!(m.run(), Outcome::Halted);
        let out = String::from_utf8_lossy(m.console()).into_owned();
        assert!(out.starts_with("emu demo ROM: hello"), "{out}");
        assert!(
            out.contains("primes below 500: 95, their sum: 21536\n"),
            "{out}"
        );
        assert!(out.ends_with("demo done; halting the CPU.\n"), "{out}");
    }

    #[test]
    fn demo_rom_runs_on_every_model() {
        for model in [
            CpuModel::I8086,
            CpuModel::I286,
            CpuModel::I386,
            CpuModel::I486,
        ] {
            let mut m = Machine::new(demo_rom_config(model)).unwrap();
            assert_eq!(m.run(), Outcome::Halted, "{model}");
            let out = String::from_utf8_lossy(m.console()).into_owned();
            assert!(
                out.contains("primes below 500: 95, their sum: 21536"),
                "{model}: {out}"
            );
        }
    }

    /// With no image the built-in BIOS boots the built-in demo disk, on every CPU model; its
    /// output goes to COM1 and the screen.
    #[test]
    fn demo_disk_boots_on_the_builtin_bios_on_every_model() {
        for model in [
            CpuModel::I8086,
            CpuModel::I286,
            CpuModel::I386,
            CpuModel::I486,
            CpuModel::P6,
        ] {
            let mut m = Machine::new(MachineConfig {
                cpu: model,
                echo_console: false,
                max_instructions: Some(10_000_000),
                ..MachineConfig::default()
            })
            .unwrap();
            assert_eq!(m.run(), Outcome::Halted, "{model}");
            let com1 = String::from_utf8_lossy(&m.bus().uarts[0].output).into_owned();
            assert!(
                com1.starts_with("emu demo disk: hello from a guest booted by the emu BIOS\r\n"),
                "{model}: {com1}"
            );
            assert!(
                com1.contains("primes below 500: 95, their sum: 21536\r\n"),
                "{model}: {com1}"
            );
            let screen = m.text_screen();
            assert_eq!(
                screen[1], "primes below 500: 95, their sum: 21536",
                "{model}"
            );
        }
    }

    #[test]
    fn triple_fault_resets_or_stops_with_no_reboot() {
        // A 4 KiB firmware that enters protected mode with an empty IDT and then divides by
        // zero: the #DE cannot be delivered (#GP, #DF fail too) → triple fault.
        // F000:FFF0: mov eax, cr0 / or al, 1 / mov cr0, eax / xor cx, cx / div cx
        let code = [
            0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0, 0x31, 0xC9, 0xF7, 0xF1,
        ];
        let mut rom = vec![0xF4u8; 0x1000];
        rom[0xFF0 - 0x20..0xFF0 - 0x20 + code.len()].copy_from_slice(&code);
        // Reset vector: jmp short back to the code 0x20 bytes before it.
        rom[0xFF0] = 0xEB;
        rom[0xFF1] = (-(0x22i8)) as u8;
        let path = std::env::temp_dir().join(format!("emu-tf-{}.bin", std::process::id()));
        std::fs::write(&path, &rom).unwrap();
        let config = MachineConfig {
            bios: Some(path.clone()),
            echo_console: false,
            no_reboot: true,
            max_instructions: Some(10_000),
            ..MachineConfig::default()
        };
        let mut m = Machine::new(config.clone()).unwrap();
        assert_eq!(m.run(), Outcome::TripleFault);
        // Without --no-reboot the machine resets and runs into the same fault again until
        // the instruction limit.
        let mut m = Machine::new(MachineConfig {
            no_reboot: false,
            ..config
        })
        .unwrap();
        assert_eq!(m.run(), Outcome::InstructionLimit);
        let _ = std::fs::remove_file(&path);
    }

    /// The committed ROM binaries are what their sources assemble to (NASM is installed by
    /// scripts/test.sh, so this is checked wherever the tests run).
    #[test]
    fn committed_rom_binaries_match_their_sources() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("roms");
        for (source, committed) in [
            ("demo.asm", DEMO_ROM),
            ("demo-disk.asm", DEMO_DISK),
            ("bios.asm", crate::bios::BIOS_ROM),
        ] {
            let out = std::env::temp_dir().join(format!("emu-{}-{source}.bin", std::process::id()));
            let status = std::process::Command::new("nasm")
                .arg("-i")
                .arg(format!("{}/", dir.display()))
                .args(["-f", "bin", "-o"])
                .arg(&out)
                .arg(dir.join(source))
                .status()
                .expect("nasm is needed to check roms/ (apt-get install nasm)");
            assert!(status.success(), "nasm failed on roms/{source}");
            let built = std::fs::read(&out).unwrap();
            let _ = std::fs::remove_file(&out);
            assert!(
                built == committed,
                "roms/{source}: the .bin is stale, rebuild it"
            );
        }
    }
}
