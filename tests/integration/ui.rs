//! The real app driven through egui_kittest (no GPU needed: no snapshots rendered).

use crate::preset;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use genlab::config::{ModelConfig, NetConfig};
use genlab::ui::GenLabApp;
use std::time::{Duration, Instant};

/// Runs go to a temporary folder, kept alive for the whole test binary.
fn runs_dir() -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
        .path()
        .to_owned()
}

fn harness(mut app: GenLabApp) -> Harness<'static, GenLabApp> {
    if app.runs_dir == genlab::run::default_runs_dir() {
        app.runs_dir = runs_dir();
    }
    Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut GenLabApp| app.show(ui), app)
}

/// Steps frames until `done` holds (the training thread runs meanwhile).
fn frames_until(
    h: &mut Harness<'static, GenLabApp>,
    what: &str,
    done: impl Fn(&GenLabApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

fn ring_app() -> GenLabApp {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 0;
    e.training.metrics_every = 1;
    e.training.batch_size = 32;
    GenLabApp::new(e)
}

#[test]
fn train_pause_step_and_reset_drive_the_session() {
    let mut h = harness(ring_app());
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the step counter to grow", |a| a.run.step >= 5);
    h.get_by_label("Pause").click();
    h.step();
    frames_until(&mut h, "pause", |a| {
        a.run.status == genlab::ui::RunStatus::Paused
    });
    let paused = h.state().run.step;
    std::thread::sleep(Duration::from_millis(300));
    h.step();
    assert_eq!(h.state().run.step, paused, "steps advanced while paused");
    assert!(h.query_by_label(&format!("Step {paused}")).is_some());
    h.get_by_label("Step 1").click();
    h.step();
    frames_until(&mut h, "one step", |a| a.run.step == paused + 1);
    std::thread::sleep(Duration::from_millis(200));
    h.step();
    assert_eq!(
        h.state().run.step,
        paused + 1,
        "Step 1 advanced more than one step"
    );
    assert!(!h.state().run.history.is_empty());
    h.get_by_label("Reset").click();
    h.step();
    assert!(h.state().run.history.is_empty(), "Reset kept the curves");
    assert_eq!(h.state().run.step, 0);
}

#[test]
fn an_invalid_width_disables_train_with_the_message() {
    let mut app = ring_app();
    if let ModelConfig::Gan {
        generator: NetConfig::Mlp { hidden, .. },
        ..
    } = &mut app.experiment.model
    {
        hidden[1] = 0;
    }
    let mut h = harness(app);
    h.step();
    let message = "model.generator.hidden[1]: width 0, must be between 1 and 16384";
    // Once inline at the field, once beside the disabled Train button.
    assert_eq!(
        h.query_all_by_label_contains(message).count(),
        2,
        "validation message not shown"
    );
    assert!(h.query_by_label_contains("Train is disabled").is_some());
    h.get_by_label("Train").click();
    h.step();
    assert!(
        h.state().run.session.is_none(),
        "Train started an invalid experiment"
    );
}

#[test]
fn a_vae_run_shows_samples_and_reconstructions() {
    let mut e = preset("vae_mlp_shapes.toml");
    e.training.steps = 30;
    e.training.samples_every = 10;
    let mut h = harness(GenLabApp::new(e));
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the run to finish", |a| {
        a.run.status == genlab::ui::RunStatus::Finished
    });
    h.step();
    assert!(h.state().run.samples.len() >= 2);
    assert!(h.query_by_label("inputs | reconstructions").is_some());
}

#[test]
fn a_window_run_is_kept_on_disk() {
    let mut e = preset("vae_mlp_shapes.toml");
    e.title = "window run on disk".into();
    e.training.steps = 20;
    e.training.samples_every = 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = GenLabApp::new(e);
    app.runs_dir = dir.path().to_owned();
    let mut h = harness(app);
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the run to finish", |a| {
        a.run.status == genlab::ui::RunStatus::Finished
    });
    // The run folder is written on its own thread: wait for its summary.
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs: Vec<_> = loop {
        let runs: Vec<_> = std::fs::read_dir(dir.path())
            .expect("runs dir")
            .filter_map(|e| e.ok())
            .collect();
        if runs.len() == 1 && runs[0].path().join("summary.toml").exists() {
            break runs;
        }
        assert!(Instant::now() < deadline, "no finished run folder");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(runs.len(), 1);
    let run = runs[0].path();
    let csv = std::fs::read_to_string(run.join("metrics.csv")).expect("metrics.csv");
    assert!(
        csv.lines().last().expect("rows").starts_with("20,"),
        "{csv}"
    );
    assert!(run.join("samples/step_000020.png").exists());
    assert!(std::fs::read_to_string(run.join("summary.toml"))
        .expect("summary")
        .contains("finished"));
}

