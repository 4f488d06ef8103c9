//! The x87 guest test (test-suites/fpu/fpu.asm): a boot floppy that exercises the FPU in
//! real mode and prints status words and results on port 0xE9. Its output must match the
//! output recorded from Bochs 2.7 (test-suites/fpu/expected.txt), except for the lines
//! listed in test-suites/fpu/README.md where the reference is known to differ.

use std::path::PathBuf;

use emu::machine::{Machine, MachineConfig, Outcome};

mod common;
use common::assemble;

fn run_guest() -> String {
    let img = assemble("test-suites/fpu/fpu.asm", "fpu.img");
    let mut m = Machine::new(MachineConfig {
        echo_console: false,
        max_instructions: Some(20_000_000),
        floppies: [Some(img), None],
        ..MachineConfig::default()
    })
    .unwrap();
    let outcome = m.run();
    let out = String::from_utf8_lossy(m.console()).into_owned();
    assert!(
        matches!(outcome, Outcome::Exit(_)),
        "guest did not finish ({outcome:?}); output so far:\n{out}"
    );
    out
}

#[test]
fn fpu_guest_matches_the_reference_output() {
    let out = run_guest();
    let expected_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-suites/fpu/expected.txt");
    let expected = std::fs::read_to_string(expected_path).unwrap();
    let mut diffs = Vec::new();
    let got: Vec<&str> = out.lines().collect();
    for (i, want) in expected.lines().enumerate() {
        let have = got.get(i).copied().unwrap_or("<missing>");
        if have != want {
            diffs.push(format!("line {}:\n  want {want}\n  have {have}", i + 1));
        }
    }
    assert!(
        diffs.is_empty() && got.len() == expected.lines().count(),
        "output differs from test-suites/fpu/expected.txt:\n{}\nfull output:\n{out}",
        diffs.join("\n")
    );
}
