//! Writing a stream of transactions as JSON lines or CSV (RFC 4180, with the `csv` crate), optionally
//! with their ground-truth labels, for tools that replay or inspect them.
//!
//! ```
//! use transaction_factory::export::{Format, write_transactions};
//! use transaction_factory::{FactoryConfig, TransactionFactory};
//!
//! let factory = TransactionFactory::new(42, FactoryConfig::default()).unwrap();
//! let mut out = Vec::new();
//! write_transactions(&mut out, Format::Csv, true, factory.iter_from(0).take(3)).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert_eq!(text.lines().count(), 4); // the header and three rows
//! assert!(text.starts_with("id,timestamp,amount_minor,"));
//! ```

use models::{Channel, GroundTruth, Transaction};
use std::io::{self, Write};

/// The columns of a CSV row, with the wire field names.
pub const CSV_HEADER: [&str; 15] = [
    "id",
    "timestamp",
    "amount_minor",
    "currency",
    "card_id",
    "customer_id",
    "merchant_id",
    "merchant_name",
    "mcc",
    "channel",
    "country",
    "lat",
    "lon",
    "device_id",
    "ip",
];

/// The two columns a label adds to a CSV row.
pub const CSV_LABEL_HEADER: [&str; 2] = ["label_kind", "label_pattern"];

/// How to write the transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One JSON object per line; with labels, each object gains a `label` member in the
    /// `GroundTruth` form.
    #[default]
    Jsonl,
    /// A header line, then one row per transaction; with labels, `label_kind` and `label_pattern`
    /// columns. An absent device or IP is an empty field.
    Csv,
}

/// Why the transactions could not all be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The output refused the bytes (a full disk, a closed pipe: see [`ExportError::io_kind`]).
    #[error("could not write the transactions: {0}")]
    Io(#[from] io::Error),
    /// A transaction could not be encoded.
    #[error("could not encode transaction {id} as {format}: {reason}")]
    Encode {
        id: String,
        format: &'static str,
        reason: String,
    },
}

impl ExportError {
    /// The kind of the output's error (`BrokenPipe` when a reader such as `head` went away), if it
    /// was one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            ExportError::Io(e) => Some(e.kind()),
            ExportError::Encode { .. } => None,
        }
    }
}

/// Writes `items` to `out` in `format`, with each label when `with_labels` (a system under test must
/// never see them). Flushes what it buffered; `out` itself is left to the caller.
pub fn write_transactions<W: Write>(
    mut out: W,
    format: Format,
    with_labels: bool,
    items: impl IntoIterator<Item = (Transaction, GroundTruth)>,
) -> Result<(), ExportError> {
    match format {
        Format::Jsonl => {
            let mut line = Vec::with_capacity(512);
            for (txn, label) in items {
                line.clear();
                json_line(&mut line, &txn, with_labels.then_some(&label))?;
                out.write_all(&line)?;
            }
            Ok(())
        }
        Format::Csv => {
            let mut csv = csv::WriterBuilder::new().flexible(false).from_writer(out);
            let header = CSV_HEADER.iter().chain(if with_labels {
                &CSV_LABEL_HEADER[..]
            } else {
                &[]
            });
            csv.write_record(header).map_err(from_csv)?;
            for (txn, label) in items {
                csv.write_record(csv_row(&txn, with_labels.then_some(&label)))
                    .map_err(from_csv)?;
            }
            csv.flush()?;
            Ok(())
        }
    }
}

/// One JSON line; with a label, the object gains a `label` member.
fn json_line(
    line: &mut Vec<u8>,
    txn: &Transaction,
    label: Option<&GroundTruth>,
) -> Result<(), ExportError> {
    let encode = |e: serde_json::Error| ExportError::Encode {
        id: txn.id.to_string(),
        format: "JSON",
        reason: e.to_string(),
    };
    serde_json::to_writer(&mut *line, txn).map_err(encode)?;
    if let Some(label) = label {
        line.pop(); // the closing brace
        line.extend_from_slice(b",\"label\":");
        serde_json::to_writer(&mut *line, label).map_err(encode)?;
        line.push(b'}');
    }
    line.push(b'\n');
    Ok(())
}

