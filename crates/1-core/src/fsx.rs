//! Reading and writing files that someone else may have placed: a file is
//! read only when it is a regular file (a FIFO would block the reader
//! forever, `/dev/zero` would never end), within a size bound, and what
//! imagespec keeps for itself (its caches) is used only when it is a
//! regular file or folder that this user owns and that no one else may
//! write.
//!
//! Files are opened with `O_NONBLOCK`, then checked with `fstat` on the open
//! file: a file swapped for a FIFO between a check and the open cannot make
//! the open or the first read wait.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::Path;

use rustix::fs::OFlags;

/// Why a file was not read.
fn refused(path: &Path, why: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("`{}` {why}", path.display()),
    )
}

/// What a file is, in a message.
fn kind_of(m: &Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a link"
    } else {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            "a FIFO"
        } else if t.is_char_device() || t.is_block_device() {
            "a device"
        } else if t.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        }
    }
}

/// Opens `path` for reading (following links, as Python's `open` does), when
/// it is a regular file; anything else is an `InvalidInput` error naming
/// what it is.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(
            path,
            format_args!("is {}, not a regular file", kind_of(&meta)),
        ));
    }
    Ok(file)
}

/// Whether `path` is a regular file (after links): flytekit's `os.path.isfile`.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The content of the regular file `path`, at most `max` bytes (a longer
/// one, or one that grows past it while read, is an error).
pub fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Err(refused(
            path,
            format_args!("is {len} bytes, over the {max} imagespec reads"),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(refused(
            path,
            format_args!("grew past the {max} bytes imagespec reads"),
        ));
    }
    Ok(bytes)
}

/// This process's effective user.
pub fn me() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Whether `m` is this user's and no one else may write it.
fn private(m: &Metadata) -> bool {
    m.uid() == me() && m.permissions().mode() & 0o022 == 0
}

/// Opens the cache entry `path` for reading when it is a regular file (not
/// a link), this user's, and writable by no one else, at most `max` bytes;
/// `Ok(None)` when it does not exist. Anything else is an error, so that a
/// cache another user (or a link) planted is never read.
pub fn read_private(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags((OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::NOCTTY).bits() as i32)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(
            path,
            format_args!("is {}, not a cache entry", kind_of(&meta)),
        ));
    }
    if !private(&meta) {
        return Err(refused(
            path,
            "is not this user's own, or others may write it",
        ));
    }
    if meta.len() > max {
        return Err(refused(
            path,
            format_args!(
                "is {} bytes, over the {max} a cache entry may have",
                meta.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(refused(path, "grew while it was read"));
    }
    Ok(Some(bytes))
}

/// Makes the folder `dir` (and its parents) if missing, private to this user
/// (mode 0700 for the folders it makes), and checks that `dir` is a real
/// folder (not a link), this user's, that no one else may write.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(refused(
            dir,
            format_args!("is {}, not a folder imagespec made", kind_of(&meta)),
        ));
    }
    if !private(&meta) {
        return Err(refused(
            dir,
            "is not this user's own folder, or others may write it",
        ));
    }
    Ok(())
}

/// Whether `dir` is a real folder (not a link), this user's, writable by no
/// one else: one imagespec may change or empty.
pub fn is_private_dir(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir() && private(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_devices_and_folders_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let started = std::time::Instant::now();
        let e = read_regular(&fifo, 10).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let e = read_regular(Path::new("/dev/zero"), 10).unwrap_err();
        assert!(e.to_string().contains("a device"), "{e}");
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(read_regular(&link, 10).is_err());
        assert!(read_regular(dir.path(), 10).is_err());
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 11]).unwrap();
        assert!(read_regular(&big, 10).is_err());
        assert_eq!(read_regular(&big, 11).unwrap().len(), 11);
    }

    #[test]
    fn cache_entries_must_be_private_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let entry = dir.path().join("e");
        assert!(read_private(&entry, 100).unwrap().is_none());
        std::fs::write(&entry, "x").unwrap();
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&entry, 100).unwrap().unwrap(), b"x");
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(read_private(&entry, 100).is_err(), "others may write it");
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&entry, &link).unwrap();
        assert!(read_private(&link, 100).is_err(), "a link");
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        assert!(read_private(&fifo, 100).is_err());
    }

    #[test]
    fn private_dirs_are_made_private_and_links_refused() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("a/b");
        private_dir(&made).unwrap();
        assert_eq!(
            std::fs::metadata(&made).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&made, &link).unwrap();
        assert!(private_dir(&link).is_err());
        assert!(!is_private_dir(&link));
        assert!(is_private_dir(&made));
    }
}
