//! Accuracy of the x87 transcendental functions against true values computed independently
//! with Python mpmath (scripts/fpu-transcend-reference.py, committed as
//! test-suites/fpu/transcend-mpmath.txt): every result must be within one ulp at 64-bit
//! precision (round to nearest). FPU_TRANSCEND_FILE selects another reference file (for
//! larger measurements); run with --nocapture for the per-function figures.

use std::collections::BTreeMap;
use std::path::PathBuf;

use emu::cpu::fpu::transcend;
use emu::cpu::fpu::{Ctx, Rc, F80};

fn parse(se: &str, sig: &str) -> F80 {
    F80 {
        se: u16::from_str_radix(se, 16).unwrap(),
        sig: u64::from_str_radix(sig, 16).unwrap(),
    }
}

/// Position of a value on the line of representable numbers (same sign assumed).
fn key(v: F80) -> i128 {
    let mag = ((v.exp() as i128) << 63) + (v.sig as i128 & ((1 << 63) - 1));
    if v.sign() {
        -mag
    } else {
        mag
    }
}

#[test]
fn transcendentals_are_within_one_ulp_of_mpmath() {
    let path = std::env::var("FPU_TRANSCEND_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-suites/fpu/transcend-mpmath.txt")
        });
    let text = std::fs::read_to_string(&path).unwrap();
    // op -> (cases, exact, max ulp error)
    let mut stats: BTreeMap<String, (u32, u32, i128)> = BTreeMap::new();
    let mut bad = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (a, b, want) = (parse(f[1], f[2]), parse(f[3], f[4]), parse(f[5], f[6]));
        let mut ctx = Ctx::new(Rc::Nearest, 64);
        let out = match f[0] {
            "fsin" => transcend::sin(&mut ctx, a),
            "fcos" => transcend::cos(&mut ctx, a),
            "fptan" => transcend::ptan(&mut ctx, a),
            "f2xm1" => transcend::f2xm1(&mut ctx, a),
            "fyl2x" => transcend::yl2x(&mut ctx, b, a),
            "fyl2xp1" => transcend::yl2xp1(&mut ctx, b, a),
            "fpatan" => transcend::patan(&mut ctx, b, a),
            op => panic!("unknown op {op}"),
        };
        let have = out.a;
        let err = (key(have) - key(want)).abs();
        let s = stats.entry(f[0].to_string()).or_default();
        s.0 += 1;
        s.1 += (err == 0) as u32;
        s.2 = s.2.max(err);
        if err > 1 || have.sign() != want.sign() {
            bad.push(format!("{line}: got {:04x} {:016x}", have.se, have.sig));
        }
    }
    for (op, (n, exact, max)) in &stats {
        println!("{op}: {n} cases, {exact} correctly rounded, max error {max} ulp");
    }
    assert!(stats.len() == 7, "every function covered");
    assert!(bad.is_empty(), "more than 1 ulp off:\n{}", bad.join("\n"));
}
