use crate::preset;
use genlab::train::{Control, Event, Samples, Session, Snapshot};
use std::time::{Duration, Instant};

/// The ring GAN running until stopped, reporting every step.
fn endless_ring() -> Session {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 0;
    e.training.metrics_every = 1;
    e.training.samples_every = 1;
    e.training.batch_size = 32;
    Session::start(e).expect("start")
}

/// Waits for the first event that `pick` accepts.
fn wait_for<T>(s: &Session, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(e) = s.next_event(Duration::from_millis(50)) {
            if let Event::Failed { reason, .. } = &e {
                panic!("session failed: {reason}");
            }
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    }
    panic!("timed out waiting for {what}");
}

fn paused_at(s: &Session) -> u64 {
    wait_for(s, "Paused", |e| {
        if let Event::Paused { step } = e {
            Some(*step)
        } else {
            None
        }
    })
}

fn metrics_steps(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Metrics(m) = e {
                Some(m.step)
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn pause_stops_the_step_count_and_step_n_advances_exactly_n() {
    let s = endless_ring();
    wait_for(&s, "step 5", |e| {
        matches!(e, Event::Metrics(m) if m.step >= 5).then_some(())
    });
    s.send(Control::Pause);
    let at = paused_at(&s);
    std::thread::sleep(Duration::from_millis(400));
    let later = s.drain_events();
    assert!(
        metrics_steps(&later).iter().all(|&st| st <= at),
        "steps after pause: {later:?}"
    );
    s.send(Control::Step(7));
    assert_eq!(paused_at(&s), at + 7);
    s.send(Control::Step(1));
    assert_eq!(paused_at(&s), at + 8);
    std::thread::sleep(Duration::from_millis(200));
    assert!(metrics_steps(&s.drain_events())
        .iter()
        .all(|&st| st <= at + 8));
    s.send(Control::Resume);
    wait_for(&s, "steps after resume", |e| {
        matches!(e, Event::Metrics(m) if m.step > at + 20).then_some(())
    });
    s.stop_and_join();
}

#[test]
fn stop_ends_the_thread() {
    let s = endless_ring();
    wait_for(&s, "step 3", |e| {
        matches!(e, Event::Metrics(m) if m.step >= 3).then_some(())
    });
    s.send(Control::Stop);
    wait_for(&s, "Finished", |e| {
        matches!(e, Event::Finished { stopped: true, .. }).then_some(())
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.is_finished() {
        assert!(Instant::now() < deadline, "thread still alive after Stop");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn generated(snap: &Snapshot) -> Vec<[f32; 2]> {
    match &snap.samples {
        Samples::Points(v) => v.generated.clone(),
        _ => panic!("expected points"),
    }
}

fn max_diff(a: &[[f32; 2]], b: &[[f32; 2]]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).abs().max((p[1] - q[1]).abs()))
        .fold(0.0, f32::max)
}

/// Steps `n` while paused and returns the snapshot of the last step.
fn step_snapshot(s: &Session, n: u64) -> Snapshot {
    s.drain_snapshots();
    s.send(Control::Step(n));
    paused_at(s);
    s.drain_snapshots().pop().expect("a snapshot per step")
}

#[test]
fn learning_rate_changes_take_effect() {
    let s = endless_ring();
    s.send(Control::Pause);
    paused_at(&s);
    s.send(Control::SetLearningRates {
        generator: Some(1e-12),
        discriminator: Some(1e-12),
    });
    let a = step_snapshot(&s, 1);
    let b = step_snapshot(&s, 5);
    assert!(
        max_diff(&generated(&a), &generated(&b)) < 1e-4,
        "a 1e-12 learning rate moved the generator"
    );
    s.send(Control::SetLearningRates {
        generator: Some(1e-2),
        discriminator: None,
    });
    let c = step_snapshot(&s, 5);
    assert!(
        max_diff(&generated(&b), &generated(&c)) > 1e-3,
        "a 1e-2 learning rate did not move the generator"
    );
    // The trainer reports the rates it used.
    s.send(Control::Step(1));
    let used = wait_for(&s, "a metrics row", |e| match e {
        Event::Metrics(m) => Some((m.get("lr_g")?, m.get("lr_d")?)),
        _ => None,
    });
    assert_eq!(used, (1e-2, 1e-12));
    s.stop_and_join();
}

#[test]
fn a_full_observer_never_blocks_training_and_snapshots_are_dropped_not_queued() {
    let s = endless_ring();
    // Nobody drains snapshots: training must go on regardless.
    wait_for(&s, "step 60", |e| {
        matches!(e, Event::Metrics(m) if m.step >= 60).then_some(())
    });
    assert!(s.dropped_snapshots() > 0);
    assert!(s.drain_snapshots().len() <= 4);
    s.stop_and_join();
}

#[test]
fn a_bad_dataset_fails_with_a_reason_and_no_panic() {
    let mut e = preset("gan_ring.toml");
    e.data = genlab::config::DataConfig::CsvPoints {
        path: "/nonexistent/points.csv".into(),
    };
    let s = Session::start(e).expect("start");
    let reason = loop {
        match s.next_event(Duration::from_secs(30)) {
            Some(Event::Failed { reason, .. }) => break reason,
            Some(_) => continue,
            None => panic!("no failure reported"),
        }
    };
    assert!(reason.contains("/nonexistent/points.csv"), "{reason}");
}

#[test]
fn an_invalid_experiment_does_not_start() {
    let mut e = preset("gan_ring.toml");
    e.training.batch_size = 0;
    let err = Session::start(e)
        .err()
        .expect("started an invalid experiment");
    assert!(err.contains("training.batch_size"), "{err}");
}

/// `training.threads` sizes the pool the step runs in, the start event says so, and two
/// threads train the same model to the same losses as one (up to float reordering).
#[test]
fn training_threads_size_the_pool_and_agree_with_one_thread() {
    let losses = |threads: usize| {
        let mut e = preset("vae_mlp_shapes.toml");
        e.training.steps = 5;
        e.training.metrics_every = 1;
        e.training.threads = threads;
        let s = Session::start(e).expect("start");
        let device = wait_for(&s, "Started", |e| match e {
            Event::Started { device, .. } => Some(device.clone()),
            _ => None,
        });
        let mut last = f64::NAN;
        loop {
            match s.next_event(Duration::from_secs(60)) {
                Some(Event::Metrics(m)) => last = m.get("loss").unwrap_or(last),
                Some(Event::Finished { .. }) | None => break,
                Some(Event::Failed { reason, .. }) => panic!("{reason}"),
                Some(_) => {}
            }
        }
        (device, last)
    };
    let (one, loss_one) = losses(1);
    let (two, loss_two) = losses(2);
    assert!(one.ends_with(", 1 thread"), "{one}");
    assert!(two.ends_with(", 2 threads"), "{two}");
    assert!(loss_one.is_finite(), "{loss_one}");
    assert!(
        (loss_one - loss_two).abs() <= 1e-3 * loss_one.abs(),
        "one thread {loss_one}, two {loss_two}"
    );
}

/// The losses of every step of a ring GAN run of `steps` steps.
fn ring_losses(steps: u64) -> Vec<u64> {
    let mut e = preset("gan_ring.toml");
    e.training.steps = steps;
    e.training.metrics_every = 1;
    let s = Session::start(e).expect("start");
    let mut out = Vec::new();
    loop {
        s.drain_snapshots();
        match s.next_event(Duration::from_secs(120)) {
            Some(Event::Metrics(m)) => out.push(m.get("loss_d").unwrap_or(0.0).to_bits()),
            Some(Event::Finished { .. }) => return out,
            Some(Event::Failed { reason, .. }) => panic!("{reason}"),
            Some(_) => {}
            None => panic!("no event"),
        }
    }
}

/// Runs started at the same time in one process (a run starting while another stops, the
/// evaluator job, tests in parallel) take the same steps as a run alone: burn's random
/// initialisation is shared by the process and once interleaved their draws, so the
/// same seed started from other parameters (a different loss from step 1 on).
#[test]
fn sessions_started_together_train_exactly_as_one_alone() {
    let alone = ring_losses(60);
    let together: Vec<_> = (0..3)
        .map(|_| std::thread::spawn(|| ring_losses(60)))
        .collect();
    for t in together {
        assert!(
            t.join().expect("join") == alone,
            "a concurrent run differed"
        );
    }
}

/// The last snapshot that arrived, after waiting for the session to pause at `step`.
fn snapshot_at(s: &Session, step: u64) -> genlab::train::PointsView {
    assert_eq!(paused_at(s), step);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(Snapshot {
            step: at,
            samples: Samples::Points(view),
        }) = s.drain_snapshots().pop()
        {
            if at == step {
                return view;
            }
        }
        assert!(Instant::now() < deadline, "no snapshot of step {step}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Step D updates the discriminator alone: its heatmap moves, the generated points stay.
/// Step G updates the generator alone: the points move, the heatmap stays. Each is one
/// step, then a pause, with a snapshot to look at.
#[test]
fn step_d_and_step_g_update_one_network_each() {
    use genlab::train::Part;
    let s = endless_ring();
    s.send(Control::Pause);
    let at = paused_at(&s);
    s.drain_snapshots();
    s.send(Control::StepPart(Part::Generator));
    let before = snapshot_at(&s, at + 1);
    s.send(Control::StepPart(Part::Discriminator));
    let after_d = snapshot_at(&s, at + 2);
    assert_eq!(
        after_d.generated, before.generated,
        "Step D moved the points"
    );
    assert_ne!(after_d.heatmap, before.heatmap, "Step D left D as it was");
    s.send(Control::StepPart(Part::Generator));
    let after_g = snapshot_at(&s, at + 3);
    assert_eq!(after_g.heatmap, after_d.heatmap, "Step G changed D");
    assert_ne!(
        after_g.generated, after_d.generated,
        "Step G left the points"
    );
    s.stop_and_join();
}

/// The 2-D view's dynamics: the generator's push on 150 generated points and the warped
/// latent grid. After 1500 steps on the ring, D calls the centre fake and the ring real,
/// so points inside the ring are pushed outward, on average.
#[test]
fn the_generators_push_points_from_the_centre_toward_the_ring() {
    let mut e = preset("gan_ring.toml");
    e.training.steps = 1500;
    e.training.samples_every = 1500;
    e.training.threads = 1;
    let s = Session::start(e).expect("start");
    let mut last = None;
    loop {
        for snap in s.drain_snapshots() {
            last = Some(snap);
        }
        match s.next_event(Duration::from_secs(120)) {
            Some(Event::Finished { .. }) => break,
            Some(Event::Failed { reason, .. }) => panic!("{reason}"),
            None => panic!("no event"),
            _ => {}
        }
    }
    for snap in s.drain_snapshots() {
        last = Some(snap);
    }
    let Some(Snapshot {
        step: 1500,
        samples: Samples::Points(view),
    }) = last
    else {
        panic!("no snapshot of step 1500");
    };
    assert_eq!(view.push.len(), 150);
    assert_eq!(view.manifold.len(), 30);
    assert!(view.manifold.iter().all(|l| l.len() == 15));
    assert!(view
        .push
        .iter()
        .chain(view.manifold.iter().flatten())
        .all(|p| p[0].is_finite() && p[1].is_finite()));
    let outward: Vec<f32> = view
        .generated
        .iter()
        .zip(&view.push)
        .filter(|(p, _)| p[0].hypot(p[1]) < 1.5)
        .map(|(p, d)| {
            (p[0] * d[0] + p[1] * d[1]) / (p[0].hypot(p[1]) * d[0].hypot(d[1])).max(1e-12)
        })
        .collect();
    let mean = outward.iter().sum::<f32>() / outward.len().max(1) as f32;
    println!(
        "{} points inside the ring, mean cosine to the outward direction {mean:.2}",
        outward.len()
    );
    assert!(
        outward.len() >= 3,
        "too few points inside the ring to judge"
    );
    assert!(mean > 0.3, "inner points are not pushed outward: {mean}");
}
