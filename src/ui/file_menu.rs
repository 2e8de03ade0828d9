//! The File menu (presets, open, save, exports), the preset library window, the
//! overwrite question and the screenshot round trip.

use super::app::GenLabApp;
use super::files::{ask, FileAction};
use crate::config::presets;
use crate::train::RgbaImage;
use eframe::egui;

pub fn file_menu_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    ui.menu_button("File", |ui| {
        if ui.button("Runs...").clicked() {
            app.runs.open = !app.runs.open;
            ui.close();
        }
        if ui
            .button("Sweep...")
            .on_hover_text("Train the edited experiment over a grid of settings and seeds")
            .clicked()
        {
            app.command(super::commands::Command::OpenSweepDialog);
            app.runs.open = true;
            ui.close();
        }
        if ui.button("Preset library...").clicked() {
            app.show_presets = true;
            ui.close();
        }
        let busy = app.dialog.is_some();
        let has_samples = !app.run.samples.is_empty();
        let has_curves = !app.run.history.is_empty();
        let mut pick = |ui: &mut egui::Ui, label: &str, action: FileAction, enabled: bool| {
            if ui
                .add_enabled(enabled && !busy, egui::Button::new(label))
                .clicked()
            {
                app.dialog = Some(ask(app, action));
                ui.close();
            }
        };
        pick(ui, "Open preset...", FileAction::OpenPreset, true);
        pick(
            ui,
            "Open run or sweep folder...",
            FileAction::OpenRunFolder,
            true,
        );
        pick(ui, "Resume run folder...", FileAction::ResumeRun, true);
        pick(
            ui,
            "Save experiment as preset...",
            FileAction::SavePreset,
            true,
        );
        ui.separator();
        pick(
            ui,
            "Export sample grid (PNG)...",
            FileAction::ExportGrid,
            has_samples,
        );
        pick(
            ui,
            "Export timelapse (GIF)...",
            FileAction::ExportTimelapse,
            has_samples,
        );
        pick(
            ui,
            "Export curves (CSV)...",
            FileAction::ExportCurvesCsv,
            has_curves,
        );
        pick(
            ui,
            "Export curves (PNG)...",
            FileAction::ExportCurvesPng,
            has_curves,
        );
        ui.add(egui::Slider::new(&mut app.export_scale, 1..=16).text("image export scale"));
        ui.separator();
        if ui.button("Screenshot of the window (PNG)...").clicked() {
            let (tx, rx) = crossbeam_channel::bounded(1);
            let ctx = ui.ctx().clone();
            let callback = egui::ScreenshotCallback::new(move |image| {
                let _ = tx.send(image);
                ctx.request_repaint();
            });
            app.screenshot_rx = Some(rx);
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Screenshot(callback));
            ui.close();
        }
    });
}

/// Picks up the dialog's answer once it closes.
pub fn poll_dialog(app: &mut GenLabApp) {
    let Some(answer) = app.dialog.as_ref().and_then(|d| d.poll()) else {
        return;
    };
    let action = app.dialog.take().map(|d| d.action);
    match (action, answer) {
        (Some(action), Some(path)) => finish(app, action, path, false),
        // Cancelled, or no dialog could be shown at all: say so rather than do nothing.
        _ => {
            app.notice = Some(
                "No file chosen. (If no dialog appeared: file dialogs need xdg-desktop-portal or zenity.)".into(),
            )
        }
    }
}

fn finish(app: &mut GenLabApp, action: FileAction, path: std::path::PathBuf, overwrite: bool) {
    if !overwrite
        && path.exists()
        && !matches!(action, FileAction::OpenPreset | FileAction::OpenRunFolder)
    {
        app.confirm_overwrite = Some((action, path));
        return;
    }
    app.notice = Some(match app.complete(action, &path, overwrite) {
        Ok(msg) => msg,
        Err(e) => format!("Nothing changed: {e}"),
    });
}

/// The screenshot arrives through its callback a frame or two after the request,
/// at the screen's pixel density.
pub fn handle_screenshot(app: &mut GenLabApp) {
    let Some(image) = app.screenshot_rx.as_ref().and_then(|rx| rx.try_recv().ok()) else {
        return;
    };
    app.screenshot_rx = None;
    {
        let [w, h] = image.size;
        let pixels = image.pixels.iter().flat_map(|c| c.to_array()).collect();
        app.screenshot = Some(RgbaImage {
            width: w,
            height: h,
            pixels,
        });
        if app.dialog.is_none() {
            app.dialog = Some(ask(app, FileAction::ExportScreenshot));
        }
    }
}

pub fn windows_ui(app: &mut GenLabApp, ui: &mut egui::Ui) {
    let ctx = ui.ctx().clone();
    if let Some((action, path)) = app.confirm_overwrite.clone() {
        egui::Window::new("Overwrite?")
            .collapsible(false)
            .resizable(false)
            .show(&ctx, |ui| {
                ui.label(format!("{} already exists.", path.display()));
                ui.horizontal(|ui| {
                    if ui.button("Overwrite").clicked() {
                        app.confirm_overwrite = None;
                        finish(app, action, path.clone(), true);
                    }
                    if ui.button("Cancel").clicked() {
                        app.confirm_overwrite = None;
                        app.notice = Some("Nothing written.".into());
                    }
                });
            });
    }
    if app.show_presets {
        let mut open = true;
        let mut chosen = None;
        egui::Window::new("Preset library")
            .open(&mut open)
            .default_width(460.0)
            .show(&ctx, |ui| {
                egui::ScrollArea::vertical()
                    .max_height(520.0)
                    .show(ui, |ui| {
                        for (_, exp) in presets::builtin() {
                            if ui
                                .button(egui::RichText::new(&exp.title).strong())
                                .clicked()
                            {
                                chosen = Some(exp.clone());
                            }
                            ui.label(egui::RichText::new(&exp.description).small());
                            ui.separator();
                        }
                    });
            });
        if let Some(exp) = chosen {
            app.experiment = exp;
            open = false;
        }
        app.show_presets = open;
    }
}
