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
        /// Print at most this many failure details per file.
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
        Command::TestSuite {
            suite:
                Suite::Singlestep {
                    path,
                    cpu,
                    filter,
                    max_details,
                },
        } => emu::testsuite::singlestep::run_cli(&path, cpu, filter.as_deref(), max_details),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emu: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
