//! What a room's row says, in words and colours, and when that text will
//! change by itself (so the view wakes only then: a countdown while a room
//! reconnects, the "changed … ago" column at its own coarse steps).

use crate::link::ConnState;
use crate::link::fleet::RoomStatus;
use crate::protocol::model::terminal_name;
use crate::ui::i18n::{self, Lang};
use crate::ui::style;
use egui::Color32;
use std::time::{Duration, Instant};

/// The link column: `connected`, `unreachable: connection refused · retry
/// in 4 s`, `wrong password (5)`, …
pub fn link(room: &RoomStatus, lang: Lang, now: Instant) -> (String, Color32) {
    let zh = lang == Lang::Zh;
    match &room.conn {
        ConnState::Connected => (lang.tr("connected").into(), style::OK),
        ConnState::Connecting => (lang.tr("connecting").into(), style::WARN),
        ConnState::Reconnecting {
            retry_at,
            last_error,
            ..
        } => {
            let secs = retry_at.saturating_duration_since(now).as_secs_f32().ceil() as u64;
            // A room that never answered is unreachable; one that did is
            // coming back.
            let text = match (room.connects == 0, zh) {
                (true, false) => format!("unreachable: {last_error} · retry in {secs} s"),
                (true, true) => format!("无法连接：{last_error} · {secs} 秒后重试"),
                (false, false) => format!("reconnecting in {secs} s: {last_error}"),
                (false, true) => format!("{secs} 秒后重新连接：{last_error}"),
            };
            (
                text,
                if room.connects == 0 {
                    style::ERR
                } else {
                    style::WARN
                },
            )
        }
        ConnState::AuthFailed { code, message } => {
            let what = if zh { "密码错误" } else { "wrong password" };
            (format!("{what} ({code} {message})"), style::ERR)
        }
        ConnState::Closed { reason } => (format!("{}: {reason}", lang.tr("closed")), style::MUTED),
    }
}

/// `In meeting · Weekly sync`, or `—` when not known.
pub fn meeting(room: &RoomStatus, lang: Lang) -> (String, Color32) {
    let Some(m) = &room.meeting else {
        return ("—".into(), style::MUTED);
    };
    let status = i18n::meeting_status(lang, m.meeting_status);
    let color = match m.meeting_status {
        1 => style::OK,
        2..=5 => style::WARN,
        _ => style::MUTED,
    };
    if m.meeting_title.is_empty() {
        (status.into(), color)
    } else {
        (format!("{status} · {}", m.meeting_title), color)
    }
}

/// `Alice · Mac · Screen`, `Quick cast: Preparing`, or `—`.
pub fn sharing(room: &RoomStatus, lang: Lang) -> (String, Color32) {
    let Some(info) = &room.share_info else {
        return ("—".into(), style::MUTED);
    };
    if info.is_sharing {
        let who = info.share_user_info.as_ref();
        let nickname = who.map_or("?", |u| u.nickname.as_str());
        let terminal = who.map_or("?", |u| terminal_name(u.instance_id));
        let content = match who.map(|u| u.screen_share_type) {
            Some(1) => lang.tr("whiteboard"),
            _ => lang.tr("screen"),
        };
        let mut text = format!("{nickname} · {terminal} · {content}");
        if info.quick_casting_state == 2 {
            text = format!("{text} · {}", lang.tr("quick_cast"));
        }
        return (text, style::SHARING);
    }
    if info.quick_casting_state != 0 {
        let state = i18n::quick_cast_state(lang, info.quick_casting_state);
        return (format!("{}: {state}", lang.tr("quick_cast")), style::WARN);
    }
    (lang.tr("no_one_sharing").into(), style::MUTED)
}

/// The share guide column: open, closed, or not known (real devices do
/// not answer that node).
pub fn guide(room: &RoomStatus, lang: Lang) -> &'static str {
    match (room.share_guide_open, lang) {
        (Some(true), Lang::En) => "open",
        (Some(true), Lang::Zh) => "已打开",
        (Some(false), Lang::En) => "closed",
        (Some(false), Lang::Zh) => "已关闭",
        (None, _) => "—",
    }
}

