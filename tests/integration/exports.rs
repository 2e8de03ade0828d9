//! Exports and the preset browser, through the app's own code paths (dialogs bypassed).

use crate::preset;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use genlab::ui::files::FileAction;
use genlab::ui::{GenLabApp, RunStatus};
use std::path::Path;
use std::time::{Duration, Instant};

fn finished_run(
    title: &str,
    exp: genlab::config::Experiment,
    runs: &Path,
) -> Harness<'static, GenLabApp> {
    let mut app = GenLabApp::new(exp);
    app.experiment.title = title.into();
    app.runs_dir = runs.to_owned();
    let mut h = Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut GenLabApp| app.show(ui), app);
    h.get_by_label("Train").click();
    h.step();
    let deadline = Instant::now() + Duration::from_secs(120);
    while h.state().run.status != RunStatus::Finished {
        assert!(Instant::now() < deadline, "run did not finish");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
    h
}

/// Not blank: the image has more than one colour.
fn assert_not_blank(img: &image::RgbaImage, what: &str) {
    let first = img.get_pixel(0, 0);
    assert!(img.pixels().any(|p| p != first), "{what} is blank");
}

#[test]
fn every_export_writes_a_decodable_non_blank_file_and_never_overwrites_silently() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = preset("vae_mlp_shapes.toml");
    e.training.steps = 40;
    e.training.samples_every = 10;
    let mut h = finished_run("export test", e, dir.path());
    let app = h.state_mut();
    app.export_scale = 3;

    let grid = dir.path().join("grid.png");
    app.complete(FileAction::ExportGrid, &grid, false)
        .expect("grid");
    let img = image::open(&grid).expect("grid decodes").to_rgba8();
    let shown = app.run.samples.shown_image().expect("shown");
    assert_eq!(
        (img.width() as usize, img.height() as usize),
        (shown.width * 3, shown.height * 3)
    );
    assert_not_blank(&img, "grid");

    let gif = dir.path().join("timelapse.gif");
    app.complete(FileAction::ExportTimelapse, &gif, false)
        .expect("gif");
    let decoder = image::codecs::gif::GifDecoder::new(std::io::BufReader::new(
        std::fs::File::open(&gif).expect("open"),
    ))
    .expect("gif decodes");
    use image::AnimationDecoder;
    let frames = decoder.into_frames().collect_frames().expect("frames");
    assert_eq!(
        frames.len(),
        app.run.samples.len(),
        "one frame per snapshot"
    );
    assert_not_blank(frames.last().expect("frame").buffer(), "timelapse");

    let csv_path = dir.path().join("curves.csv");
    app.complete(FileAction::ExportCurvesCsv, &csv_path, false)
        .expect("csv");
    let mut rdr = csv::Reader::from_path(&csv_path).expect("csv decodes");
    let header = rdr.headers().expect("header").clone();
    assert!(header.iter().any(|h| h == "reconstruction"), "{header:?}");
    let rows = rdr.records().count();
    assert!(rows >= 5, "{rows} rows");

    let png = dir.path().join("curves.png");
    app.complete(FileAction::ExportCurvesPng, &png, false)
        .expect("curves png");
    let plot = image::open(&png).expect("plot decodes").to_rgba8();
    assert_eq!((plot.width(), plot.height()), (1200, 700));
    assert_not_blank(&plot, "curves plot");

    let preset_path = dir.path().join("saved.toml");
    app.complete(FileAction::SavePreset, &preset_path, false)
        .expect("preset");
    let saved = genlab::config::Experiment::load(&preset_path).expect("saved preset loads");
    assert_eq!(saved, app.experiment);

    // An existing file is never overwritten without the user's yes.
    let before = std::fs::read(&grid).expect("read");
    assert!(app.complete(FileAction::ExportGrid, &grid, false).is_err());
    app.export_scale = 1;
    app.complete(FileAction::ExportGrid, &grid, true)
        .expect("overwrite when asked");
    assert_ne!(std::fs::read(&grid).expect("read"), before);
}