/// Whether the run folder has written its summary (the writer thread is done with it).
fn summary_written(a: &GenLabApp) -> bool {
    a.run
        .dir
        .as_ref()
        .is_some_and(|d| d.join("summary.toml").is_file())
}

#[test]
fn a_diverged_run_offers_to_resume_from_its_last_good_checkpoint() {
    let mut app = ring_app();
    app.experiment.training.checkpoint_every = 5;
    let dir = tempfile::tempdir().expect("tempdir");
    app.runs_dir = dir.path().to_owned();
    let mut h = harness(app);
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "a checkpoint", |a| {
        a.run.last_checkpoint >= Some(10)
    });
    h.state_mut().control(genlab::train::Control::InjectNan);
    frames_until(&mut h, "the divergence", |a| {
        matches!(a.run.status, genlab::ui::RunStatus::Failed(_))
    });
    frames_until(&mut h, "the run folder to close", summary_written);
    h.step();
    let failed_at = h.state().run.step;
    assert!(
        h.query_by_label_contains("became NaN").is_some(),
        "the reason is shown"
    );
    let curves = h.state().run.history.len();
    assert!(curves > 10, "the curves are kept");
    let offer = h
        .query_all_by_label_contains("at 1/10 learning rate")
        .next()
        .and_then(|n| n.accesskit_node().label());
    let offer = offer.expect("an offer to resume at a lower learning rate");
    let ckpt: u64 = offer
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .expect("the offer names the step");
    assert!(
        ckpt < failed_at && ckpt >= 10,
        "resume from {ckpt}, failed at {failed_at}"
    );
    h.get_by_label(&offer).click();
    h.step();
    frames_until(&mut h, "the resumed run to train", |a| {
        a.run.status == genlab::ui::RunStatus::Training && a.run.step > ckpt + 3
    });
    let app = h.state();
    assert!(
        app.notice.as_deref().unwrap_or("").contains("Resumed"),
        "{:?}",
        app.notice
    );
    let lr = app
        .run
        .history
        .last
        .as_ref()
        .and_then(|m| m.get("lr_g"))
        .expect("lr_g");
    let base = preset("gan_ring.toml").training.generator_optimizer.lr;
    assert!((lr - base * 0.1).abs() < 1e-12, "lr after resume {lr}");
    // The curves before the checkpoint were read back; the run continues in the same folder.
    assert!(app.run.history.len() >= ckpt as usize);
    h.state_mut().stop();
}

#[test]
fn a_crash_in_training_is_shown_and_the_window_trains_again() {
    let mut app = ring_app();
    let dir = tempfile::tempdir().expect("tempdir");
    app.runs_dir = dir.path().to_owned();
    let mut h = harness(app);
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "a few steps", |a| a.run.step >= 3);
    h.state_mut().control(genlab::train::Control::InjectPanic);
    frames_until(&mut h, "the crash report", |a| {
        matches!(a.run.status, genlab::ui::RunStatus::Failed(_))
    });
    frames_until(&mut h, "the run folder to close", summary_written);
    h.step();
    assert!(h.query_by_label_contains("crashed").is_some());
    let crashed = h.state().run.dir.clone().expect("run folder");
    let summary = std::fs::read_to_string(crashed.join("summary.toml")).expect("summary");
    assert!(
        summary.contains("failed") && summary.contains("fault drill"),
        "{summary}"
    );
    assert!(
        std::fs::read_to_string(crashed.join("metrics.csv"))
            .expect("metrics")
            .lines()
            .count()
            > 3
    );
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the new run to train", |a| {
        a.run.status == genlab::ui::RunStatus::Training && a.run.step >= 3
    });
    h.state_mut().stop();
}

/// A panic in the evaluator job ends it with a message; its progress bar does not spin
/// forever.
#[test]
fn a_crash_in_the_evaluator_job_is_reported_not_spun_forever() {
    use genlab::ui::evaluator_job::EvaluatorJob;
    let mut app = GenLabApp::new(preset("vae_mlp_shapes.toml"));
    let data = app.experiment.data.clone();
    app.evaluator_job = Some(EvaluatorJob::spawn(data, |steps| {
        steps.store(10, std::sync::atomic::Ordering::Relaxed);
        panic!("fault drill: a panic in the evaluator job")
    }));
    let mut h = harness(app);
    frames_until(&mut h, "the job to end", |a| a.evaluator_job.is_none());
    let notice = h.state().notice.clone().unwrap_or_default();
    assert!(
        notice.contains("Evaluator training failed") && notice.contains("fault drill"),
        "{notice}"
    );
}

