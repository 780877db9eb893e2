//! The exporter's metrics, by Prometheus' conventions: one series per room
//! (labels `room` and `group`, empty when none), base units, `_total`
//! counters, an `_info` gauge for the constant facts and a state set (one
//! gauge per state, 1 for the current one) for the link.
//!
//! A registry is built from the fleet's snapshot at each scrape and
//! encoded as OpenMetrics text by `prometheus-client`: there is no
//! per-room state to keep in step, and a room that left the file leaves
//! the metrics with the next scrape.

use super::process::ProcessStats;
use super::sample::{LinkState, Memory, RoomSample};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

/// The `Content-Type` of what [`render`] returns.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoomLabels {
    room: String,
    group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabels {
    room: String,
    group: String,
    url: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    room: String,
    group: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    room: String,
    group: String,
    result: String,
}

type Rooms = Family<RoomLabels, Gauge>;
type RoomsF64 = Family<RoomLabels, Gauge<f64, AtomicU64>>;

/// Every room family, filled from the samples.
#[derive(Default)]
struct RoomFamilies {
    info: Family<InfoLabels, Gauge>,
    link_state: Family<StateLabels, Gauge>,
    up: Rooms,
    in_meeting: Rooms,
    sharing: Rooms,
    quick_cast_state: Rooms,
    share_guide_open: Rooms,
    state_changed: RoomsF64,
    sharing_since: RoomsF64,
    reconnects: Family<RoomLabels, Counter>,
    requests: Family<ResultLabels, Counter>,
}

impl RoomFamilies {
    fn fill(&self, rooms: &[RoomSample], memory: &Memory) {
        for r in rooms {
            let labels = RoomLabels {
                room: r.room.clone(),
                group: r.group.clone(),
            };
            let info = InfoLabels {
                room: r.room.clone(),
                group: r.group.clone(),
                url: r.url.clone(),
            };
            self.info.get_or_create(&info).set(1);
            for state in LinkState::ALL {
                let labels = StateLabels {
                    room: r.room.clone(),
                    group: r.group.clone(),
                    state: state.as_str().to_string(),
                };
                self.link_state
                    .get_or_create(&labels)
                    .set(i64::from(state == r.link));
            }
            let set = |family: &Rooms, value: Option<i64>| {
                if let Some(v) = value {
                    family.get_or_create(&labels).set(v);
                }
            };
            set(&self.up, Some(i64::from(r.link == LinkState::Connected)));
            set(&self.in_meeting, r.in_meeting.map(i64::from));
            set(&self.sharing, r.sharing.map(i64::from));
            set(&self.quick_cast_state, r.quick_cast_state);
            set(&self.share_guide_open, r.share_guide_open.map(i64::from));
            if let Some(at) = r.state_changed {
                self.state_changed.get_or_create(&labels).set(at);
            }
            if let Some(since) = memory.sharing_since(&r.room) {
                self.sharing_since.get_or_create(&labels).set(since);
            }
            self.reconnects.get_or_create(&labels).inc_by(r.reconnects);
            for (result, n) in r.requests {
                let labels = ResultLabels {
                    room: r.room.clone(),
                    group: r.group.clone(),
                    result: result.to_string(),
                };
                self.requests.get_or_create(&labels).inc_by(n);
            }
        }
    }

    fn register(self, registry: &mut Registry) {
        let r = registry;
        r.register(
            "roomshare_room_info",
            "A followed room (1), with its URL",
            self.info,
        );
        r.register(
            "roomshare_room_link_state",
            "The room's link: 1 for the current state, 0 for the others",
            self.link_state,
        );
        r.register("roomshare_room_up", "1 when the room is connected", self.up);
        r.register(
            "roomshare_room_in_meeting",
            "1 in a meeting or a quick cast meeting (meeting_status 1 or 4); absent when not known",
            self.in_meeting,
        );
        r.register(
            "roomshare_room_sharing",
            "1 while something is shared in the room; absent when not known",
            self.sharing,
        );
        r.register(
            "roomshare_room_quick_cast_state",
            "The quick cast state: 0 not started, 1 preparing, 2 sharing",
            self.quick_cast_state,
        );
        r.register(
            "roomshare_room_share_guide_open",
            "1 while the share guide is open; absent when not known",
            self.share_guide_open,
        );
        r.register_with_unit(
            "roomshare_room_state_changed_timestamp",
            "When the room's state last changed (link, meeting, share, cast code, guide), Unix time",
            Unit::Seconds,
            self.state_changed,
        );
        r.register_with_unit(
            "roomshare_room_sharing_since_timestamp",
            "Since when the room shares, Unix time; absent when not sharing",
            Unit::Seconds,
            self.sharing_since,
        );
        r.register(
            "roomshare_room_reconnects",
            "Times the room's link connected again after its first connection",
            self.reconnects,
        );
        r.register(
            "roomshare_room_requests",
            "Requests sent to the room (reads, polls, calls) by how they ended: ok, refused, timeout, failed",
            self.requests,
        );
    }
}

