//! (family: stack) — handlers to be filled in.

use super::Table;

pub fn register(_t: &mut Table) {}
