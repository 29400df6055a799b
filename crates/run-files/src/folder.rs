//! Reading a results folder, file by file. Each reader returns `Ok(None)` for a file that is not
//! there (every file but `intervals.jsonl` is optional for some run), the parsed contents when it is,
//! and an error naming the file when it cannot be read or does not parse. JSON-lines files follow
//! [`crate::lines`]' policy for damaged lines.

use crate::error::ReadError;
use crate::lines::{self, Lines};
use crate::names;
use models::{AwsReport, EncodedHistograms, IntervalSnapshot, RunEvent, Summary};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// A results folder to read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    dir: PathBuf,
}

impl Folder {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `name` (one of [`crate::names`]) inside the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// `summary.json`.
    pub fn summary(&self) -> Result<Option<Summary>, ReadError> {
        read_json(&self.path(names::SUMMARY))
    }

    /// `intervals.jsonl`.
    pub fn intervals(&self) -> Result<Option<Lines<IntervalSnapshot>>, ReadError> {
        read_lines(&self.path(names::INTERVALS))
    }

    /// The encoded histograms of the ticks of `intervals.jsonl` at the positions in `wanted`
    /// (counted from 0 over the file's readable, non-blank lines: a folder's writer puts every tick
    /// on a line of its own, in order), by position. Streams the file line by line and parses only
    /// the lines wanted, so a long run's histograms need not be held in memory while it runs: the
    /// orchestrator drops them from the ticks it keeps and reads back those its end-of-run figures
    /// need. A wanted line that is damaged, or has no histograms, is left out. `None` when there is
    /// no `intervals.jsonl`.
    pub fn tick_histograms(
        &self,
        wanted: &std::collections::BTreeSet<usize>,
    ) -> Result<Option<std::collections::BTreeMap<usize, EncodedHistograms>>, ReadError> {
        use std::io::BufRead;
        #[derive(serde::Deserialize)]
        struct OnlyHistograms {
            histograms: Option<EncodedHistograms>,
        }
        let path = self.path(names::INTERVALS);
        let io_err = |source| ReadError::Io {
            path: path.clone(),
            source,
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(e)),
        };
        let mut out = std::collections::BTreeMap::new();
        let Some(&last) = wanted.last() else {
            return Ok(Some(out));
        };
        let mut reader = std::io::BufReader::new(file);
        let mut line = Vec::new();
        let mut position = 0;
        while position <= last {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(io_err)? == 0 {
                break;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !wanted.contains(&position) {
                // Unwanted lines are only checked for being records, to keep positions the same
                // as the whole-file reader's (which skips damaged lines).
                if serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok() {
                    position += 1;
                }
                continue;
            }
            if let Ok(t) = serde_json::from_slice::<OnlyHistograms>(&line) {
                if let Some(h) = t.histograms {
                    out.insert(position, h);
                }
                position += 1;
            }
        }
        Ok(Some(out))
    }

    /// `events.jsonl`.
    pub fn events(&self) -> Result<Option<Lines<RunEvent>>, ReadError> {
        read_lines(&self.path(names::EVENTS))
    }

    /// `latency.hgrm` as text (see [`crate::hgrm::parse`]); bytes that are not UTF-8 are replaced,
    /// which the lenient parser then skips with their line.
    pub fn latency_hgrm(&self) -> Result<Option<String>, ReadError> {
        Ok(read_bytes(&self.path(names::LATENCY))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// `aws.json`.
    pub fn aws(&self) -> Result<Option<AwsReport>, ReadError> {
        read_json(&self.path(names::AWS))
    }
}

/// The bytes of `path`; `None` when it does not exist.
pub fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReadError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// One JSON document; `None` when the file does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ReadError> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| ReadError::Json {
            path: path.to_owned(),
            source,
        })
}

