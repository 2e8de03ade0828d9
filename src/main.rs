use clap::Parser;
use genlab::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    genlab::alloc::tune();
    // Before any thread starts: burn's default device is the CPU (see the function).
    genlab::train::device::pin_default_device();
    let cli = Cli::parse();
    match cli.command {
        None => genlab::ui::run(None, false, Vec::new()),
        Some(Command::Gui {
            preset,
            train,
            runs,
        }) => genlab::ui::run(preset, train, runs),
        Some(Command::Train {
            preset,
            steps,
            out,
            overwrite,
            resume,
            lr_scale,
            checkpoint_every,
            backend,
            threads,
        }) => {
            let req = genlab::cli::TrainRequest {
                steps,
                backend,
                out,
                overwrite,
                checkpoint_every,
                threads,
                progress: true,
                interrupts: genlab::cli::Interrupts::from_signals(),
            };
            let result = match (resume, preset) {
                (Some(dir), _) => genlab::cli::resume(&dir, lr_scale, &req),
                (None, Some(preset)) => genlab::cli::train_with(&preset, &req),
                (None, None) => Err(anyhow::anyhow!("give a preset file or --resume RUN_DIR")),
            };
            match result {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Sweep {
            preset,
            set,
            seeds,
            out,
            parallel,
            threads,
            steps,
        }) => {
            let axes: Result<Vec<_>, String> =
                set.iter().map(|s| genlab::sweep::Axis::parse(s)).collect();
            let result = axes.map_err(anyhow::Error::msg).and_then(|axes| {
                genlab::sweep::run(&genlab::sweep::SweepRequest {
                    preset,
                    axes,
                    seeds,
                    out: out.clone(),
                    parallel,
                    threads,
                    steps,
                    interrupts: genlab::cli::Interrupts::from_signals(),
                })
            });
            match result {
                Ok(results) => {
                    let done = results
                        .iter()
                        .filter(|(_, o)| *o == genlab::sweep::Outcome::Finished)
                        .count();
                    println!(
                        "{done} of {} runs finished; table: {}",
                        results.len(),
                        out.join("results.csv").display()
                    );
                    if done == results.len() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Bench {
            scale,
            windows,
            reference,
            python,
            only,
            no_gpu,
            threads,
        }) => {
            let opts = genlab::bench::BenchOptions {
                scale,
                windows: windows.max(1),
                reference_dir: reference,
                python,
                only,
                gpu: !no_gpu,
                threads,
            };
            match genlab::bench::run(&opts) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Verify { presets }) => {
            if genlab::cli::verify(&presets) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Some(Command::Evaluator { preset, out, steps }) => {
            match genlab::cli::evaluator(&preset, out, steps) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::Score {
            data_of,
            samples,
            export,
        }) => match genlab::cli::score(&data_of, samples.as_deref(), export.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Sample {
            run,
            count,
            seed,
            out,
        }) => match genlab::cli::sample(&run, count, seed, &out) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Validate { presets }) => {
            if genlab::cli::validate(&presets) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
