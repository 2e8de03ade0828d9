//! Frame-cost benchmark (not a test): the UI thread's time for one frame while a
//! session trains at full speed and the curves hold 100k points of history.
//!
//!     cargo run --example frame_cost
//!
//! Each frame runs the real app (`GenLabApp::show`: drain events, lay out every panel,
//! decimate and plot the curves) through egui_kittest, without GPU painting.

use egui_kittest::Harness;
use genlab::config::Experiment;
use genlab::train::Metrics;
use genlab::ui::GenLabApp;
use std::time::{Duration, Instant};

const HISTORY: u64 = 100_000;
const FRAMES: usize = 600;

fn main() {
    genlab::alloc::tune();
    let mut exp = Experiment::default_ring_gan();
    exp.training.steps = 0;
    if let Ok(v) = std::env::var("FRAME_COST_SAMPLES_EVERY") {
        exp.training.samples_every = v.parse().unwrap_or(50);
    }
    if let Ok(v) = std::env::var("FRAME_COST_METRICS_EVERY") {
        exp.training.metrics_every = v.parse().unwrap_or(10);
    }
    let mut app = GenLabApp::new(exp);
    app.runs_dir = std::env::temp_dir().join("genlab-frame-cost");
    app.train();
    // 100k rows of history ahead of the live run.
    for step in 0..HISTORY {
        let x = step as f64;
        app.run.history.push(&Metrics {
            step,
            elapsed: x * 0.01,
            values: vec![
                ("loss_d", 1.0 + (x * 0.01).sin() * 0.2),
                ("loss_g", 1.5 + (x * 0.003).cos() * 0.3),
            ],
        });
    }
    let mut h = Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut GenLabApp| app.show(ui), app);
    let mut times = Vec::with_capacity(FRAMES);
    let mut cpu = Vec::with_capacity(FRAMES);
    // CPU time of the frames that received a snapshot, and of the rest.
    let (mut with_snapshot, mut without) = (Vec::new(), Vec::new());
    for _ in 0..FRAMES {
        let snapshots = h.state().run.samples.len();
        let t0 = Instant::now();
        let c0 = thread_cpu_time();
        h.step();
        let c = thread_cpu_time().saturating_sub(c0);
        cpu.push(c);
        times.push(t0.elapsed());
        if h.state().run.samples.len() != snapshots {
            with_snapshot.push(c);
        } else {
            without.push(c);
        }
        // About 60 frames per second, as a window would ask for.
        std::thread::sleep(Duration::from_millis(16));
    }
    let steps = h.state().run.step;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let summary = |mut v: Vec<Duration>| {
        v.sort();
        format!(
            "median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(v[v.len() / 2]),
            ms(v[v.len() * 99 / 100]),
            ms(v[v.len() - 1])
        )
    };
    println!("{FRAMES} frames, {HISTORY} history rows, {steps} steps trained meanwhile");
    println!("UI thread CPU time per frame: {}", summary(cpu));
    println!("wall time per frame:          {}", summary(times));
    println!(
        "CPU, {} frames with a new snapshot: {}",
        with_snapshot.len(),
        summary(with_snapshot)
    );
    println!("CPU, the other frames: {}", summary(without));
}

/// CPU time of the calling thread: what the frame itself costs, not time lost to other
/// threads on a busy machine.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}