/// The fields of one CSV row, in [`CSV_HEADER`] order (then the label's).
fn csv_row(t: &Transaction, label: Option<&GroundTruth>) -> Vec<String> {
    let mut row = vec![
        t.id.to_string(),
        t.timestamp.to_string(),
        t.amount_minor.to_string(),
        t.currency.to_string(),
        t.card_id.to_string(),
        t.customer_id.to_string(),
        t.merchant_id.to_string(),
        t.merchant_name.to_string(),
        t.mcc.to_string(),
        channel_name(t.channel).to_owned(),
        t.country.to_string(),
        t.lat.to_string(),
        t.lon.to_string(),
        t.device_id.map(|d| d.to_string()).unwrap_or_default(),
        t.ip.map(|ip| ip.to_string()).unwrap_or_default(),
    ];
    if let Some(label) = label {
        let (kind, pattern) = match label {
            GroundTruth::Legit => ("legit", ""),
            GroundTruth::Fraud { pattern } => ("fraud", pattern.as_str()),
            GroundTruth::Edge { pattern } => ("edge", pattern.as_str()),
        };
        row.extend([kind.to_owned(), pattern.to_owned()]);
    }
    row
}

/// The csv crate wraps the output's error; unwrap it so that its kind (a closed pipe) is kept.
fn from_csv(e: csv::Error) -> ExportError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ExportError::Io(io),
        other => ExportError::Io(io::Error::other(format!("{other:?}"))),
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
    use crate::{FactoryConfig, TransactionFactory};

    fn factory() -> TransactionFactory {
        TransactionFactory::new(7, FactoryConfig::default()).unwrap()
    }

    fn render(format: Format, with_labels: bool, count: usize) -> String {
        let mut out = Vec::new();
        write_transactions(
            &mut out,
            format,
            with_labels,
            factory().iter_from(100).take(count),
        )
        .unwrap();
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
        let factory = factory();
        let plain = render(Format::Jsonl, false, 50);
        for (i, line) in plain.lines().enumerate() {
            let txn: Transaction = serde_json::from_str(line).unwrap();
            assert_eq!(txn, factory.at(100 + i as u64).0);
            assert!(!line.contains("\"label\""));
        }
        let labelled = render(Format::Jsonl, true, 50);
        for (i, line) in labelled.lines().enumerate() {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let label: GroundTruth = serde_json::from_value(v["label"].take()).unwrap();
            assert_eq!(label, factory.at(100 + i as u64).1);
        }
    }

    #[test]
    fn csv_rows_read_back_with_a_column_per_field() {
        let factory = factory();
        let text = render(Format::Csv, true, 300);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header.len(), CSV_HEADER.len() + CSV_LABEL_HEADER.len());
        assert!(header.ends_with(&["ip".into(), "label_kind".into(), "label_pattern".into()]));
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            let (txn, label) = factory.at(100 + i as u64);
            assert_eq!(record.len(), header.len());
            assert_eq!(&record[0], txn.id.to_string());
            assert_eq!(&record[7], txn.merchant_name);
            let (kind, pattern) = match label {
                GroundTruth::Legit => ("legit", ""),
                GroundTruth::Fraud { pattern } => ("fraud", pattern.as_str()),
                GroundTruth::Edge { pattern } => ("edge", pattern.as_str()),
            };
            assert_eq!((&record[15], &record[16]), (kind, pattern));
        }
    }

    #[test]
    fn names_with_commas_and_quotes_are_quoted() {
        let (mut txn, label) = factory().at(0);
        txn.merchant_name = "Crêperie \"La Bretonne\", Paris".into();
        let mut out = Vec::new();
        write_transactions(&mut out, Format::Csv, false, [(txn, label)]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(",\"Crêperie \"\"La Bretonne\"\", Paris\","),
            "{text}"
        );
    }

    #[test]
    fn a_closed_output_keeps_its_kind() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        for format in [Format::Jsonl, Format::Csv] {
            let err =
                write_transactions(Closed, format, false, factory().iter_from(0).take(10_000))
                    .unwrap_err();
            assert_eq!(err.io_kind(), Some(io::ErrorKind::BrokenPipe), "{format:?}");
        }
    }
}
