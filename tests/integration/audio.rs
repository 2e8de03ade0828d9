//! Audio: the built-in tones, WAV folders (formats, bad files), the audio models' learning
//! floors, bit-exact resume and what a run folder keeps.

use crate::preset;
use genlab::config::{DataConfig, Experiment};
use genlab::data::{DataError, Dataset};
use genlab::modality::audio::{quality::AudioReference, tones, wav};
use genlab::train::{Event, Metrics, Samples, Session};
use std::time::Duration;

fn tone(hz: f32, rate: u32, seconds: f32) -> Vec<f32> {
    (0..(rate as f32 * seconds) as usize)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
        .collect()
}

/// WAV bytes of `samples` (mono) written `channels` times over, in the given format.
pub fn wav_bytes(samples: &[f32], rate: u32, channels: u16, bits: u16, float: bool) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).expect("writer");
    for v in samples {
        for _ in 0..channels {
            if float {
                w.write_sample(*v).expect("sample");
            } else {
                let max = ((1i64 << (bits - 1)) - 1) as f32;
                w.write_sample((v * max).round() as i32).expect("sample");
            }
        }
    }
    w.finalize().expect("finalize");
    out.into_inner()
}

#[test]
fn wav_folders_of_every_common_format_read_as_clips_at_the_asked_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Five files, five formats, each a tone after some silence.
    let formats = [
        (44_100, 2, 16, false, 220.0),
        (22_050, 1, 24, false, 440.0),
        (16_000, 1, 8, false, 554.37),
        (48_000, 2, 32, true, 880.0),
        (8_000, 1, 32, false, 349.23),
    ];
    for (i, (rate, ch, bits, float, hz)) in formats.iter().enumerate() {
        let mut s = vec![0.0; *rate as usize / 20];
        s.extend(tone(*hz, *rate, 0.3));
        let name = dir.path().join(format!("{i}.WAV"));
        std::fs::write(&name, wav_bytes(&s, *rate, *ch, *bits, *float)).expect("write");
    }
    std::fs::write(dir.path().join("notes.txt"), "not audio").expect("write");
    let set = wav::read_folder(dir.path(), 8000, 1024, 0).expect("read");
    assert_eq!((set.len(), set.length, set.sample_rate), (5, 1024, 8000));
    // Files are read in a shuffled order: each clip is told by its pitch.
    let mut found = vec![false; formats.len()];
    for c in 0..set.len() {
        let clip = set.clip(c);
        let p = genlab::modality::audio::spectrum::peak(clip, 8000);
        let i = formats
            .iter()
            .position(|f| (p.hz - f.4).abs() < f.4 * 0.01)
            .unwrap_or_else(|| panic!("clip {c}: {} Hz is none of the files' pitches", p.hz));
        assert!(!found[i], "file {i} read twice");
        found[i] = true;
        // The leading silence is cut: the clip starts at the tone.
        assert!(
            clip[..8].iter().any(|v| v.abs() > 0.05),
            "file {i} starts silent"
        );
        let peak = clip.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - wav::PEAK).abs() < 1e-3, "file {i}: peak {peak}");
    }
    // The same folder through the experiment's config.
    let data = Dataset::load(
        &DataConfig::WavFolder {
            path: dir.path().to_owned(),
            sample_rate: 8000,
            length: 2048,
        },
        0,
    )
    .expect("load");
    assert_eq!((data.len(), data.sample_len()), (5, 2048));
}

fn expect_malformed(result: Result<genlab::data::AudioSet, DataError>, needles: &[&str]) {
    match result {
        Err(e @ DataError::Malformed { .. }) => {
            for n in needles {
                assert!(e.to_string().contains(n), "{e} lacks {n}");
            }
        }
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("accepted, expected an error with {needles:?}"),
    }
}

