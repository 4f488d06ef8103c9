//! SingleStepTests test cases, read from JSON (`.json`, `.json.gz`) or the binary MOO
//! format (`.MOO`, `.MOO.gz`). Both become the same [`TestCase`] values.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

/// The 16-bit register file of a test state; `None` = not listed (unchanged in `final`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Regs {
    pub ax: Option<u16>,
    pub bx: Option<u16>,
    pub cx: Option<u16>,
    pub dx: Option<u16>,
    pub cs: Option<u16>,
    pub ss: Option<u16>,
    pub ds: Option<u16>,
    pub es: Option<u16>,
    pub sp: Option<u16>,
    pub bp: Option<u16>,
    pub si: Option<u16>,
    pub di: Option<u16>,
    pub ip: Option<u16>,
    pub flags: Option<u16>,
}

/// Register names in MOO bitmask order.
pub const REG_NAMES: [&str; 14] = [
    "ax", "bx", "cx", "dx", "cs", "ss", "ds", "es", "sp", "bp", "si", "di", "ip", "flags",
];

impl Regs {
    /// The registers in `REG_NAMES` order.
    pub fn as_array(&self) -> [Option<u16>; 14] {
        [
            self.ax, self.bx, self.cx, self.dx, self.cs, self.ss, self.ds, self.es, self.sp,
            self.bp, self.si, self.di, self.ip, self.flags,
        ]
    }

    pub fn from_array(a: [Option<u16>; 14]) -> Regs {
        Regs {
            ax: a[0],
            bx: a[1],
            cx: a[2],
            dx: a[3],
            cs: a[4],
            ss: a[5],
            ds: a[6],
            es: a[7],
            sp: a[8],
            bp: a[9],
            si: a[10],
            di: a[11],
            ip: a[12],
            flags: a[13],
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct State {
    #[serde(default)]
    pub regs: Regs,
    #[serde(default)]
    pub ram: Vec<(u32, u8)>,
}

/// An exception the test raised; the FLAGS image it pushed sits at `flag_address`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TestException {
    pub number: u8,
    pub flag_address: u32,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TestCase {
    pub name: String,
    pub bytes: Vec<u8>,
    pub initial: State,
    #[serde(rename = "final")]
    pub final_state: State,
    /// The 8086 suite calls it `test_hash`, the 80286 suite `hash`.
    #[serde(alias = "test_hash")]
    pub hash: Option<String>,
    pub exception: Option<TestException>,
}

/// Reads a whole file, gunzipping `.gz` files.
pub fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| e.to_string())?;
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".gz") {
        let mut out = Vec::with_capacity(raw.len() * 8);
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses a test file by its name: MOO when the name ends in `.moo` / `.moo.gz`.
pub fn parse(path: &Path, data: &[u8]) -> Result<Vec<TestCase>, String> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".moo") || name.ends_with(".moo.gz") {
        parse_moo(data)
    } else {
        serde_json::from_slice(data).map_err(|e| format!("JSON: {e}"))
    }
}

/// A bounds-checked little-endian reader over a byte slice.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.remaining() < n {
            return Err(format!("MOO: truncated at byte {}", self.pos));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Next chunk: (id, payload).
    fn chunk(&mut self) -> Result<([u8; 4], &'a [u8]), String> {
        let id = self.take(4)?;
        let len = self.u32()? as usize;
        let payload = self.take(len)?;
        Ok(([id[0], id[1], id[2], id[3]], payload))
    }
}

fn parse_moo(data: &[u8]) -> Result<Vec<TestCase>, String> {
    let mut r = Reader::new(data);
    let (id, header) = r.chunk()?;
    if &id != b"MOO " {
        return Err("MOO: file does not start with a MOO chunk".into());
    }
    let mut h = Reader::new(header);
    let _version = h.u8()?;
    h.take(3)?;
    let count = h.u32()? as usize;
    let mut tests = Vec::with_capacity(count.min(1 << 16));
    while r.remaining() > 0 {
        let (id, payload) = r.chunk()?;
        if &id == b"TEST" {
            tests.push(parse_moo_test(payload)?);
        }
    }
    if tests.len() != count {
        return Err(format!(
            "MOO: header says {count} tests, file has {}",
            tests.len()
        ));
    }
    Ok(tests)
}

