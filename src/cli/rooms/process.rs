//! The exporter process' own CPU and memory, for the `process_*` metrics
//! every exporter has. Read from `/proc/self` on Linux; other platforms
//! get no `process_*` metrics at all (rather than made-up zeros).

/// One reading.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessStats {
    /// User and system CPU time.
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    /// Unix seconds.
    pub start_time_seconds: f64,
    pub open_fds: u64,
}

/// This process now; `None` where `/proc` cannot be read (or off Linux).
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // sysconf(3): libc has no safe wrapper
pub fn read() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot = boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
    // SAFETY: sysconf only reads a system constant.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    parse_stat(&stat, boot, ticks as f64, page as u64, open_fds)
}

#[cfg(not(target_os = "linux"))]
pub fn read() -> Option<ProcessStats> {
    None
}

/// `btime` of `/proc/stat`: the boot time, Unix seconds.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// `/proc/self/stat` (proc(5)): the fields after the command name, which
/// is in parentheses and may itself hold spaces or parentheses.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str, boot: f64, ticks: f64, page: u64, open_fds: u64) -> Option<ProcessStats> {
    let after = &stat[stat.rfind(')')? + 1..];
    // Field 3 (state) is the first here: field n is at index n - 3.
    let fields: Vec<&str> = after.split_whitespace().collect();
    let num = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    if ticks <= 0.0 {
        return None;
    }
    Some(ProcessStats {
        cpu_seconds: (num(14)? + num(15)?) as f64 / ticks,
        virtual_bytes: num(23)?,
        resident_bytes: num(24)? * page,
        start_time_seconds: boot + num(22)? as f64 / ticks,
        open_fds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_past_an_awkward_command_name() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 \
                    1000 123456789 2000 18446744073709551615";
        let stats = parse_stat(stat, 1_700_000_000.0, 100.0, 4096, 7).unwrap();
        assert_eq!(stats.cpu_seconds, 3.0);
        assert_eq!(stats.virtual_bytes, 123_456_789);
        assert_eq!(stats.resident_bytes, 2000 * 4096);
        assert_eq!(stats.start_time_seconds, 1_700_000_010.0);
        assert_eq!(
            boot_time("cpu 1 2\nbtime 1700000000\n"),
            Some(1_700_000_000.0)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_read() {
        let stats = read().unwrap();
        assert!(stats.resident_bytes > 0 && stats.open_fds > 0, "{stats:?}");
    }
}
