//! A run folder written on its own thread, so PNG encoding and file I/O never cost the
//! window a frame.

use super::RunWriter;
use crate::checkpoint::EncodedCheckpoint;
use crate::config::Experiment;
use crate::train::{Metrics, Snapshot};
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

enum Record {
    Metrics(Metrics),
    Snapshot(Box<Snapshot>),
    Checkpoint(EncodedCheckpoint),
    Diagnostic(crate::eval::diagnostics::Diagnostic),
    Finish {
        status: String,
        step: u64,
        reason: Option<String>,
    },
}

pub struct RunRecorder {
    dir: PathBuf,
    tx: Option<Sender<Record>>,
    errors: Receiver<String>,
    thread: Option<JoinHandle<()>>,
}

impl RunRecorder {
    /// Creates the run folder now (so a bad location is reported at once), then writes
    /// everything else on a background thread.
    pub fn start(dir: &Path, experiment: &Experiment) -> std::io::Result<RunRecorder> {
        Self::spawn(RunWriter::create(dir, experiment)?)
    }

    /// Continues an existing run folder from a checkpoint's step (see `RunWriter::reopen`).
    pub fn resume(
        dir: &Path,
        experiment: &Experiment,
        from_step: u64,
    ) -> std::io::Result<RunRecorder> {
        Self::spawn(RunWriter::reopen(dir, experiment, from_step)?)
    }

    fn spawn(mut writer: RunWriter) -> std::io::Result<RunRecorder> {
        let dir = writer.dir().to_owned();
        let (tx, rx) = unbounded::<Record>();
        let (err_tx, err_rx) = unbounded();
        let thread = std::thread::Builder::new()
            .name("genlab-run-writer".into())
            .spawn(move || {
                for record in rx {
                    let result = match record {
                        Record::Metrics(m) => writer
                            .write_metrics(&m)
                            .map_err(|e| format!("metrics.csv: {e}")),
                        Record::Snapshot(s) => writer
                            .write_snapshot(&s)
                            .map(|_| ())
                            .map_err(|e| format!("sample image: {e}")),
                        Record::Diagnostic(d) => writer
                            .write_diagnostic(&d)
                            .map_err(|e| format!("diagnostics.csv: {e}")),
                        Record::Checkpoint(c) => writer
                            .write_checkpoint(&c)
                            .map(|_| ())
                            .map_err(|e| format!("checkpoint of step {}: {e}", c.step)),
                        Record::Finish {
                            status,
                            step,
                            reason,
                        } => writer
                            .finish(&status, step, reason.as_deref())
                            .map_err(|e| format!("summary.toml: {e}")),
                    };
                    if let Err(e) = result {
                        let _ = err_tx.send(e);
                    }
                }
            })?;
        Ok(RunRecorder {
            dir,
            tx: Some(tx),
            errors: err_rx,
            thread: Some(thread),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn metrics(&self, m: &Metrics) {
        self.send(Record::Metrics(m.clone()));
    }

    pub fn checkpoint(&self, c: &EncodedCheckpoint) {
        self.send(Record::Checkpoint(c.clone()));
    }

    pub fn diagnostic(&self, d: &crate::eval::diagnostics::Diagnostic) {
        self.send(Record::Diagnostic(d.clone()));
    }

    pub fn snapshot(&self, s: &Snapshot) {
        self.send(Record::Snapshot(Box::new(s.clone())));
    }

    /// Writes the summary; the thread ends once everything queued is on disk.
    pub fn finish(mut self, status: &str, step: u64, reason: Option<&str>) {
        self.send(Record::Finish {
            status: status.into(),
            step,
            reason: reason.map(str::to_owned),
        });
        self.tx = None;
    }

    /// Write errors since the last call (shown to the user, never fatal).
    pub fn take_error(&self) -> Option<String> {
        self.errors.try_recv().ok()
    }

    /// Waits until everything queued is written (tests, and the CLI at exit).
    pub fn flush_and_join(mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn send(&self, r: Record) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(r);
        }
    }
}
