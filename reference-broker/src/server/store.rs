//! The persistence file: an append-only log of [`Record`]s, one JSON object per line.
//!
//! Why JSON lines: the records already have a serde form (payloads as text, or `{"hex": ...}`
//! when not UTF-8, like scenarios), a line is self-delimiting so a write cut short by a crash is
//! recognised and skipped, and people can read the file. A binary form would be smaller and faster;
//! this is a reference broker, where being inspectable matters more.
//!
//! Lifecycle: [`Store::open`] reads the log (the last record of each key wins), rewrites it with
//! only the live records (a temporary file renamed over it), and returns the records for
//! [`Broker::restore`](crate::core::Broker::restore). Then [`Store::append`] adds each record the
//! core emits; [`Store::flush`] hands them to the operating system (the server flushes before it
//! sends anything that follows a record, and after each batch of outputs), so they survive a crash
//! of the process; [`Store::sync`] (at clean shutdown) makes them survive a crash of the machine.
//! When the log grows past [`COMPACT_FACTOR`] times its live size it is rewritten again.

use crate::core::{Record, RecordKey};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The log is compacted when it is this many times larger than its live records...
pub const COMPACT_FACTOR: u64 = 4;
/// ...and larger than this many bytes (so a small log is not rewritten over and over).
const COMPACT_MIN: u64 = 1 << 20;

/// Why the persistence file cannot be used at startup.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("persistence file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("persistence file {path}, line {line}: not a valid record: {why}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

/// The open log and, in memory, the live line of each key (what a compaction writes).
pub struct Store {
    path: PathBuf,
    file: BufWriter<File>,
    live: BTreeMap<RecordKey, String>,
    live_bytes: u64,
    file_bytes: u64,
    /// Written to the buffer since the last flush.
    pending: bool,
    /// A write failed, so the file may end in part of a line: rewrite it from `live` at the
    /// next flush (later appends would otherwise follow the broken line).
    damaged: bool,
    /// An IO error was logged and nothing succeeded since (so it is not logged again and again).
    failing: bool,
}

impl Store {
    /// Loads `path` (a missing file is an empty log), compacts it, and opens it for appending.
    pub fn open(path: &Path) -> Result<(Store, Vec<Record>), StoreError> {
        let io_err = |source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(e)),
        };
        let records = parse(&bytes).map_err(|(line, why)| StoreError::Corrupt {
            path: path.to_owned(),
            line,
            why,
        })?;
        let mut live = BTreeMap::new();
        let mut latest = BTreeMap::new();
        for (record, line) in records {
            let key = record.key();
            if record.is_removal() {
                live.remove(&key);
                latest.remove(&key);
            } else {
                live.insert(key.clone(), line);
                latest.insert(key, record);
            }
        }
        let live_bytes = live.values().map(|l| line_len(l)).sum();
        rewrite(path, &live).map_err(io_err)?;
        let file = open_append(path).map_err(io_err)?;
        let store = Store {
            path: path.to_owned(),
            file,
            live,
            live_bytes,
            file_bytes: live_bytes,
            pending: false,
            damaged: false,
            failing: false,
        };
        Ok((store, latest.into_values().collect()))
    }

    /// Appends one record (buffered), compacting the log if it has grown too large.
    pub fn append(&mut self, record: &Record) {
        let line = match serde_json::to_string(record) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a persistence record");
                return;
            }
        };
        let result = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.write_all(b"\n"));
        self.pending = true;
        self.file_bytes += line_len(&line);
        let key = record.key();
        if let Some(old) = self.live.remove(&key) {
            self.live_bytes -= line_len(&old);
        }
        if !record.is_removal() {
            self.live_bytes += line_len(&line);
            self.live.insert(key, line);
        }
        self.report(result);
        if self.file_bytes > COMPACT_MIN && self.file_bytes > COMPACT_FACTOR * self.live_bytes {
            self.compact();
        }
    }

    /// Hands what was appended to the operating system (after a failed write: rewrites the log).
    pub fn flush(&mut self) {
        if self.pending {
            self.pending = false;
            let result = self.file.flush();
            self.report(result);
        }
        if self.damaged {
            self.compact();
        }
    }

    /// Flushes and waits until the log is on disk (at clean shutdown).
    pub fn sync(&mut self) {
        self.flush();
        let result = self.file.get_ref().sync_all();
        self.report(result);
    }

    /// Rewrites the log with the live records only.
    fn compact(&mut self) {
        // Whatever is still buffered is in `live` as well; the file is replaced anyway.
        let _ = self.file.flush();
        self.pending = false;
        let result = rewrite(&self.path, &self.live).and_then(|()| open_append(&self.path));
        match result {
            Ok(file) => {
                self.file = file;
                self.file_bytes = self.live_bytes;
                self.damaged = false;
                self.failing = false;
                tracing::debug!(bytes = self.live_bytes, "persistence log compacted");
            }
            Err(e) => self.report(Err(e)),
        }
    }

    /// Logs an IO error (once until something succeeds again). The broker keeps running: losing
    /// persistence is better than losing the service; the log says so loudly.
    fn report(&mut self, result: io::Result<()>) {
        if result.is_err() {
            self.damaged = true;
        }
        match result {
            Ok(()) => self.failing = false,
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::error!(path = %self.path.display(), error = %e, "cannot write the persistence file");
            }
            Err(_) => {}
        }
    }
}

