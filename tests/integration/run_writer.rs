//! The run folder is written by the session itself: closing the window, Reset, Train, a
//! minimised window or a dropped handle never lose a run's end. A run in progress cannot
//! be renamed, deleted or written by a second writer; `train --out` never mixes two runs.

use crate::preset;
use genlab::checkpoint::store;
use genlab::run::folder::{delete_run, read_run, rename_run, writer_pid};
use genlab::run::RunWriter;
use genlab::train::{Event, Session};
use genlab::ui::GenLabApp;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A small GAN that trains until stopped, checkpointing rarely (as the default does).
fn endless() -> genlab::config::Experiment {
    let mut e = preset("gan_ring.toml");
    e.title = "endless".into();
    e.training.steps = 0;
    e.training.checkpoint_every = 100_000;
    e.training.batch_size = 32;
    e
}

fn metrics_rows(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("metrics.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

fn wait_until(what: &str, secs: u64, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The summary's status and step, and the newest checkpoint's step.
fn ending(dir: &Path) -> (String, u64, Option<u64>) {
    let info = read_run(dir);
    let newest = store::list(&store::dir_of(dir)).last().map(|(s, _)| *s);
    (info.status, info.steps, newest)
}

fn only_run(runs_dir: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(runs_dir)
        .expect("runs dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// The window's app, never drawn and never polled, as a minimised window is: the run
/// folder still grows, and closing the window ends the run with a final checkpoint and a
/// summary of status stopped.
#[test]
fn a_window_that_never_draws_keeps_writing_and_closing_it_saves_the_end() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let mut app = GenLabApp::new(endless());
    app.runs_dir = runs_dir.path().to_owned();
    app.train();
    let dir = app.run.dir.clone().expect("a run folder");
    wait_until("rows written with no frame drawn", 60, || {
        metrics_rows(&dir) > 20
    });
    assert_eq!(read_run(&dir).status, "running");
    let started = Instant::now();
    app.close();
    assert!(started.elapsed() < GenLabApp::CLOSING_WAIT);
    let (status, steps, newest) = ending(&dir);
    assert_eq!(status, "stopped");
    assert!(steps > 100, "{steps}");
    assert_eq!(newest, Some(steps), "the final checkpoint is the last step");
    assert!(writer_pid(&dir).is_none(), "the lock outlived the run");
}

/// Reset and Train during a run stop it the same way: it ends on disk, stopped, with its
/// final checkpoint, and the new run gets a folder of its own.
#[test]
fn reset_and_train_during_a_run_close_it_on_disk() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let mut app = GenLabApp::new(endless());
    app.runs_dir = runs_dir.path().to_owned();
    app.train();
    let first = app.run.dir.clone().expect("first folder");
    wait_until("first run's rows", 60, || metrics_rows(&first) > 5);
    app.train();
    let second = app.run.dir.clone().expect("second folder");
    assert_ne!(first, second);
    wait_until("second run's rows", 60, || metrics_rows(&second) > 5);
    app.reset();
    assert!(app.wait_for_closing(None, GenLabApp::CLOSING_WAIT));
    for dir in [&first, &second] {
        let (status, steps, newest) = ending(dir);
        assert_eq!(status, "stopped", "{}", dir.display());
        assert_eq!(newest, Some(steps), "{}", dir.display());
    }
}

/// Resuming a run the moment it was told to stop waits for its writer instead of racing
/// it: the resumed folder continues from the final checkpoint, with one metrics header.
#[test]
fn resuming_right_after_a_stop_waits_for_the_writer() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let mut app = GenLabApp::new(endless());
    app.runs_dir = runs_dir.path().to_owned();
    app.train();
    let dir = app.run.dir.clone().expect("folder");
    wait_until("rows", 60, || metrics_rows(&dir) > 5);
    app.reset();
    let words = app.resume_run(&dir, 1.0).expect("resume");
    let (_, _, newest) = ending(&dir);
    assert!(words.contains(&format!("from step {}", newest.expect("a checkpoint"))));
    assert_eq!(
        read_run(&dir).status,
        "stopped",
        "the old summary stays until the end"
    );
    app.close();
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).expect("csv");
    assert_eq!(csv.matches("step,").count(), 1, "{csv}");
    assert_eq!(ending(&dir).0, "stopped");
}

/// A session whose handle is dropped (the window gone, a panic in the observer) still
/// closes its folder.
#[test]
fn a_dropped_session_still_closes_its_run_folder() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let dir = runs_dir.path().join("dropped");
    let exp = endless();
    let writer = RunWriter::create(&dir, &exp).expect("create");
    let session = Session::launch(exp, None, Some(writer)).expect("launch");
    while let Some(e) = session.next_event(Duration::from_secs(60)) {
        if matches!(e, Event::Metrics(ref m) if m.step >= 50) {
            break;
        }
    }
    drop(session);
    wait_until("the summary", 30, || dir.join("summary.toml").is_file());
    let (status, steps, newest) = ending(&dir);
    assert_eq!(status, "stopped");
    assert_eq!(newest, Some(steps));
}

