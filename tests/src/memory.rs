//! This process's memory, from `/proc/self` (Linux): the app runs in-process in the tests and
//! benches, so its memory is theirs.

/// Resident memory now and at its peak, in MiB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub resident_mb: f64,
    pub peak_mb: f64,
}

pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mb = |field: &str| -> Option<f64> {
        let kb: f64 = status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some(Memory { resident_mb: mb("VmRSS:")?, peak_mb: mb("VmHWM:")? })
}

/// Starts the peak over from the resident memory now, so that a later peak is the measured
/// work's; false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
