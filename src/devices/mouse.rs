//! A PS/2 mouse on the 8042's auxiliary port: the device commands (reset, defaults,
//! enable/disable reporting, sample rate, resolution, scaling, status, identify, stream/
//! remote/wrap modes, read data) and 3-byte movement packets. The IntelliMouse knock
//! (sample rates 200, 100, 80) switches the id to 3 and the packets to 4 bytes (wheel 0).

/// Movement and buttons from the host: dx right, dy down (screen convention), buttons bit
/// 0 left, 1 right, 2 middle.
#[derive(Clone, Debug)]
pub struct Mouse {
    reporting: bool,
    remote: bool,
    wrap: bool,
    scaling_2to1: bool,
    rate: u8,
    resolution: u8,
    id: u8,
    buttons: u8,
    /// Movement not yet sent (remote mode, or a full output buffer).
    dx: i32,
    dy: i32,
    /// The last three sample rates set (the IntelliMouse knock).
    rates: [u8; 3],
    /// A command waiting for its parameter byte (F3h rate, E8h resolution).
    pending: Option<u8>,
}

impl Default for Mouse {
    fn default() -> Self {
        Mouse {
            reporting: false,
            remote: false,
            wrap: false,
            scaling_2to1: false,
            rate: 100,
            resolution: 2,
            id: 0,
            buttons: 0,
            dx: 0,
            dy: 0,
            rates: [0; 3],
            pending: None,
        }
    }
}

const ACK: u8 = 0xFA;
const RESEND: u8 = 0xFE;

impl Mouse {
    fn set_defaults(&mut self) {
        self.reporting = false;
        self.remote = false;
        self.scaling_2to1 = false;
        self.rate = 100;
        self.resolution = 2;
        self.dx = 0;
        self.dy = 0;
    }

    /// A byte the host sent to the mouse (8042 command D4h); returns the mouse's answer.
    pub fn command(&mut self, v: u8) -> Vec<u8> {
        if let Some(cmd) = self.pending.take() {
            match cmd {
                0xF3 => {
                    self.rate = v;
                    self.rates = [self.rates[1], self.rates[2], v];
                    if self.rates == [200, 100, 80] {
                        self.id = 3;
                    }
                }
                _ => self.resolution = v & 3,
            }
            return vec![ACK];
        }
        if self.wrap && v != 0xEC && v != 0xFF {
            return vec![v];
        }
        match v {
            0xFF => {
                self.set_defaults();
                self.wrap = false;
                self.id = 0;
                vec![ACK, 0xAA, 0x00]
            }
            0xF6 => {
                self.set_defaults();
                vec![ACK]
            }
            0xF5 => {
                self.reporting = false;
                vec![ACK]
            }
            0xF4 => {
                self.reporting = true;
                vec![ACK]
            }
            0xF3 | 0xE8 => {
                self.pending = Some(v);
                vec![ACK]
            }
            0xF2 => vec![ACK, self.id],
            0xF0 => {
                self.remote = true;
                vec![ACK]
            }
            0xEE => {
                self.wrap = true;
                vec![ACK]
            }
            0xEC => {
                self.wrap = false;
                vec![ACK]
            }
            0xEA => {
                self.remote = false;
                vec![ACK]
            }
            0xEB => {
                let mut out = vec![ACK];
                out.extend(self.packet());
                out
            }
            0xE9 => {
                let b = self.buttons;
                // Status: remote, enabled, scaling, then left/middle/right in bits 2/1/0.
                let s = (self.remote as u8) << 6
                    | (self.reporting as u8) << 5
                    | (self.scaling_2to1 as u8) << 4
                    | (b & 1) << 2
                    | (b & 4) >> 1
                    | (b & 2) >> 1;
                vec![ACK, s, self.resolution, self.rate]
            }
            0xE7 => {
                self.scaling_2to1 = true;
                vec![ACK]
            }
            0xE6 => {
                self.scaling_2to1 = false;
                vec![ACK]
            }
            _ => vec![RESEND],
        }
    }

