//! The runs panel: folders written headless open here, differences are shown exactly,
//! and deleting asks first.

use crate::preset;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use genlab::ui::files::FileAction;
use genlab::ui::GenLabApp;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A short headless run of the ring GAN with this generator learning rate.
fn headless_run(dir: &Path, name: &str, lr: f64) -> PathBuf {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 30;
    e.training.generator_optimizer.lr = lr;
    let preset_path = dir.join(format!("{name}.toml"));
    e.save(&preset_path).expect("save preset");
    let out = dir.join(name);
    genlab::cli::train(&preset_path, None, Some(out.clone()), false).expect("headless run")
}

fn harness(runs_dir: &Path) -> Harness<'static, GenLabApp> {
    let mut app = GenLabApp::new(preset("gan_ring.toml"));
    app.runs_dir = runs_dir.to_owned();
    app.runs.open = true;
    Harness::builder()
        .with_size(eframe::egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut GenLabApp| app.show(ui), app)
}

fn frames_until(
    h: &mut Harness<'static, GenLabApp>,
    what: &str,
    done: impl Fn(&GenLabApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

#[test]
fn a_headless_run_folder_opens_with_its_curves() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let run = headless_run(elsewhere.path(), "from-the-gpu-server", 2e-4);
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let mut h = harness(runs_dir.path());
    h.state_mut()
        .complete(FileAction::OpenRunFolder, &run, false)
        .expect("open run folder");
    frames_until(&mut h, "the run's curves", |a| {
        a.runs
            .curves
            .get(&run)
            .is_some_and(|c| c.contains_key("loss_g"))
    });
    let curves = &h.state().runs.curves[&run];
    assert_eq!(curves["loss_g"].last().map(|p| p[0]), Some(30.0));
    h.step();
    assert!(
        h.query_all_by_label("from-the-gpu-server").count() >= 1,
        "run not listed"
    );
    // Not a run folder: refused with a reason.
    let err = h
        .state_mut()
        .complete(FileAction::OpenRunFolder, elsewhere.path(), false)
        .expect_err("accepted a non-run folder");
    assert!(err.contains("not a GenLab run folder"), "{err}");
}

#[test]
fn two_runs_differing_in_learning_rate_show_exactly_that_row() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let a = headless_run(runs_dir.path(), "lr-a", 2e-4);
    let b = headless_run(runs_dir.path(), "lr-b", 1e-3);
    let mut h = harness(runs_dir.path());
    frames_until(&mut h, "both runs listed", |app| app.runs.runs.len() == 2);
    h.state_mut().runs.selected.extend([a.clone(), b.clone()]);
    let diffs = h.state().runs.differences();
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0].0, "training.generator_optimizer.lr");
    h.step();
    assert!(h.query_by_label("Settings that differ (1)").is_some());
    assert!(h
        .query_by_label("training.generator_optimizer.lr")
        .is_some());
}

#[test]
fn deleting_a_run_removes_its_folder_only_after_confirmation() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let run = headless_run(runs_dir.path(), "doomed", 2e-4);
    let mut h = harness(runs_dir.path());
    frames_until(&mut h, "the run listed", |app| app.runs.runs.len() == 1);
    h.step();
    h.get_by_label("delete").click();
    h.step();
    h.step();
    assert!(run.exists(), "deleted without asking");
    assert!(h.query_by_label_contains("and everything in it?").is_some());
    h.get_by_label("Delete run").click();
    h.step();
    assert!(!run.exists(), "folder still there after confirming");
    // Only run folders can be deleted.
    let err =
        genlab::run::folder::delete_run(runs_dir.path()).expect_err("deleted a non-run folder");
    assert!(err.contains("not created by GenLab"), "{err}");
}

/// Ticked runs show their samples side by side, moved together by one step slider: each
/// run at its latest sample at or before the step.
#[test]
fn one_slider_moves_the_samples_of_every_ticked_run() {
    let runs_dir = tempfile::tempdir().expect("tempdir");
    let slow = headless_run(runs_dir.path(), "slow", 1e-5);
    let fast = headless_run(runs_dir.path(), "fast", 1e-3);
    let mut h = harness(runs_dir.path());
    for run in [&slow, &fast] {
        h.state_mut().runs.selected.insert(run.clone());
    }
    frames_until(&mut h, "both runs' samples listed", |a| {
        a.runs.samples.get(&slow).is_some_and(|s| !s.is_empty())
            && a.runs.samples.get(&fast).is_some_and(|s| !s.is_empty())
    });
    // 30 steps, samples every 100: step 0 and the last step, 30.
    let steps: Vec<u64> = h.state().runs.samples[&slow]
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(steps, vec![0, 30]);
    // Untouched, the comparison shows how the runs ended.
    for run in [&slow, &fast] {
        assert_eq!(h.state().runs.sample_at(run).map(|s| s.0), Some(30));
    }
    h.state_mut().runs.compare_step = Some(0);
    frames_until(&mut h, "both step-0 images uploaded", |a| {
        [&slow, &fast].iter().all(|d| {
            let file = &a.runs.sample_at(d).expect("a sample").1;
            a.runs.textures.get(file).is_some_and(|t| t.is_ok())
        })
    });
    assert!(h.query_by_label("Samples at step").is_some());
    h.state_mut().runs.compare_step = Some(30);
    h.step();
    for run in [&slow, &fast] {
        assert_eq!(h.state().runs.sample_at(run).map(|s| s.0), Some(30));
    }
    frames_until(&mut h, "both step-30 images uploaded", |a| {
        [&slow, &fast].iter().all(|d| {
            let file = &a.runs.sample_at(d).expect("a sample").1;
            a.runs.textures.get(file).is_some_and(|t| t.is_ok())
        })
    });
}
