//! Files we write (reports, baselines): a path in, a temporary file beside it out, renamed
//! over the path only once everything is written, so an interrupted run or a full disk never
//! leaves a truncated file where the old one was. Created before a scan starts, so an
//! unwritable path fails at once instead of after minutes of work.
//!
//! A target that exists and is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
//! written to directly: renaming over it would replace the device with a file.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result};

pub struct AtomicFile {
    path: PathBuf,
    to: Target,
}

enum Target {
    Beside(tempfile::NamedTempFile),
    /// A device or pipe, written as it is.
    Direct(std::fs::File),
}

impl AtomicFile {
    /// A temporary file in `path`'s directory; `what` names the file in errors.
    pub fn create(path: &Path, what: &str) -> Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if path.is_dir() {
            anyhow::bail!("{what} {} is a directory", path.display());
        }
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {what} {}", path.display()))?;
            return Ok(AtomicFile {
                path: path.to_path_buf(),
                to: Target::Direct(f),
            });
        }
        let tmp = tempfile::Builder::new()
            .prefix(".sprawl-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot write {what} {}", path.display()))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            to: Target::Beside(tmp),
        })
    }

    /// Flush and rename over the target.
    pub fn commit(self) -> Result<()> {
        let mut tmp = match self.to {
            Target::Beside(t) => t,
            Target::Direct(mut f) => return Ok(f.flush()?),
        };
        tmp.flush()?;
        // A temporary file is private (0600); give the result the old file's mode, or the
        // usual mode of a new file.
        let perm = match std::fs::metadata(&self.path) {
            Ok(m) => m.permissions(),
            Err(_) => default_permissions(tmp.path())?,
        };
        std::fs::set_permissions(tmp.path(), perm)?;
        tmp.persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("writing {}", self.path.display()))?;
        Ok(())
    }
}

#[cfg(unix)]
fn default_permissions(_: &Path) -> io::Result<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions(p: &Path) -> io::Result<std::fs::Permissions> {
    Ok(std::fs::metadata(p)?.permissions())
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.to {
            Target::Beside(t) => t.write(buf),
            Target::Direct(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.to {
            Target::Beside(t) => t.flush(),
            Target::Direct(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_replaces_the_target_until_commit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("report.json");
        std::fs::write(&p, "old").unwrap();
        let mut f = AtomicFile::create(&p, "output file").unwrap();
        f.write_all(b"new, half").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        drop(f);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        let mut f = AtomicFile::create(&p, "output file").unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(AtomicFile::create(&dir.path().join("no/such/dir/x"), "output file").is_err());
    }

    /// Regression: `-o /dev/null` renamed a report over the device, leaving a regular file
    /// where /dev/null was.
    #[cfg(unix)]
    #[test]
    fn a_device_or_pipe_is_written_to_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut f = AtomicFile::create(&fifo, "output file").unwrap();
        f.write_all(b"report").unwrap();
        f.commit().unwrap();
        assert_eq!(reader.join().unwrap(), "report");
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
