//! Writing files a server reads: atomically (a new temporary file in the same directory, synced,
//! then renamed over the old one, then the directory synced), so a reader or a crash never sees
//! half a key; with the mode given, whatever the umask; and not at all when the content and the
//! mode are already right.
//!
//! Never through a symbolic link someone planted: a link where a file goes is replaced (the rename
//! replaces the link itself), never read or written through, and its target keeps its content
//! and mode; a link where a directory goes is refused ([`is_link_refusal`]). Modes are set on the
//! open file or directory (`fchmod`), opened with `O_NOFOLLOW`, never by path.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Private key files and files with secret settings: the owner only.
pub const PRIVATE_FILE: u32 = 0o600;
/// Public key files, the JWKS, the key id.
pub const PUBLIC_FILE: u32 = 0o644;
/// Directories holding private files.
pub const PRIVATE_DIR: u32 = 0o700;

const LINK_REFUSED: &str = "a symbolic link stands there, and it is not followed: remove it, or name the folder it points to";

/// What [`write()`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file was created or its content replaced.
    Replaced,
    /// The content was right; only the mode was corrected.
    ModeFixed,
    /// Nothing to do.
    Unchanged,
}

/// Whether `error` says a symbolic link was refused.
pub fn is_link_refusal(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::InvalidInput && error.to_string() == LINK_REFUSED
}

fn link_refused() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, LINK_REFUSED)
}

/// Writes `bytes` to `path` with `mode`, atomically, unless it already holds them.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<Written> {
    if let Some(mut file) = open_regular(path)? {
        let mut current = Vec::new();
        file.read_to_end(&mut current)?;
        if current == bytes {
            if file.metadata()?.permissions().mode() & 0o7777 == mode {
                return Ok(Written::Unchanged);
            }
            file.set_permissions(Permissions::from_mode(mode))?;
            return Ok(Written::ModeFixed);
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", unique()));
    let result = write_new(&tmp, bytes, mode).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    File::open(dir)?.sync_all()?;
    Ok(Written::Replaced)
}

/// Reads the regular file at `path`; `None` when there is none. A link there is refused.
pub fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match open_regular(path) {
        Ok(Some(mut file)) => {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            Ok(Some(bytes))
        }
        Ok(None) if is_link(path)? => Err(link_refused()),
        other => other.map(|_| None),
    }
}

/// The regular file at `path`, opened without following a link: `None` when there is nothing
/// or a link (which the rename of [`write()`] replaces); an error for anything else.
fn open_regular(path: &Path) -> io::Result<Option<File>> {
    let opened = OpenOptions::new()
        .read(true)
        // O_NONBLOCK: a FIFO planted there must not hang the run.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    match opened {
        Ok(file) if file.metadata()?.is_file() => Ok(Some(file)),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "something other than a regular file stands there",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Ok(None),
        Err(e) => Err(e),
    }
}

fn is_link(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(meta.file_type().is_symlink()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// A temporary name no earlier run and no other writer in this process uses.
fn unique() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

fn write_new(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    // create_new is O_EXCL: it neither follows nor reuses anything already at the name.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(tmp)?;
    // The umask may have taken bits away from the mode asked for.
    file.set_permissions(Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `dir` (and its parents) if needed and gives it `mode`. A link at `dir` is refused
/// (its parents are the user's path, followed as any program does).
pub fn directory(dir: &Path, mode: u32) -> io::Result<()> {
    if is_link(dir)? {
        return Err(link_refused());
    }
    fs::create_dir_all(dir)?;
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
        .open(dir);
    let handle = match opened {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(link_refused()),
        other => other?,
    };
    if handle.metadata()?.permissions().mode() & 0o7777 != mode {
        handle.set_permissions(Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Refuses a link at `dir`, the folder files are read from.
pub fn no_link(dir: &Path) -> io::Result<()> {
    if is_link(dir)? {
        return Err(link_refused());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_file_is_written_with_its_mode_and_rewritten_only_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private_key.der");
        assert_eq!(
            write(&path, b"one", PRIVATE_FILE).unwrap(),
            Written::Replaced
        );
        assert_eq!(mode(&path), PRIVATE_FILE);
        assert_eq!(
            write(&path, b"one", PRIVATE_FILE).unwrap(),
            Written::Unchanged
        );
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            write(&path, b"one", PRIVATE_FILE).unwrap(),
            Written::ModeFixed
        );
        assert_eq!(mode(&path), PRIVATE_FILE);
        assert_eq!(
            write(&path, b"two", PRIVATE_FILE).unwrap(),
            Written::Replaced
        );
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn directories_get_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("out/keys");
        directory(&keys, PRIVATE_DIR).unwrap();
        assert_eq!(mode(&keys), PRIVATE_DIR);
    }
}