#[test]
fn bad_wav_files_are_refused_with_the_file_and_the_reason() {
    let good = wav_bytes(&tone(440.0, 8000, 0.2), 8000, 1, 16, false);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text.wav",
            b"hello, not a wav file".to_vec(),
            "not a readable WAV",
        ),
        ("empty.wav", Vec::new(), "not a readable WAV"),
        (
            "cut.wav",
            good[..good.len() / 2 + 1].to_vec(),
            "cannot read its samples",
        ),
        (
            "silent.wav",
            wav_bytes(&vec![0.0; 800], 8000, 1, 16, false),
            "silent",
        ),
        (
            "nothing.wav",
            wav_bytes(&[], 8000, 1, 16, false),
            "no samples",
        ),
        (
            "nan.wav",
            wav_bytes(&[0.1, f32::NAN, 0.2], 8000, 1, 32, true),
            "NaN",
        ),
    ];
    for (name, bytes, reason) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ok.wav"), &good).expect("write");
        std::fs::write(dir.path().join(name), bytes).expect("write");
        expect_malformed(wav::read_folder(dir.path(), 8000, 1024, 0), &[name, reason]);
    }
    let empty = tempfile::tempdir().expect("tempdir");
    expect_malformed(
        wav::read_folder(empty.path(), 8000, 1024, 0),
        &["no .wav files"],
    );
    // The config names the field before anything is read.
    let mut exp = preset("wavegan_tones.toml");
    exp.data = DataConfig::WavFolder {
        path: "".into(),
        sample_rate: 100,
        length: 1000,
    };
    let problems: Vec<String> = exp.validate().iter().map(|p| p.to_string()).collect();
    let text = problems.join("\n");
    for field in ["data.path", "data.sample_rate", "model.generator.channels"] {
        assert!(text.contains(field), "{field} not named in:\n{text}");
    }
}

/// Trains to the end; every metrics row and the last snapshot.
fn train(exp: Experiment) -> (Vec<Metrics>, Option<Samples>) {
    let s = Session::start(exp).expect("start");
    let (mut rows, mut last) = (Vec::new(), None);
    loop {
        for snap in s.drain_snapshots() {
            last = Some(snap.samples);
        }
        match s.next_event(Duration::from_secs(600)) {
            Some(Event::Metrics(m)) => rows.push(m),
            Some(Event::Finished { .. }) => {
                last = s.drain_snapshots().pop().map(|s| s.samples).or(last);
                return (rows, last);
            }
            Some(Event::Failed { step, reason, .. }) => panic!("failed at step {step}: {reason}"),
            Some(_) => {}
            None => panic!("no event for 10 minutes"),
        }
    }
}

fn series(rows: &[Metrics], name: &str) -> Vec<(u64, f64)> {
    rows.iter()
        .filter_map(|m| m.get(name).map(|v| (m.step, v)))
        .collect()
}

#[test]
fn the_audio_vae_halves_its_held_out_reconstruction_and_beats_the_mean_clip() {
    let exp = preset("vae_conv_tones.toml");
    let (rows, last) = train(exp.clone());
    let recon = series(&rows, "held_out_reconstruction");
    let first = recon.first().expect("baseline").1;
    let (step, final_) = *recon.last().expect("final");
    // A VAE that decodes the mean clip whatever the input (a collapsed posterior).
    let Ok(Dataset::Audio(mut set)) = Dataset::load(&exp.data, exp.training.seed) else {
        panic!("audio data");
    };
    let held = set.split_off(256.min(set.len() / 10));
    let n = set.len() as f32;
    let mean: Vec<f32> = (0..set.length)
        .map(|t| (0..set.len()).map(|i| set.clip(i)[t]).sum::<f32>() / n)
        .collect();
    let mean_only = (0..held.len())
        .map(|i| {
            held.clip(i)
                .iter()
                .zip(&mean)
                .map(|(a, b)| ((a - b) * (a - b)) as f64)
                .sum::<f64>()
        })
        .sum::<f64>()
        / held.len() as f64;
    println!("audio VAE held-out reconstruction: {first:.2} at step 0 -> {final_:.2} at step {step} (the mean clip: {mean_only:.2})");
    assert!(final_ <= 0.5 * first, "{first} -> {final_}");
    // The decoder is a generator too: its decoded prior samples go from no pitch at all
    // to most of the data's pitches as clear notes (seen: 0 -> 0.875-1.0 over the last
    // five snapshots; a generator collapsed onto one clip covers 1/8).
    let coverage = series(&rows, "pitch_coverage");
    let mut tail: Vec<f64> = coverage.iter().rev().take(5).map(|p| p.1).collect();
    tail.sort_by(f64::total_cmp);
    println!("audio VAE pitch coverage of prior samples: {coverage:?}");
    assert_eq!(coverage.first().expect("step 0").1, 0.0);
    assert!(tail[2] >= 0.5, "median of the last five {}", tail[2]);
    assert!(
        final_ <= 0.5 * mean_only,
        "{final_}, the mean clip {mean_only}"
    );
    let Some(Samples::Audio(view)) = last else {
        panic!("no audio snapshot")
    };
    assert_eq!(view.inputs.len(), view.reconstructed.len());
    assert!(view.pairs.is_some(), "the pairs are drawn too");
    assert!(!view.inputs.is_empty() && view.generated.len() == 16);
}

