//! The I/O port bus as the CPU sees it.

pub mod debug;

/// What the CPU calls for IN/OUT. The PC's bus routes ports to devices; tests use
/// [`debug::DebugPorts`].
pub trait PortBus {
    /// Reads `size` bytes (1, 2 or 4) from `port`.
    fn read(&mut self, port: u16, size: u8) -> u32;
    /// Writes `size` bytes (1, 2 or 4) of `value` to `port`.
    fn write(&mut self, port: u16, size: u8, value: u32);
    /// An exit requested by the guest (isa-debug-exit), as the process exit code.
    fn exit_request(&self) -> Option<i32> {
        None
    }
    /// Lets callers reach a concrete bus (tests reading the debug console).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}

/// A bus with nothing on it: reads return all ones, writes go nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenBus;

impl PortBus for OpenBus {
    fn read(&mut self, _port: u16, size: u8) -> u32 {
        match size {
            1 => 0xFF,
            2 => 0xFFFF,
            _ => u32::MAX,
        }
    }

    fn write(&mut self, _port: u16, _size: u8, _value: u32) {}
}
