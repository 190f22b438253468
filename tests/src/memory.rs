//! The test process's memory as Linux counts it, for tests that load the app (which runs in this
//! process) and check that it stays within a bound.

/// A line of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`, reported in kB).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    let line = status.lines().find(|line| line.starts_with(field)).unwrap_or_else(|| panic!("no {field}"));
    let kib: u64 = line
        .trim_start_matches(field)
        .trim_start_matches(':')
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{line}"));
    kib * 1024
}

/// Resident memory now.
pub fn resident() -> u64 {
    status_bytes("VmRSS")
}

/// The most resident memory since the start or since [`reset_peak`].
pub fn peak() -> u64 {
    status_bytes("VmHWM")
}

/// Starts measuring the peak afresh from the resident memory of now.
pub fn reset_peak() {
    // Writing 5 to clear_refs resets VmHWM to VmRSS (Linux 4.0 and later).
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak through /proc/self/clear_refs");
}

/// Megabytes (10⁶ bytes) with one decimal, for messages.
pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