/// The class-conditional WaveGAN plays the data's pitches: coverage rises from none at
/// step 0 to at least `PITCH_FLOOR` (BENCHMARKS.md, "Audio": medians of the last five
/// snapshots 0.875-1.0 over three seeds, so the floor leaves two pitches of margin), its
/// clips are the classes they were asked for, and its spectrum moves to the data's.
#[test]
fn the_conditional_wavegan_plays_the_pitches_it_is_asked_for() {
    const PITCH_FLOOR: f64 = 0.625;
    let exp = preset("wavegan_tones.toml");
    let (rows, last) = train(exp.clone());
    let coverage = series(&rows, "pitch_coverage");
    let spectral = series(&rows, "spectral_distance");
    let matched = series(&rows, "class_match");
    let first = spectral.first().expect("step 0").1;
    let last_five =
        |s: &[(u64, f64)]| -> Vec<f64> { s.iter().rev().take(5).map(|p| p.1).collect() };
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "WaveGAN pitch coverage {:?}; spectral distance {first:.2} dB at step 0 -> {:?}; class match (last five rows) {:?}",
        coverage.iter().map(|p| p.1).collect::<Vec<_>>(),
        last_five(&spectral),
        last_five(&matched),
    );
    assert_eq!(
        coverage.first().expect("coverage").1,
        0.0,
        "an untrained generator plays no pitch"
    );
    let covered = median(last_five(&coverage));
    assert!(
        covered >= PITCH_FLOOR,
        "median pitch coverage of the last five snapshots {covered}, floor {PITCH_FLOOR}"
    );
    // One class for every input would match 1 in 10.
    let matched_now = median(last_five(&matched));
    assert!(matched_now >= 0.5, "class match {matched_now}");
    let spectral_now = median(last_five(&spectral));
    assert!(
        spectral_now <= 0.35 * first,
        "median of the last five {spectral_now}, step 0 {first}"
    );
    let Some(Samples::Audio(view)) = last else {
        panic!("no audio snapshot")
    };
    assert_eq!(view.generated.len(), 16);
    assert!(view.generated.iter().all(|c| c.len() == tones::LENGTH));
    assert_eq!(&view.classes[..3], ["A3", "C#4", "F4"]);
    assert_eq!(view.classes[9], "drum");
}

/// Asked for one class, a conditional GAN's snapshots play that class in every clip,
/// while its metrics stay those of every class (the same, to the bit, as a run that was
/// never asked).
#[test]
fn a_conditional_gan_shows_the_class_asked_for_and_measures_them_all() {
    let mut exp = preset("wavegan_tones.toml");
    exp.training.steps = 10;
    exp.training.samples_every = 10;
    exp.training.metrics_every = 10;
    exp.training.batch_size = 16;
    exp.training.threads = 1;
    let run = |class: Option<usize>| {
        let s = Session::start(exp.clone()).expect("start");
        s.send(genlab::train::Control::ShowClass(class));
        let (mut names, mut rows, mut last) = (Vec::new(), Vec::new(), None);
        loop {
            for snap in s.drain_snapshots() {
                last = Some(snap);
            }
            match s.next_event(Duration::from_secs(300)) {
                Some(Event::Started { classes, .. }) => names = classes,
                Some(Event::Metrics(m)) => rows.push(m),
                Some(Event::Finished { .. }) => break,
                Some(Event::Failed { reason, .. }) => panic!("{reason}"),
                Some(_) => {}
                None => panic!("no event for 5 minutes"),
            }
        }
        let last = s.drain_snapshots().pop().or(last).expect("a snapshot");
        (names, rows, last)
    };
    let (names, all_rows, all) = run(None);
    let (_, f4_rows, f4) = run(Some(2));
    assert_eq!(names, tones::CLASSES);
    assert_eq!(all.step, 10);
    assert_eq!(f4.step, 10);
    let (Samples::Audio(all), Samples::Audio(f4)) = (&all.samples, &f4.samples) else {
        panic!("audio snapshots");
    };
    assert_eq!(&all.classes[..3], ["A3", "C#4", "F4"]);
    assert!(f4.classes.iter().all(|c| c == "F4"), "{:?}", f4.classes);
    // The third clip was asked for F4 both times; the first was A3 in rotation.
    assert_eq!(all.generated[2], f4.generated[2]);
    assert_ne!(all.generated[0], f4.generated[0]);
    let at_10 = |rows: &[Metrics]| rows.iter().find(|m| m.step == 10).cloned();
    let (a, b) = (
        at_10(&all_rows).expect("row"),
        at_10(&f4_rows).expect("row"),
    );
    assert!(a.get("pitch_coverage").is_some());
    assert_eq!(
        a.values, b.values,
        "the metrics do not depend on the class shown"
    );
}

