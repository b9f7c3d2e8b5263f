//! Gives memory the allocator holds free back to the operating system: the one call into the C
//! library that safe Rust cannot make, kept in its own crate so that the rest of the workspace
//! still forbids unsafe code.
//!
//! glibc's malloc keeps what a program frees for its next allocations. The page cache frees
//! whole pages all the time (evictions, replaced pages), and in a long crawl the heap ends up
//! with tens of megabytes free in small holes between live pages: resident, though unused.
//! `malloc_trim(0)` hands every whole free page of every arena back to the kernel
//! (`MADV_DONTNEED`); the addresses stay the heap's, and a page is faulted in again (zeroed) when
//! it is next used. Elsewhere (musl, other systems) [`trim`] does nothing.

/// Hands the whole free pages malloc holds back to the operating system; whether any were.
/// Takes each arena's lock while it walks that arena's free chunks (a few milliseconds for tens
/// of thousands of them), so call it now and then, not per request.
pub fn trim() -> bool {
    imp::trim()
}

/// Whether [`trim`] does anything here (glibc).
pub const AVAILABLE: bool = cfg!(all(target_os = "linux", target_env = "gnu"));

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    #[allow(unsafe_code)]
    pub(super) fn trim() -> bool {
        // SAFETY: `malloc_trim` takes no pointer and reads or writes no memory of ours: it walks
        // malloc's own free lists under each arena's lock (glibc documents it MT-safe) and
        // advises the kernel that the whole pages of free chunks are not needed. Live
        // allocations are not touched.
        unsafe { libc::malloc_trim(0) == 1 }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn trim() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// This process's resident anonymous memory, in KiB (`RssAnon` of /proc/self/status).
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// 64 MiB in 10 KB blocks (the size of a cached page's gzip form), seven in eight freed:
    /// the holes stay resident (the blocks kept pin the heap, so it cannot shrink from its
    /// top) until `trim` gives their whole pages back. Counted in KiB, not timed.
    #[test]
    fn freed_holes_between_live_blocks_leave_resident_memory() {
        if !super::AVAILABLE {
            assert!(!super::trim());
            return;
        }
        const BLOCK: usize = 10_000;
        const BLOCKS: usize = 64 * 1024 * 1024 / BLOCK;
        let mut blocks: Vec<Vec<u8>> = (0..BLOCKS).map(|i| vec![(i % 251) as u8; BLOCK]).collect();
        let mut kept = Vec::with_capacity(BLOCKS / 8);
        for (i, b) in blocks.drain(..).enumerate() {
            if i % 8 == 0 {
                kept.push(b);
            }
        }
        let before = rss_anon_kib();
        assert!(super::trim());
        let after = rss_anon_kib();
        // About 56 MiB are free in 7-block holes (each some 16 whole pages): most of it goes.
        assert!(
            before.saturating_sub(after) > 40 * 1024,
            "resident {before} KiB before, {after} KiB after"
        );
        // The kept blocks are intact.
        for (j, b) in kept.iter().enumerate() {
            assert!(b.iter().all(|&x| x == ((j * 8) % 251) as u8));
        }
    }
}