/// The experiment panel tells what the edited model costs before training: parameters,
/// compute and memory at once, and on request the measured speed with the time of the
/// step budget. Editing the model changes the figures.
#[test]
fn the_cost_readout_follows_edits_and_measures_speed() {
    let mut h = harness(GenLabApp::new(preset("gan_ring.toml")));
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.query_by_label_contains("135,427 parameters").is_none() {
        assert!(Instant::now() < deadline, "no parameter count shown");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    assert!(h.query_by_label_contains("376.2 MFLOP per step").is_some());
    assert!(h.query_by_label_contains("memory ≈").is_some());
    h.get_by_label("Measure speed").click();
    h.step();
    frames_until(&mut h, "the speed probe", |a| a.cost.speed().is_some());
    h.step();
    assert!(
        h.query_by_label_contains("steps/s · 8000 steps ≈")
            .is_some(),
        "no projected time"
    );
    // A wider generator: more parameters, shown without pressing anything.
    h.state_mut().experiment.training.batch_size = 512;
    if let genlab::config::ModelConfig::Gan {
        generator: NetConfig::Mlp { hidden, .. },
        ..
    } = &mut h.state_mut().experiment.model
    {
        hidden[0] = 512;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.query_by_label_contains("203,267 parameters").is_none() {
        assert!(
            Instant::now() < deadline,
            "the estimate did not follow the edit"
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
}

/// Readouts in words a person reads, and choices under their names.
#[test]
fn metrics_and_choices_read_as_words() {
    use genlab::config::{Activation, GanLoss};
    use genlab::ui::words::{reading, Words};
    assert_eq!(reading("modes_covered", 6.0, Some(8)), "modes 6/8");
    assert_eq!(reading("fd", 97.2020, None), "FD 97.2");
    assert_eq!(
        reading("held_out_reconstruction", 75.2149, None),
        "held-out reconstruction 75.2 nats"
    );
    assert_eq!(reading("high_quality", 0.315, None), "high quality 32 %");
    assert_eq!(reading("mmd", 0.09642, None), "MMD 0.0964");
    assert_eq!(reading("recall", 0.0, None), "recall 0");
    assert_eq!(reading("pitch_coverage", 0.375, Some(8)), "pitches 3/8");
    assert_eq!(
        reading("spectral_distance", 5.1234, None),
        "spectral distance 5.12 dB"
    );
    assert_eq!(GanLoss::Bce.words().0, "BCE (non-saturating)");
    assert_eq!(Activation::LeakyRelu.words().0, "Leaky ReLU");
    // In the window: the ring GAN's readout after a few snapshots.
    let mut e = preset("gan_ring.toml");
    e.training.steps = 100;
    e.training.samples_every = 50;
    let mut h = harness(GenLabApp::new(e));
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the run to finish", |a| {
        a.run.status == genlab::ui::RunStatus::Finished
    });
    h.step();
    assert!(
        h.query_by_label_contains("/8").is_some(),
        "no 'modes n/8' readout"
    );
}

/// Before Train, the sample area shows the real data (as GAN Lab does): the points of a
/// 2-D set, a grid of the first images of an image set.
#[test]
fn the_real_data_is_shown_before_training() {
    use genlab::train::Samples;
    let ring = preset("gan_ring.toml");
    let Samples::Points(view) = genlab::train::preview::real_samples(&ring.data, 0).expect("ring")
    else {
        panic!("the ring is points");
    };
    assert!(view.real.len() >= 900 && view.generated.is_empty());
    let shapes = preset("dcgan_shapes.toml");
    let Samples::Images { grid, .. } =
        genlab::train::preview::real_samples(&shapes.data, 0).expect("shapes")
    else {
        panic!("the shapes are images");
    };
    // 8 x 8 cells of 28 pixels and a one-pixel border.
    assert_eq!((grid.width, grid.height), (8 * 29 + 1, 8 * 29 + 1));
    assert!(
        grid.pixels.chunks(4).any(|p| p[0] > 200),
        "an all-dark grid"
    );
    for exp in [ring, shapes] {
        let mut h = harness(GenLabApp::new(exp));
        let deadline = Instant::now() + Duration::from_secs(30);
        while h
            .query_by_label_contains("The data, before training")
            .is_none()
        {
            assert!(Instant::now() < deadline, "no preview of the data");
            std::thread::sleep(Duration::from_millis(20));
            h.step();
        }
    }
}

/// The family menu turns a GAN into a VAE with the same networks and the data's
/// reconstruction loss: squared error for points and clips (outside [0, 1]), binary
/// cross-entropy for images; a text GAN becomes the text VAE.
#[test]
fn switching_to_a_vae_takes_the_datas_reconstruction_loss() {
    use genlab::config::{ModelConfig, Reconstruction};
    for (name, want) in [
        ("gan_ring.toml", Some(Reconstruction::Mse)),
        ("wavegan_tones.toml", Some(Reconstruction::Mse)),
        ("dcgan_shapes.toml", Some(Reconstruction::Bce)),
        ("gan_names.toml", None),
    ] {
        let exp = preset(name);
        let ModelConfig::Gan { generator, .. } = exp.model.clone() else {
            panic!("{name} is a GAN");
        };
        let mut h = harness(GenLabApp::new(exp));
        h.run();
        h.get_by_role_and_label(eframe::egui::accesskit::Role::ComboBox, "family")
            .click();
        h.run();
        h.get_by_label("VAE").click();
        h.run();
        let ModelConfig::Vae {
            reconstruction,
            decoder,
            ..
        } = &h.state().experiment.model
        else {
            panic!("{name}: still not a VAE");
        };
        match want {
            Some(want) => {
                assert_eq!(*reconstruction, want, "{name}");
                assert_eq!(*decoder, generator, "{name}: the generator is the decoder");
            }
            None => assert!(
                decoder.is_recurrent(),
                "{name}: text keeps a recurrent decoder"
            ),
        }
    }
}

/// Once a GAN trains on images, its grid is shown beside the data's on the same scale, as
/// the preview promised ("press Train to see samples beside it").
#[test]
fn a_gan_image_grid_is_shown_beside_the_data() {
    let mut exp = preset("dcgan_shapes.toml");
    exp.data = genlab::config::DataConfig::Shapes { count: 256 };
    exp.training.steps = 20;
    exp.training.samples_every = 10;
    let mut h = harness(GenLabApp::new(exp));
    h.get_by_label("Train").click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.query_by_label("the data").is_none() {
        assert!(Instant::now() < deadline, "no data beside the samples");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    assert!(h.query_by_label("samples from fixed noise").is_some());
}

/// The IDX labels file is set in the editor (it gives the evaluator its classes and the
/// runs their classes covered); left empty, the data stays unlabelled.
#[test]
fn the_idx_labels_file_is_set_in_the_editor() {
    use eframe::egui::accesskit::Role;
    let mut exp = preset("gan_ring.toml");
    exp.data = genlab::config::DataConfig::Idx {
        images: "/data/train-images-idx3-ubyte.gz".into(),
        labels: None,
    };
    let mut h = harness(GenLabApp::new(exp));
    h.run();
    h.get_by_role_and_label(Role::TextInput, "labels file")
        .focus();
    h.step();
    h.get_by_role_and_label(Role::TextInput, "labels file")
        .type_text("/data/train-labels-idx1-ubyte.gz");
    h.run();
    let genlab::config::DataConfig::Idx { labels, .. } = &h.state().experiment.data else {
        panic!("still IDX data");
    };
    assert_eq!(
        labels.as_deref(),
        Some(std::path::Path::new("/data/train-labels-idx1-ubyte.gz"))
    );
}

/// eframe's storage, in memory.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// How the views were left (smoothing, scales, zoom, layers, plotted metric) comes back
/// at the next launch with the experiment; values out of range in storage are held to
/// their controls' ranges.
#[test]
fn the_window_remembers_its_views() {
    use eframe::App;
    let mut app = GenLabApp::new(preset("dcgan_shapes.toml"));
    app.curves.smoothing = 0.9;
    app.curves.log_scale = true;
    app.curves.x_by_time = true;
    app.run.samples.zoom = 2.5;
    app.run.samples.layers.heatmap = false;
    app.curves.quality_metric = "recall".into();
    app.step_n = 250;
    let mut storage = MemoryStorage::default();
    app.save(&mut storage);
    let back = GenLabApp::from_storage(Some(&storage), None);
    assert_eq!(back.experiment.title, app.experiment.title);
    assert_eq!(
        genlab::ui::settings::ViewSettings::of(&back),
        genlab::ui::settings::ViewSettings::of(&app)
    );
    // A hand-edited store: out-of-range and non-finite values.
    storage.0.insert(
        genlab::ui::settings::KEY.into(),
        "smoothing = 7.0\nzoom = nan\nstep_n = 0\n".into(),
    );
    let odd = GenLabApp::from_storage(Some(&storage), None);
    assert_eq!(odd.curves.smoothing, 0.99);
    assert_eq!(odd.run.samples.zoom, 1.0);
    assert_eq!(odd.step_n, 1);
}

/// Loading another experiment while a run trains says which is which: the editor shows
/// the next run, the banner names the one training, and one click shows it again.
#[test]
fn running_and_edited_experiments_are_kept_apart() {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 0;
    let mut h = harness(GenLabApp::new(e));
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "training", |a| {
        a.run.status == genlab::ui::RunStatus::Training
    });
    h.step();
    assert!(h.query_by_label_contains("Editing the next run").is_none());
    h.state_mut().experiment = preset("dcgan_shapes.toml");
    h.step();
    assert!(
        h.query_by_label_contains("Training now: GAN on the 8-Gaussian ring")
            .is_some(),
        "no banner"
    );
    h.get_by_label("Show the running experiment").click();
    h.step();
    h.step();
    assert_eq!(h.state().experiment.title, "GAN on the 8-Gaussian ring");
    assert!(h.query_by_label_contains("Editing the next run").is_none());
    h.state_mut().stop();
}

/// The sample views fit the space they have: a VAE's five views side by side in the
/// 1280x800 window's sample area (about 960 x 250 pixels) and in a 1920x1080 one, none
/// clipped, and a lone grid as tall as the area allows.
#[test]
fn sample_views_fit_their_space() {
    use eframe::egui::vec2;
    use genlab::ui::samples::{fit_rows, fit_side, shown_size};
    // grid, inputs | reconstructions, latent map, traversal, interpolation (pixels).
    let sizes = [
        vec2(233.0, 233.0),
        vec2(233.0, 117.0),
        vec2(349.0, 349.0),
        vec2(233.0, 117.0),
        vec2(320.0, 29.0),
    ];
    for space in [vec2(960.0, 250.0), vec2(1600.0, 500.0), vec2(1200.0, 700.0)] {
        let side = fit_side(space, &sizes);
        let widths: f32 = (0..sizes.len())
            .map(|i| shown_size(i, sizes[i], side).x + 16.0)
            .sum();
        assert!(widths <= space.x + 0.5, "{space:?}: {widths} wide");
        assert!(side <= space.y, "{space:?}: {side} tall");
        assert!(
            side > 0.3 * space.y.min(space.x / 5.0),
            "{space:?}: {side} wastes the space"
        );
    }
    let lone = fit_side(vec2(960.0, 400.0), &[vec2(233.0, 233.0)]);
    assert!((lone - 352.0).abs() < 1.0, "{lone}");
    // Where the area is tall (a 1920x1080 window), two rows show the views larger, and
    // both rows still fit; in the 1280x800 window's strip, one row stays.
    let strip = vec2(960.0, 250.0);
    assert_eq!(fit_rows(strip, &sizes).1, sizes.len());
    let tall = vec2(1200.0, 700.0);
    let (side, split) = fit_rows(tall, &sizes);
    assert!(split < sizes.len(), "one row in {tall:?}");
    assert!(side > 1.1 * fit_side(tall, &sizes), "{side}");
    let mut height = 0.0;
    for row in [0..split, split..sizes.len()] {
        let width: f32 = row
            .clone()
            .map(|i| shown_size(i, sizes[i], side).x + 16.0)
            .sum();
        assert!(width <= tall.x + 0.5, "row {row:?}: {width} wide");
        height += row
            .map(|i| shown_size(i, sizes[i], side).y)
            .fold(0.0, f32::max)
            + 48.0;
    }
    assert!(height <= tall.y, "{height} tall");
}

/// Each view can fill the central area and come back, and the experiment panel can be
/// hidden and shown.
#[test]
fn views_enlarge_and_the_editor_hides() {
    use genlab::ui::Enlarged;
    let mut h = harness(GenLabApp::new(preset("gan_ring.toml")));
    h.step();
    assert!(h.query_by_label("Real and generated points").is_some());
    h.get_all_by_label("enlarge")
        .next()
        .expect("an enlarge button")
        .click();
    h.step();
    h.step();
    assert_eq!(h.state().enlarged, Some(Enlarged::Curves));
    assert!(h.query_by_label("Real and generated points").is_none());
    h.get_by_label("back").click();
    h.step();
    h.step();
    assert_eq!(h.state().enlarged, None);
    assert!(h.query_by_label("Real and generated points").is_some());
    assert!(h.query_by_label("Experiment").is_some());
    h.get_by_label("Editor").click();
    h.step();
    h.step();
    assert!(!h.state().show_editor);
    assert!(h.query_by_label("Experiment").is_none());
}

/// Step D and Step G in the window: each pauses the run after one network's update.
#[test]
fn step_d_and_step_g_buttons_pause_after_one_update() {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 0;
    let mut h = harness(GenLabApp::new(e));
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "training", |a| {
        a.run.status == genlab::ui::RunStatus::Training
    });
    h.get_by_label("Step D").click();
    h.step();
    frames_until(&mut h, "the pause after Step D", |a| {
        a.run.status == genlab::ui::RunStatus::Paused
    });
    let at = h.state().run.step;
    h.get_by_label("Step G").click();
    h.step();
    frames_until(&mut h, "one more step", |a| a.run.step == at + 1);
    assert_eq!(h.state().run.status, genlab::ui::RunStatus::Paused);
    h.state_mut().stop();
}

/// Drawing the data with the mouse: a drag paints points along the stroke into the
/// experiment, a right-drag erases them, and the drawing validates and trains.
#[test]
fn a_distribution_drawn_with_the_mouse_becomes_the_data() {
    use eframe::egui::{Event, Modifiers, PointerButton, Pos2};
    use genlab::config::DataConfig;
    let mut exp = preset("gan_ring.toml");
    exp.data = DataConfig::Drawn {
        points: Vec::new(),
        spread: 0.05,
    };
    assert!(
        exp.validate().iter().any(|p| p.field == "data.points"),
        "an empty drawing is refused"
    );
    let mut h = harness(GenLabApp::new(exp));
    h.step();
    let drawn = |h: &Harness<'static, GenLabApp>| match &h.state().experiment.data {
        DataConfig::Drawn { points, .. } => points.clone(),
        other => panic!("the data changed kind: {other:?}"),
    };
    let button = |h: &mut Harness<'static, GenLabApp>, pos, button, pressed| {
        h.event(Event::PointerButton {
            pos,
            button,
            pressed,
            modifiers: Modifiers::default(),
        });
        h.step();
    };
    // A horizontal stroke across the middle of the canvas, which may move as the panel
    // above it changes (the cost readout appears once the drawing is valid).
    let at = |h: &Harness<'static, GenLabApp>, f: f32| {
        let rect = h.get_by_label("drawing canvas").rect();
        Pos2::new(rect.left() + f * rect.width(), rect.center().y)
    };
    h.event(Event::PointerMoved(at(&h, 0.2)));
    h.step();
    let pos = at(&h, 0.2);
    button(&mut h, pos, PointerButton::Primary, true);
    for i in 1..=30 {
        h.event(Event::PointerMoved(at(&h, 0.2 + 0.6 * i as f32 / 30.0)));
        h.step();
    }
    let pos = at(&h, 0.8);
    button(&mut h, pos, PointerButton::Primary, false);
    let points = drawn(&h);
    println!("{} points drawn", points.len());
    assert!(points.len() >= 15, "{} points", points.len());
    // The canvas spans -3..3: the stroke lies on y = 0 from x = -1.8 to 1.8.
    assert!(
        points
            .iter()
            .all(|p| p[1].abs() < 0.1 && (-1.9..=1.9).contains(&p[0])),
        "{points:?}"
    );
    // Erase around the middle.
    h.event(Event::PointerMoved(at(&h, 0.5)));
    h.step();
    let pos = at(&h, 0.5);
    button(&mut h, pos, PointerButton::Secondary, true);
    let pos = at(&h, 0.5);
    button(&mut h, pos, PointerButton::Secondary, false);
    let left = drawn(&h);
    assert!(left.len() < points.len(), "nothing erased");
    assert!(left.iter().all(|p| p[0].abs() >= 0.15), "{left:?}");
    // Undo takes back the erase, then the stroke.
    h.get_by_label("undo").click();
    h.step();
    assert_eq!(
        drawn(&h),
        points,
        "undo did not bring the erased points back"
    );
    h.get_by_label("undo").click();
    h.step();
    assert!(drawn(&h).is_empty(), "undo did not take back the stroke");
    h.get_by_label("undo").click();
    h.step();
    // Back to the erased state for the rest of the test: redraw the stroke and erase.
    let pos = at(&h, 0.2);
    button(&mut h, pos, PointerButton::Primary, true);
    for i in 1..=30 {
        h.event(Event::PointerMoved(at(&h, 0.2 + 0.6 * i as f32 / 30.0)));
        h.step();
    }
    let pos = at(&h, 0.8);
    button(&mut h, pos, PointerButton::Primary, false);
    assert_eq!(drawn(&h).len(), points.len());
    // The drawing is data: it validates, survives a preset file and trains.
    let mut exp = h.state().experiment.clone();
    assert!(exp.validate().is_empty(), "{:?}", exp.validate());
    let text = toml::to_string(&exp).expect("toml");
    let back: genlab::config::Experiment = toml::from_str(&text).expect("reads back");
    assert_eq!(back.data, exp.data);
    exp.training.steps = 20;
    let s = genlab::train::Session::start(exp).expect("start");
    assert!(s.wait(Duration::from_secs(120)), "the run did not end");
}