    /// The packet for the movement accumulated so far (which it consumes).
    fn packet(&mut self) -> Vec<u8> {
        // Up-positive Y; the accumulated movement may be as large as i32 allows.
        let up = self.dy.saturating_neg();
        let x = self.dx.clamp(-256, 255);
        let y = up.clamp(-256, 255);
        let x_over = self.dx != x;
        let y_over = up != y;
        self.dx = 0;
        self.dy = 0;
        let b0 = 0x08
            | (self.buttons & 7)
            | ((x < 0) as u8) << 4
            | ((y < 0) as u8) << 5
            | (x_over as u8) << 6
            | (y_over as u8) << 7;
        let mut p = vec![b0, x as u8, y as u8];
        if self.id == 3 {
            p.push(0);
        }
        p
    }

    /// Movement from the host; returns the packet to send now, if the mouse streams.
    pub fn event(&mut self, dx: i32, dy: i32, buttons: u8) -> Option<Vec<u8>> {
        self.dx = self.dx.saturating_add(dx);
        self.dy = self.dy.saturating_add(dy);
        self.buttons = buttons & 7;
        (self.reporting && !self.remote && !self.wrap).then(|| self.packet())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_identify_status_and_packets() {
        let mut m = Mouse::default();
        assert_eq!(m.command(0xFF), vec![0xFA, 0xAA, 0x00]);
        assert_eq!(m.command(0xF2), vec![0xFA, 0x00]);
        assert_eq!(m.event(5, 5, 0), None, "reporting is off after reset");
        assert_eq!(m.command(0xF3), vec![0xFA]);
        assert_eq!(m.command(40), vec![0xFA]);
        assert_eq!(m.command(0xE8), vec![0xFA]);
        assert_eq!(m.command(3), vec![0xFA]);
        assert_eq!(m.command(0xE9), vec![0xFA, 0x00, 3, 40]);
        assert_eq!(m.command(0xF4), vec![0xFA]);
        // The 5/5 from before plus 10 right, 20 down, left button: y is up-positive.
        assert_eq!(m.event(10, 20, 1), Some(vec![0x29, 15, (-25i8) as u8]));
        assert_eq!(
            m.event(-300, -1, 6),
            Some(vec![0x08 | 6 | 0x10 | 0x40, 0, 1])
        );
        assert_eq!(m.command(0xAB), vec![0xFE]);
    }

    #[test]
    fn intellimouse_knock_remote_and_wrap() {
        let mut m = Mouse::default();
        for r in [200, 100, 80] {
            m.command(0xF3);
            m.command(r);
        }
        assert_eq!(m.command(0xF2), vec![0xFA, 0x03]);
        m.command(0xF0);
        m.command(0xF4);
        assert_eq!(m.event(1, 0, 0), None, "remote mode: no stream");
        assert_eq!(m.command(0xEB), vec![0xFA, 0x08, 1, 0, 0]);
        m.command(0xEE);
        assert_eq!(m.command(0x42), vec![0x42], "wrap mode echoes");
        assert_eq!(m.command(0xEC), vec![0xFA]);
        assert_eq!(m.command(0xFF), vec![0xFA, 0xAA, 0x00]);
        assert_eq!(m.command(0xF2), vec![0xFA, 0x00]);
    }

    #[test]
    fn extreme_accumulated_movement_saturates() {
        // Regression (device audit): in remote mode the host's movement accumulates; at
        // i32::MIN the Y negation overflowed (a panic in debug builds).
        let mut m = Mouse::default();
        m.command(0xF0);
        m.event(i32::MIN, i32::MIN, 0);
        m.event(-1, -1, 0);
        assert_eq!(
            m.command(0xEB),
            vec![0xFA, 0x08 | 0x10 | 0x40 | 0x80, 0, 0xFF]
        );
        m.event(i32::MAX, i32::MAX, 0);
        assert_eq!(
            m.command(0xEB),
            vec![0xFA, 0x08 | 0x20 | 0x40 | 0x80, 0xFF, 0]
        );
    }
}
