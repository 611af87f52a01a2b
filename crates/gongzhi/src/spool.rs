//! Spool files: uploads on their way into the database (an import of residents holds full ID
//! numbers). They live in `<data dir>/tmp`, are created readable by the owner only (0600), are
//! removed when their [`Spool`] guard drops (every exit path, a panic included), and those left
//! by a process that died (kill -9, power loss) are swept at the next start: a spool file's name
//! carries the id of the process that made it.
use std::fs::File;
use std::path::{Path, PathBuf};

/// Creates a new file readable and writable by the owner only.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// The spool directory of a data directory.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tmp")
}

/// A spool file and the files made from it (`<name>.<ext>` beside it), removed on drop.
#[derive(Debug)]
pub struct Spool {
    path: PathBuf,
    derived: Vec<PathBuf>,
}

impl Spool {
    /// A new, empty spool file `<kind>-<pid>-<id>.<ext>` (0600) in the data directory's spool.
    pub fn create(data_dir: &Path, kind: &str, ext: &str) -> std::io::Result<(Spool, File)> {
        let dir = dir(data_dir);
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "{kind}-{}-{}.{ext}",
            std::process::id(),
            crate::domain::new_id().simple()
        );
        let path = dir.join(name);
        let file = create_private(&path)?;
        Ok((
            Spool {
                path,
                derived: vec![],
            },
            file,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path beside the spool file for a file made from it (removed with it).
    pub fn derived(&mut self, ext: &str) -> PathBuf {
        let p = self.path.with_extension(ext);
        self.derived.push(p.clone());
        p
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        for p in &self.derived {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Removes spool files left by processes that no longer run (and files of an older naming).
/// Returns how many were removed.
pub fn sweep(data_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir(data_dir)) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if owner_alive(&name) {
            continue;
        }
        if e.file_type().map(|t| t.is_file()).unwrap_or(false)
            && std::fs::remove_file(e.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Whether the process named in `<kind>-<pid>-<id>.<ext>` still runs (this one included).
fn owner_alive(name: &str) -> bool {
    let mut parts = name.splitn(3, '-');
    let (_, pid) = (parts.next(), parts.next());
    match pid.and_then(|p| p.parse::<u32>().ok()) {
        Some(pid) if parts.next().is_some() => pid == std::process::id() || process_exists(pid),
        _ => false,
    }
}

fn process_exists(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        Path::new(&format!("/proc/{pid}")).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Elsewhere: keep the file (a later start on Linux, or a manual clean, removes it).
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_is_private_removed_and_swept() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _f) = Spool::create(dir.path(), "import", "csv").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let d = s.derived("utf8.csv");
        std::fs::write(&d, b"x").unwrap();
        let p = s.path().to_path_buf();
        drop(s);
        assert!(!p.exists() && !d.exists());
        // Left by a dead process (pid 0 is never a user process) and by an old naming: swept.
        let spool = super::dir(dir.path());
        std::fs::write(spool.join("import-999999999-abc.csv"), b"1").unwrap();
        std::fs::write(spool.join("import-abc.csv"), b"1").unwrap();
        let (live, _f) = Spool::create(dir.path(), "import", "csv").unwrap();
        assert_eq!(sweep(dir.path()), 2);
        assert!(live.path().exists());
    }
}
