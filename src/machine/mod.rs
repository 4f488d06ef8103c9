//! Builds a machine from options and runs it. Today the machine is a CPU, RAM, a firmware
//! image and the debug ports; the PC devices and the built-in BIOS will be wired here.

use std::path::PathBuf;

use crate::cpu::{Cpu, CpuModel, Stop};
use crate::io::debug::DebugPorts;
use crate::{Error, Result};

mod trace;

/// The demo firmware built from roms/demo.asm, run when no firmware is given.
pub const DEMO_ROM: &[u8] = include_bytes!("../../roms/demo.bin");

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
    /// Print POST codes (ports 0x80 and 0x190) as they change.
    pub post_codes: bool,
    /// Copy the 0xE9 console to stdout.
    pub echo_console: bool,
    /// Print the CPU registers when the run ends.
    pub dump_state: bool,
    /// Stop on a triple fault instead of resetting the machine.
    pub no_reboot: bool,
    /// Write an instruction trace to this file (slow: steps one instruction at a time).
    pub trace: Option<PathBuf>,
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
}

pub struct Machine {
    pub cpu: Cpu,
    config: MachineConfig,
    tracer: Option<trace::Tracer>,
}

impl Machine {
    pub fn new(config: MachineConfig) -> Result<Machine> {
        let image = match &config.bios {
            Some(path) => std::fs::read(path).map_err(|e| Error::io(path, e))?,
            None => DEMO_ROM.to_vec(),
        };
        if !(1..=4096).contains(&config.ram_mib) {
            return Err(Error::Usage(format!(
                "memory size {} MiB out of range (1..=4096)",
                config.ram_mib
            )));
        }
        let mut ports = DebugPorts::new();
        ports.echo = config.echo_console;
        ports.log_post = config.post_codes;
        let ram = config.ram_mib as usize * 1024 * 1024;
        let mut cpu = Cpu::with_bus(config.cpu, ram, Box::new(ports));
        let name = config
            .bios
            .clone()
            .unwrap_or_else(|| PathBuf::from("roms/demo.bin"));
        cpu.mem
            .load_rom(&image)
            .map_err(|msg| Error::format(name, msg))?;
        cpu.reset();
        let tracer = match &config.trace {
            Some(path) => Some(trace::Tracer::create(path).map_err(|e| Error::io(path, e))?),
            None => None,
        };
        Ok(Machine {
            cpu,
            config,
            tracer,
        })
    }

    /// Runs until the guest exits, halts for good, or the instruction limit.
    pub fn run(&mut self) -> Outcome {
        let limit = self.config.max_instructions.unwrap_or(u64::MAX);
        loop {
            let left = limit.saturating_sub(self.cpu.icount);
            if left == 0 {
                return Outcome::InstructionLimit;
            }
            let stop = match &mut self.tracer {
                Some(t) => {
                    // A failed trace write ends tracing, not the run.
                    if t.record(&mut self.cpu).is_err() {
                        self.tracer = None;
                    }
                    self.cpu.step()
                }
                None => self.cpu.run(left.min(SLICE)),
            };
            match stop {
                Stop::Budget => {}
                Stop::Exit(code) => return Outcome::Exit(code),
                // No device can raise an interrupt yet, so any HLT is final.
                Stop::Halted => return Outcome::Halted,
                Stop::TripleFault if self.config.no_reboot => return Outcome::TripleFault,
                Stop::TripleFault => {
                    eprintln!(
                        "emu: triple fault at {:04x}:{:08x}; resetting the CPU",
                        self.cpu.seg[crate::cpu::Seg::Cs as usize].selector,
                        self.cpu.eip
                    );
                    self.cpu.reset();
                }
            }
        }
    }

    /// Bytes the guest wrote to the debug console.
    pub fn console(&self) -> &[u8] {
        self.cpu
            .debug_ports()
            .map(|p| &p.console[..])
            .unwrap_or(&[])
    }
}

/// `emu boot`: runs the machine and returns the process exit code.
pub fn boot_cli(image: Option<&std::path::Path>, config: MachineConfig) -> Result<u8> {
    if let Some(path) = image {
        std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        return Err(Error::Usage(format!(
            "{}: booting disk images needs the PC devices, which are not implemented yet; \
             run `emu boot` for the demo or `emu boot --bios FILE` for a firmware image",
            path.display()
        )));
    }
    let mut machine = Machine::new(config)?;
    let start = std::time::Instant::now();
    let outcome = machine.run();
    let secs = start.elapsed().as_secs_f64();
    let n = machine.cpu.icount;
    let mips = n as f64 / secs.max(1e-9) / 1e6;
    let cs = machine.cpu.seg[crate::cpu::Seg::Cs as usize].selector;
    let eip = machine.cpu.eip;
    if machine.config.dump_state {
        eprintln!("{}", machine.cpu.state_dump());
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
    };
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_rom_prints_primes_and_halts() {
        let mut m = Machine::new(MachineConfig {
            echo_console: false,
            max_instructions: Some(10_000_000),
            ..MachineConfig::default()
        })
        .unwrap();
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
            let mut m = Machine::new(MachineConfig {
                cpu: model,
                ram_mib: 1,
                echo_console: false,
                max_instructions: Some(10_000_000),
                ..MachineConfig::default()
            })
            .unwrap();
            assert_eq!(m.run(), Outcome::Halted, "{model}");
            let out = String::from_utf8_lossy(m.console()).into_owned();
            assert!(
                out.contains("primes below 500: 95, their sum: 21536"),
                "{model}: {out}"
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

    #[test]
    fn committed_demo_binary_matches_its_source() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("roms");
        let out = std::env::temp_dir().join(format!("emu-demo-{}.bin", std::process::id()));
        let status = std::process::Command::new("nasm")
            .args(["-f", "bin", "-o"])
            .arg(&out)
            .arg(dir.join("demo.asm"))
            .status();
        match status {
            Ok(s) if s.success() => {
                let built = std::fs::read(&out).unwrap();
                let _ = std::fs::remove_file(&out);
                assert!(
                    built == DEMO_ROM,
                    "roms/demo.bin is stale: rebuild it from demo.asm"
                );
            }
            _ => println!("skipping: nasm not installed"),
        }
    }
}
