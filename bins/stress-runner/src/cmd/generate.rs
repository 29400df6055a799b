//! `stress-runner generate`: stream transactions from the seeded factory to stdout, as JSON lines or
//! CSV, optionally with their ground-truth labels.

use anyhow::Context;
use models::{Channel, GroundTruth, Transaction};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use transaction_factory::{FactoryConfig, TransactionFactory};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
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
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    match write_all(&factory, &args, &mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`| head`): what it wanted was written.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

fn write_all(factory: &TransactionFactory, args: &Args, out: &mut impl Write) -> io::Result<()> {
    let items = factory
        .iter_from(args.start)
        .take(usize::try_from(args.count).unwrap_or(usize::MAX));
    match args.format {
        Format::Jsonl => {
            let mut line = Vec::with_capacity(512);
            for (txn, label) in items {
                line.clear();
                write_json(&mut line, &txn, args.with_labels.then_some(&label))?;
                out.write_all(&line)?;
            }
        }
        Format::Csv => {
            out.write_all(CSV_HEADER.as_bytes())?;
            out.write_all(if args.with_labels {
                b",label_kind,label_pattern\n"
            } else {
                b"\n"
            })?;
            for (txn, label) in items {
                write_csv(out, &txn, args.with_labels.then_some(&label))?;
            }
        }
    }
    Ok(())
}

/// One JSON line; with a label, the object gains a `label` member in the `GroundTruth` form.
fn write_json(
    line: &mut Vec<u8>,
    txn: &Transaction,
    label: Option<&GroundTruth>,
) -> io::Result<()> {
    serde_json::to_writer(&mut *line, txn)?;
    if let Some(label) = label {
        line.pop(); // the closing brace
        line.extend_from_slice(b",\"label\":");
        serde_json::to_writer(&mut *line, label)?;
        line.push(b'}');
    }
    line.push(b'\n');
    Ok(())
}

const CSV_HEADER: &str = "id,timestamp,amount_minor,currency,card_id,customer_id,merchant_id,merchant_name,mcc,channel,country,lat,lon,device_id,ip";

fn write_csv(out: &mut impl Write, t: &Transaction, label: Option<&GroundTruth>) -> io::Result<()> {
    write!(
        out,
        "{},{},{},{},{},{},{},",
        t.id, t.timestamp, t.amount_minor, t.currency, t.card_id, t.customer_id, t.merchant_id
    )?;
    write_csv_field(out, &t.merchant_name)?;
    write!(
        out,
        ",{},{},{},{},{},",
        t.mcc,
        channel_name(t.channel),
        t.country,
        t.lat,
        t.lon
    )?;
    if let Some(d) = t.device_id {
        write!(out, "{d}")?;
    }
    out.write_all(b",")?;
    if let Some(ip) = t.ip {
        write!(out, "{ip}")?;
    }
    if let Some(label) = label {
        let (kind, pattern) = match label {
            GroundTruth::Legit => ("legit", ""),
            GroundTruth::Fraud { pattern } => ("fraud", pattern.as_str()),
            GroundTruth::Edge { pattern } => ("edge", pattern.as_str()),
        };
        write!(out, ",{kind},{pattern}")?;
    }
    out.write_all(b"\n")
}

/// RFC 4180: quote a field holding a comma, quote or line break, doubling the quotes inside.
fn write_csv_field(out: &mut impl Write, s: &str) -> io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) {
        out.write_all(b"\"")?;
        out.write_all(s.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(s.as_bytes())
    }
}

/// The wire name of a channel (as serde writes it).
fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::CardPresent => "card_present",
        Channel::Contactless => "contactless",
        Channel::Ecommerce => "ecommerce",
        Channel::Mobile => "mobile",
        Channel::Atm => "atm",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format, with_labels: bool, count: u64) -> String {
        let factory = TransactionFactory::new(7, FactoryConfig::default()).unwrap();
        let args = Args {
            count,
            seed: 7,
            format,
            with_labels,
            start: 100,
        };
        let mut out = Vec::new();
        write_all(&factory, &args, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn channel_names_match_the_wire() {
        for c in Channel::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), channel_name(c));
        }
    }

    #[test]
    fn jsonl_lines_parse_back_and_carry_labels_only_when_asked() {
        let factory = TransactionFactory::new(7, FactoryConfig::default()).unwrap();
        let plain = render(Format::Jsonl, false, 50);
        for (i, line) in plain.lines().enumerate() {
            let txn: Transaction = serde_json::from_str(line).unwrap();
            assert_eq!(txn, factory.at(100 + i as u64).0);
        }
        let labelled = render(Format::Jsonl, true, 50);
        for (i, line) in labelled.lines().enumerate() {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let label: GroundTruth = serde_json::from_value(v["label"].take()).unwrap();
            assert_eq!(label, factory.at(100 + i as u64).1);
        }
    }

    #[test]
    fn csv_quotes_names_and_has_a_column_per_field() {
        assert_eq!(CSV_HEADER.split(',').count(), 15);
        let mut out = Vec::new();
        write_csv_field(&mut out, "Crêperie \"La Bretonne\", Paris").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"Crêperie \"\"La Bretonne\"\", Paris\""
        );
        let text = render(Format::Csv, true, 300);
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .ends_with(",ip,label_kind,label_pattern")
        );
        for line in lines {
            // Count fields outside quotes.
            let (mut fields, mut quoted) = (1, false);
            for ch in line.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields += 1,
                    _ => {}
                }
            }
            assert_eq!(fields, 17, "{line}");
        }
    }
}
