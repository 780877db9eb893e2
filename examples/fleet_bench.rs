//! Fleet figures (no asserts): with N rooms on loopback (default 200), the
//! time from start to every room's state known — through the live fleet
//! (`link::fleet::Fleet`, what the Rooms view and `rooms watch` use) and
//! through `roomshare rooms status` (one visit per room) — plus the
//! fleet's memory and idle CPU.
//!
//!     cargo build --bin roomshare --example fleet_bench
//!     target/debug/examples/fleet_bench [--rooms 200] [--rounds 5] [--idle-seconds 10]
//!
//! The rooms are served by a separate `roomshare serve --rooms-demo N`
//! process (the binary next to `examples/`), so this process's memory and
//! CPU are the fleet's alone.

use roomshare::link::Target;
use roomshare::link::fleet::{Fleet, FleetOptions, NamedTarget, RoomStatus, RoomsFile};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    rooms: usize,
    rounds: usize,
    idle: Duration,
}

fn args() -> Args {
    let mut args = Args {
        rooms: 200,
        rounds: 5,
        idle: Duration::from_secs(10),
    };
    let all: Vec<String> = std::env::args().skip(1).collect();
    for pair in all.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        match pair[0].as_str() {
            "--rooms" => args.rooms = value as usize,
            "--rounds" => args.rounds = value as usize,
            "--idle-seconds" => args.idle = Duration::from_secs(value),
            other => panic!("unknown argument {other}"),
        }
    }
    args
}

/// `roomshare` beside this example (`target/<profile>/roomshare`).
fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.join("roomshare")
}

/// The demo rooms in their own process; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(count: usize, out: &Path) -> Server {
    let mut child = Command::new(binary())
        .args([
            "serve",
            "--rooms-demo",
            &count.to_string(),
            "--port-base",
            "0",
        ])
        .arg("--rooms-out")
        .arg(out)
        .env("ROOMSHARE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start roomshare serve (cargo build --bin roomshare first)");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    assert!(line.starts_with("roomshare serving"), "{line}");
    Server(child)
}

fn known(room: &RoomStatus) -> bool {
    room.is_connected()
        && room.meeting.is_some()
        && room.share_info.is_some()
        && room.cast_code.is_some()
}

/// Start a fleet and wait (polling its snapshot each millisecond) until
/// every room is known; the time it took.
fn fleet_round(rooms: &[NamedTarget], runtime: &tokio::runtime::Handle) -> (Duration, Fleet) {
    let started = Instant::now();
    let fleet = Fleet::start(
        rooms.to_vec(),
        runtime,
        Arc::new(|| {}),
        FleetOptions::default(),
    );
    loop {
        if fleet.rooms().iter().all(known) {
            return (started.elapsed(), fleet);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rooms never known"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `roomshare rooms status` over the file, wall time and exit code.
fn status_round(file: &Path) -> (Duration, Option<i32>) {
    let started = Instant::now();
    let out = Command::new(binary())
        .args(["rooms", "status", "--json", "--rooms"])
        .arg(file)
        .env("ROOMSHARE_LOG", "warn")
        .output()
        .expect("run rooms status");
    (started.elapsed(), out.status.code())
}

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name: state, ppid, …; utime and stime are the
    // 12th and 13th (tpgid may be -1, so fields are taken by position).
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args = args();
    let dir = std::env::temp_dir().join(format!("fleet_bench.{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("rooms.toml");
    let _server = serve(args.rooms, &file);
    let loaded = RoomsFile::load(&file).expect("demo rooms file");
    let rooms: Vec<NamedTarget> = loaded
        .entries()
        .iter()
        .map(|e| NamedTarget::new(&e.name, &e.group, Target::remote(&e.url, None)))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{} rooms on loopback, {} rounds each",
        args.rooms, args.rounds
    );

    // Memory first, in a process that has not run a fleet yet.
    let before = rss_kib();
    let (first, fleet) = fleet_round(&rooms, runtime.handle());
    let after = rss_kib();
    report(
        "fleet: first start in this process → every room known",
        &[first],
    );
    println!(
        "fleet memory: RSS {after} KiB, +{} KiB for {} rooms ({:.1} KiB per room)",
        after.saturating_sub(before),
        args.rooms,
        after.saturating_sub(before) as f64 / args.rooms as f64
    );
    let cpu_before = cpu_time();
    std::thread::sleep(args.idle);
    let cpu = cpu_time().saturating_sub(cpu_before);
    println!(
        "fleet idle CPU over {:?} (polling within its budget): {:.2} % of a core",
        args.idle,
        cpu.as_secs_f64() / args.idle.as_secs_f64() * 100.0
    );
    drop(fleet);

    let mut times = Vec::new();
    for _ in 0..args.rounds {
        let (took, fleet) = fleet_round(&rooms, runtime.handle());
        times.push(took);
        drop(fleet);
    }
    report("fleet: start → every room known", &times);

    let times: Vec<Duration> = (0..args.rounds)
        .map(|_| {
            let (took, code) = status_round(&file);
            assert_eq!(code, Some(0), "rooms status failed");
            took
        })
        .collect();
    report(
        "`roomshare rooms status --json` (process start to exit)",
        &times,
    );

    let _ = std::fs::remove_dir_all(&dir);
}

fn report(what: &str, times: &[Duration]) {
    let ms: Vec<String> = times
        .iter()
        .map(|t| format!("{:.0}", t.as_secs_f64() * 1000.0))
        .collect();
    println!(
        "{what}: median {:.0} ms (rounds: {} ms)",
        median(times.to_vec()).as_secs_f64() * 1000.0,
        ms.join(", ")
    );
}