/// Beside the 2-D view, earlier snapshots from step 0 to the newest; a click on one shows
/// it in the main view.
#[test]
fn earlier_snapshots_stand_beside_the_2d_view_and_open_on_a_click() {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 60;
    e.training.samples_every = 10;
    e.training.batch_size = 32;
    let mut h = harness(GenLabApp::new(e));
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the run to end with its snapshots", |a| {
        a.run.samples.len() >= 7 && a.run.status == genlab::ui::RunStatus::Finished
    });
    h.step();
    for step in [0, 60] {
        assert!(
            h.query_by_label(&format!("snapshot at step {step}"))
                .is_some(),
            "no picture of step {step}"
        );
    }
    assert_eq!(h.state().run.samples.shown().map(|s| s.step), Some(60));
    h.get_by_label("snapshot at step 0").click();
    h.step();
    assert_eq!(
        h.state().run.samples.shown().map(|s| s.step),
        Some(0),
        "the click did not show step 0"
    );
}

#[test]
fn a_blind_test_records_each_answer_in_the_run_folder() {
    let mut app = ring_app();
    app.experiment.training.steps = 40;
    app.experiment.training.samples_every = 20;
    let mut h = harness(app);
    h.get_by_label("Train").click();
    h.step();
    frames_until(&mut h, "the run to finish", |a| {
        a.run.status == genlab::ui::RunStatus::Finished
    });
    h.step();
    let dir = h.state().run.dir.clone().expect("a run folder");
    h.get_by_label("Blind test").click();
    h.step();
    frames_until(&mut h, "the items", |a| {
        a.blind_test.as_ref().is_some_and(|s| s.asking())
    });
    h.step();
    assert!(h.query_by_label_contains("item 1 of 20").is_some());
    // Half the answers by button, half by key.
    for i in 0..genlab::ui::blind_test::ITEMS {
        if i % 2 == 0 {
            h.get_by_label("Generated (G)").click();
        } else {
            h.key_press(eframe::egui::Key::R);
        }
        h.step();
        h.step();
    }
    assert!(
        h.query_by_label_contains("this sitting: fooled").is_some(),
        "no result after the last item"
    );
    let per_step = genlab::eval::human::read(&dir).unwrap();
    let tally = per_step.values().next().expect("answers saved");
    assert_eq!(tally.answers(), genlab::ui::blind_test::ITEMS);
    assert_eq!(
        *per_step.keys().next().unwrap(),
        h.state().run.samples.shown().unwrap().step
    );
    h.get_by_label("Close").click();
    h.step();
    assert!(h.state().blind_test.is_none());
}

