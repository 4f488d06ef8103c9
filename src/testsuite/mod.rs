//! Runners for external instruction-accuracy suites.

pub mod singlestep;
