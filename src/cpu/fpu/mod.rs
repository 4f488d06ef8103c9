//! The x87 floating-point unit: an extended-precision soft-float (exact and host
//! independent) and the FPU's register state.

pub mod arith;
pub mod convert;
pub mod env;
pub mod float80;
pub mod special;
pub mod state;
#[cfg(all(test, target_arch = "x86_64"))]
mod tests_oracle;
pub mod transcend;
pub mod wide;

pub use float80::{Ctx, Rc, F80};
pub use state::Fpu;
