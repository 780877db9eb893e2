//! A source's health in words on its tile (`Black 0:14`, `Stalled`,
//! `No signal`, `Still 3 min`), and when that text next changes, so the
//! console repaints only then.

use crate::protocol::{SourceHealth, SourceHealthState};
use crate::ui::i18n::Lang;
use crate::ui::style;
use egui::Color32;
use std::time::Duration;

/// A still picture is worth a word only after a minute: screens and
/// windows are often still, and "Still 5 s" would be noise.
const STILL_WORTH_SAYING: i64 = 60;

/// `m:ss`, or `h:mm:ss` from an hour.
pub fn clock(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The badge's words and colour; `None` when there is nothing to say
/// (live, or still for less than a minute).
pub fn badge(health: &SourceHealth, now: i64, lang: Lang) -> Option<(String, Color32)> {
    let elapsed = health.since.map(|since| now - since);
    let word = |key| lang.tr(key).to_string();
    let timed = |key, colour| match elapsed {
        Some(e) => Some((format!("{} {}", word(key), clock(e)), colour)),
        None => Some((word(key), colour)),
    };
    match health.state {
        SourceHealthState::Live => None,
        SourceHealthState::Static => {
            let minutes = elapsed.filter(|&e| e >= STILL_WORTH_SAYING)? / 60;
            let text = match lang {
                Lang::En => format!("{} {minutes} min", word("health_still")),
                Lang::Zh => format!("{} {minutes} 分钟", word("health_still")),
            };
            Some((text, style::MUTED))
        }
        SourceHealthState::Black => timed("health_black", style::ERR),
        SourceHealthState::Stalled => timed("health_stalled", style::ERR),
        SourceHealthState::NoSignal => Some((word("health_no_signal"), style::ERR)),
        SourceHealthState::NoPower => Some((word("health_no_power"), style::ERR)),
        SourceHealthState::Gone => Some((word("health_gone"), style::ERR)),
    }
}

/// How long until a badge's text changes: a second for a running clock,
/// the next whole minute for a still picture; `None` when it never does.
pub fn next_change(health: &SourceHealth, now: i64) -> Option<Duration> {
    let elapsed = now - health.since?;
    match health.state {
        SourceHealthState::Black | SourceHealthState::Stalled => Some(Duration::from_secs(1)),
        SourceHealthState::Static => {
            let next = if elapsed < STILL_WORTH_SAYING {
                STILL_WORTH_SAYING
            } else {
                (elapsed / 60 + 1) * 60
            };
            Some(Duration::from_secs((next - elapsed).max(1) as u64))
        }
        _ => None,
    }
}

/// A fault the room would see on screen if this source were shared.
pub fn is_fault(health: &SourceHealth) -> bool {
    matches!(
        health.state,
        SourceHealthState::Black
            | SourceHealthState::Stalled
            | SourceHealthState::NoSignal
            | SourceHealthState::NoPower
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health(state: SourceHealthState, since: Option<i64>) -> SourceHealth {
        SourceHealth { state, since }
    }

    #[test]
    fn words_and_clocks() {
        let black = health(SourceHealthState::Black, Some(1000));
        assert_eq!(
            badge(&black, 1014, Lang::En).map(|b| b.0).as_deref(),
            Some("Black 0:14")
        );
        assert_eq!(
            badge(&black, 1000 + 3725, Lang::En).map(|b| b.0).as_deref(),
            Some("Black 1:02:05")
        );
        assert_eq!(next_change(&black, 1014), Some(Duration::from_secs(1)));
        let still = health(SourceHealthState::Static, Some(1000));
        assert_eq!(badge(&still, 1030, Lang::En), None, "not worth saying yet");
        assert_eq!(next_change(&still, 1030), Some(Duration::from_secs(30)));
        assert_eq!(
            badge(&still, 1000 + 190, Lang::En).map(|b| b.0).as_deref(),
            Some("Still 3 min")
        );
        assert_eq!(
            badge(&still, 1000 + 190, Lang::Zh).map(|b| b.0).as_deref(),
            Some("静止 3 分钟")
        );
        assert_eq!(
            next_change(&still, 1000 + 190),
            Some(Duration::from_secs(50))
        );
        let live = health(SourceHealthState::Live, Some(1000));
        assert_eq!(badge(&live, 2000, Lang::En), None);
        assert_eq!(next_change(&live, 2000), None);
        let no_signal = health(SourceHealthState::NoSignal, None);
        assert_eq!(
            badge(&no_signal, 0, Lang::Zh).map(|b| b.0).as_deref(),
            Some("无信号")
        );
        assert!(is_fault(&no_signal) && !is_fault(&still));
    }
}
