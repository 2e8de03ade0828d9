//! A quality metric as declared once, beside the code that computes it: the column it is
//! stored under (metrics.csv, events, checkpoints) and the words a person reads.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// Column name in metrics.csv and in `Metrics::values`.
    pub column: &'static str,
    /// What the window calls it ("FD", "modes").
    pub label: &'static str,
    /// Unit after the value ("nats", "dB"); "%" shows a share as a percentage.
    pub unit: &'static str,
    /// One sentence on what it says, shown on hover.
    pub help: &'static str,
}

impl Metric {
    pub const fn new(
        column: &'static str,
        label: &'static str,
        unit: &'static str,
        help: &'static str,
    ) -> Metric {
        Metric {
            column,
            label,
            unit,
            help,
        }
    }
}