fn parse_moo_test(payload: &[u8]) -> Result<TestCase, String> {
    let mut r = Reader::new(payload);
    let _index = r.u32()?;
    let mut t = TestCase {
        name: String::new(),
        bytes: Vec::new(),
        initial: State::default(),
        final_state: State::default(),
        hash: None,
        exception: None,
    };
    while r.remaining() > 0 {
        let (id, p) = r.chunk()?;
        let mut c = Reader::new(p);
        match &id {
            b"NAME" => {
                let n = c.u32()? as usize;
                t.name = String::from_utf8_lossy(c.take(n)?).into_owned();
            }
            b"BYTS" => {
                let n = c.u32()? as usize;
                t.bytes = c.take(n)?.to_vec();
            }
            b"INIT" => t.initial = parse_moo_state(p)?,
            b"FINA" => t.final_state = parse_moo_state(p)?,
            b"EXCP" => {
                t.exception = Some(TestException {
                    number: c.u8()?,
                    flag_address: c.u32()?,
                })
            }
            b"HASH" => {
                let h = c.take(20)?;
                t.hash = Some(h.iter().map(|b| format!("{b:02x}")).collect());
            }
            _ => {}
        }
    }
    Ok(t)
}

fn parse_moo_state(payload: &[u8]) -> Result<State, String> {
    let mut r = Reader::new(payload);
    let mut s = State::default();
    while r.remaining() > 0 {
        let (id, p) = r.chunk()?;
        let mut c = Reader::new(p);
        match &id {
            b"REGS" => {
                let mask = c.u16()?;
                let mut regs = [None; 14];
                for (i, slot) in regs.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *slot = Some(c.u16()?);
                    }
                }
                s.regs = Regs::from_array(regs);
            }
            b"RAM " => {
                let n = c.u32()? as usize;
                if n > c.remaining() / 5 {
                    return Err("MOO: RAM chunk shorter than its entry count".into());
                }
                for _ in 0..n {
                    let a = c.u32()?;
                    let v = c.u8()?;
                    s.ram.push((a, v));
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_case_parses() {
        let j = br#"[{"name":"add cl, ah","bytes":[0,225],
            "initial":{"regs":{"ax":1,"bx":2,"cx":3,"dx":4,"cs":5,"ss":6,"ds":7,"es":8,"sp":9,
            "bp":10,"si":11,"di":12,"ip":13,"flags":14},"ram":[[100,0],[101,225]]},
            "final":{"regs":{"cx":4},"ram":[]},"test_hash":"abc"}]"#;
        let t = parse(Path::new("00.json"), j).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].initial.regs.flags, Some(14));
        assert_eq!(t[0].final_state.regs.cx, Some(4));
        assert_eq!(t[0].final_state.regs.ax, None);
        assert_eq!(t[0].initial.ram, vec![(100, 0), (101, 225)]);
        assert_eq!(t[0].hash.as_deref(), Some("abc"));
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(parse(Path::new("x.json"), b"[{\"name\": 5}]").is_err());
        assert!(parse(Path::new("x.json"), b"not json").is_err());
        assert!(parse(Path::new("x.MOO"), b"MOO \x0c\x00\x00\x00\x01").is_err());
        assert!(parse(Path::new("x.MOO"), b"").is_err());
        // A header announcing a test that is not there.
        let mut moo = b"MOO \x0c\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00C286".to_vec();
        assert!(parse(Path::new("x.MOO"), &moo).is_err());
        // A TEST chunk whose length runs past the end.
        moo.extend_from_slice(b"TEST\xff\xff\x00\x00\x00\x00");
        assert!(parse(Path::new("x.MOO"), &moo).is_err());
    }

    /// The two original MOO files must decode to the same tests as their JSON conversions.
    #[test]
    fn moo_samples_match_json() {
        let dir =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/test-suites/singlestep/80286");
        if !dir.exists() {
            println!("skipping: {} not found", dir.display());
            return;
        }
        for op in ["F4", "F5"] {
            let moo_path = dir.join(format!("moo-samples/{op}.MOO.gz"));
            let json_path = dir.join(format!("v1_real_mode/{op}.json.gz"));
            let moo = parse(&moo_path, &read_file(&moo_path).unwrap()).unwrap();
            let json = parse(&json_path, &read_file(&json_path).unwrap()).unwrap();
            assert!(json.len() <= moo.len());
            for (m, j) in moo.iter().zip(json.iter()) {
                assert_eq!(m.name, j.name);
                assert_eq!(m.bytes, j.bytes);
                assert_eq!(m.initial, j.initial, "{}", j.name);
                assert_eq!(m.final_state, j.final_state, "{}", j.name);
                assert_eq!(m.hash, j.hash);
                assert_eq!(m.exception, j.exception);
            }
        }
    }
}
