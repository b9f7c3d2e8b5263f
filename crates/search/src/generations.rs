//! Index generations in the search folder, so an index can be rebuilt aside while the old one
//! serves: `gen-N/` folders, `building-N/` while one is made, and a `CURRENT` file naming the
//! one in use, replaced atomically (written aside, then renamed).

use std::io;
use std::path::{Path, PathBuf};

/// The generations in one folder.
#[derive(Debug, Clone)]
pub struct Generations {
    root: PathBuf,
}

const CURRENT: &str = "CURRENT";

impl Generations {
    /// The generations in `root` (made when first needed).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Generations { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generation in use, if one was published.
    pub fn current(&self) -> io::Result<Option<String>> {
        match std::fs::read_to_string(self.root.join(CURRENT)) {
            Ok(s) => {
                let name = s.trim();
                Ok(valid(name).then(|| name.to_owned()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The folder of a generation.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn numbers(&self) -> io::Result<Vec<u64>> {
        let mut out = Vec::new();
        let rd = match std::fs::read_dir(&self.root) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for e in rd {
            let name = e?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix("gen-")
                .or_else(|| name.strip_prefix("building-"))
                .and_then(|n| n.parse().ok())
            {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Starts a new generation: returns its name and the folder to build it in.
    pub fn start(&self) -> io::Result<(String, PathBuf)> {
        std::fs::create_dir_all(&self.root)?;
        let n = self.numbers()?.into_iter().max().unwrap_or(0) + 1;
        let building = self.root.join(format!("building-{n}"));
        std::fs::create_dir_all(&building)?;
        Ok((format!("gen-{n}"), building))
    }

    /// Moves a built generation in place and makes it the one in use.
    pub fn publish(&self, name: &str, built: &Path) -> io::Result<()> {
        let dest = self.path(name);
        std::fs::rename(built, &dest)?;
        self.set_current(name)
    }

    /// Names `name` as the generation in use.
    pub fn set_current(&self, name: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.root)?;
        let tmp = self.root.join(format!("{CURRENT}.tmp"));
        std::fs::write(&tmp, format!("{name}\n"))?;
        std::fs::rename(&tmp, self.root.join(CURRENT))
    }

    /// Removes the published generations older than `keep` (not newer ones, which a build may
    /// have just published, nor those being built).
    pub fn remove_others(&self, keep: &str) -> io::Result<usize> {
        let number = |n: &str| -> Option<u64> { n.strip_prefix("gen-")?.parse().ok() };
        let Some(kept) = number(keep) else {
            return Ok(0);
        };
        let mut n = 0;
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return Ok(0);
        };
        for e in rd {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if number(&name).is_some_and(|n| n < kept) && e.path().is_dir() {
                std::fs::remove_dir_all(e.path())?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn valid(name: &str) -> bool {
    name.strip_prefix("gen-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_aside_then_swap() {
        let dir = tempfile::tempdir().unwrap();
        let g = Generations::new(dir.path().join("search"));
        assert_eq!(g.current().unwrap(), None);
        let (a, pa) = g.start().unwrap();
        g.publish(&a, &pa).unwrap();
        assert_eq!(g.current().unwrap().as_deref(), Some("gen-1"));
        let (b, pb) = g.start().unwrap();
        assert_eq!(b, "gen-2");
        // While gen-2 is built, gen-1 serves and a clean-up leaves the building folder alone.
        assert_eq!(g.remove_others("gen-1").unwrap(), 0);
        assert!(pb.exists());
        g.publish(&b, &pb).unwrap();
        assert_eq!(g.current().unwrap().as_deref(), Some("gen-2"));
        assert_eq!(g.remove_others("gen-2").unwrap(), 1);
        assert!(!g.path("gen-1").exists());
    }

    #[test]
    fn a_damaged_current_file_names_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CURRENT), "../../etc\n").unwrap();
        assert_eq!(Generations::new(dir.path()).current().unwrap(), None);
    }
}
