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

/// A 4 KiB firmware image (no disk image given): POST code 11h to port 80h twice, 22h to
/// port 190h, then a triple fault (protected mode with an empty IDT, divide by zero).
fn post_and_triple_fault_rom() -> std::path::PathBuf {
    let code = [
        0xB0, 0x11, // mov al, 11h
        0xE6, 0x80, // out 80h, al
        0xE6, 0x80, // out 80h, al
        0xB0, 0x22, // mov al, 22h
        0xBA, 0x90, 0x01, // mov dx, 190h
        0xEE, // out dx, al
        0x0F, 0x20, 0xC0, // mov eax, cr0
        0x0C, 0x01, // or al, 1
        0x0F, 0x22, 0xC0, // mov cr0, eax
        0x31, 0xC9, // xor cx, cx
        0xF7, 0xF1, // div cx
    ];
    let mut rom = vec![0xF4u8; 4096];
    rom[0xF00..0xF00 + code.len()].copy_from_slice(&code);
    // Reset vector F000:FFF0: jmp near F000:FF00.
    rom[0xFF0..0xFF3].copy_from_slice(&[0xE9, 0x0D, 0xFF]);
    let path = std::env::temp_dir().join(format!("emu-post-{}.bin", std::process::id()));
    std::fs::write(&path, &rom).unwrap();
    path
}

/// The issue: IMAGE may be omitted when --bios is given; --post-codes logs every write to
/// ports 0x80 and 0x190 on stderr; --no-reboot stops at a triple fault (exit 1), without it
/// the machine resets.
#[test]
fn bios_without_image_post_codes_and_no_reboot() {
    let rom = post_and_triple_fault_rom();
    let out = emu()
        .args([
            "boot",
            "--display",
            "none",
            "--post-codes",
            "--no-reboot",
            "--bios",
        ])
        .arg(&rom)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..3],
        ["POST 0x80: 0x11", "POST 0x80: 0x11", "POST 0x190: 0x22"],
        "{stderr}"
    );
    assert!(
        lines[3].starts_with("emu: triple fault at ") && lines[3].ends_with("(--no-reboot)"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(out.stdout.is_empty());
    // Without --post-codes nothing is logged; without --no-reboot the CPU resets and runs
    // the firmware again until the instruction limit.
    let out = emu()
        .args([
            "boot",
            "--display",
            "none",
            "--max-instructions",
            "5000",
            "--bios",
        ])
        .arg(&rom)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("POST"), "{stderr}");
    assert!(stderr.matches("resetting the CPU").count() > 2, "{stderr}");
    assert!(stderr.contains("instruction limit reached"), "{stderr}");
    let _ = std::fs::remove_file(&rom);
}

/// A floppy drive takes only the floppy sizes; the same file as IMAGE is a hard disk.
#[test]
fn a_floppy_drive_refuses_an_image_of_another_size() {
    let path = std::env::temp_dir().join(format!("emu-notfd-{}.img", std::process::id()));
    std::fs::write(&path, vec![0u8; 1_000_448]).unwrap();
    for flag in ["--fda", "--fdb"] {
        let out = emu()
            .args(["boot", "--display", "none", flag])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flag}: {stderr}");
        assert!(
            stderr.contains("1000448 bytes is not a floppy size (160K, 180K, 320K, 360K, 720K, 1.2M, 1.44M or 2.88M"),
            "{flag}: {stderr}"
        );
    }
    let out = emu()
        .args(["boot", "--display", "none", "--max-instructions", "1000000"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No bootable device"), "{stderr}");
    let _ = std::fs::remove_file(&path);
}
