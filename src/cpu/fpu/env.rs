//! The FPU environment and state images: FSTENV/FLDENV (14 or 28 bytes, real-mode and
//! protected-mode layouts), FSAVE/FRSTOR (environment + eight 10-byte registers) and the
//! 512-byte FXSAVE/FXRSTOR layout.

use super::float80::F80;
use super::state::{tag_of, Fpu, TAG_EMPTY};

/// Which environment layout: operand size and CPU mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub size32: bool,
    /// Real or V86 mode: instruction and operand pointers are 20/32-bit linear addresses.
    pub real: bool,
}

impl Layout {
    pub fn env_len(self) -> usize {
        if self.size32 {
            28
        } else {
            14
        }
    }
}

impl Fpu {
    /// The tag word as stored by FSTENV/FSAVE: empty stays empty, the others describe the
    /// register's contents.
    pub fn stored_tag(&self) -> u16 {
        (0..8).fold(0u16, |acc, p| {
            let t = if self.tag_at(p) == TAG_EMPTY {
                TAG_EMPTY
            } else {
                tag_of(self.regs[p])
            };
            acc | (t << (2 * p))
        })
    }

    /// Applies a loaded tag word: empty or not per register, the kind from the contents.
    fn load_tag(&mut self, tw: u16) {
        for p in 0..8 {
            let t = if (tw >> (2 * p)) & 3 == TAG_EMPTY {
                TAG_EMPTY
            } else {
                tag_of(self.regs[p])
            };
            self.set_tag(p, t);
        }
    }

    /// The environment image.
    pub fn env_image(&self, l: Layout) -> Vec<u8> {
        let mut b = Vec::with_capacity(28);
        let tw = self.stored_tag();
        let ip_lin = self.fip.wrapping_add((self.fcs as u32) << 4);
        let dp_lin = self.fdp.wrapping_add((self.fds as u32) << 4);
        let fop = (self.fop & 0x7FF) as u32;
        if l.size32 {
            let words: [u32; 7] = if l.real {
                [
                    0xFFFF_0000 | self.cw as u32,
                    0xFFFF_0000 | self.sw as u32,
                    0xFFFF_0000 | tw as u32,
                    0xFFFF_0000 | (ip_lin & 0xFFFF),
                    ((ip_lin >> 16) << 12) | fop,
                    0xFFFF_0000 | (dp_lin & 0xFFFF),
                    (dp_lin >> 16) << 12,
                ]
            } else {
                [
                    0xFFFF_0000 | self.cw as u32,
                    0xFFFF_0000 | self.sw as u32,
                    0xFFFF_0000 | tw as u32,
                    self.fip,
                    self.fcs as u32 | fop << 16,
                    self.fdp,
                    0xFFFF_0000 | self.fds as u32,
                ]
            };
            for w in words {
                b.extend_from_slice(&w.to_le_bytes());
            }
        } else {
            let words: [u16; 7] = if l.real {
                [
                    self.cw,
                    self.sw,
                    tw,
                    ip_lin as u16,
                    (((ip_lin >> 16) & 0xF) << 12) as u16 | fop as u16,
                    dp_lin as u16,
                    (((dp_lin >> 16) & 0xF) << 12) as u16,
                ]
            } else {
                [
                    self.cw,
                    self.sw,
                    tw,
                    self.fip as u16,
                    self.fcs,
                    self.fdp as u16,
                    self.fds,
                ]
            };
            for w in words {
                b.extend_from_slice(&w.to_le_bytes());
            }
        }
        b
    }

    /// Loads an environment image (`b` holds at least `l.env_len()` bytes). Call after the
    /// registers are loaded (FRSTOR) so the tags describe them.
    pub fn load_env(&mut self, b: &[u8], l: Layout) {
        let (cw, sw, tw, ip, cs, dp, ds, fop);
        if l.size32 {
            let w =
                |i: usize| u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
            cw = w(0) as u16;
            sw = w(1) as u16;
            tw = w(2) as u16;
            if l.real {
                ip = (w(3) & 0xFFFF) | ((w(4) >> 12) & 0xFFFF) << 16;
                fop = (w(4) & 0x7FF) as u16;
                dp = (w(5) & 0xFFFF) | ((w(6) >> 12) & 0xFFFF) << 16;
                cs = 0;
                ds = 0;
            } else {
                ip = w(3);
                cs = w(4) as u16;
                fop = ((w(4) >> 16) & 0x7FF) as u16;
                dp = w(5);
                ds = w(6) as u16;
            }
        } else {
            let w = |i: usize| u16::from_le_bytes([b[2 * i], b[2 * i + 1]]);
            cw = w(0);
            sw = w(1);
            tw = w(2);
            if l.real {
                ip = w(3) as u32 | ((w(4) as u32 >> 12) << 16);
                fop = w(4) & 0x7FF;
                dp = w(5) as u32 | ((w(6) as u32 >> 12) << 16);
                cs = 0;
                ds = 0;
            } else {
                ip = w(3) as u32;
                cs = w(4);
                fop = 0;
                dp = w(5) as u32;
                ds = w(6);
            }
        }
        self.cw = (cw & !0xE0C0) | 0x40;
        self.sw = sw;
        self.fip = ip;
        self.fcs = cs;
        self.fdp = dp;
        self.fds = ds;
        self.fop = fop;
        self.load_tag(tw);
        self.update_es();
    }