/// The fleet's own size.
fn register_fleet(registry: &mut Registry, rooms: &[RoomSample]) {
    let total: Gauge = Gauge::default();
    total.set(i64::try_from(rooms.len()).unwrap_or(i64::MAX));
    registry.register("roomshare_fleet_rooms", "Rooms followed", total);
    let known: Gauge = Gauge::default();
    let count = rooms.iter().filter(|r| r.known).count();
    known.set(i64::try_from(count).unwrap_or(i64::MAX));
    registry.register(
        "roomshare_fleet_rooms_known",
        "Rooms whose state is known: connected and read, or failed",
        known,
    );
}

/// The process' own `process_*` metrics, as every exporter has.
fn register_process(registry: &mut Registry, stats: &ProcessStats) {
    let cpu: Counter<f64, AtomicU64> = Counter::default();
    cpu.inc_by(stats.cpu_seconds);
    registry.register_with_unit(
        "process_cpu",
        "User and system CPU time",
        Unit::Seconds,
        cpu,
    );
    let gauges = [
        (
            "process_resident_memory",
            "Resident memory size",
            stats.resident_bytes,
        ),
        (
            "process_virtual_memory",
            "Virtual memory size",
            stats.virtual_bytes,
        ),
    ];
    for (name, help, bytes) in gauges {
        let gauge: Gauge<f64, AtomicU64> = Gauge::default();
        gauge.set(bytes as f64);
        registry.register_with_unit(name, help, Unit::Bytes, gauge);
    }
    let start: Gauge<f64, AtomicU64> = Gauge::default();
    start.set(stats.start_time_seconds);
    registry.register_with_unit(
        "process_start_time",
        "Start time of the process since the Unix epoch",
        Unit::Seconds,
        start,
    );
    let fds: Gauge = Gauge::default();
    fds.set(i64::try_from(stats.open_fds).unwrap_or(i64::MAX));
    registry.register("process_open_fds", "Open file descriptors", fds);
}

/// The whole exposition for these rooms (OpenMetrics text, `# EOF` last).
pub fn render(rooms: &[RoomSample], memory: &Memory, process: Option<&ProcessStats>) -> String {
    let mut registry = Registry::default();
    let families = RoomFamilies::default();
    families.fill(rooms, memory);
    families.register(&mut registry);
    register_fleet(&mut registry, rooms);
    if let Some(stats) = process {
        register_process(&mut registry, stats);
    }
    let mut text = String::with_capacity(1024 + rooms.len() * 1200);
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str, link: LinkState, sharing: Option<bool>) -> RoomSample {
        RoomSample {
            room: name.into(),
            group: String::new(),
            url: "ws://h/".into(),
            link,
            in_meeting: sharing,
            sharing,
            quick_cast_state: sharing.map(|_| 0),
            share_guide_open: None,
            state_changed: Some(1_700_000_000.5),
            reconnects: 2,
            requests: [("ok", 7), ("refused", 1), ("timeout", 0), ("failed", 0)],
            known: true,
        }
    }

    #[test]
    fn one_series_per_room_and_a_state_set() {
        let rooms = [
            room("A", LinkState::Connected, Some(true)),
            room("B", LinkState::AuthFailed, None),
        ];
        let mut memory = Memory::default();
        memory.observe(&rooms);
        let text = render(&rooms, &memory, None);
        for line in [
            "roomshare_room_up{room=\"A\",group=\"\"} 1",
            "roomshare_room_up{room=\"B\",group=\"\"} 0",
            "roomshare_room_link_state{room=\"B\",group=\"\",state=\"auth_failed\"} 1",
            "roomshare_room_link_state{room=\"B\",group=\"\",state=\"connected\"} 0",
            "roomshare_room_sharing{room=\"A\",group=\"\"} 1",
            "roomshare_room_sharing_since_timestamp_seconds{room=\"A\",group=\"\"} 1700000000.5",
            "roomshare_room_reconnects_total{room=\"A\",group=\"\"} 2",
            "roomshare_room_requests_total{room=\"A\",group=\"\",result=\"ok\"} 7",
            "roomshare_room_requests_total{room=\"A\",group=\"\",result=\"refused\"} 1",
            "roomshare_room_requests_total{room=\"A\",group=\"\",result=\"timeout\"} 0",
            "roomshare_fleet_rooms 2",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        assert!(
            !text.contains("roomshare_room_sharing{room=\"B\""),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
