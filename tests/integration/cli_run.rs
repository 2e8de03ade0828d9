use std::process::Command;

#[test]
fn headless_train_writes_a_run_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let preset =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("presets/vae_mlp_shapes.toml");
    let status = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args([
            "train",
            preset.to_str().expect("utf-8 path"),
            "--steps",
            "120",
            "--out",
        ])
        .arg(&out)
        .status()
        .expect("run genlab");
    assert!(status.success());
    let config =
        genlab::config::Experiment::load(&out.join("config.toml")).expect("config.toml loads");
    assert_eq!(config.training.steps, 120);
    let csv = std::fs::read_to_string(out.join("metrics.csv")).expect("metrics.csv");
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .expect("header")
        .starts_with("step,elapsed_s,loss,reconstruction,kl"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 12, "{} rows", rows.len());
    assert!(rows.last().expect("rows").starts_with("120,"));
    for step in [0, 100, 120] {
        let png = out.join(format!("samples/step_{step:06}.png"));
        let img = image::open(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(img.width() > 100 && img.height() > 100);
        assert!(out
            .join(format!("samples/step_{step:06}_recon.png"))
            .exists());
    }
    let summary = std::fs::read_to_string(out.join("summary.toml")).expect("summary");
    assert!(
        summary.contains("status = \"finished\"") && summary.contains("steps = 120"),
        "{summary}"
    );
}

#[test]
fn help_documents_every_command_and_bad_presets_fail_clearly() {
    let help = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&help.stdout);
    for cmd in ["train", "gui", "validate"] {
        assert!(text.contains(cmd), "--help lacks {cmd}: {text}");
    }
    let train_help = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args(["train", "--help"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&train_help.stdout);
    assert!(text.contains("--steps") && text.contains("--out"));
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[data]\nkind = 3\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_genlab"))
        .args(["train"])
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

/// `genlab verify` fails on a preset it cannot check (one that does not load, one with no
/// outcome) instead of skipping it, and names it; a preset that meets its outcome passes.
#[test]
fn verify_fails_on_presets_it_cannot_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[data]\nkind = 3\n").expect("write");
    let mut exp = crate::preset("gan_ring.toml");
    exp.training.steps = 20;
    exp.outcome = None;
    let silent = dir.path().join("silent.toml");
    exp.save(&silent).expect("save");
    exp.outcome = Some(genlab::config::Outcome {
        metric: "loss_d".into(),
        at_least: Some(0.0),
        at_most: None,
    });
    let fine = dir.path().join("fine.toml");
    exp.save(&fine).expect("save");
    assert!(genlab::cli::verify(std::slice::from_ref(&fine)));
    for (preset, says) in [(&broken, "does not load"), (&silent, "no [outcome]")] {
        let out = Command::new(env!("CARGO_BIN_EXE_genlab"))
            .arg("verify")
            .arg(&fine)
            .arg(preset)
            .output()
            .expect("run");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success(),
            "verify passed with {}: {text}",
            preset.display()
        );
        assert!(text.contains(says) && text.contains("FAIL"), "{text}");
    }
}