/// A run in progress cannot be renamed, deleted or reopened by a second writer; once it
/// ends it can. Only folders GenLab created are ever deleted.
#[test]
fn a_run_in_progress_is_neither_renamed_nor_deleted_nor_written_twice() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let dir = runs_dir.path().join("busy");
    let exp = endless();
    let session = Session::launch(
        exp.clone(),
        None,
        Some(RunWriter::create(&dir, &exp).expect("create")),
    )
    .expect("launch");
    wait_until("rows", 60, || metrics_rows(&dir) > 2);
    assert_eq!(writer_pid(&dir), Some(std::process::id()));
    let err = delete_run(&dir).expect_err("deleted a run in progress");
    assert!(err.contains("in progress"), "{err}");
    let err = rename_run(&dir, "elsewhere").expect_err("renamed a run in progress");
    assert!(err.contains("in progress"), "{err}");
    let err = RunWriter::reopen(&dir, &exp, 0)
        .err()
        .expect("a second writer opened a run in progress");
    assert!(err.to_string().contains("still writing"), "{err}");
    session.stop_and_join();
    assert!(writer_pid(&dir).is_none());
    let renamed = rename_run(&dir, "renamed").expect("rename after the end");
    // A folder that only looks like a run (config.toml and metrics.csv, no marker).
    let foreign = runs_dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).expect("mkdir");
    std::fs::write(foreign.join("config.toml"), "x").expect("write");
    std::fs::write(foreign.join("metrics.csv"), "x").expect("write");
    std::fs::write(foreign.join("thesis.tex"), "years of work").expect("write");
    let err = delete_run(&foreign).expect_err("deleted a folder GenLab did not create");
    assert!(err.contains("not created by GenLab"), "{err}");
    assert!(foreign.join("thesis.tex").exists());
    delete_run(&renamed).expect("delete after the end");
    assert!(!renamed.exists());
}

/// A lock left by a process that no longer exists (killed) does not block anything, and
/// the run shows as interrupted rather than running forever.
#[test]
fn a_stale_lock_reads_as_interrupted() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let dir = runs_dir.path().join("killed");
    let exp = endless();
    drop(RunWriter::create(&dir, &exp).expect("create"));
    assert_eq!(read_run(&dir).status, "running");
    // No process has this id on Linux (pid_max is at most 2^22).
    std::fs::write(dir.join(genlab::run::folder::LOCK), "4294967294").expect("write");
    assert_eq!(read_run(&dir).status, "interrupted");
    rename_run(&dir, "renamed").expect("rename");
}

/// `train --out` into a folder that holds a run is refused, so checkpoints of two runs
/// never mix; `--overwrite` replaces the old run whole.
#[test]
fn train_out_refuses_a_folder_holding_a_run_unless_told_to_overwrite() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let out = runs_dir.path().join("run");
    let preset = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/gan_ring.toml");
    let mut req = genlab::cli::TrainRequest::quiet(Some(out.clone()));
    req.steps = Some(30);
    req.checkpoint_every = Some(10);
    genlab::cli::train_with(&preset, &req).expect("first run");
    assert_eq!(ending(&out).2, Some(30));
    req.steps = Some(12);
    let err = genlab::cli::train_with(&preset, &req).expect_err("mixed two runs");
    assert!(err.to_string().contains("already holds a run"), "{err}");
    assert_eq!(
        ending(&out).2,
        Some(30),
        "the refused run touched the old one"
    );
    req.overwrite = true;
    genlab::cli::train_with(&preset, &req).expect("overwrite");
    let steps: Vec<u64> = store::list(&store::dir_of(&out))
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        steps,
        vec![10, 12],
        "old checkpoints survived the overwrite"
    );
    assert_eq!(ending(&out).0, "finished");
    let _ = only_run(runs_dir.path());
}
