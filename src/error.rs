//! Errors that reach the user: one line on stderr and a non-zero exit code.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or arguments.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its content is not what we expected.
    #[error("{}: {msg}", path.display())]
    Format { path: PathBuf, msg: String },
    /// A test suite ran and some tests failed.
    #[error("{failed} test(s) failed")]
    TestsFailed { failed: u64 },
}

impl Error {
    /// The process exit code: 2 for usage and input errors, 1 for failed runs.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Io { .. } | Error::Format { .. } => 2,
            Error::TestsFailed { .. } => 1,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Error {
        Error::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