/// A folder of WAV files in one subfolder per class is labelled by subfolder, so a
/// conditional WaveGAN trains on the user's own classes and names them.
#[test]
fn wav_subfolders_are_classes_for_a_conditional_gan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = tones::generate(40, 5);
    let labels = set.labels.clone().expect("labels");
    // A3 tones in "low", C#6 tones in "high": two classes, named by their folders.
    for (class, folder) in [(0u8, "low"), (7u8, "high")] {
        let sub = dir.path().join(folder);
        std::fs::create_dir_all(&sub).expect("mkdir");
        for (i, _) in labels.iter().enumerate().filter(|(_, &l)| l == class) {
            wav::write(&sub.join(format!("{i}.wav")), &[set.clip(i).to_vec()], 8000)
                .expect("write");
        }
    }
    let read = wav::read_folder(dir.path(), 8000, 1024, 0).expect("read");
    assert_eq!(read.len(), 8);
    assert_eq!(read.classes, ["high", "low"]);
    let labels = read.labels.clone().expect("labels");
    // Each clip keeps its folder's class, in a shuffled order (so that a VAE's held-out
    // tail is not all one class).
    for (c, &label) in labels.iter().enumerate() {
        let hz = genlab::modality::audio::spectrum::peak(read.clip(c), 8000).hz;
        assert_eq!(
            label == 0,
            hz > 600.0,
            "clip {c} ({hz} Hz) labelled {label}"
        );
    }
    assert_eq!(labels.iter().filter(|&&l| l == 0).count(), 4);
    assert!(
        labels.windows(2).any(|w| w[0] > w[1]),
        "read in class order: {labels:?}"
    );
    // The tones preset (conditional) on the folder.
    let mut exp = preset("wavegan_tones.toml");
    exp.data = DataConfig::WavFolder {
        path: dir.path().to_path_buf(),
        sample_rate: 8000,
        length: 1024,
    };
    exp.training.steps = 2;
    exp.training.batch_size = 4;
    assert!(exp.validate().is_empty(), "{:?}", exp.validate());
    let device = genlab::train::session::device_for(exp.backend)
        .expect("cpu")
        .0;
    let trainer = genlab::train::session::build_trainer(&exp, &device).expect("trainer");
    assert_eq!(trainer.class_names(), ["high", "low"]);
    let cost = genlab::cost::estimate(&exp).expect("estimate");
    assert_eq!(cost.parameters, trainer.parameters() as u64);
    let (rows, _) = train(exp);
    assert!(rows.iter().any(|m| m.get("class_match").is_some()));
}

#[test]
fn collapsed_or_silent_generators_cover_no_more_than_one_pitch() {
    let set = tones::generate(1000, 0);
    let reference = AudioReference::new(&set);
    let one_clip = set.clip(0).repeat(128);
    let mean: Vec<f32> = (0..set.length)
        .map(|t| (0..set.len()).map(|i| set.clip(i)[t]).sum::<f32>() / set.len() as f32)
        .collect();
    for (what, clips) in [
        ("one clip", one_clip),
        ("the mean clip", mean.repeat(128)),
        ("silence", vec![0.0; 128 * set.length]),
    ] {
        let coverage = reference.measure(&clips)[0].1;
        println!("{what}: pitch coverage {coverage}");
        assert!(coverage <= 1.0 / 8.0, "{what}: {coverage}");
    }
}

#[test]
fn a_run_folder_keeps_each_snapshot_as_wav() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exp = preset("wavegan_tones.toml");
    exp.training.steps = 20;
    exp.training.samples_every = 10;
    exp.training.batch_size = 16;
    let folder = genlab::run::RunWriter::create(dir.path(), &exp).expect("folder");
    let s = Session::launch(exp, None, Some(folder)).expect("start");
    assert!(s.wait(Duration::from_secs(300)), "the run did not end");
    for step in [0, 10, 20] {
        let path = dir.path().join(format!("samples/step_{step:06}.wav"));
        let reader = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(reader.spec().sample_rate, tones::SAMPLE_RATE);
        // 16 clips with 0.15 s of silence between them.
        let gap = (0.15 * tones::SAMPLE_RATE as f32) as u32;
        assert_eq!(reader.duration(), 16 * tones::LENGTH as u32 + 15 * gap);
        assert!(dir
            .path()
            .join(format!("samples/step_{step:06}.png"))
            .is_file());
    }
    // A VAE also keeps its held-out inputs beside their reconstructions, as WAV and PNG.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exp = preset("vae_conv_tones.toml");
    exp.training.steps = 2;
    exp.training.batch_size = 16;
    let folder = genlab::run::RunWriter::create(dir.path(), &exp).expect("folder");
    let s = Session::launch(exp, None, Some(folder)).expect("start");
    assert!(s.wait(Duration::from_secs(300)), "the run did not end");
    for name in [
        "step_000002.wav",
        "step_000002_recon.wav",
        "step_000002_recon.png",
    ] {
        let path = dir.path().join("samples").join(name);
        assert!(path.is_file(), "{path:?}");
    }
    let pairs = hound::WavReader::open(dir.path().join("samples/step_000002_recon.wav"))
        .expect("recon wav");
    assert!(pairs.duration() > 2 * tones::LENGTH as u32);
}

