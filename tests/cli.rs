//! End-to-end tests of the `emu` binary: the demo boot and the handling of bad input.

mod common;
use common::emu;

#[test]
fn boot_without_image_runs_the_demo_disk_on_the_builtin_bios() {
    let out = emu()
        .args(["boot", "--max-instructions", "10000000"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(
        stdout.contains("emu demo disk: hello from a guest booted by the emu BIOS"),
        "stdout: {stdout}"
    );
    assert!(
        stdout.contains("primes below 500: 95, their sum: 21536"),
        "stdout: {stdout}"
    );
    assert!(stderr.contains("CPU halted"), "stderr: {stderr}");
}

#[test]
fn debug_exit_port_sets_the_exit_code() {
    // A 4 KiB firmware image: at F000:FFF0, mov al, 0x10; out 0xF4, al; hlt.
    let mut rom = vec![0xF4u8; 4096];
    rom[0xFF0..0xFF5].copy_from_slice(&[0xB0, 0x10, 0xE6, 0xF4, 0xF4]);
    let path = std::env::temp_dir().join(format!("emu-exit-{}.bin", std::process::id()));
    std::fs::write(&path, &rom).unwrap();
    let out = emu().arg("boot").arg("--bios").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some((0x10 << 1) | 1));
}

#[test]
fn missing_image_is_a_one_line_error_with_exit_code_2() {
    let out = emu()
        .args(["boot", "/nonexistent/disk.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/disk.img"), "{stderr}");
}

#[test]
fn bad_firmware_size_is_rejected() {
    let path = std::env::temp_dir().join(format!("emu-badrom-{}.bin", std::process::id()));
    std::fs::write(&path, [0u8; 100]).unwrap();
    let out = emu().arg("boot").arg("--bios").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("multiple of 4 KiB"), "{stderr}");
}

#[test]
fn unknown_flags_and_models_fail_with_usage_errors() {
    let out = emu().args(["boot", "--cpu", "z80"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = emu().args(["boot", "--frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_suite_path_fails_with_exit_code_2() {
    let out = emu()
        .args(["test-suite", "singlestep", "/nonexistent/suite"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_image_format_is_a_one_line_error_and_the_file_is_untouched() {
    let path = std::env::temp_dir().join(format!("emu-odd-{}.img", std::process::id()));
    let content: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let out = emu().arg("boot").arg(&path).output().unwrap();
    let after = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("unknown image format"), "{stderr}");
    assert_eq!(after, content);
}

#[test]
fn an_empty_floppy_sized_image_reports_no_bootable_device() {
    // 100 sectors of zeros: a hard disk by size, without the 55 AA boot signature.
    let path = std::env::temp_dir().join(format!("emu-zero-hd-{}.img", std::process::id()));
    std::fs::write(&path, vec![0u8; 512 * 100]).unwrap();
    let out = emu()
        .arg("boot")
        .arg(&path)
        .args(["--max-instructions", "1000000"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No bootable device"), "{stderr}");
}