#[test]
fn a_sweep_from_the_window_lists_its_runs_by_setting_with_the_best_marked() {
    let mut app = ring_app();
    app.experiment.training.batch_size = 64;
    app.runs.open = true;
    let mut h = harness(app);
    h.get_by_label("Sweep...").click();
    h.step();
    {
        let s = &mut h.state_mut().sweep;
        s.axes = vec![(
            "training.generator_optimizer.lr".into(),
            "1e-5, 2e-4".into(),
        )];
        s.seeds = 2;
        s.steps = 60;
    }
    h.step();
    assert!(
        h.query_by_label("4 runs").is_some(),
        "the grid is not counted"
    );
    h.get_by_label("Start sweep").click();
    h.step();
    let out = h.state().sweep.running().expect("started").0.to_owned();
    frames_until(&mut h, "the sweep to end", |a| !a.sweep.is_running());
    let message = h.state().sweep.message.clone().unwrap_or_default();
    assert!(message.contains("4 of 4 runs finished"), "{message}");
    assert!(out.join("jobs.txt").is_file() && out.join("settings.csv").is_file());
    // The runs appear ticked, grouped by setting, in the table.
    frames_until(&mut h, "the sweep's curves", |a| {
        a.runs.selected.len() == 4 && a.runs.curves.len() == 4
    });
    h.step();
    assert!(
        h.query_by_label("lr=0.00001").is_some(),
        "no row per setting"
    );
    assert!(h.query_by_label("lr=0.0002").is_some());
    assert_eq!(h.query_all_by_label("best").count(), 1);
}

