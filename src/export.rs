//! Exports: sample grids, timelapses, curves (CSV and PNG) and the experiment as a preset.
//! Every function writes to a path it is given; the window picks the path with a native
//! dialog (or a test passes one) and asks before overwriting.

use crate::config::Experiment;
use crate::run::history::History;
use crate::run::render::{save_png, upscale};
use crate::train::RgbaImage;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {message}")]
    Write { path: String, message: String },
    #[error("nothing to export yet: {0}")]
    Empty(&'static str),
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// `<experiment>-step<N>-<what>.<ext>`: names carry the preset and the step.
pub fn default_name(exp: &Experiment, step: u64, what: &str, ext: &str) -> String {
    format!("{}-step{step}-{what}.{ext}", exp.slug())
}

/// The sample grid as PNG, `scale` times larger (nearest neighbour).
pub fn grid_png(img: &RgbaImage, path: &Path, scale: usize) -> Result<(), ExportError> {
    if img.width == 0 {
        return Err(ExportError::Empty("no sample grid"));
    }
    save_png(img, path, scale).map_err(|e| write_err(path, e))
}

/// An animated GIF of the snapshots, oldest first; frames of another size are skipped.
pub fn timelapse_gif(
    frames: &[&RgbaImage],
    path: &Path,
    scale: usize,
    frame_ms: u32,
) -> Result<(), ExportError> {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, RgbaImage as Buf};
    let first = frames.first().ok_or(ExportError::Empty("no snapshots"))?;
    let file = std::fs::File::create(path).map_err(|e| write_err(path, e))?;
    let mut enc = GifEncoder::new_with_speed(std::io::BufWriter::new(file), 10);
    enc.set_repeat(Repeat::Infinite)
        .map_err(|e| write_err(path, e))?;
    for f in frames
        .iter()
        .filter(|f| f.width == first.width && f.height == first.height)
    {
        let up = upscale(f, scale.max(1));
        let buf = Buf::from_raw(up.width as u32, up.height as u32, up.pixels)
            .ok_or(ExportError::Empty("bad frame"))?;
        let frame = Frame::from_parts(buf, 0, 0, Delay::from_numer_denom_ms(frame_ms, 1));
        enc.encode_frame(frame).map_err(|e| write_err(path, e))?;
    }
    Ok(())
}

/// Every metric of the run as CSV: step, elapsed_s, then one column per metric.
pub fn curves_csv(history: &History, path: &Path) -> Result<(), ExportError> {
    if history.is_empty() {
        return Err(ExportError::Empty("no metrics"));
    }
    let names: Vec<&str> = history.series.keys().copied().collect();
    // Rows keyed by step: every series shares the metrics rows' steps.
    let mut rows: std::collections::BTreeMap<u64, (f64, Vec<Option<f64>>)> = Default::default();
    for (i, name) in names.iter().enumerate() {
        for p in &history.series[name] {
            let row = rows
                .entry(p[0] as u64)
                .or_insert_with(|| (p[1], vec![None; names.len()]));
            row.1[i] = Some(p[2]);
        }
    }
    let mut w = csv::Writer::from_path(path).map_err(|e| write_err(path, e))?;
    let header: Vec<&str> = ["step", "elapsed_s"]
        .into_iter()
        .chain(names.iter().copied())
        .collect();
    w.write_record(&header).map_err(|e| write_err(path, e))?;
    for (step, (elapsed, values)) in rows {
        let mut rec = vec![step.to_string(), format!("{elapsed:.4}")];
        rec.extend(
            values
                .iter()
                .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
        );
        w.write_record(&rec).map_err(|e| write_err(path, e))?;
    }
    w.flush().map_err(|e| write_err(path, e))
}

/// The loss curves as a PNG plot with axes, a legend and a title.
pub fn curves_png(
    history: &History,
    names: &[&str],
    title: &str,
    path: &Path,
    size: (u32, u32),
) -> Result<(), ExportError> {
    use plotters::prelude::*;
    register_font();
    let series: Vec<(&str, &Vec<[f64; 3]>)> = names
        .iter()
        .filter_map(|n| history.series.get_key_value(n).map(|(k, v)| (*k, v)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if series.is_empty() {
        return Err(ExportError::Empty("no curves"));
    }
    let finite = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter())
            .filter(|p| p[2].is_finite())
    };
    let x_max = finite().map(|p| p[0]).fold(1.0, f64::max);
    let y_min = finite().map(|p| p[2]).fold(f64::INFINITY, f64::min);
    let y_max = finite().map(|p| p[2]).fold(f64::NEG_INFINITY, f64::max);
    let pad = ((y_max - y_min) * 0.05).max(1e-6);
    let err = |e: &dyn std::fmt::Display| write_err(path, e);
    let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..x_max, (y_min - pad)..(y_max + pad))
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("value")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    points
                        .iter()
                        .filter(|p| p[2].is_finite())
                        .map(|p| (p[0], p[2])),
                    colour.stroke_width(2),
                ))
                .map_err(|e| err(&e))?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    image::save_buffer(path, &rgb, size.0, size.1, image::ExtendedColorType::Rgb8)
        .map_err(|e| err(&e))
}

/// plotters draws text with ab_glyph; give it egui's own font so no system font is needed.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

/// The experiment as a preset file.
pub fn preset_toml(exp: &Experiment, path: &Path) -> Result<(), ExportError> {
    exp.save(path).map_err(|e| write_err(path, e))
}
