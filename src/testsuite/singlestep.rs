//! SingleStepTests runner (to be written).

use std::path::Path;

use crate::cpu::CpuModel;

pub fn run_cli(
    _path: &Path,
    _cpu: Option<CpuModel>,
    _filter: Option<&str>,
    _max: usize,
) -> crate::Result<()> {
    Err(crate::Error::Usage("not yet".into()))
}