#[test]
fn a_run_folders_saved_samples_can_be_blind_tested_from_the_runs_panel() {
    // A finished image run on disk, trained headless.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("vae");
    let mut e = preset("vae_mlp_shapes.toml");
    e.training.steps = 20;
    e.training.samples_every = 10;
    let preset_file = dir.path().join("p.toml");
    std::fs::write(&preset_file, e.to_toml()).unwrap();
    let req = genlab::cli::TrainRequest {
        threads: Some(1),
        ..genlab::cli::TrainRequest::quiet(Some(run.clone()))
    };
    genlab::cli::train_with(&preset_file, &req).unwrap();
    let mut app = ring_app();
    // A runs folder of its own: other tests' runs would push the samples out of view.
    app.runs_dir = dir.path().join("runs");
    app.runs.add_folder(&run).unwrap();
    app.runs.open = true;
    let mut h = harness(app);
    frames_until(&mut h, "the run's samples", |a| {
        a.runs.samples.get(&run).is_some_and(|s| !s.is_empty())
    });
    for _ in 0..20 {
        h.step();
        if h.query_by_label("blind test").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    h.get_by_label("blind test").click();
    h.step();
    frames_until(&mut h, "the items", |a| {
        a.blind_test.as_ref().is_some_and(|s| s.asking())
    });
    for _ in 0..genlab::ui::blind_test::ITEMS {
        h.key_press(eframe::egui::Key::G);
        h.step();
        h.step();
    }
    let per_step = genlab::eval::human::read(&run).unwrap();
    let (step, tally) = per_step.iter().next().expect("answers in the run's folder");
    assert_eq!(tally.answers(), genlab::ui::blind_test::ITEMS);
    assert_eq!(tally.fooled, 0, "every answer was 'generated'");
    assert!(*step <= 20);
}

/// The window's run state changes only through `RunState::apply` (and starting or clearing
/// a run): each event moves it as the status bar, curves, warnings and resume offer need,
/// and the events that the user must hear of come back as notices.
#[test]
fn the_run_state_follows_the_session_events() {
    use genlab::eval::diagnostics::Diagnostic;
    use genlab::train::{Event, FailureKind, Metrics};
    use genlab::ui::run_state::{RunState, RunStatus};
    let mut run = RunState::default();
    let started = Event::Started {
        device: "CPU".into(),
        parameters: 10,
        classes: Vec::new(),
        step: 0,
    };
    assert_eq!(run.apply(started), None);
    assert_eq!(
        (run.status.clone(), run.device.as_str()),
        (RunStatus::Training, "CPU")
    );
    for step in [10, 20] {
        let m = Metrics {
            step,
            elapsed: step as f64 * 0.1,
            values: vec![("loss_d", 0.5)],
        };
        assert_eq!(run.apply(Event::Metrics(m)), None);
    }
    assert_eq!(run.step, 20);
    assert_eq!(run.history.series["loss_d"].len(), 2);
    let warning = |step| {
        Event::Diagnostic(Diagnostic {
            name: "mode collapse",
            step,
            message: "collapsed".into(),
            cleared: false,
        })
    };
    run.apply(warning(10));
    run.apply(warning(20));
    assert_eq!(run.diagnostics.len(), 1, "one warning a name, the newest");
    assert_eq!(run.diagnostics[0].step, 20);
    run.apply(Event::Paused { step: 25 });
    assert_eq!((run.status.clone(), run.step), (RunStatus::Paused, 25));
    assert!(run.is_running());
    let notice = run.apply(Event::WriteError("disk full".into()));
    assert!(notice.is_some_and(|n| n.contains("disk full")));
    let failed = Event::Failed {
        step: 30,
        reason: "loss is NaN".into(),
        kind: FailureKind::Diverged,
    };
    let notice = run.apply(failed).expect("a failure is told");
    assert!(
        notice.contains("step 30") && notice.contains("loss is NaN"),
        "{notice}"
    );
    assert_eq!(run.failure, Some(FailureKind::Diverged));
    assert!(!run.is_running());
    let version = run.history.version;
    assert!(run.clear().is_none(), "no session to hand back");
    assert_eq!(
        (run.status.clone(), run.step, run.failure),
        (RunStatus::Idle, 0, None)
    );
    assert!(run.history.is_empty() && run.diagnostics.is_empty());
    assert!(
        run.history.version > version,
        "cached curves must see the clear"
    );
    // Learning rates told to a running session are its experiment's at once.
    run.experiment = Some(preset("gan_ring.toml"));
    run.learning_rates_set(Some(0.5), Some(0.25));
    let exp = run.experiment.as_ref().expect("kept");
    assert_eq!(exp.training.generator_optimizer.lr, 0.5);
    assert_eq!(exp.discriminator_optimizer().lr, 0.25);
}
