//! The I/O port bus as the CPU sees it.

pub mod debug;

/// How many bytes of guest output (debug console, serial) are kept for inspection; beyond
/// that output is still echoed but no longer recorded, so a guest that prints forever does
/// not grow the emulator's memory.
pub const RECORD_LIMIT: usize = 16 << 20;

/// A port write that needs more than the bus: the CPU acts on it before the next instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusRequest {
    /// The A20 gate opened or closed (port 0x92, the 8042 output port).
    A20(bool),
    /// A system reset (port 0x92 bit 0, 8042 pulse, triple-fault-free reboot).
    Reset,
    /// A ROM stub of the built-in BIOS asks the emulator to perform a service.
    BiosCall,
    /// A device raised an interrupt or waits for a DMA transfer: end the CPU's slice so
    /// the machine handles it promptly.
    Interrupt,
}

/// What the CPU calls for IN/OUT. The PC's bus routes ports to devices; tests use
/// [`debug::DebugPorts`].
/// `Send` so a machine can run on its own thread while a frontend owns the main one.
pub trait PortBus: Send {
    /// Reads `size` bytes (1, 2 or 4) from `port`.
    fn read(&mut self, port: u16, size: u8) -> u32;
    /// Writes `size` bytes (1, 2 or 4) of `value` to `port`.
    fn write(&mut self, port: u16, size: u8, value: u32);
    /// Called before each port access with the CPU's instruction count, so devices see
    /// the virtual time of the access.
    fn tick(&mut self, _icount: u64) {}
    /// An exit requested by the guest (isa-debug-exit), as the process exit code.
    fn exit_request(&self) -> Option<i32> {
        None
    }
    /// A request raised by the last write (A20, reset, BIOS call).
    fn take_request(&mut self) -> Option<BusRequest> {
        None
    }
    /// Lets callers reach a concrete bus (tests reading the debug console).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
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
