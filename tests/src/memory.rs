//! This process's memory, from /proc (Linux): the app runs in-process, so what it costs shows here.

/// A field of /proc/self/status in MB (`VmRSS`: resident now, `VmHWM`: the peak).
fn status_mb(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resident memory now.
pub fn rss_mb() -> Option<f64> {
    status_mb("VmRSS")
}

/// The peak resident memory since the process started or since [`reset_peak`].
pub fn peak_mb() -> Option<f64> {
    status_mb("VmHWM")
}

/// Starts the peak over from what is resident now; false where the kernel does not allow it.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
