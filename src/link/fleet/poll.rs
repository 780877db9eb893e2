//! The fleet's one poller: rooms that do not push their share state are
//! read again in turn, within one budget for the whole fleet.
//!
//! Why one poller and not a timer per room: with hundreds of rooms, per-room
//! timers would poll N times as often in total as one room does, and a
//! campus of devices would be asked in bursts. Here the total is bounded
//! (`budget` reads per second, whatever the number of rooms), and rooms
//! take turns round-robin, so each gets the same share: with N rooms due,
//! each is read about every `N / budget` seconds, never more often than
//! its interval.

use super::room::{FollowedRoom, Intervals};
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The poller's tick: small enough for an even spread, few enough
/// wake-ups to cost nothing when idle.
const TICK: Duration = Duration::from_millis(100);

/// The rooms, as the fleet has them now (replaced whole on edits).
pub(super) type Roster = Arc<Mutex<Arc<Vec<Arc<FollowedRoom>>>>>;

/// Poll `roster` forever (the fleet aborts this task when it ends).
pub(super) async fn run(roster: Roster, budget: f64, intervals: Intervals) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let per_tick = budget.max(0.0) * TICK.as_secs_f64();
    // Tokens do not pile up while nothing is due: at most one tick's worth
    // (or one read), so a room coming due never meets a burst.
    let cap = per_tick.max(1.0);
    let mut tokens = 0.0;
    let mut cursor = 0usize;
    loop {
        tick.tick().await;
        tokens = f64::min(tokens + per_tick, cap);
        let rooms = roster.lock().clone();
        let started = take_turns(&rooms, &mut cursor, tokens.floor() as usize, intervals);
        tokens -= started as f64;
    }
}

/// Start up to `allowed` polls, going round from `cursor`; returns how
/// many started. The cursor stops after the last room served, so the next
/// tick begins with the room after it.
fn take_turns(
    rooms: &[Arc<FollowedRoom>],
    cursor: &mut usize,
    allowed: usize,
    intervals: Intervals,
) -> usize {
    let n = rooms.len();
    if n == 0 || allowed == 0 {
        return 0;
    }
    let now = Instant::now();
    let mut started = 0;
    for _ in 0..n {
        if started == allowed {
            break;
        }
        let room = &rooms[*cursor % n];
        *cursor = (*cursor + 1) % n;
        if room.take_due(now) {
            started += 1;
            tokio::spawn(room.clone().poll(intervals));
        }
    }
    started
}
