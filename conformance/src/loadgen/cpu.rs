//! CPU time and memory of processes, read from /proc (Linux). Elsewhere the readings are absent,
//! and the report says so rather than guessing.

use serde::Serialize;
use std::time::Instant;

/// CPU time consumed so far by this process and, optionally, by the broker's, and the machine's
/// CPU time counters.
pub struct Sample {
    at: Instant,
    own: Option<u64>,
    broker: Option<u64>,
    machine: Option<MachineTicks>,
}

/// CPU use over an interval, in percent of one core (200% = two cores busy).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CpuUsage {
    pub generator_percent: Option<f64>,
    pub broker_percent: Option<f64>,
    /// Of all the machine's CPU time in the interval, the share the hypervisor gave to other
    /// guests (`steal` in /proc/stat). On a shared virtual machine this is what makes one run
    /// of a load much slower than the next: above a few percent, the figures of that run say
    /// more about the host than about the broker.
    pub steal_percent: Option<f64>,
}

/// The machine's total and stolen CPU time so far, in clock ticks (the `cpu` line of /proc/stat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MachineTicks {
    total: u64,
    steal: u64,
}

impl Sample {
    pub fn take(broker_pid: Option<u32>) -> Self {
        Self {
            at: Instant::now(),
            own: ticks("self"),
            broker: broker_pid.and_then(|p| ticks(&p.to_string())),
            machine: std::fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| machine_ticks(&s)),
        }
    }

    pub fn usage_until(&self, later: &Sample) -> CpuUsage {
        let wall = later.at.duration_since(self.at).as_secs_f64();
        let hz = clock_ticks_per_second();
        let percent = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) if wall > 0.0 => {
                Some(b.saturating_sub(a) as f64 / hz / wall * 100.0)
            }
            _ => None,
        };
        let steal_percent = match (self.machine, later.machine) {
            (Some(a), Some(b)) if b.total > a.total => {
                Some(b.steal.saturating_sub(a.steal) as f64 / (b.total - a.total) as f64 * 100.0)
            }
            _ => None,
        };
        CpuUsage {
            generator_percent: percent(self.own, later.own),
            broker_percent: percent(self.broker, later.broker),
            steal_percent,
        }
    }
}

/// Reads the aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal
/// (guest time is already counted in user and nice).
fn machine_ticks(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    Some(MachineTicks {
        total: fields.iter().sum(),
        steal: *fields.get(7)?,
    })
}

/// utime + stime of /proc/PID/stat, in clock ticks.
fn ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it are plain.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// Resident memory of a process in bytes (VmRSS of /proc/PID/status).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            eprintln!("no /proc here; skipping");
            return;
        }
        assert!(ticks("self").is_some());
        assert!(rss_bytes(std::process::id()).is_some_and(|b| b > 0));
        let a = Sample::take(Some(std::process::id()));
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let usage = a.usage_until(&Sample::take(Some(std::process::id())));
        assert!(usage.generator_percent.is_some());
        assert!(usage.broker_percent.is_some());
    }

    #[test]
    fn reads_steal_from_the_cpu_line() {
        let stat = "cpu  100 5 50 800 10 1 4 30 0 0\ncpu0 50 2 25 400 5 0 2 15 0 0\nintr 1 2\n";
        assert_eq!(
            machine_ticks(stat),
            Some(MachineTicks {
                total: 1000,
                steal: 30
            })
        );
        // A kernel too old to count steal time: no reading rather than a wrong one.
        assert_eq!(machine_ticks("cpu  100 5 50 800 10 1 4\n"), None);
        assert_eq!(machine_ticks("intr 1 2\n"), None);
    }
}