    /// FSAVE image: environment then ST(0)..ST(7).
    pub fn save_image(&self, l: Layout) -> Vec<u8> {
        let mut b = self.env_image(l);
        for i in 0..8 {
            let r = self.st(i);
            b.extend_from_slice(&r.sig.to_le_bytes());
            b.extend_from_slice(&r.se.to_le_bytes());
        }
        b
    }

    /// FRSTOR from an image of `l.env_len() + 80` bytes.
    pub fn load_save_image(&mut self, b: &[u8], l: Layout) {
        let n = l.env_len();
        // TOP comes from the stored status word: registers are in stack order.
        let sw = if l.size32 {
            u16::from_le_bytes([b[4], b[5]])
        } else {
            u16::from_le_bytes([b[2], b[3]])
        };
        let top = ((sw >> 11) & 7) as usize;
        for i in 0..8 {
            let o = n + 10 * i;
            let mut sig = [0u8; 8];
            sig.copy_from_slice(&b[o..o + 8]);
            self.regs[(top + i) & 7] = F80 {
                sig: u64::from_le_bytes(sig),
                se: u16::from_le_bytes([b[o + 8], b[o + 9]]),
            };
        }
        self.load_env(b, l);
    }

    /// The 512-byte FXSAVE image (32-bit format; XMM area left zero).
    pub fn fxsave_image(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[0..2].copy_from_slice(&self.cw.to_le_bytes());
        b[2..4].copy_from_slice(&self.sw.to_le_bytes());
        b[4] = self.abridged_tag();
        b[6..8].copy_from_slice(&(self.fop & 0x7FF).to_le_bytes());
        b[8..12].copy_from_slice(&self.fip.to_le_bytes());
        b[12..14].copy_from_slice(&self.fcs.to_le_bytes());
        b[16..20].copy_from_slice(&self.fdp.to_le_bytes());
        b[20..22].copy_from_slice(&self.fds.to_le_bytes());
        // MXCSR's reset value and mask, for when SSE arrives.
        b[24..28].copy_from_slice(&0x1F80u32.to_le_bytes());
        b[28..32].copy_from_slice(&0xFFFFu32.to_le_bytes());
        for i in 0..8 {
            let r = self.st(i);
            let o = 32 + 16 * i;
            b[o..o + 8].copy_from_slice(&r.sig.to_le_bytes());
            b[o + 8..o + 10].copy_from_slice(&r.se.to_le_bytes());
        }
        b
    }

    /// Loads the x87 part of an FXSAVE image.
    pub fn fxrstor_image(&mut self, b: &[u8; 512]) {
        self.cw = (u16::from_le_bytes([b[0], b[1]]) & !0xE0C0) | 0x40;
        self.sw = u16::from_le_bytes([b[2], b[3]]);
        self.fop = u16::from_le_bytes([b[6], b[7]]) & 0x7FF;
        self.fip = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        self.fcs = u16::from_le_bytes([b[12], b[13]]);
        self.fdp = u32::from_le_bytes([b[16], b[17], b[18], b[19]]);
        self.fds = u16::from_le_bytes([b[20], b[21]]);
        let top = self.top();
        for i in 0..8 {
            let o = 32 + 16 * i;
            let mut sig = [0u8; 8];
            sig.copy_from_slice(&b[o..o + 8]);
            self.regs[(top + i) & 7] = F80 {
                sig: u64::from_le_bytes(sig),
                se: u16::from_le_bytes([b[o + 8], b[o + 9]]),
            };
        }
        self.tag_from_abridged(b[4]);
        self.update_es();
    }
}

#[cfg(test)]
mod tests {
    use super::super::convert::from_i64;
    use super::*;

    fn sample() -> Fpu {
        let mut f = Fpu::default();
        f.init();
        f.push(from_i64(3));
        f.push(F80::ZERO);
        f.fip = 0x1234;
        f.fcs = 0x20;
        f.fdp = 0x5678;
        f.fds = 0x28;
        f.fop = 0x5C1;
        f
    }

    #[test]
    fn save_and_restore_round_trip_every_layout() {
        for size32 in [false, true] {
            for real in [false, true] {
                let l = Layout { size32, real };
                let f = sample();
                let img = f.save_image(l);
                assert_eq!(img.len(), l.env_len() + 80);
                let mut g = Fpu::default();
                g.load_save_image(&img, l);
                assert_eq!((g.cw, g.sw, g.tag), (f.cw, f.sw, f.tag), "{l:?}");
                assert_eq!((g.st(0), g.st(1)), (F80::ZERO, from_i64(3)));
                if !real && size32 {
                    assert_eq!(
                        (g.fip, g.fcs, g.fdp, g.fds, g.fop),
                        (0x1234, 0x20, 0x5678, 0x28, 0x5C1)
                    );
                }
            }
        }
    }

    #[test]
    fn tag_word_is_stored_from_contents() {
        let f = sample();
        // R7 = 3 (valid), R6 = 0 (zero), the rest empty.
        assert_eq!(f.stored_tag(), 0x0FFF | (0b01 << 12));
    }

    #[test]
    fn fxsave_round_trip() {
        let f = sample();
        let img = f.fxsave_image();
        assert_eq!(img[4], 0xC0);
        let mut g = Fpu::default();
        g.fxrstor_image(&img);
        assert_eq!(
            (g.cw, g.sw, g.tag, g.st(1)),
            (f.cw, f.sw, f.tag, from_i64(3))
        );
    }
}
