//! Checkpoints: exact resume, atomic files, divergence and panics that lose nothing.

use crate::preset;
use genlab::checkpoint::{store, Checkpoint};
use genlab::config::Experiment;
use genlab::train::session::Resume;
use genlab::train::{Control, Event, FailureKind, Session};
use std::path::Path;
use std::time::{Duration, Instant};

/// Every event until the session finishes or fails.
fn all_events(s: &Session) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut out = Vec::new();
    while Instant::now() < deadline {
        if let Some(e) = s.next_event(Duration::from_millis(50)) {
            let end = matches!(e, Event::Finished { .. } | Event::Failed { .. });
            out.push(e);
            if end {
                return out;
            }
        }
    }
    panic!("timed out; events so far: {out:?}");
}

/// (step, losses) of every metrics row, the losses being the step's own values.
fn losses(events: &[Event], names: &[&str]) -> Vec<(u64, Vec<f64>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Metrics(m) if m.step > 0 => Some((
                m.step,
                names.iter().map(|n| m.get(n).unwrap_or(f64::NAN)).collect(),
            )),
            _ => None,
        })
        .collect()
}

fn checkpoint_at(events: &[Event], step: u64) -> Checkpoint {
    let encoded = events
        .iter()
        .find_map(|e| match e {
            Event::Checkpoint(c) if c.step == step => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no checkpoint of step {step}"));
    Checkpoint::decode(&encoded.bytes, Path::new("memory")).expect("decode")
}

/// Trains `exp` for 2k steps unbroken, then again from the checkpoint at k; the losses of
/// steps k+1..2k must be identical, bit for bit.
fn assert_resume_is_exact(mut exp: Experiment, k: u64, names: &[&str]) {
    exp.training.steps = 2 * k;
    exp.training.metrics_every = 1;
    exp.training.samples_every = 1_000_000;
    exp.training.checkpoint_every = k;
    // Bit-exactness is promised for one thread (more may reorder float sums).
    exp.training.threads = 1;
    let unbroken = all_events(&Session::start(exp.clone()).expect("start"));
    let ckpt = checkpoint_at(&unbroken, k);
    let resumed_session = Session::resume(
        exp,
        Resume {
            checkpoint: ckpt,
            lr_scale: 1.0,
        },
    )
    .expect("resume");
    let resumed = all_events(&resumed_session);
    assert!(
        matches!(resumed.first(), Some(Event::Started { step, .. }) if *step == k),
        "a resumed session starts at the checkpoint's step: {:?}",
        resumed.first()
    );
    let expected: Vec<_> = losses(&unbroken, names)
        .into_iter()
        .filter(|(s, _)| *s > k)
        .collect();
    let got = losses(&resumed, names);
    assert_eq!(
        expected.len() as u64,
        k,
        "one row per step after the checkpoint"
    );
    // Bit-exact: the CPU backend is single-threaded and deterministic, and the checkpoint
    // holds every input of the next step (parameters, Adam moments, RNG streams, data order).
    assert_eq!(got, expected);
}

#[test]
fn a_resumed_mlp_gan_takes_exactly_the_steps_of_an_unbroken_run() {
    assert_resume_is_exact(preset("gan_ring.toml"), 15, &["loss_d", "loss_g", "d_real"]);
}

#[test]
fn a_resumed_spectral_norm_gan_is_exact_too() {
    // Its power-iteration vectors are state outside burn's parameters.
    assert_resume_is_exact(preset("gan_ring_spectral.toml"), 10, &["loss_d", "loss_g"]);
}

#[test]
fn a_resumed_vae_is_exact() {
    let mut exp = preset("vae_mlp_shapes.toml");
    exp.training.batch_size = 32;
    assert_resume_is_exact(exp, 8, &["loss", "reconstruction", "kl"]);
}

#[test]
fn a_resumed_dcgan_with_batch_norm_is_exact() {
    // Batch norm's running statistics are part of the record.
    let mut exp = preset("dcgan_shapes.toml");
    exp.training.batch_size = 16;
    assert_resume_is_exact(exp, 3, &["loss_d", "loss_g"]);
}

#[test]
fn resumed_audio_models_are_exact() {
    // The preset is class-conditional: the fake batches' classes draw from the
    // checkpointed RNG and the real batches' labels follow the checkpointed batch order.
    let mut gan = preset("wavegan_tones.toml");
    gan.training.batch_size = 16;
    assert_resume_is_exact(gan, 4, &["loss_d", "loss_g", "class_loss", "class_match"]);
    // Phase shuffle and instance noise draw from the checkpointed RNG too.
    let mut shuffled = preset("wavegan_tones.toml");
    shuffled.training.batch_size = 16;
    if let genlab::config::ModelConfig::Gan {
        phase_shuffle,
        spectrogram_discriminator,
        spectral_norm,
        pack,
        conditional,
        ..
    } = &mut shuffled.model
    {
        *phase_shuffle = 2;
        // Packing judges clips four at a time, which a classifier of one clip cannot.
        *conditional = false;
        // The spectrogram head's weights (and spectral norm's power iteration) too.
        *spectrogram_discriminator = true;
        *spectral_norm = true;
        // Packed: the discriminator judges clips four at a time.
        *pack = 4;
    }
    assert_resume_is_exact(shuffled, 4, &["loss_d", "loss_g"]);
    let mut vae = preset("vae_conv_tones.toml");
    vae.training.batch_size = 16;
    assert_resume_is_exact(vae, 4, &["loss", "reconstruction", "kl"]);
}

/// A real checkpoint's bytes (a few steps of the ring GAN).
fn real_checkpoint_bytes(step: u64) -> Vec<u8> {
    let mut exp = preset("gan_ring.toml");
    exp.training.steps = step;
    exp.training.samples_every = 1_000_000;
    let events = all_events(&Session::start(exp).expect("start"));
    let c = checkpoint_at(&events, step);
    c.encode().expect("encode").bytes.to_vec()
}

#[test]
fn an_interrupted_checkpoint_write_leaves_the_previous_one_loadable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old = real_checkpoint_bytes(3);
    let new = real_checkpoint_bytes(5);
    store::write(dir.path(), 3, &old, 3).expect("write");
    // Every stage of a write that never reached its rename: an empty temporary file,
    // part of the header, the header alone, part of the data, all but the last byte.
    let tmp = dir.path().join(format!(".{}.tmp", store::file_name(5)));
    for cut in [0, 5, 8, 23, 24, 25, new.len() / 2, new.len() - 1, new.len()] {
        std::fs::write(&tmp, &new[..cut]).expect("tmp");
        let (c, path, skipped) = store::latest(dir.path()).expect("latest");
        assert_eq!(
            c.step, 3,
            "cut at {cut}: the previous checkpoint is the newest"
        );
        assert!(path.ends_with(store::file_name(3)));
        assert!(
            skipped.is_empty(),
            "a temporary file is not a checkpoint: {skipped:?}"
        );
    }
    // A file torn after the rename (a disk that lied about syncing) is named and skipped.
    let torn = dir.path().join(store::file_name(5));
    for cut in [0, 5, 23, new.len() / 3, new.len() - 1] {
        std::fs::write(&torn, &new[..cut]).expect("torn");
        let (c, _, skipped) = store::latest(dir.path()).expect("latest");
        assert_eq!(c.step, 3, "cut at {cut}");
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].contains(&store::file_name(5)) && skipped[0].contains("truncated"),
            "the message names the file and the problem: {}",
            skipped[0]
        );
    }
    // One flipped bit in the data is caught by the checksum.
    let mut flipped = new.clone();
    let at = flipped.len() - 10;
    flipped[at] ^= 0x10;
    std::fs::write(&torn, &flipped).expect("flipped");
    let (c, _, skipped) = store::latest(dir.path()).expect("latest");
    assert_eq!(c.step, 3);
    assert!(skipped[0].contains("checksum"), "{}", skipped[0]);
    // And a whole write makes the new one the latest.
    store::write(dir.path(), 5, &new, 3).expect("write");
    assert_eq!(store::latest(dir.path()).expect("latest").0.step, 5);
}