/// A JSON-lines file under [`crate::lines`]' policy; `None` when it does not exist. Fails when the
/// file has lines and not one is readable, unless its only line is one cut short (a run interrupted
/// while writing its first line has written nothing yet).
pub fn read_lines<T: DeserializeOwned>(path: &Path) -> Result<Option<Lines<T>>, ReadError> {
    let Some(bytes) = read_bytes(path)? else {
        return Ok(None);
    };
    let mut lines = lines::parse(&bytes);
    if lines.items.is_empty() && lines.is_damaged() && !lines.only_cut_short() {
        let damaged = lines.damaged.len();
        let first = lines.damaged.swap_remove(0);
        return Err(ReadError::NoReadableLine {
            path: path.to_owned(),
            line: first.line,
            damaged,
            source: first.error,
        });
    }
    Ok(Some(lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{FolderWriter, write_aws};

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("run-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn tick_histograms_are_read_back_by_position_and_only_those_wanted() {
        let dir = scratch("tick-histograms");
        let folder = Folder::new(&dir);
        let wanted: std::collections::BTreeSet<usize> = [1, 3, 9].into();
        assert!(folder.tick_histograms(&wanted).unwrap().is_none());
        let mut w = FolderWriter::create(&dir).unwrap();
        for t in 0..5u32 {
            w.tick(&IntervalSnapshot {
                t_s: f64::from(t),
                // Tick 3 carries none.
                histograms: (t != 3).then(|| EncodedHistograms {
                    latency_us: format!("l{t}"),
                    service_time_us: format!("s{t}"),
                }),
                ..Default::default()
            })
            .unwrap();
        }
        drop(w);
        let got = folder.tick_histograms(&wanted).unwrap().unwrap();
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), [1]);
        assert_eq!(got[&1].latency_us, "l1");
        assert_eq!(got[&1].service_time_us, "s1");
        // A damaged line is skipped and does not count, as the whole-file reader does.
        let text = std::fs::read_to_string(folder.path(names::INTERVALS)).unwrap();
        std::fs::write(
            folder.path(names::INTERVALS),
            format!("{{\"t_s\": 9, \"cut\n\n{text}"),
        )
        .unwrap();
        let got = folder.tick_histograms(&[0, 4].into()).unwrap().unwrap();
        assert_eq!(
            (got[&0].latency_us.as_str(), got[&4].latency_us.as_str()),
            ("l0", "l4")
        );
        let whole = folder.intervals().unwrap().unwrap();
        assert_eq!(whole.items[4].histograms.as_ref().unwrap().latency_us, "l4");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_back_what_the_writer_wrote_and_nothing_for_absent_files() {
        let dir = scratch("roundtrip");
        let folder = Folder::new(&dir);
        assert!(folder.summary().unwrap().is_none() && folder.aws().unwrap().is_none());
        let mut w = FolderWriter::create(&dir).unwrap();
        for t in 1..=3 {
            w.tick(&IntervalSnapshot {
                t_s: f64::from(t),
                ..Default::default()
            })
            .unwrap();
        }
        w.finish(&Summary::default(), "text").unwrap();
        write_aws(&dir, &AwsReport::default()).unwrap();
        let ticks = folder.intervals().unwrap().unwrap();
        assert_eq!(ticks.items.len(), 3);
        assert!(!ticks.is_damaged());
        assert!(folder.events().unwrap().unwrap().items.is_empty());
        assert_eq!(folder.latency_hgrm().unwrap().as_deref(), Some("text"));
        assert_eq!(folder.aws().unwrap(), Some(AwsReport::default()));
        assert_eq!(folder.summary().unwrap(), Some(Summary::default()));
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_with_no_readable_line_is_refused_with_its_place() {
        let dir = scratch("unreadable");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(names::INTERVALS);
        std::fs::write(&path, "hello\n\nworld\n").unwrap();
        let err = Folder::new(&dir).intervals().unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NoReadableLine {
                    line: 1,
                    damaged: 2,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("intervals.jsonl:1:"), "{err}");
        // A lone line cut short is a log of nothing yet, not a foreign file.
        std::fs::write(&path, "{\"t_s\": 1").unwrap();
        let lines = Folder::new(&dir).intervals().unwrap().unwrap();
        assert!(lines.items.is_empty() && lines.only_cut_short());
        std::fs::write(dir.join(names::SUMMARY), "{\"run_id\": 3}").unwrap();
        let err = Folder::new(&dir).summary().unwrap_err();
        assert!(err.to_string().contains("summary.json:1:"), "{err}");
        assert_eq!(err.path(), dir.join(names::SUMMARY));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
