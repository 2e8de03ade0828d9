//! `genlab sweep`: the grid, the folder it writes (presets, jobs.txt, runs, results.csv),
//! and resuming a sweep that was stopped.

use genlab::cli::Interrupts;
use genlab::config::Experiment;
use genlab::sweep::{self, Axis, Outcome, SweepRequest};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn ring() -> Experiment {
    Experiment::load(Path::new("presets/gan_ring.toml")).expect("ring preset")
}

#[test]
fn set_arguments_parse_as_toml_values() {
    let a = Axis::parse("training.batch_size=64, 128,256").expect("parses");
    assert_eq!(a.key, "training.batch_size");
    assert_eq!(a.values, vec![64.into(), 128.into(), 256.into()]);
    let lr = Axis::parse("training.generator_optimizer.lr=1e-4,2e-4").expect("parses");
    assert_eq!(lr.values, vec![1e-4.into(), 2e-4.into()]);
    let words = Axis::parse("model.loss=bce,hinge").expect("parses");
    assert_eq!(words.values, vec!["bce".into(), "hinge".into()]);
    for bad in [
        "training.batch_size",
        "=1,2",
        "training..lr=1",
        "training.lr=",
    ] {
        assert!(Axis::parse(bad).is_err(), "{bad} accepted");
    }
}

#[test]
fn the_grid_crosses_every_setting_with_every_seed_and_refuses_what_it_cannot_run() {
    let base = ring();
    let axes = [
        Axis::parse("training.batch_size=64,128").expect("axis"),
        Axis::parse("training.generator_optimizer.lr=1e-4,2e-4,1e-3").expect("axis"),
    ];
    let points = sweep::grid(&base, &axes, 2).expect("grid");
    assert_eq!(points.len(), 2 * 3 * 2);
    let names: std::collections::BTreeSet<_> = points.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names.len(), points.len(), "names are unique");
    for p in &points {
        let t = &p.experiment.training;
        assert_eq!(p.settings[0].1, t.batch_size.to_string());
        assert_eq!(
            p.settings[1].1.parse::<f64>().ok(),
            Some(t.generator_optimizer.lr)
        );
        assert_eq!(t.seed, p.seed);
        assert!(p.seed == base.training.seed || p.seed == base.training.seed + 1);
        assert!(p.name.ends_with(&format!("seed={}", p.seed)), "{}", p.name);
    }
    let lrs: std::collections::BTreeSet<u64> = points
        .iter()
        .map(|p| p.experiment.training.generator_optimizer.lr.to_bits())
        .collect();
    assert_eq!(lrs.len(), 3);

    let typo = [Axis::parse("training.batchsize=64").expect("axis")];
    let err = sweep::grid(&base, &typo, 1).expect_err("unknown key");
    assert!(err.contains("training.batchsize"), "{err}");
    let invalid = [Axis::parse("training.batch_size=64,0").expect("axis")];
    let err = sweep::grid(&base, &invalid, 1).expect_err("batch 0");
    assert!(err.contains("batch_size=0"), "names the run: {err}");
}

fn request(out: &Path, interrupts: Interrupts) -> SweepRequest {
    SweepRequest {
        preset: PathBuf::from("presets/gan_ring.toml"),
        axes: vec![Axis::parse("training.generator_optimizer.lr=2e-4,1e-3").expect("axis")],
        seeds: 1,
        out: out.to_path_buf(),
        parallel: 1,
        threads: 1,
        steps: Some(600),
        interrupts,
    }
}

