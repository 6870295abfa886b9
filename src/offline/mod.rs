//! What the offline `render` command writes for Docker Compose and bare-metal servers, and the
//! provider checks it runs: the same settings, keys and `workflowConfig` the operator puts in
//! its Secrets, as files.
//!
//! - [`envfile`]: the settings as a Compose env file or a shell script (pure);
//! - [`keydir`]: the key pair of an output directory, kept from run to run (reads files);
//! - [`outdir`]: the output directory: key files, settings file, `workflowConfig.yaml` (writes
//!   files, through [`files`]: atomically, with modes);
//! - [`verify`]: the provider checks and the condition lines the operator would write (network).

pub mod envfile;
pub mod files;
pub mod keydir;
pub mod outdir;
pub mod verify;

use std::path::PathBuf;

pub use envfile::{EncodeError, EnvFormat};

impl OfflineError {
    /// A failed write of `path`: a refused link is named as one.
    pub(crate) fn write(path: &std::path::Path, source: std::io::Error) -> Self {
        if files::is_link_refusal(&source) {
            Self::Link {
                path: path.to_path_buf(),
            }
        } else {
            Self::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    }

    /// A failed read of `path`: a refused link is named as one.
    pub(crate) fn read(path: &std::path::Path, source: std::io::Error) -> Self {
        if files::is_link_refusal(&source) {
            Self::Link {
                path: path.to_path_buf(),
            }
        } else {
            Self::Read {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}

/// Why the offline output could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum OfflineError {
    /// A file could not be read.
    #[error("failed to read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link stands where the output directory's files are read or written.
    #[error(
        "{} is a symbolic link: the output directory's files are never read or written through one (remove it, or pass the folder it points to as --out-dir)",
        path.display()
    )]
    Link {
        /// The link.
        path: PathBuf,
    },
    /// A file or directory could not be written.
    #[error("failed to write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The key pair in the output directory is unusable; it is not replaced without being asked.
    #[error(
        "the key pair in {} is unusable; fix it, or pass --rotate-keys to replace it with a new one",
        path.display()
    )]
    StoredKeys {
        /// The key directory.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: crate::keys::KeyError,
    },
    /// The spec brings a key other than the one in the output directory.
    #[error(
        "{} holds another private key than spec.jwt.keySecretRef; pass --rotate-keys to replace it",
        path.display()
    )]
    KeyWouldBeReplaced {
        /// The private key file.
        path: PathBuf,
    },
    /// Key material could not be generated or read.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// A value cannot be written in the settings file's format.
    #[error("failed to write the settings file")]
    Encode(#[from] EncodeError),
}

#[cfg(test)]
mod tests;