/// A line's size in the file, newline included.
fn line_len(line: &str) -> u64 {
    line.len() as u64 + 1
}

/// The records of a log with their text. A last line without its newline that does not parse is
/// a write cut short by a crash: skipped with a warning. Any other bad line is an error (1-based
/// line, why): a complete line was written whole, so a bad one means the file is not a log (or
/// was damaged), and it is not silently replaced.
pub fn parse(bytes: &[u8]) -> Result<Vec<(Record, String)>, (usize, String)> {
    let segments: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = segments.len().saturating_sub(1);
    let mut records = Vec::with_capacity(segments.len());
    for (n, &line) in segments.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = std::str::from_utf8(line)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                let text = text.trim();
                serde_json::from_str::<Record>(text)
                    .map(|r| (r, text.to_owned()))
                    .map_err(|e| e.to_string())
            });
        match parsed {
            Ok(r) => records.push(r),
            Err(why) if n == last => {
                tracing::warn!(line = n + 1, %why, "persistence file: incomplete last record ignored");
            }
            Err(why) => return Err((n + 1, why)),
        }
    }
    Ok(records)
}

/// Writes `live` to a temporary file beside `path`, syncs it, and renames it over `path`.
fn rewrite(path: &Path, live: &BTreeMap<RecordKey, String>) -> io::Result<()> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut out = BufWriter::new(File::create(&tmp)?);
    for line in live.values() {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    out.get_ref().sync_all()?;
    drop(out);
    std::fs::rename(&tmp, path)
}

fn open_append(path: &Path) -> io::Result<BufWriter<File>> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::new(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqttspec_codec::Publish;

    fn retained(topic: &str, payload: &'static str) -> Record {
        Record::Retained {
            topic: topic.into(),
            message: (!payload.is_empty()).then(|| {
                Box::new(Publish {
                    retain: true,
                    topic: topic.into(),
                    payload: bytes::Bytes::from_static(payload.as_bytes()),
                    ..Publish::default()
                })
            }),
        }
    }

    fn line(r: &Record) -> String {
        serde_json::to_string(r).unwrap() + "\n"
    }

    #[test]
    fn a_broken_last_line_is_skipped_and_any_other_is_an_error() {
        let good = line(&retained("a", "x"));
        let parsed = parse(format!("{good}\n{good}{{\"kind\":\"ret").as_bytes()).unwrap();
        assert_eq!(parsed.len(), 2);
        let parsed = parse(format!("{good}\0\0\0").as_bytes()).unwrap();
        assert_eq!(parsed.len(), 1, "an unterminated tail of zeros");
        let (line_no, why) = parse(format!("{good}garbage\n{good}").as_bytes()).unwrap_err();
        assert_eq!(line_no, 2, "{why}");
        let (line_no, _) = parse(format!("{good}garbage\n\n").as_bytes()).unwrap_err();
        assert_eq!(line_no, 2, "a complete last line must be a record");
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn binary_payloads_round_trip() {
        let record = Record::Retained {
            topic: "b".into(),
            message: Some(Box::new(Publish {
                retain: true,
                topic: "b".into(),
                payload: bytes::Bytes::from_static(&[0, 0xff, b'\n']),
                ..Publish::default()
            })),
        };
        let text = line(&record);
        assert_eq!(text.matches('\n').count(), 1, "one line: {text}");
        let parsed = parse(text.as_bytes()).unwrap();
        assert_eq!(parsed[0].0, record);
    }

    #[test]
    fn open_keeps_the_last_record_per_key_and_compacts() {
        let dir = std::env::temp_dir().join(format!("mqttspec-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let text = [
            retained("a", "1"),
            retained("b", "1"),
            retained("a", "2"),
            retained("b", ""),
        ]
        .iter()
        .map(line)
        .collect::<String>();
        std::fs::write(&path, text).unwrap();
        let (mut store, records) = Store::open(&path).unwrap();
        assert_eq!(records, [retained("a", "2")]);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            line(&retained("a", "2"))
        );
        store.append(&retained("c", "3"));
        store.append(&retained("a", ""));
        store.sync();
        drop(store);
        let (_, records) = Store::open(&path).unwrap();
        assert_eq!(records, [retained("c", "3")]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
