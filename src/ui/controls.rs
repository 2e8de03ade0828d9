//! Train / Pause / Step / Stop / Reset and the status bar.

use super::app::GenLabApp;
use super::commands::Command;
use super::run_state::{RunState, RunStatus};
use crate::train::FailureKind;
use eframe::egui;

/// The title row (file menu, editor toggle, run buttons), the status line, the notice,
/// the resume offer and the run's warnings.
pub fn controls_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    let problems = app.experiment.validate();
    let mut commands = Vec::new();
    ui.horizontal(|ui| {
        ui.heading("GenLab");
        super::file_menu::file_menu_ui(app, ui);
        ui.toggle_value(&mut app.show_editor, "Editor")
            .on_hover_text("Show or hide the experiment panel");
        ui.separator();
        let first_problem = problems.first().map(ToString::to_string);
        commands = run_buttons_ui(&app.run, first_problem, &mut app.step_n, ui);
    });
    // On a line of its own, so it is never cut off by the buttons. Why Train is disabled
    // goes on the same line: a line of its own would come and go as the user edits
    // (drawing the data, typing a width) and move everything under the pointer.
    ui.horizontal_wrapped(|ui| {
        status_ui(&app.run, ui);
        if let Some(p) = problems.first() {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Train is disabled: {p}"),
            );
        }
    });
    if let Some(n) = app.notice.as_ref().filter(|_| problems.is_empty()) {
        ui.colored_label(ui.visuals().warn_fg_color, n);
    }
    commands.extend(resume_offer_ui(&app.run, ui));
    for d in &app.run.diagnostics {
        if d.cleared {
            // Kept, quietly, so the user knows what happened earlier in the run.
            ui.weak(format!(
                "Cleared: {} at step {}, {}",
                d.name, d.step, d.message
            ));
        } else {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Warning: {} (step {}). {}", d.name, d.step, d.message),
            );
        }
    }
    for c in commands {
        app.command(c);
    }
}

/// Train, Pause / Resume, Step 1, N, Step N, Step D, Step G, Stop, Checkpoint, Reset: what
/// was clicked, as commands. `problem` is why Train is disabled, if it is.
fn run_buttons_ui(
    run: &RunState,
    problem: Option<String>,
    step_n: &mut u64,
    ui: &mut egui::Ui,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let can_train = problem.is_none();
    let train = ui.add_enabled(can_train, egui::Button::new("Train"));
    let train = if let Some(p) = problem {
        train.on_disabled_hover_text(format!("Fix first: {p}"))
    } else {
        train.on_hover_text("Start a new run of this experiment")
    };
    if train.clicked() {
        commands.push(Command::Train);
    }
    let running = run.is_running();
    let paused = run.status == RunStatus::Paused;
    if paused {
        if ui.button("Resume").clicked() {
            commands.push(Command::Resume);
        }
    } else if ui
        .add_enabled(running, egui::Button::new("Pause"))
        .clicked()
    {
        commands.push(Command::Pause);
    }
    if ui
        .add_enabled(running, egui::Button::new("Step 1"))
        .clicked()
    {
        commands.push(Command::Step(1));
    }
    ui.add(
        egui::DragValue::new(step_n)
            .range(1..=100_000)
            .prefix("N = "),
    );
    if ui
        .add_enabled(running, egui::Button::new("Step N"))
        .clicked()
    {
        commands.push(Command::Step(*step_n));
    }
    // GAN Lab's separate updates: watch what one network's step does to the other's view.
    let gan = run.experiment.as_ref().is_some_and(|e| e.is_gan());
    for (label, part, what) in [
        (
            "Step D",
            crate::train::Part::Discriminator,
            "One discriminator update alone, then pause",
        ),
        (
            "Step G",
            crate::train::Part::Generator,
            "One generator update alone, then pause",
        ),
    ] {
        if ui
            .add_enabled(running && gan, egui::Button::new(label))
            .on_hover_text(what)
            .clicked()
        {
            commands.push(Command::StepPart(part));
        }
    }
    if ui
        .add_enabled(running, egui::Button::new("Stop"))
        .on_hover_text("Stop and save a checkpoint")
        .clicked()
    {
        commands.push(Command::Stop);
    }
    if ui
        .add_enabled(
            running && run.session.as_ref().is_some_and(|s| s.dir().is_some()),
            egui::Button::new("Checkpoint"),
        )
        .on_hover_text("Save a checkpoint now (the run can be resumed from it)")
        .clicked()
    {
        commands.push(Command::Checkpoint);
    }
    if ui
        .button("Reset")
        .on_hover_text("Stop and clear curves and samples")
        .clicked()
    {
        commands.push(Command::Reset);
    }
    commands
}

/// After a failure (or a stop), the way back: resume from the last good checkpoint, or
/// run on the CPU when the GPU could not start.
fn resume_offer_ui(run: &RunState, ui: &mut egui::Ui) -> Option<Command> {
    let kind = run.failure?;
    if kind == FailureKind::Error && run.backend == crate::config::Backend::Gpu {
        let clicked = ui
            .button("Run on the CPU instead")
            .on_hover_text("Same experiment, backend set to CPU")
            .clicked();
        return clicked.then_some(Command::TrainOnCpu);
    }
    let Some((dir, step)) = run.resumable() else {
        ui.label("No checkpoint was saved before the failure, so this run cannot be resumed.");
        return None;
    };
    let mut chosen = None;
    ui.horizontal(|ui| {
        ui.label(format!("Last good checkpoint: step {step}."));
        if kind == FailureKind::Diverged
            && ui
                .button(format!("Resume from step {step} at 1/10 learning rate"))
                .clicked()
        {
            chosen = Some(0.1);
        }
        if ui.button(format!("Resume from step {step}")).clicked() {
            chosen = Some(1.0);
        }
    });
    chosen.map(|lr_scale| Command::ResumeRun { dir, lr_scale })
}

fn status_ui(run: &RunState, ui: &mut egui::Ui) {
    let state = match &run.status {
        RunStatus::Idle => "idle".to_string(),
        RunStatus::Starting => "starting".to_string(),
        RunStatus::Training => "training".to_string(),
        RunStatus::Paused => "paused".to_string(),
        RunStatus::Finished => "finished".to_string(),
        RunStatus::Failed(_) => "failed".to_string(),
    };
    ui.label(format!("Step {}", run.step));
    ui.label(state);
    let elapsed = run.history.last.as_ref().map(|m| m.elapsed).unwrap_or(0.0);
    ui.label(format!("{:.0} steps/s", run.steps_per_sec));
    let (run_steps, run_batch) = run
        .experiment
        .as_ref()
        .map_or((0, 0), |e| (e.training.steps, e.training.batch_size));
    ui.label(format!(
        "{:.0} samples/s",
        run.steps_per_sec * run_batch as f64
    ));
    ui.label(format!("elapsed {}", clock(elapsed)));
    if run_steps > 0 && run.steps_per_sec > 0.0 && run.step < run_steps {
        let eta = (run_steps - run.step) as f64 / run.steps_per_sec;
        ui.label(format!("ETA {}", clock(eta)));
    }
    if !run.device.is_empty() {
        ui.label(&run.device);
    }
    if let Some(c) = run.last_checkpoint {
        ui.label(format!("checkpoint {c}"));
    }
}

fn clock(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
