//! The suites' `metadata.json` (status and undefined-flag mask per opcode and ModRM reg
//! extension) and `revocation_list.txt` (hashes of tests known to be bad).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct OpcodeInfo {
    pub status: Option<String>,
    #[serde(rename = "flags-mask")]
    pub flags_mask: Option<u32>,
    pub reg: Option<HashMap<String, OpcodeInfo>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Metadata {
    pub cpu: Option<String>,
    #[serde(default)]
    pub opcodes: HashMap<String, OpcodeInfo>,
}

/// What the metadata says about one test file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// normal, alias, undocumented, fpu, undefined, ... ("normal" when not listed).
    pub status: String,
    /// FLAGS bits that are defined (compared); all 16 when not listed.
    pub flags_mask: u16,
}

impl Metadata {
    pub fn load(path: &Path) -> Result<Metadata, String> {
        let data = std::fs::read(path).map_err(|e| e.to_string())?;
        serde_json::from_slice(&data).map_err(|e| format!("JSON: {e}"))
    }

    /// Looks up a file stem: `F6.4` is opcode F6, reg 4; `0F01.2` opcode 0F01, reg 2.
    pub fn lookup(&self, stem: &str) -> FileInfo {
        let mut parts = stem.split('.');
        let opcode = parts.next().unwrap_or("").to_ascii_uppercase();
        let reg = parts.next();
        let mut info = self.opcodes.get(&opcode);
        if let (Some(i), Some(r)) = (info, reg) {
            if let Some(sub) = i.reg.as_ref().and_then(|m| m.get(r)) {
                info = Some(sub);
            }
        }
        FileInfo {
            status: info
                .and_then(|i| i.status.clone())
                .unwrap_or_else(|| "normal".to_string()),
            flags_mask: info.and_then(|i| i.flags_mask).unwrap_or(0xFFFF) as u16,
        }
    }
}

impl Metadata {
    /// Looks up one test. Files that are not split by ModRM reg field (e.g. `C6`, `8F` in
    /// the 8086 suite) carry tests whose status depends on the reg field of their ModRM byte.
    pub fn lookup_test(&self, stem: &str, bytes: &[u8]) -> FileInfo {
        let opcode = stem.split('.').next().unwrap_or("").to_ascii_uppercase();
        let has_reg_map = self.opcodes.get(&opcode).is_some_and(|i| i.reg.is_some());
        if stem.contains('.') || !has_reg_map {
            return self.lookup(stem);
        }
        let prefixes = bytes
            .iter()
            .take_while(|b| matches!(b, 0x26 | 0x2E | 0x36 | 0x3E | 0xF0 | 0xF1 | 0xF2 | 0xF3))
            .count();
        let opcode_len = if opcode.len() == 4 { 2 } else { 1 };
        match bytes.get(prefixes + opcode_len) {
            Some(modrm) => self.lookup(&format!("{opcode}.{}", (modrm >> 3) & 7)),
            None => self.lookup(stem),
        }
    }
}

/// Reads the hashes in a revocation list (one per line, `#` starts a comment).
pub fn load_revocations(path: &Path) -> Result<HashSet<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    Ok(text
        .lines()
        .map(|l| {
            l.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|l| !l.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_opcode_and_extension() {
        let m: Metadata = serde_json::from_str(
            r#"{"cpu":"8086","opcodes":{
                "00":{"status":"normal"},
                "D6":{"status":"undocumented"},
                "F6":{"reg":{"4":{"status":"normal","flags":"...szap.","flags-mask":65323},
                             "1":{"status":"alias"}}},
                "0F":{"status":"undefined"}}}"#,
        )
        .unwrap();
        assert_eq!(m.lookup("00").status, "normal");
        assert_eq!(m.lookup("00").flags_mask, 0xFFFF);
        assert_eq!(m.lookup("D6").status, "undocumented");
        assert_eq!(m.lookup("F6.4").flags_mask, 65323);
        assert_eq!(m.lookup("F6.1").status, "alias");
        assert_eq!(m.lookup("0F").status, "undefined");
        assert_eq!(m.lookup("AB").status, "normal");
        // F6 /4 from the ModRM byte of a test in an unsplit file (after a segment prefix).
        assert_eq!(m.lookup_test("F6", &[0x26, 0xF6, 0x20]).flags_mask, 65323);
        assert_eq!(m.lookup_test("F6", &[0xF6, 0xC8]).status, "alias");
    }

    #[test]
    fn revocation_list_ignores_comments() {
        let p = std::env::temp_dir().join(format!("emu-revoke-{}.txt", std::process::id()));
        std::fs::write(&p, "# header\n\nABCDEF\n0123 # why\n").unwrap();
        let r = load_revocations(&p).unwrap();
        let _ = std::fs::remove_file(&p);
        assert!(r.contains("abcdef"));
        assert!(r.contains("0123"));
        assert_eq!(r.len(), 2);
    }
}
