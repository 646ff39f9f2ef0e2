//! Timestamps that are shown, never measured with: when a context was built, when a run was
//! accepted. On Linux they come from the coarse wall clock, exact to its tick (1 to 4 ms),
//! because a precise read costs more than the rest of a run: 45 to 70 ns on a KVM guest, where
//! reading the TSC alone takes 20 ns, against 9 ns for the coarse clock (measured on the
//! project's machine; see BENCHMARKS.md). Elsewhere, and under Miri, the precise clock.
//! Timeouts never use this: they run on tokio's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A wall-clock time as kept: the time since the Unix epoch (converted to a [`SystemTime`] only
/// when asked for, which is rare, with [`to_system_time`]).
pub(crate) type WallTime = Duration;

pub(crate) fn to_system_time(time: WallTime) -> SystemTime {
    UNIX_EPOCH + time
}

/// The wall-clock time now, to within the coarse clock's tick.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn coarse_now() -> WallTime {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable `timespec`.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) };
    match (read, u64::try_from(now.tv_sec), u32::try_from(now.tv_nsec)) {
        (0, Ok(seconds), Ok(nanos)) if nanos < 1_000_000_000 => Duration::new(seconds, nanos),
        _ => precise_now(), // no coarse clock, or a time before 1970
    }
}

/// The wall-clock time now.
#[cfg(not(all(target_os = "linux", not(miri))))]
pub(crate) fn coarse_now() -> WallTime {
    precise_now()
}

/// The wall-clock time now, precisely; the epoch itself for a clock set before 1970.
fn precise_now() -> WallTime {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    #[test]
    fn coarse_time_is_the_time_to_within_its_tick() {
        let before = SystemTime::now();
        let coarse = super::to_system_time(super::coarse_now());
        let after = SystemTime::now();
        // One tick is at most 10 ms (HZ = 100); allow for a slow machine on top.
        assert!(coarse <= after + Duration::from_millis(50));
        assert!(coarse + Duration::from_millis(50) >= before);
    }
}
