//! Writing files a server reads: atomically (a temporary file in the same directory, synced,
//! then renamed over the old one, then the directory synced), so a reader or a crash never sees
//! half a key; with the mode given, whatever the umask; and not at all when the content and the
//! mode are already right.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

/// Private key files and files with secret settings: the owner only.
pub const PRIVATE_FILE: u32 = 0o600;
/// Public key files, the JWKS, the key id.
pub const PUBLIC_FILE: u32 = 0o644;
/// Directories holding private files.
pub const PRIVATE_DIR: u32 = 0o700;

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

/// Writes `bytes` to `path` with `mode`, atomically, unless it already holds them.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> io::Result<Written> {
    if let Ok(current) = fs::read(path)
        && current == bytes
    {
        if fs::metadata(path)?.permissions().mode() & 0o7777 == mode {
            return Ok(Written::Unchanged);
        }
        fs::set_permissions(path, Permissions::from_mode(mode))?;
        return Ok(Written::ModeFixed);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = write_new(&tmp, bytes, mode).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    File::open(dir)?.sync_all()?;
    Ok(Written::Replaced)
}

fn write_new(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    // A leftover of a crashed run of this process id: never written to in place.
    let _ = fs::remove_file(tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(tmp)?;
    // The umask may have taken bits away from the mode asked for.
    file.set_permissions(Permissions::from_mode(mode))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `dir` (and its parents) if needed and gives it `mode`.
pub fn directory(dir: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    if fs::metadata(dir)?.permissions().mode() & 0o7777 != mode {
        fs::set_permissions(dir, Permissions::from_mode(mode))?;
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