#[test]
fn only_the_newest_checkpoints_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = real_checkpoint_bytes(2);
    for step in [10, 20, 30, 40, 50] {
        store::write(dir.path(), step, &bytes, 3).expect("write");
    }
    let steps: Vec<u64> = store::list(dir.path()).iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![30, 40, 50]);
}

#[test]
fn a_file_that_is_not_a_checkpoint_is_named_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(store::file_name(1));
    std::fs::write(&path, b"[model]\nthis is a preset, not a checkpoint\n").expect("write");
    let err = Checkpoint::load(&path).err().expect("must fail");
    let words = err.to_string();
    assert!(
        words.contains("not a GenLab checkpoint") && words.contains("step_000000001.ckpt"),
        "{words}"
    );
    let err = store::latest(dir.path())
        .err()
        .expect("no readable checkpoint");
    assert!(err.to_string().contains("no readable checkpoint"), "{err}");
}

#[test]
fn a_checkpoint_of_another_model_is_refused_with_a_reason() {
    let bytes = real_checkpoint_bytes(2);
    let ckpt = Checkpoint::decode(&bytes, Path::new("memory")).expect("decode");
    // Same family, different width: shapes do not match.
    let mut wider = preset("gan_ring.toml");
    if let genlab::config::ModelConfig::Gan {
        generator: genlab::config::NetConfig::Mlp { hidden, .. },
        ..
    } = &mut wider.model
    {
        hidden[0] += 3;
    }
    let s = Session::resume(
        wider,
        Resume {
            checkpoint: ckpt.clone(),
            lr_scale: 1.0,
        },
    )
    .expect("start");
    let failed = all_events(&s).pop();
    match failed {
        Some(Event::Failed { reason, kind, .. }) => {
            assert_eq!(kind, FailureKind::Error);
            assert!(
                reason.contains("cannot resume from step 2") && reason.contains("generator"),
                "{reason}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // Another family altogether.
    let s = Session::resume(
        preset("vae_mlp_shapes.toml"),
        Resume {
            checkpoint: ckpt,
            lr_scale: 1.0,
        },
    )
    .expect("start");
    match all_events(&s).pop() {
        Some(Event::Failed { reason, .. }) => {
            assert!(reason.contains("gan checkpoint"), "{reason}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn an_injected_nan_stops_the_run_within_a_step_and_keeps_the_last_good_checkpoint() {
    let mut exp = preset("gan_ring.toml");
    exp.training.steps = 0;
    exp.training.metrics_every = 1;
    exp.training.checkpoint_every = 5;
    exp.training.batch_size = 32;
    let s = Session::start(exp.clone()).expect("start");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Wait for the checkpoint of step 10, then poison the next update.
    loop {
        assert!(Instant::now() < deadline, "timed out");
        if let Some(e) = s.next_event(Duration::from_millis(50)) {
            let got_10 = matches!(&e, Event::Checkpoint(c) if c.step == 10);
            events.push(e);
            if got_10 {
                break;
            }
        }
    }
    s.send(Control::InjectNan);
    events.extend(all_events(&s));
    let Some(Event::Failed { step, reason, kind }) = events.last().cloned() else {
        panic!("expected a failure: {:?}", events.last());
    };
    assert_eq!(kind, FailureKind::Diverged);
    assert!(
        reason.contains("NaN") && reason.contains(&format!("step {step}")),
        "{reason}"
    );
    let nan_step = events
        .iter()
        .filter_map(|e| match e {
            Event::Metrics(m) => Some(m.step),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    // The poisoned update happens in the first step after the injection; the loss of the
    // step after it is NaN and ends the run: within one step.
    assert!(
        step <= nan_step + 2,
        "stopped at {step}, last good row {nan_step}"
    );
    // No checkpoint of a poisoned model was sent.
    let last_ckpt = events
        .iter()
        .filter_map(|e| match e {
            Event::Checkpoint(c) => Some(c.step),
            _ => None,
        })
        .max()
        .expect("checkpoints");
    assert!(last_ckpt < step);
    // The last good checkpoint resumes, at a lower learning rate, and trains.
    let ckpt = checkpoint_at(&events, last_ckpt);
    exp.training.steps = last_ckpt + 5;
    let resumed = all_events(
        &Session::resume(
            exp,
            Resume {
                checkpoint: ckpt,
                lr_scale: 0.1,
            },
        )
        .expect("resume"),
    );
    let rows: Vec<_> = resumed
        .iter()
        .filter_map(|e| match e {
            Event::Metrics(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    assert!(
        matches!(resumed.last(), Some(Event::Finished { .. })),
        "{:?}",
        resumed.last()
    );
    let lr = rows.last().and_then(|m| m.get("lr_g")).expect("lr_g");
    assert!(
        (lr - exp_lr() * 0.1).abs() < 1e-12,
        "learning rate after resume: {lr}"
    );
    assert!(rows
        .iter()
        .all(|m| m.get("loss_g").is_some_and(f64::is_finite)));
}

fn exp_lr() -> f64 {
    preset("gan_ring.toml").training.generator_optimizer.lr
}

#[test]
fn an_injected_panic_is_reported_and_the_next_session_runs() {
    let mut exp = preset("gan_ring.toml");
    exp.training.steps = 0;
    exp.training.batch_size = 32;
    let s = Session::start(exp.clone()).expect("start");
    s.send(Control::InjectPanic);
    match all_events(&s).pop() {
        Some(Event::Failed { kind, reason, .. }) => {
            assert_eq!(kind, FailureKind::Crashed);
            assert!(
                reason.contains("crashed") && reason.contains("fault drill"),
                "{reason}"
            );
        }
        other => panic!("expected a crash report, got {other:?}"),
    }
    exp.training.steps = 5;
    let next = all_events(&Session::start(exp).expect("a new session starts"));
    assert!(matches!(next.last(), Some(Event::Finished { step: 5, .. })));
}

#[test]
fn genlab_train_resume_continues_the_run_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let preset_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/gan_ring.toml");
    let req = genlab::cli::TrainRequest {
        steps: Some(30),
        checkpoint_every: Some(10),
        ..genlab::cli::TrainRequest::quiet(Some(run.clone()))
    };
    genlab::cli::train_with(&preset_path, &req).expect("first leg");
    let steps: Vec<u64> = store::list(&store::dir_of(&run))
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(
        steps,
        vec![10, 20, 30],
        "scheduled checkpoints and one at the end"
    );
    // Without a larger budget there is nothing to do, and it says so.
    let err = genlab::cli::resume(&run, 1.0, &genlab::cli::TrainRequest::quiet(None))
        .expect_err("budget spent");
    assert!(err.to_string().contains("--steps"), "{err}");
    let more = genlab::cli::TrainRequest {
        steps: Some(50),
        ..genlab::cli::TrainRequest::quiet(None)
    };
    genlab::cli::resume(&run, 1.0, &more).expect("second leg");
    let rows = genlab::run::folder::read_metrics_rows(&run, &["loss_g"]);
    let row_steps: Vec<u64> = rows.iter().map(|m| m.step).collect();
    assert!(
        row_steps.windows(2).all(|w| w[0] < w[1]),
        "no step twice: {row_steps:?}"
    );
    assert_eq!(row_steps.last(), Some(&50));
    let summary = std::fs::read_to_string(run.join("summary.toml")).expect("summary");
    assert!(summary.contains("steps = 50"), "{summary}");
    assert_eq!(
        store::latest(&store::dir_of(&run)).expect("latest").0.step,
        50
    );
}

/// A file written through `durable::write` is the old one or the new one: a write that
/// fails (here: the target is a folder) leaves the old bytes and no temporary file.
#[test]
fn durable_writes_replace_whole_files_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("evaluator.bin");
    genlab::durable::write(&path, b"first").expect("write");
    genlab::durable::write(&path, b"second").expect("rewrite");
    assert_eq!(std::fs::read(&path).expect("read"), b"second");
    let blocked = dir.path().join("a-folder");
    std::fs::create_dir(&blocked).expect("mkdir");
    std::fs::write(blocked.join("inside"), b"x").expect("write");
    assert!(genlab::durable::write(&blocked, b"new").is_err());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn a_resumed_language_model_is_exact() {
    // Its dropout masks draw from the checkpointed generator.
    let mut exp = preset("lm_names.toml");
    exp.training.batch_size = 16;
    assert_resume_is_exact(exp, 6, &["loss", "held_out_bpc"]);
}

#[test]
fn a_resumed_text_vae_is_exact() {
    // Word dropout and the latent noise draw from the checkpointed generator, and the
    // KL weight follows the step.
    let mut exp = preset("vae_names.toml");
    exp.training.batch_size = 16;
    if let genlab::config::ModelConfig::Vae { kl_warmup, .. } = &mut exp.model {
        *kl_warmup = 10;
    }
    assert_resume_is_exact(exp, 6, &["loss", "reconstruction", "kl", "held_out_bpc"]);
}

#[test]
fn a_resumed_text_gan_is_exact() {
    // The codes and the Gumbel noise draw from the checkpointed generator.
    let mut exp = preset("gan_names.toml");
    exp.training.batch_size = 16;
    assert_resume_is_exact(exp, 5, &["loss_d", "loss_g", "d_real"]);
}