#[test]
fn the_preset_browser_loads_and_a_bad_file_leaves_the_experiment_untouched() {
    let mut h = Harness::builder()
        .with_size(eframe::egui::vec2(1280.0, 800.0))
        .build_ui_state(
            |ui, app: &mut GenLabApp| app.show(ui),
            GenLabApp::new(preset("gan_ring.toml")),
        );
    h.get_by_label("File").click();
    h.step();
    h.step();
    h.get_by_label("Preset library...").click();
    // A new window is laid out invisibly in its first frame; let it settle.
    for _ in 0..4 {
        h.step();
    }
    h.get_by_label("GAN on the 5x5 grid (mode collapse)")
        .click();
    h.step();
    assert_eq!(
        h.state().experiment.title,
        "GAN on the 5x5 grid (mode collapse)"
    );
    assert!(
        !h.state().show_presets,
        "the library stays open after loading"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    let text = genlab::config::presets::BUILTIN[0]
        .1
        .replace("noise = 0.02", "noise = \"loud\"");
    std::fs::write(&bad, text).expect("write");
    let before = h.state().experiment.clone();
    let err = h
        .state_mut()
        .complete(FileAction::OpenPreset, &bad, false)
        .expect_err("bad preset loaded");
    assert!(
        err.contains("bad.toml") && err.contains("field data.noise (line 7)"),
        "{err}"
    );
    assert_eq!(h.state().experiment, before);

    let good = dir.path().join("good.toml");
    preset("gan_moons_lsgan.toml").save(&good).expect("save");
    h.state_mut()
        .complete(FileAction::OpenPreset, &good, false)
        .expect("good preset");
    assert_eq!(h.state().experiment.title, "Least-squares GAN on two moons");

    // A preset that parses but asks for its data opens in the editor, its problem named.
    let asks = dir.path().join("asks.toml");
    let (_, text) = genlab::config::presets::BUILTIN
        .iter()
        .find(|(n, _)| *n == "gan_mnist_idx.toml")
        .expect("shipped");
    std::fs::write(&asks, text).expect("write");
    let said = h
        .state_mut()
        .complete(FileAction::OpenPreset, &asks, false)
        .expect("a preset with a path to choose loads");
    assert!(
        said.contains("to fix before Train") && said.contains("data.images"),
        "{said}"
    );
    assert_eq!(
        h.state().experiment.title,
        "MLP GAN on your MNIST files (IDX)"
    );
}

/// The clip and text exports find what they write among the shown snapshot's views
/// (`Samples::clips`, `Samples::items`), and refuse a snapshot that has none.
#[test]
fn clips_and_text_export_from_the_shown_snapshot_and_refuse_other_samples() {
    use genlab::train::{AudioView, Samples, Snapshot, TextView};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = GenLabApp::new(preset("wavegan_tones.toml"));
    let clip = |hz: f32| -> Vec<f32> {
        (0..1024)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0).sin())
            .collect()
    };
    app.run.samples.push(Snapshot {
        step: 10,
        samples: Samples::Audio(AudioView::of(8000, vec![clip(440.0), clip(880.0)])),
    });
    let all = dir.path().join("all.wav");
    app.complete(FileAction::ExportClips, &all, false)
        .expect("clips");
    let one = dir.path().join("one.wav");
    app.complete(FileAction::ExportClip(1), &one, false)
        .expect("clip 2");
    let read = |p: &Path| -> Vec<f32> {
        hound::WavReader::open(p)
            .expect("wav")
            .into_samples::<i16>()
            .map(|s| s.expect("sample") as f32 / 32768.0)
            .collect()
    };
    let (all, one) = (read(&all), read(&one));
    // Both clips with a silence between them, and the second alone.
    assert!(all.len() > 2 * 1024, "{} samples", all.len());
    assert_eq!(one.len(), 1024);
    let hz = genlab::modality::audio::spectrum::peak(&one, 8000).hz;
    assert!((hz - 880.0).abs() < 20.0, "clip 2 reads {hz} Hz");
    let err = app
        .complete(
            FileAction::ExportClip(5),
            &dir.path().join("none.wav"),
            false,
        )
        .expect_err("no clip 6");
    assert!(err.contains("no clip 6"), "{err}");
    let err = app
        .complete(FileAction::ExportText, &dir.path().join("x.txt"), false)
        .expect_err("clips are not text");
    assert!(err.contains("no generated items"), "{err}");

    app.run.samples.push(Snapshot {
        step: 20,
        samples: Samples::Text(TextView {
            generated: vec!["anna".into(), "bob".into()],
            ..TextView::default()
        }),
    });
    let txt = dir.path().join("items.txt");
    app.complete(FileAction::ExportText, &txt, false)
        .expect("text");
    assert_eq!(std::fs::read_to_string(&txt).expect("read"), "anna\nbob\n");
    let err = app
        .complete(FileAction::ExportClips, &dir.path().join("y.wav"), false)
        .expect_err("text has no clips");
    assert!(err.contains("no clips"), "{err}");
}
