//! What the frontends need from a running machine beyond `run_for`: keyboard pacing and the
//! serial console's host side.

use super::{with_bus, Machine};

impl Machine {
    /// The keyboard controller has handed every byte to the guest: a frontend pacing host
    /// keystrokes (a real keyboard sends one byte at a time) may send the next.
    pub fn keyboard_ready(&self) -> bool {
        self.bus().kbc.pending_output() == 0
    }

    /// COM1 has no received byte waiting: the next host byte will not overrun it.
    pub fn serial_ready(&self) -> bool {
        self.bus().uarts[0].rx_pending() == 0
    }

    /// Where COM1's output goes on the host (`--serial`; frontends that own the terminal
    /// send it nowhere).
    pub fn set_serial_sink(&mut self, sink: crate::devices::uart::Sink) {
        with_bus(&mut self.cpu, |_, bus| bus.uarts[0].sink = sink);
    }

    /// Everything the guest sent to COM1 so far (the first 16 MiB).
    pub fn serial_output(&self) -> &[u8] {
        &self.bus().uarts[0].output
    }
}

#[cfg(test)]
mod tests {
    use super::super::{MachineConfig, Outcome};
    use super::*;

    fn demo_disk() -> Machine {
        Machine::new(MachineConfig {
            echo_console: false,
            max_instructions: Some(10_000_000),
            ..MachineConfig::default()
        })
        .unwrap()
    }

    /// Running in small slices ends exactly like one run: same outcome, output and count.
    #[test]
    fn run_for_slices_match_a_whole_run() {
        let mut whole = demo_disk();
        assert_eq!(whole.run(), Outcome::Halted);
        let mut sliced = demo_disk();
        let mut pauses = 0;
        let outcome = loop {
            match sliced.run_for(997) {
                Some(o) => break o,
                None => pauses += 1,
            }
        };
        assert_eq!(outcome, Outcome::Halted);
        assert!(pauses > 3, "{pauses}");
        assert_eq!(sliced.cpu.icount, whole.cpu.icount);
        assert_eq!(sliced.serial_output(), whole.serial_output());
        assert_eq!(sliced.text_screen(), whole.text_screen());
    }

    #[test]
    fn run_for_zero_returns_at_once_and_limits_still_end_runs() {
        let mut m = demo_disk();
        assert_eq!(m.run_for(0), None);
        assert_eq!(m.cpu.icount, 0);
        let mut m = Machine::new(MachineConfig {
            echo_console: false,
            max_instructions: Some(1000),
            ..MachineConfig::default()
        })
        .unwrap();
        assert_eq!(m.run_for(500), None);
        assert_eq!(m.run_for(u64::MAX), Some(Outcome::InstructionLimit));
    }

    /// The machine can move to an emulation thread.
    #[test]
    fn machine_is_send() {
        fn send<T: Send>() {}
        send::<Machine>();
    }
}
