//! `stress-runner generate`: stream transactions from the seeded factory to stdout, as JSON lines or
//! CSV, optionally with their ground-truth labels.

use anyhow::Context;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use transaction_factory::export::{self, ExportError};
use transaction_factory::{FactoryConfig, TransactionFactory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // The variants are `transaction_factory::export::Format`'s.
    /// One JSON object per line.
    Jsonl,
    /// A header line, then one row per transaction, using the wire field names.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of transactions to write.
    #[arg(long, default_value_t = 10)]
    pub count: u64,
    /// Seed of the stream: the same seed always gives the same transactions.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Add each transaction's ground-truth label (a `label` object in JSON lines; `label_kind` and
    /// `label_pattern` columns in CSV). A system under test must never see it.
    #[arg(long)]
    pub with_labels: bool,
    /// Index of the first transaction: `--start K` writes transactions K, K+1, ... of the stream.
    #[arg(long, default_value_t = 0)]
    pub start: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    args.start.checked_add(args.count).with_context(|| {
        format!(
            "--start {} plus --count {} goes past the end of the stream (2^64 transactions)",
            args.start, args.count
        )
    })?;
    let factory = TransactionFactory::new(args.seed, FactoryConfig::default())
        .context("building the factory")?;
    let format = match args.format {
        Format::Jsonl => export::Format::Jsonl,
        Format::Csv => export::Format::Csv,
    };
    let items = factory
        .iter_from(args.start)
        .take(usize::try_from(args.count).unwrap_or(usize::MAX));
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = export::write_transactions(&mut out, format, args.with_labels, items)
        .and_then(|()| out.flush().map_err(ExportError::from));
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): what it wanted was written.
        Err(e) if e.io_kind() == Some(io::ErrorKind::BrokenPipe) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing to stdout"),
    }
}
