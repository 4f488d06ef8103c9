//! Runs the SingleStepTests suites from ../shared through the library and checks the pass
//! rates the CPU core promises (8086 >= 99.9 %, 80286 real mode >= 99.5 %). Slow in debug
//! builds; CI runs `cargo test --release`.

use std::path::PathBuf;

use emu::testsuite::singlestep::{run, Options, Summary};

fn suite(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/test-suites/singlestep")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("skipping: {} not found", p.display());
        None
    }
}

fn run_suite(rel: &str) -> Option<Summary> {
    let path = suite(rel)?;
    let mut report = Vec::new();
    let summary = run(
        &path,
        &Options {
            max_details: 3,
            ..Options::default()
        },
        &mut report,
    )
    .expect("suite runs");
    // Show the failures and the summary in the test output.
    println!("{}", String::from_utf8_lossy(&report));
    Some(summary)
}

#[test]
fn singlestep_8086_v1() {
    let Some(s) = run_suite("8086/v1") else {
        return;
    };
    assert!(s.file_errors.is_empty(), "{:?}", s.file_errors);
    assert!(s.passed > 150_000, "{}", s.closing_line());
    assert!(
        s.pass_rate() >= 0.999,
        "pass rate {:.4} below 99.9%: {}",
        s.pass_rate(),
        s.closing_line()
    );
}

#[test]
fn singlestep_80286_v1_real_mode() {
    let Some(s) = run_suite("80286/v1_real_mode") else {
        return;
    };
    assert!(s.file_errors.is_empty(), "{:?}", s.file_errors);
    assert!(s.passed > 150_000, "{}", s.closing_line());
    assert!(
        s.pass_rate() >= 0.995,
        "pass rate {:.4} below 99.5%: {}",
        s.pass_rate(),
        s.closing_line()
    );
}

#[test]
fn moo_files_run_through_the_cli_runner() {
    let Some(dir) = suite("80286/moo-samples") else {
        return;
    };
    let s = run(
        &dir,
        &Options {
            cpu: Some(emu::cpu::CpuModel::I286),
            ..Options::default()
        },
        &mut Vec::new(),
    )
    .expect("suite runs");
    assert!(s.file_errors.is_empty(), "{:?}", s.file_errors);
    assert!(s.passed >= 1000, "{}", s.closing_line());
    assert_eq!(s.failed, 0, "{}", s.closing_line());
}
