//! The `emu` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use emu::cpu::CpuModel;

#[derive(Parser)]
#[command(
    name = "emu",
    version,
    about = "A pure-software x86 PC emulator",
    after_help = "Examples:\n  emu boot                        boot the built-in demo disk\n  emu boot freedos.img            boot a floppy or hard disk image in a window\n  emu boot --display term dos.img DOS in this terminal (Ctrl-A x quits)\n  emu boot --display none os.img  serial console COM1 on stdin/stdout\n\nThe user guide is docs/user-guide.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once per process: the size of the boot variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Boot a PC from a disk image (with no image: the built-in demo disk).
    #[command(
        after_help = "Window keys: Ctrl+Alt+G releases/grabs keyboard and mouse, Ctrl+Alt+S \
saves a screenshot (emu-screenshot-N.png), Ctrl+Alt+P pauses, Ctrl+Alt+Q quits.\n\
Terminal and serial console: Ctrl-A x quits, Ctrl-A s saves a screenshot, Ctrl-A a sends Ctrl-A.\n\
Ctrl-C (SIGINT) ends the run cleanly; in raw terminal modes Ctrl-C goes to the guest."
    )]
    Boot {
        /// Disk image to boot: a floppy or hard disk by its size, a CD by its ISO 9660
        /// signature (with no image and no --fda/--hda/--cdrom, the demo disk boots).
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
        /// ISO image for the ATAPI CD-ROM drive (secondary master).
        #[arg(long, value_name = "ISO")]
        cdrom: Option<PathBuf>,
        /// Start the real-time clock at this time (seconds since 1970-01-01 UTC) instead of
        /// the host's clock, for reproducible runs.
        #[arg(long, value_name = "SECONDS")]
        rtc_start: Option<u64>,
        /// First boot device: a (floppy), c (hard disk) or d (CD-ROM, El Torito).
        #[arg(long, value_parser = ["a", "c", "d"], default_value = "a")]
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
        /// Log every write to the POST code ports 0x80 and 0x190 on stderr.
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
        /// Where the screen and keyboard go: window, term (the text screen in this
        /// terminal) or none (the serial console COM1 on stdin/stdout). Default: a window
        /// when a display is available, else none.
        #[arg(long, value_parser = parse_display)]
        display: Option<emu::frontend::DisplayKind>,
        /// Where the serial console COM1 goes: stdio (output on stdout, stdin to COM1),
        /// file:PATH (output to PATH) or null. Default: stdio with --display none, stdout
        /// only with a window, nowhere with --display term.
        #[arg(long, value_name = "stdio|file:PATH|null")]
        serial: Option<String>,
        /// Integer scale of the window's picture (1..=16).
        #[arg(long, value_name = "N", default_value_t = 1)]
        scale: u32,
        /// Run script commands from FILE: wait "TEXT", type "TEXT\n", key, screenshot FILE,
        /// sleep MS, wait-serial, timeout, echo, pause, resume, quit (docs/user-guide.md).
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// Save the screen as a PNG file when the run ends.
        #[arg(long, value_name = "FILE.png")]
        screenshot: Option<PathBuf>,
        /// End the run with exit code 0 once the text screen shows TEXT.
        #[arg(long, value_name = "TEXT")]
        until_screen: Option<String>,
        /// End the run with exit code 124 after SECONDS of wall time.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<f64>,
        /// Print the text screen on stdout when the run ends.
        #[arg(long)]
        print_screen: bool,
        /// Keep all guest disk writes in memory: the image files stay untouched.
        #[arg(long)]
        snapshot: bool,
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

fn parse_display(s: &str) -> Result<emu::frontend::DisplayKind, String> {
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
            cdrom,
            rtc_start,
            boot,
            display,
            serial,
            scale,
            script,
            screenshot,
            until_screen,
            timeout,
            print_screen,
            snapshot,
        } => {
            let serial = match serial.as_deref().map(str::parse).transpose() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("emu: {e}");
                    return ExitCode::from(2);
                }
            };
            if image.is_none()
                && fda.is_none()
                && fdb.is_none()
                && hda.is_none()
                && hdb.is_none()
                && cdrom.is_none()
                && bios.is_none()
            {
                eprintln!(
                    "emu: no disk image given: booting the built-in demo disk (emu boot --help)"
                );
            }
            emu::machine::boot_cli(
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
                    boot_cdrom_first: boot == "d",
                    cdrom,
                    rtc_start,
                    snapshot,
                },
                &emu::frontend::Options {
                    display,
                    scale,
                    script,
                    screenshot,
                    until_screen,
                    timeout: match timeout {
                        Some(t) if !(t.is_finite() && t > 0.0) => {
                            eprintln!("emu: --timeout {t}: give a positive number of seconds");
                            return ExitCode::from(2);
                        }
                        t => t.map(|t| {
                            std::time::Duration::try_from_secs_f64(t)
                                .unwrap_or(std::time::Duration::MAX)
                        }),
                    },
                    print_screen,
                    serial,
                },
            )
        }
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