#[test]
fn phase_shuffle_shifts_with_reflection() {
    use burn::prelude::*;
    use genlab::model::layers::shift_width;
    let (device, _) =
        genlab::train::session::device_for(genlab::config::Backend::Cpu).expect("cpu");
    let x: Tensor<4> = Tensor::from_data(
        burn::tensor::TensorData::new(vec![0.0f32, 1.0, 2.0, 3.0, 4.0], [1, 1, 1, 5]),
        &device,
    );
    let read = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().expect("f32");
    assert_eq!(
        read(shift_width(x.clone(), 2)),
        vec![2.0, 1.0, 0.0, 1.0, 2.0]
    );
    assert_eq!(
        read(shift_width(x.clone(), -2)),
        vec![2.0, 3.0, 4.0, 3.0, 2.0]
    );
    assert_eq!(read(shift_width(x, 0)), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
}

fn cpu() -> burn::prelude::Device {
    genlab::train::session::device_for(genlab::config::Backend::Cpu)
        .expect("cpu")
        .0
        .inner()
}

#[test]
fn the_shipped_clip_evaluator_classifies_unseen_tones() {
    use genlab::eval::evaluator::{accuracy, Rows};
    let data = DataConfig::Tones { count: 2000 };
    let saved = genlab::modality::audio::evaluator::for_data(&data).expect("a shipped evaluator");
    // Another seed than the one it was trained on: clips it has never heard.
    let set = tones::generate(2000, 12345);
    let labels = set.labels.clone().expect("labels");
    let device = cpu();
    let model = saved.model(&device).expect("loads");
    let rows = Rows {
        values: &set.samples,
        len: set.length,
        labels: &labels,
        classes: saved.classes,
    };
    let acc = accuracy(&model, &rows, &device);
    println!(
        "shipped clip evaluator: {:.1} % on 2000 unseen clips ({:.1} % on its own held-out split)",
        acc * 100.0,
        saved.held_out_accuracy * 100.0
    );
    assert_eq!(saved.classes, tones::CLASSES.len());
    assert!(acc > 0.9, "accuracy {acc}");
}

/// FD, KID and precision/recall on the clip evaluator tell real clips from collapsed,
/// averaged and silent generators.
#[test]
fn clip_scores_tell_real_clips_from_collapsed_ones() {
    let data = DataConfig::Tones { count: 1000 };
    let set = tones::generate(1000, 0);
    let quality = genlab::modality::audio::evaluator::ClipQuality::new(
        genlab::modality::audio::evaluator::for_data(&data),
        &set,
        &cpu(),
    )
    .expect("the tones have an evaluator");
    let score = |clips: &[f32], name: &str| {
        let scores = quality.measure(clips);
        scores.iter().find(|s| s.0 == name).expect(name).1
    };
    let other = tones::generate(128, 7);
    let mean: Vec<f32> = (0..set.length)
        .map(|t| (0..set.len()).map(|i| set.clip(i)[t]).sum::<f32>() / set.len() as f32)
        .collect();
    let real_fd = score(&other.samples, "fd");
    let real_recall = score(&other.samples, "recall");
    println!(
        "real clips of another seed: FD {real_fd:.2}, KID {:.4}, recall {real_recall:.2}",
        score(&other.samples, "kid")
    );
    assert!(real_recall > 0.5, "recall {real_recall}");
    for (what, clips) in [
        ("one clip", set.clip(0).repeat(128)),
        ("the mean clip", mean.repeat(128)),
        ("silence", vec![0.0; 128 * set.length]),
    ] {
        let (fd, recall) = (score(&clips, "fd"), score(&clips, "recall"));
        println!("{what}: FD {fd:.2}, recall {recall:.2}");
        assert!(fd > 5.0 * real_fd, "{what}: FD {fd}, real {real_fd}");
        assert!(recall < 0.1, "{what}: recall {recall}");
    }
}
