//! Reading JSON-lines files (`intervals.jsonl`, `events.jsonl`) with one policy for damaged lines.
//!
//! **The policy.** Blank lines are ignored. A line that does not parse as a record (cut short by a
//! crash, garbled, not UTF-8, of another shape) is *skipped, counted and located*: it is left out of
//! [`Lines::items`] and listed in [`Lines::damaged`] with its line number and why. Reading never stops
//! at a damaged line, because the lines after it are as good as the ones before. The only damage that
//! makes a file unusable is total: a file with lines of which not one is readable is refused
//! ([`crate::ReadError::NoReadableLine`]), since it is not a results log at all (except when its only
//! line is cut short, which is a log of nothing yet). Callers decide how to
//! show the skipped lines (the report lists them, a merge writes them into its events), but every
//! caller shows them.
//!
//! A run's writer flushes whole lines, so an interrupted run leaves at most one damaged line: the last
//! one, without its newline ([`DamagedLine::unterminated`]). Damage anywhere else means the file was
//! changed after the run.

use serde::de::DeserializeOwned;
use std::fmt;

/// The records of a JSON-lines file and the lines that were skipped.
#[derive(Debug)]
pub struct Lines<T> {
    /// The readable records, in file order.
    pub items: Vec<T>,
    /// The damaged lines, in file order.
    pub damaged: Vec<DamagedLine>,
}

/// A line that was skipped, and where it is.
#[derive(Debug)]
pub struct DamagedLine {
    /// Line number in the file, counted from 1.
    pub line: usize,
    /// Why it does not parse (its line and column are within this line).
    pub error: serde_json::Error,
    /// No readable or damaged line follows it (blank lines aside).
    pub last: bool,
    /// It is the file's last line and the file does not end with a newline: what a writer that was
    /// stopped in the middle of a line leaves behind.
    pub unterminated: bool,
}

impl fmt::Display for DamagedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unterminated {
            write!(
                f,
                "line {} is incomplete (the writer stopped in the middle of it): {}",
                self.line, self.error
            )
        } else {
            write!(f, "line {} is damaged: {}", self.line, self.error)
        }
    }
}

impl<T> Lines<T> {
    /// Whether any line was skipped.
    pub fn is_damaged(&self) -> bool {
        !self.damaged.is_empty()
    }

    /// Whether the only damage is what an interrupted writer leaves: a last line without its newline.
    pub fn only_cut_short(&self) -> bool {
        matches!(self.damaged.as_slice(), [d] if d.unterminated)
    }

    /// One sentence per damaged line, naming `file`: for a report's notes or a run's events.
    pub fn notes(&self, file: &str) -> Vec<String> {
        self.damaged
            .iter()
            .map(|d| format!("{file}: {d}; skipped"))
            .collect()
    }
}

/// Parses `bytes` as JSON lines under the module's policy. Never fails and never panics: every
/// non-blank line ends up either in `items` or in `damaged`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Lines<T> {
    let mut items = Vec::new();
    let mut damaged: Vec<DamagedLine> = Vec::new();
    let terminated = bytes.last().is_none_or(|b| *b == b'\n');
    // `split` yields one empty piece after a final newline; it is blank, so it is ignored.
    let pieces: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let count = pieces.len();
    let mut last_content = None;
    for (i, piece) in pieces.into_iter().enumerate() {
        if piece.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        last_content = Some(i);
        match serde_json::from_slice::<T>(piece) {
            Ok(item) => items.push(item),
            Err(error) => damaged.push(DamagedLine {
                line: i + 1,
                error,
                last: false,
                unterminated: !terminated && i + 1 == count,
            }),
        }
    }
    if let (Some(d), Some(i)) = (damaged.last_mut(), last_content) {
        d.last = d.line == i + 1;
    }
    Lines { items, damaged }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Rec {
        t: u32,
    }

    #[test]
    fn skips_counts_and_locates_damaged_lines() {
        let text = b"{\"t\":1}\n\n{\"t\": oops}\n\xff\xfe\n{\"t\":4}\r\n{\"t\":5";
        let lines: Lines<Rec> = parse(text);
        assert_eq!(lines.items, [Rec { t: 1 }, Rec { t: 4 }]);
        let located: Vec<(usize, bool, bool)> = lines
            .damaged
            .iter()
            .map(|d| (d.line, d.last, d.unterminated))
            .collect();
        assert_eq!(
            located,
            [(3, false, false), (4, false, false), (6, true, true)]
        );
        assert!(!lines.only_cut_short());
        let notes = lines.notes("x.jsonl");
        assert!(
            notes[0].starts_with("x.jsonl: line 3 is damaged"),
            "{notes:?}"
        );
        assert!(notes[2].contains("line 6 is incomplete"), "{notes:?}");
    }

    #[test]
    fn an_interrupted_writer_leaves_only_a_cut_short_last_line() {
        let lines: Lines<Rec> = parse(b"{\"t\":1}\n{\"t\":2}\n{\"t\"");
        assert_eq!(lines.items.len(), 2);
        assert!(lines.only_cut_short());
        // The same line with its newline was not cut short by the writer: it is damage.
        let lines: Lines<Rec> = parse(b"{\"t\":1}\n{\"t\"\n");
        assert!(!lines.only_cut_short());
        assert!(lines.damaged[0].last);
        let empty: Lines<Rec> = parse(b"");
        assert!(empty.items.is_empty() && !empty.is_damaged());
    }

    proptest! {
        /// Whatever the bytes, nothing panics, and every non-blank line is either a record or a
        /// damaged line at its own line number.
        #[test]
        fn arbitrary_damage_is_counted_and_located(
            good in prop::collection::vec(0u32..1000, 0..20),
            junk in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 0..20),
            seed in any::<u64>(),
            cut in any::<bool>(),
        ) {
            // Interleave good records and junk lines in an order fixed by `seed`.
            let mut rows: Vec<(Vec<u8>, Option<u32>)> =
                good.iter().map(|t| (format!("{{\"t\":{t}}}").into_bytes(), Some(*t))).collect();
            for (k, j) in junk.into_iter().enumerate() {
                let line: Vec<u8> = j.into_iter().filter(|b| *b != b'\n').collect();
                let at = (seed.rotate_left(k as u32 * 7) as usize) % (rows.len() + 1);
                rows.insert(at, (line, None));
            }
            let mut bytes = Vec::new();
            for (line, _) in &rows {
                bytes.extend_from_slice(line);
                bytes.push(b'\n');
            }
            if cut {
                bytes.pop();
            }
            let lines: Lines<Rec> = parse(&bytes);
            let blank = |l: &[u8]| l.iter().all(u8::is_ascii_whitespace);
            let non_blank = rows.iter().filter(|(l, _)| !blank(l)).count();
            prop_assert_eq!(lines.items.len() + lines.damaged.len(), non_blank);
            for d in &lines.damaged {
                let (line, _) = &rows[d.line - 1];
                prop_assert!(!blank(line));
                prop_assert!(serde_json::from_slice::<Rec>(line).is_err());
            }
            let expected: Vec<u32> = rows
                .iter()
                .filter(|(l, _)| serde_json::from_slice::<Rec>(l).is_ok())
                .map(|(l, _)| serde_json::from_slice::<Rec>(l).unwrap().t)
                .collect();
            let read: Vec<u32> = lines.items.iter().map(|r| r.t).collect();
            prop_assert_eq!(read, expected);
            prop_assert!(lines.damaged.windows(2).all(|w| w[0].line < w[1].line));
            prop_assert!(lines.damaged.iter().filter(|d| d.unterminated).count() <= usize::from(cut));
        }
    }
}