/// "just now", "20 s ago", "3 min ago", "2 h ago", "4 d ago": coarse on
/// purpose, so 200 rows do not need a frame every second.
pub fn ago(elapsed: Duration, lang: Lang) -> String {
    let s = elapsed.as_secs();
    let (n, unit_en, unit_zh) = match s {
        0..10 => {
            return (if lang == Lang::Zh {
                "刚刚"
            } else {
                "just now"
            })
            .into();
        }
        10..60 => (s / 10 * 10, "s", "秒"),
        60..3600 => (s / 60, "min", "分钟"),
        3600..86400 => (s / 3600, "h", "小时"),
        _ => (s / 86400, "d", "天"),
    };
    match lang {
        Lang::En => format!("{n} {unit_en} ago"),
        Lang::Zh => format!("{n} {unit_zh}前"),
    }
}

/// How coarse [`ago`] is for `elapsed`: its text changes at most this often.
pub fn ago_step(elapsed: Duration) -> Duration {
    Duration::from_secs(match elapsed.as_secs() {
        0..60 => 10,
        60..3600 => 60,
        3600..86400 => 3600,
        _ => 86400,
    })
}

/// The "changed … ago" column's clock. Every row reads the same tick,
/// aligned to `epoch` and as fine as the finest row needs ([`ago_step`]),
/// so 200 rooms that changed at slightly different moments update in one
/// frame every 10 s (then every minute), not in one frame each.
#[derive(Debug, Clone, Copy)]
pub struct AgoClock {
    epoch: Instant,
}

impl Default for AgoClock {
    fn default() -> Self {
        AgoClock {
            epoch: Instant::now(),
        }
    }
}

impl AgoClock {
    /// The tick to show at `now`, and when the next one comes.
    pub fn tick(&self, rooms: &[&RoomStatus], now: Instant) -> (Instant, Option<Duration>) {
        let step = rooms
            .iter()
            .filter_map(|r| {
                r.changed_at
                    .map(|t| ago_step(now.saturating_duration_since(t)))
            })
            .min();
        let Some(step) = step else {
            return (now, None);
        };
        let since = now.saturating_duration_since(self.epoch).as_secs_f64();
        let steps = (since / step.as_secs_f64()).floor();
        let tick = self.epoch + step.mul_f64(steps);
        (tick, Some((tick + step).saturating_duration_since(now)))
    }
}

/// The soonest moment a shown room's link text changes by itself (a
/// reconnect countdown).
pub fn next_countdown(rooms: &[&RoomStatus], now: Instant) -> Option<Duration> {
    rooms
        .iter()
        .filter_map(|r| crate::ui::header::next_tick(&r.conn, now))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_is_coarse_and_says_when_it_changes() {
        let s = Duration::from_secs;
        assert_eq!(ago(s(3), Lang::En), "just now");
        assert_eq!(ago(s(27), Lang::En), "20 s ago");
        assert_eq!(ago(s(125), Lang::En), "2 min ago");
        assert_eq!(ago(s(7300), Lang::Zh), "2 小时前");
        assert_eq!(ago_step(s(27)), s(10));
        assert_eq!(ago_step(s(125)), s(60));
    }

    #[test]
    fn one_tick_for_every_row() {
        let clock = AgoClock::default();
        let now = clock.epoch + Duration::from_secs(95);
        let mut a = RoomStatus::new("A", "", String::new(), false);
        let mut b = a.clone();
        a.changed_at = Some(clock.epoch + Duration::from_millis(80_300));
        b.changed_at = Some(clock.epoch + Duration::from_millis(80_900));
        // Both changed under a minute ago: 10 s ticks, aligned to the epoch.
        let (tick, next) = clock.tick(&[&a, &b], now);
        assert_eq!(tick, clock.epoch + Duration::from_secs(90));
        assert_eq!(next, Some(Duration::from_secs(5)));
        // Only rooms that changed long ago: a minute's tick.
        b.changed_at = Some(clock.epoch);
        let (tick, next) = clock.tick(&[&b], now);
        assert_eq!(tick, clock.epoch + Duration::from_secs(60));
        assert_eq!(next, Some(Duration::from_secs(25)));
    }
}
