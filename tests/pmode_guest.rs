//! The project's protected-mode test ROM (test-suites/pmode/pmode.asm), assembled with
//! NASM and booted as firmware through the `emu` binary. The ROM reports TAP lines on the
//! debug console and exits through isa-debug-exit with its failure count.

mod common;
use common::{assemble, emu};

/// Every test the ROM must report, so that a test silently dropped from the ROM fails here.
const EXPECTED: &[&str] = &[
    "IRET to ring 3, INT through a DPL-3 gate back to ring 0",
    "far CALL through a call gate copies parameters; RETF n to ring 3",
    "INT n to a DPL-0 gate from ring 3 raises #GP(vector*8+2)",
    "CLI, HLT and MOV CR0 in ring 3 raise #GP(0)",
    "writes to read-only data and reads of execute-only code raise #GP(0)",
    "byte-granular limits: #GP(0) past DS limit, #SS(0) past SS limit",
    "access through a null selector raises #GP(0)",
    "loading DS with a DPL-0 selector in ring 3 raises #GP(sel)",
    "TSS I/O permission bitmap at CPL 3, IOPL 0",
    "#PF for a missing page: error code and CR2 (read and write)",
    "#PF for ring-3 access to a supervisor page (5 and 7)",
    "CR0.WP makes read-only pages read-only for ring 0",
    "page walks set accessed and dirty bits",
    "a CR3 load drops stale translations",
    "CALL to a TSS: back link, NT, busy bits, CR0.TS; IRET back",
    "JMP through a task gate to a 16-bit TSS and JMP back",
    "INT through an IDT task gate and IRET back",
    "CALL to the busy current TSS raises #GP(selector)",
    "the TSS T bit raises #DB (DR6.BT) on entry to the task",
    "V86 with IOPL 0: segment arithmetic, CLI/PUSHF/INT n fault, INT3 checks DPL",
    "V86 with IOPL 3: INT n reaches ring 0 with a V86 frame, IRET returns",
    "V86 port I/O follows the I/O bitmap",
    "VME: CLI/STI on VIF, PUSHF image, INT n redirected to the V86 IVT",
    "VME: STI with VIP set raises #GP(0)",
    "PVI: CLI/STI at CPL 3 change VIF",
    "a fault while delivering #GP becomes #DF(0)",
    "a fault while delivering #UD (benign) is delivered alone: #NP(6*8+2)",
    "single-step traps, none right after MOV SS",
    "DR0 instruction breakpoint, resumed with RF",
    "DR1 data write breakpoint traps after the write",
    "SYSEXIT to ring 3 and SYSENTER back with the MSR-defined segments",
    "CPUID leaf 1 reports VME, PSE, TSC, MSR, CX8, SEP, PGE and CMOV",
];

#[test]
fn protected_mode_test_rom_passes_every_test() {
    let rom = assemble("test-suites/pmode/pmode.asm", "pmode.bin");
    let out = emu()
        .arg("boot")
        .arg("--bios")
        .arg(&rom)
        .args(["--no-reboot", "--max-instructions", "20000000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(failed.is_empty(), "failures:\n{}", failed.join("\n"));
    for (i, name) in EXPECTED.iter().enumerate() {
        let line = format!("ok {} - {}", i + 1, name);
        assert!(
            stdout.lines().any(|l| l == line),
            "missing `{line}` in:\n{stdout}"
        );
    }
    let plan = format!("1..{}", EXPECTED.len());
    assert!(stdout.lines().any(|l| l == plan), "no plan line: {stdout}");
    // isa-debug-exit with 0 failures: exit code (0 << 1) | 1.
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
}
