//! Registry of the numbered normative statements of MQTT 3.1.1 and MQTT 5.0.
//!
//! The data lives in `conformance/spec/statements-v*.tsv` and is compiled into
//! the binary with `include_str!`, so `mqttspec coverage` and scenario
//! validation work without any file next to the executable. Each table is
//! parsed once, on first use, and then handed out as `&'static` slices.
//!
//! TSV columns: `id`, `section`, `level`, `binds`, `testable`, `reason`,
//! `summary`. `testable` is `wire` when a scripted client talking to the broker
//! over TCP can observe compliance, and `no` otherwise; in the latter case
//! `reason` starts with one of [`UNTESTABLE_REASON_PREFIXES`].
//!
//! The embedded data is ours, so a malformed row is a build defect: parsing
//! panics with the file and line. The unit tests parse both tables, which
//! guarantees that such a panic cannot reach a user.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

/// Embedded statement table for MQTT 3.1.1.
const TSV_V3_1_1: &str = include_str!("../spec/statements-v3.1.1.tsv");
/// Embedded statement table for MQTT 5.0.
const TSV_V5_0: &str = include_str!("../spec/statements-v5.0.tsv");

/// Header line every embedded table must start with (guards column order).
const HEADER: &str = "id\tsection\tlevel\tbinds\ttestable\treason\tsummary";

/// Allowed openings of the `reason` column for untestable statements, so that
/// reports can group them by cause.
pub const UNTESTABLE_REASON_PREFIXES: [&str; 4] = [
    "binds only clients:",
    "not observable:",
    "implementation-internal:",
    "transport:",
];

/// MQTT protocol version a statement belongs to; statement IDs are only
/// unique within one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecVersion {
    /// MQTT 3.1.1 (OASIS Standard, 29 October 2014).
    V3_1_1,
    /// MQTT 5.0 (OASIS Standard, 7 March 2019).
    V5_0,
}

impl SpecVersion {
    /// Version string as used on the command line and in reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V3_1_1 => "3.1.1",
            SpecVersion::V5_0 => "5.0",
        }
    }

    /// Parses a version string; accepts the canonical forms plus the common
    /// shorthands `5`, `v5`, `v5.0` and `v3.1.1`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "3.1.1" | "v3.1.1" => Some(SpecVersion::V3_1_1),
            "5.0" | "5" | "v5.0" | "v5" => Some(SpecVersion::V5_0),
            _ => None,
        }
    }

    /// Every supported version, oldest first (handy for iterating reports).
    pub const fn all() -> [Self; 2] {
        [SpecVersion::V3_1_1, SpecVersion::V5_0]
    }

    /// The embedded TSV text for this version.
    const fn tsv(self) -> &'static str {
        match self {
            SpecVersion::V3_1_1 => TSV_V3_1_1,
            SpecVersion::V5_0 => TSV_V5_0,
        }
    }

    /// File name of the embedded table, used in panic messages.
    const fn file_name(self) -> &'static str {
        match self {
            SpecVersion::V3_1_1 => "statements-v3.1.1.tsv",
            SpecVersion::V5_0 => "statements-v5.0.tsv",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 2119 strength of a statement; lets reports separate mandatory
/// failures from advisory ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// MUST (also SHALL / REQUIRED).
    Must,
    /// MUST NOT (also SHALL NOT).
    MustNot,
    /// SHOULD (also RECOMMENDED).
    Should,
    /// SHOULD NOT.
    ShouldNot,
    /// MAY (also OPTIONAL).
    May,
}

impl Level {
    /// True for MUST and MUST NOT: violating these is a conformance failure.
    pub const fn is_mandatory(self) -> bool {
        matches!(self, Level::Must | Level::MustNot)
    }

    /// Keyword as written in the spec and in the TSV.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }

