//! The `emu` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use emu::cpu::CpuModel;

#[derive(Parser)]
#[command(name = "emu", version, about = "A pure-software x86 PC emulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot the machine: runs the firmware (default: the built-in demo ROM).
    Boot {
        /// Disk image to boot: a floppy or hard disk by its size (with no image and no
        /// --fda/--hda, the demo ROM runs).
        image: Option<PathBuf>,
        /// Floppy image for drive A:.
        #[arg(long, value_name = "IMAGE")]
        fda: Option<PathBuf>,
        /// Floppy image for drive B:.
        #[arg(long, value_name = "IMAGE")]
        fdb: Option<PathBuf>,
        /// Hard disk image for drive C:.
        #[arg(long, value_name = "IMAGE")]
        hda: Option<PathBuf>,
        /// Hard disk image for drive D:.
        #[arg(long, value_name = "IMAGE")]
        hdb: Option<PathBuf>,
        /// Start the real-time clock at this time (seconds since 1970-01-01 UTC) instead of
        /// the host's clock, for reproducible runs.
        #[arg(long, value_name = "SECONDS")]
        rtc_start: Option<u64>,
        /// First boot device: a (floppy) or c (hard disk).
        #[arg(long, value_parser = ["a", "c"], default_value = "a")]
        boot: String,
        /// Firmware image to run instead of the built-in one (mapped below 1 MiB and at the
        /// top of the address space).
        #[arg(long, value_name = "FILE")]
        bios: Option<PathBuf>,
        /// CPU model.
        #[arg(long, value_parser = parse_cpu, default_value = "p6")]
        cpu: CpuModel,
        /// RAM size in MiB (an 8086 gets 1 MiB, an 80286 at most 15 MiB).
        #[arg(short = 'm', long, default_value_t = 32)]
        memory: u32,
        /// Stop after this many guest instructions.
        #[arg(long, value_name = "N")]
        max_instructions: Option<u64>,
        /// Print POST codes written to ports 0x80 and 0x190.
        #[arg(long)]
        post_codes: bool,
        /// Print the CPU registers when the run ends.
        #[arg(long)]
        dump_state: bool,
        /// Stop on a triple fault instead of resetting the machine.
        #[arg(long)]
        no_reboot: bool,
        /// Write every executed instruction with the registers to FILE (slow).
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Save a PNG of the display to FILE when the run ends.
        #[arg(long, value_name = "FILE.png")]
        screenshot: Option<PathBuf>,
    },
    /// Run an external instruction-accuracy test suite against the CPU.
    #[command(name = "test-suite")]
    TestSuite {
        #[command(subcommand)]
        suite: Suite,
    },
}

#[derive(Subcommand)]
enum Suite {
    /// SingleStepTests (8086, 80286): a directory or one .json/.json.gz/.MOO/.MOO.gz file.
    Singlestep {
        /// Directory or file of tests.
        path: PathBuf,
        /// CPU model (default: taken from the suite's metadata or file path).
        #[arg(long, value_parser = parse_cpu)]
        cpu: Option<CpuModel>,
        /// Only run files whose name (opcode) starts with one of these, comma-separated.
        #[arg(long)]
        filter: Option<String>,
        /// Show the register/memory differences of at most this many failures per file
        /// (every failure is still named).
        #[arg(long, default_value_t = 5)]
        max_details: usize,
    },
}

fn parse_cpu(s: &str) -> Result<CpuModel, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Boot {
            image,
            bios,
            cpu,
            memory,
            max_instructions,
            post_codes,
            dump_state,
            no_reboot,
            trace,
            fda,
            fdb,
            hda,
            hdb,
            rtc_start,
            boot,
            screenshot,
        } => emu::machine::boot_cli(
            image.as_deref(),
            emu::machine::MachineConfig {
                cpu,
                ram_mib: memory,
                bios,
                max_instructions,
                post_codes,
                echo_console: true,
                dump_state,
                no_reboot,
                trace,
                floppies: [fda, fdb],
                hard_disks: [hda, hdb],
                boot_hard_disk_first: boot == "c",
                rtc_start,
                screenshot,
            },
        ),
        Command::TestSuite {
            suite:
                Suite::Singlestep {
                    path,
                    cpu,
                    filter,
                    max_details,
                },
        } => emu::testsuite::singlestep::run_cli(&path, cpu, filter.as_deref(), max_details)
            .map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("emu: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