#[test]
fn a_stopped_sweep_resumes_where_it_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sweep");
    // Stop the first sweep early (as Ctrl-C does): its run in progress checkpoints.
    let interrupts = Interrupts::default();
    let stop = interrupts.stop.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, Ordering::Relaxed);
    });
    let first = sweep::run(&request(&out, interrupts)).expect("first sweep");
    stopper.join().expect("stopper");
    assert!(
        first.iter().any(|(_, o)| *o != Outcome::Finished),
        "the sweep was stopped before its end: {first:?}"
    );
    let jobs = std::fs::read_to_string(out.join("jobs.txt")).expect("jobs.txt");
    assert_eq!(jobs.lines().count(), 2);
    for (line, (p, _)) in jobs.lines().zip(&first) {
        assert!(line.starts_with("genlab train "), "{line}");
        assert!(line.contains(&format!("presets/{}.toml", p.name)), "{line}");
        assert!(line.contains(&format!("--out {}", sweep::run_path(&out, p).display())));
    }

    let second = sweep::run(&request(&out, Interrupts::default())).expect("second sweep");
    for (p, outcome) in &second {
        assert_eq!(*outcome, Outcome::Finished, "{}", p.name);
        let info = genlab::run::folder::read_run(&sweep::run_path(&out, p));
        assert_eq!(info.steps, 600, "{}", p.name);
        // one run folder, continued: metrics from step 0 to the end, step 0 once
        let metrics =
            std::fs::read_to_string(sweep::run_path(&out, p).join("metrics.csv")).expect("metrics");
        let zero_rows = metrics.lines().filter(|l| l.starts_with("0,")).count();
        assert_eq!(zero_rows, 1, "{}: step 0 once", p.name);
    }
    let results = std::fs::read_to_string(out.join("results.csv")).expect("results.csv");
    let header: Vec<&str> = results.lines().next().expect("header").split(',').collect();
    assert_eq!(
        &header[..6],
        [
            "run",
            "training.generator_optimizer.lr",
            "seed",
            "outcome",
            "steps",
            "duration_s"
        ]
    );
    assert!(header.contains(&"js_grid"), "final metrics: {header:?}");
    assert_eq!(
        results
            .lines()
            .filter(|l| l.contains(",finished,600,"))
            .count(),
        2
    );

    // The settings table: one row per setting, the best marked (by the preset's
    // outcome, modes covered), with each metric's mean, min and max over the seeds.
    let settings = std::fs::read_to_string(out.join("settings.csv")).expect("settings.csv");
    let lines: Vec<&str> = settings.lines().collect();
    assert_eq!(lines.len(), 3, "{settings}");
    assert!(lines[0].contains("modes_covered_mean,modes_covered_min,modes_covered_max"));
    assert_eq!(
        lines.iter().filter(|l| l.contains(",1,*,")).count(),
        1,
        "{settings}"
    );
    let table = sweep::settings_table(&out, &second, ring().outcome.as_ref());
    let best = table.rows.iter().filter(|r| r.best).count();
    assert_eq!(best, 1);
    let modes = table
        .metrics
        .iter()
        .position(|m| m == "modes_covered")
        .expect("modes");
    let best_modes = table
        .rows
        .iter()
        .find(|r| r.best)
        .and_then(|r| r.finals[modes]);
    for r in &table.rows {
        assert!(
            r.finals[modes].map(|f| f.0) <= best_modes.map(|f| f.0),
            "{table:?}"
        );
    }

    // A third sweep has nothing left to do and trains nothing.
    let before = std::fs::metadata(sweep::run_path(&out, &second[0].0).join("metrics.csv"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let third = sweep::run(&request(&out, Interrupts::default())).expect("third sweep");
    assert!(third.iter().all(|(_, o)| *o == Outcome::Finished));
    let after = std::fs::metadata(sweep::run_path(&out, &second[0].0).join("metrics.csv"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(before, after, "a finished run is not trained again");
}

#[test]
fn runs_of_one_setting_group_over_their_seeds() {
    assert_eq!(sweep::setting_of("003_lr=0.0002_seed=1"), Some("lr=0.0002"));
    assert_eq!(
        sweep::setting_of("011_batch_size=64_lr=0.001_seed=12"),
        Some("batch_size=64_lr=0.001")
    );
    for other in [
        "gan-on-the-ring-1795977888",
        "lr=0.1_seed=1",
        "003_lr=1_seed=",
        "ab3_x_seed=2",
    ] {
        assert_eq!(sweep::setting_of(other), None, "{other}");
    }
    // mean, min and max at the steps every seed has
    let a = [[0.0, 1.0], [10.0, 2.0], [20.0, 3.0]];
    let b = [[0.0, 3.0], [10.0, 4.0]];
    let (steps, mean, lo, hi) = sweep::band(&[&a, &b]);
    assert_eq!(steps, vec![0.0, 10.0]);
    assert_eq!(mean, vec![2.0, 3.0]);
    assert_eq!(lo, vec![1.0, 2.0]);
    assert_eq!(hi, vec![3.0, 4.0]);
    assert_eq!(sweep::band(&[]).0, Vec::<f64>::new());
}

#[test]
fn the_settings_table_times_each_setting_to_a_target_and_marks_the_best() {
    use genlab::config::Outcome as Target;
    let run = |values: &[(f64, f64)]| -> sweep::Curves {
        // (step, value) rows 100 steps apart, 2 s per 100 steps.
        let mut c = sweep::Curves::new();
        c.insert(
            "fd".into(),
            values.iter().map(|&(s, v)| [s, v]).collect::<Vec<_>>(),
        );
        c.insert(
            genlab::run::folder::ELAPSED.into(),
            values.iter().map(|&(s, _)| [s, s / 50.0]).collect(),
        );
        c
    };
    let fast = [
        run(&[(0.0, 90.0), (100.0, 40.0), (200.0, 20.0)]),
        run(&[(0.0, 90.0), (100.0, 60.0), (200.0, 30.0)]),
    ];
    let slow = [
        run(&[(0.0, 90.0), (100.0, 80.0), (200.0, 45.0)]),
        run(&[(0.0, 90.0), (100.0, 85.0), (200.0, 70.0)]),
    ];
    let groups = vec![
        ("lr=0.001".to_string(), fast.iter().collect::<Vec<_>>()),
        ("lr=0.0001".to_string(), slow.iter().collect::<Vec<_>>()),
    ];
    let target = Target {
        metric: "fd".into(),
        at_least: None,
        at_most: Some(50.0),
    };
    let table = sweep::table_of(&groups, Some(&target));
    assert_eq!(
        table.metrics,
        vec!["fd".to_string()],
        "elapsed is no metric"
    );
    let [fast_row, slow_row] = &table.rows[..] else {
        panic!("two settings: {table:?}");
    };
    assert_eq!(fast_row.finals[0], Some((25.0, 20.0, 30.0)));
    // Seed 0 reaches FD <= 50 at step 100, seed 1 at 200: mean 150 steps, 3 s.
    assert_eq!(
        (fast_row.reached, fast_row.steps_to_target),
        (2, Some(150.0))
    );
    assert_eq!(fast_row.seconds_to_target, Some(3.0));
    assert_eq!(
        (slow_row.reached, slow_row.steps_to_target),
        (1, Some(200.0))
    );
    assert!(fast_row.best && !slow_row.best, "lower FD is better");
    // Turned around (FD at least 80), the slow setting is best and reaches it first.
    let higher = Target {
        metric: "fd".into(),
        at_least: Some(80.0),
        at_most: None,
    };
    let table = sweep::table_of(&groups, Some(&higher));
    assert!(table.rows[1].best && !table.rows[0].best);
    assert_eq!(table.rows[0].steps_to_target, Some(0.0));
    // A target on a metric no run has: nothing reached, nothing best.
    let none = Target {
        metric: "kid".into(),
        at_least: None,
        at_most: Some(1.0),
    };
    let table = sweep::table_of(&groups, Some(&none));
    assert!(table.rows.iter().all(|r| r.reached == 0 && !r.best));
}