    fn from_tsv(s: &str) -> Option<Self> {
        match s {
            "MUST" => Some(Level::Must),
            "MUST NOT" => Some(Level::MustNot),
            "SHOULD" => Some(Level::Should),
            "SHOULD NOT" => Some(Level::ShouldNot),
            "MAY" => Some(Level::May),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Party a statement constrains (the spec's wording); independent of whether
/// the broker-facing harness can test it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binds {
    /// Only the Server.
    Server,
    /// Only the Client.
    Client,
    /// Both sides (sender/receiver rules, shared formats).
    Both,
}

impl Binds {
    /// Lower-case name as used in the TSV.
    pub const fn as_str(self) -> &'static str {
        match self {
            Binds::Server => "server",
            Binds::Client => "client",
            Binds::Both => "both",
        }
    }

    fn from_tsv(s: &str) -> Option<Self> {
        match s {
            "server" => Some(Binds::Server),
            "client" => Some(Binds::Client),
            "both" => Some(Binds::Both),
            _ => None,
        }
    }
}

impl fmt::Display for Binds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a test client facing the broker over TCP can check the statement;
/// untestable ones carry the reason so coverage reports can explain gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Testability {
    /// Compliance is observable on the wire.
    Wire,
    /// Not checkable by the harness; `reason` starts with one of
    /// [`UNTESTABLE_REASON_PREFIXES`].
    Untestable {
        /// Short explanation, e.g. `"transport: WebSocket not exercised (TCP only)"`.
        reason: &'static str,
    },
}

impl Testability {
    /// True when a scenario can cover the statement.
    pub const fn is_wire(self) -> bool {
        matches!(self, Testability::Wire)
    }

    /// The reason for untestable statements, `None` for wire ones.
    pub const fn reason(self) -> Option<&'static str> {
        match self {
            Testability::Wire => None,
            Testability::Untestable { reason } => Some(reason),
        }
    }
}

/// One numbered normative statement (e.g. `MQTT-3.1.2-24`) with our
/// classification; all fields borrow from the embedded table, so it is `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Statement {
    /// Normalised label, e.g. `MQTT-3.1.2-24`.
    pub id: &'static str,
    /// Number of the closest numbered heading, e.g. `3.1.2.10`.
    pub section: &'static str,
    /// RFC 2119 strength.
    pub level: Level,
    /// Party the statement constrains.
    pub binds: Binds,
    /// Whether the harness can test it, and why not.
    pub testability: Testability,
    /// One-line paraphrase (not the spec wording).
    pub summary: &'static str,
}

/// All statements of `version`, in document order.
pub fn statements(version: SpecVersion) -> &'static [Statement] {
    static V3_1_1: OnceLock<Vec<Statement>> = OnceLock::new();
    static V5_0: OnceLock<Vec<Statement>> = OnceLock::new();
    let cell = match version {
        SpecVersion::V3_1_1 => &V3_1_1,
        SpecVersion::V5_0 => &V5_0,
    };
    cell.get_or_init(|| parse_table(version.file_name(), version.tsv()))
}

/// The statement with exactly this `id` (e.g. `"MQTT-3.1.2-24"`) in `version`.
///
/// A linear scan: the tables hold a few hundred rows and lookups happen while
/// loading scenarios, not on a hot path.
pub fn lookup(version: SpecVersion, id: &str) -> Option<&'static Statement> {
    statements(version).iter().find(|s| s.id == id)
}

/// Parses one embedded table; panics with `file:line` on any defect because
/// the data is compiled in and covered by the unit tests.
fn parse_table(file: &str, text: &'static str) -> Vec<Statement> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header == HEADER => {}
        other => panic!(
            "{file}:1: bad header {:?}, expected {HEADER:?}",
            other.map(|(_, h)| h)
        ),
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, line) in lines {
        if line.is_empty() {
            continue;
        }
        let line_no = index + 1;
        let statement = parse_row(line).unwrap_or_else(|e| panic!("{file}:{line_no}: {e}"));
        if !seen.insert(statement.id) {
            panic!("{file}:{line_no}: duplicate id {}", statement.id);
        }
        out.push(statement);
    }
    if out.is_empty() {
        panic!("{file}: no statements");
    }
    out
}

/// Parses one data row; the error string names the offending column.
fn parse_row(line: &'static str) -> Result<Statement, String> {
    let fields: Vec<&'static str> = line.split('\t').collect();
    let [id, section, level, binds, testable, reason, summary] = fields[..] else {
        return Err(format!(
            "expected 7 tab-separated fields, got {}",
            fields.len()
        ));
    };
    if !id.starts_with("MQTT-") {
        return Err(format!("id {id:?} does not start with MQTT-"));
    }
    if section.is_empty() {
        return Err(format!("{id}: empty section"));
    }
    let level = Level::from_tsv(level).ok_or_else(|| format!("{id}: unknown level {level:?}"))?;
    let binds = Binds::from_tsv(binds).ok_or_else(|| format!("{id}: unknown binds {binds:?}"))?;
    let testability = match testable {
        "wire" if reason.is_empty() => Testability::Wire,
        "wire" => return Err(format!("{id}: wire statement has a reason")),
        "no" if UNTESTABLE_REASON_PREFIXES
            .iter()
            .any(|p| reason.starts_with(p) && reason.len() > p.len()) =>
        {
            Testability::Untestable { reason }
        }
        "no" => return Err(format!("{id}: reason {reason:?} lacks an allowed prefix")),
        other => return Err(format!("{id}: testable must be wire or no, got {other:?}")),
    };
    if summary.trim().is_empty() {
        return Err(format!("{id}: empty summary"));
    }
    Ok(Statement {
        id,
        section,
        level,
        binds,
        testability,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// Where the shared upstream statement tables live, if present: the
    /// `MQTTSPEC_SHARED_SPEC_DIR` override, `../../shared/spec` from the crate,
    /// or the same path next to this source file (for out-of-tree builds).
    fn shared_spec_dir() -> Option<PathBuf> {
        let mut candidates = Vec::new();
        if let Some(dir) = std::env::var_os("MQTTSPEC_SHARED_SPEC_DIR") {
            candidates.push(PathBuf::from(dir));
        }
        candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec"));
        let this_file = PathBuf::from(file!());
        if this_file.is_absolute() {
            if let Some(src) = this_file.parent() {
                candidates.push(src.join("../../../shared/spec"));
            }
        }
        candidates
            .into_iter()
            .find(|dir| dir.join("statements-v5.0.tsv").is_file())
    }

    /// Source rows: (id, section, level, applies_to, text).
    fn source_rows(version: SpecVersion) -> Option<Vec<[String; 5]>> {
        let Some(dir) = shared_spec_dir() else {
            println!("note: shared/spec not found; skipping comparison with the source tables");
            return None;
        };
        let path = dir.join(format!("statements-v{}.tsv", version.as_str()));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id\tsection\tlevel\tapplies_to\ttext"));
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                assert_eq!(f.len(), 5, "{}: bad source row {l:?}", path.display());
                [f[0], f[1], f[2], f[3], f[4]].map(str::to_owned)
            })
            .collect();
        Some(rows)
    }

    #[test]
    fn embedded_tables_parse_with_expected_sizes() {
        assert_eq!(statements(SpecVersion::V3_1_1).len(), 141);
        assert_eq!(statements(SpecVersion::V5_0).len(), 251);
    }

    #[test]
    fn rows_match_source_tables_one_to_one() {
        for version in SpecVersion::all() {
            let Some(source) = source_rows(version) else {
                return;
            };
            let ours = statements(version);
            assert_eq!(ours.len(), source.len(), "{version}: row count");
            for (mine, [id, section, level, applies_to, _]) in ours.iter().zip(&source) {
                assert_eq!(mine.id, id, "{version}: order/id");
                assert_eq!(mine.section, section, "{version} {id}: section");
                assert_eq!(mine.level.as_str(), level, "{version} {id}: level");
                assert_eq!(mine.binds.as_str(), applies_to, "{version} {id}: binds");
            }
            for [id, ..] in &source {
                let n = ours.iter().filter(|s| s.id == id).count();
                assert_eq!(n, 1, "{version}: {id} appears {n} times");
            }
        }
    }

    #[test]
    fn ids_are_unique_per_version() {
        for version in SpecVersion::all() {
            let mut seen = HashSet::new();
            for s in statements(version) {
                assert!(seen.insert(s.id), "{version}: duplicate {}", s.id);
            }
        }
    }

    #[test]
    fn untestable_rows_have_an_allowed_reason() {
        for version in SpecVersion::all() {
            for s in statements(version) {
                if let Testability::Untestable { reason } = s.testability {
                    let prefix = UNTESTABLE_REASON_PREFIXES
                        .iter()
                        .find(|p| reason.starts_with(*p))
                        .unwrap_or_else(|| panic!("{version} {}: reason {reason:?}", s.id));
                    assert!(
                        !reason[prefix.len()..].trim().is_empty(),
                        "{version} {}: reason has no explanation",
                        s.id
                    );
                }
            }
        }
    }

    #[test]
    fn enough_statements_are_wire_testable() {
        let wire = |v| {
            statements(v)
                .iter()
                .filter(|s| s.testability.is_wire())
                .count()
        };
        assert!(wire(SpecVersion::V3_1_1) >= 100, "3.1.1 wire count too low");
        assert!(wire(SpecVersion::V5_0) >= 190, "5.0 wire count too low");
    }

    #[test]
    fn summaries_are_single_short_lines() {
        for version in SpecVersion::all() {
            for s in statements(version) {
                assert!(!s.summary.contains(['\t', '\n', '\r']), "{}", s.id);
                assert!(
                    s.summary.chars().count() <= 120,
                    "{version} {}: summary too long",
                    s.id
                );
            }
        }
    }

    #[test]
    fn summaries_are_not_copied_from_the_spec() {
        const WINDOW: usize = 60;
        for version in SpecVersion::all() {
            let Some(source) = source_rows(version) else {
                return;
            };
            for [id, _, _, _, text] in &source {
                let summary = lookup(version, id).expect("row present").summary;
                assert_ne!(summary, text, "{version} {id}: summary equals spec text");
                // No 60-character stretch of the summary may appear in the
                // spec text; this also rules out the summary being a long
                // substring of it.
                let chars: Vec<char> = summary.chars().collect();
                for window in chars.windows(WINDOW) {
                    let piece: String = window.iter().collect();
                    assert!(
                        !text.contains(&piece),
                        "{version} {id}: summary copies {piece:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn lookup_finds_known_ids_only() {
        let s = lookup(SpecVersion::V3_1_1, "MQTT-3.1.2-24").expect("known id");
        assert_eq!(s.section, "3.1.2.10");
        assert_eq!(s.binds, Binds::Server);
        assert!(s.testability.is_wire());
        let s = lookup(SpecVersion::V5_0, "MQTT-6.0.0-1").expect("known id");
        assert!(s.testability.reason().unwrap().starts_with("transport:"));
        assert!(lookup(SpecVersion::V5_0, "MQTT-9.9.9-9").is_none());
        // 4.2-1 only exists in 5.0.
        assert!(lookup(SpecVersion::V5_0, "MQTT-4.2-1").is_some());
        assert!(lookup(SpecVersion::V3_1_1, "MQTT-4.2-1").is_none());
    }

    #[test]
    fn version_strings_round_trip() {
        for v in SpecVersion::all() {
            assert_eq!(SpecVersion::parse(v.as_str()), Some(v));
            assert_eq!(v.to_string(), v.as_str());
        }
        assert_eq!(SpecVersion::parse("5"), Some(SpecVersion::V5_0));
        assert_eq!(SpecVersion::parse("3.1"), None);
        assert!(SpecVersion::V3_1_1 < SpecVersion::V5_0);
    }

    #[test]
    fn level_helpers() {
        assert!(Level::Must.is_mandatory());
        assert!(Level::MustNot.is_mandatory());
        assert!(!Level::Should.is_mandatory());
        assert!(!Level::ShouldNot.is_mandatory());
        assert!(!Level::May.is_mandatory());
        for l in [
            Level::Must,
            Level::MustNot,
            Level::Should,
            Level::ShouldNot,
            Level::May,
        ] {
            assert_eq!(Level::from_tsv(l.as_str()), Some(l));
        }
    }

    #[test]
    #[should_panic(expected = "lacks an allowed prefix")]
    fn parser_rejects_unprefixed_reason() {
        let text = "id\tsection\tlevel\tbinds\ttestable\treason\tsummary\n\
                    MQTT-1-1\t1\tMUST\tboth\tno\tbecause\tx\n";
        parse_table("test.tsv", text);
    }

    #[test]
    #[should_panic(expected = "duplicate id")]
    fn parser_rejects_duplicate_ids() {
        let text = "id\tsection\tlevel\tbinds\ttestable\treason\tsummary\n\
                    MQTT-1-1\t1\tMUST\tboth\twire\t\tx\n\
                    MQTT-1-1\t1\tMUST\tboth\twire\t\ty\n";
        parse_table("test.tsv", text);
    }

    #[test]
    #[should_panic(expected = "expected 7 tab-separated fields")]
    fn parser_rejects_short_rows() {
        let text = "id\tsection\tlevel\tbinds\ttestable\treason\tsummary\nMQTT-1-1\t1\tMUST\n";
        parse_table("test.tsv", text);
    }
}
