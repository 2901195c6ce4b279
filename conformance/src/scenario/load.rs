//! Loading scenario files: TOML in, validated [`Scenario`]s out, or errors naming file and line.
//!
//! Everything that can be checked without a broker is checked here, so that a scenario that
//! loads can only fail because of the broker: unknown fields (serde's `deny_unknown_fields`,
//! with toml's spans for the line), statement IDs against the registry, packet templates and
//! patterns against the codec ([`super::schema`]), clients used before they are connected,
//! and variables read before any step binds them.

use super::schema;
use super::template;
use super::{Action, Alternative, Capability, Expectation, Level, Scenario, SpecRef, Step};
use crate::duration::Dur;
use crate::registry::{self, SpecVersion};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// A scenario file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file as shown to the user.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Where scenarios come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The scenarios compiled into the binary.
    Builtin,
    /// A folder of `AREA/NAME.toml` files.
    Dir(PathBuf),
}

/// The built-in scenarios (compiled in from the repository's `scenarios/` folder).
pub fn load_builtin() -> Result<Vec<Scenario>, Vec<LoadError>> {
    collect(
        super::builtin::FILES
            .iter()
            .map(|(rel, text)| parse_scenario(&format!("scenarios/{rel}"), rel, text)),
    )
}

/// Every `*.toml` under `dir` (recursively); ids are paths relative to `dir`.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| {
        vec![LoadError {
            file: dir.display().to_string(),
            line: None,
            message: format!("cannot read scenario folder: {e}"),
        }]
    })?;
    files.sort();
    collect(files.iter().map(|path| {
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => parse_scenario(&shown, &rel, &text),
            Err(e) => Err(LoadError {
                file: shown,
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }))
}

/// The built-in scenarios, with those of `extra` folders added; a scenario with the id of a
/// built-in one replaces it.
pub fn load_all(extra: &[PathBuf]) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let mut by_id: BTreeMap<String, Scenario> = load_builtin()?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect();
    for dir in extra {
        for s in load_dir(dir)? {
            by_id.insert(s.id.clone(), s);
        }
    }
    Ok(by_id.into_values().collect())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

fn collect(
    results: impl Iterator<Item = Result<Scenario, LoadError>>,
) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    let mut seen = HashSet::new();
    for r in results {
        match r {
            Ok(s) if !seen.insert(s.id.clone()) => errors.push(LoadError {
                file: s.source.clone(),
                line: None,
                message: format!("duplicate scenario id {:?}", s.id),
            }),
            Ok(s) => ok.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(ok)
    } else {
        Err(errors)
    }
}

// ---- the file format, as serde reads it -------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    id: Spanned<String>,
    title: String,
    /// Longer explanation, for readers and `mqttspec list --json`.
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    spec: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    versions: Option<Vec<Ver>>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default)]
    requires: Vec<Capability>,
    #[serde(default)]
    lacks: Vec<Capability>,
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    client: Option<Spanned<String>>,
    versions: Option<Vec<Ver>>,
    timeout: Option<Dur>,
    repeat: Option<u32>,
    open: Option<bool>,
    connect: Option<Spanned<toml::Value>>,
    connack: Option<Spanned<toml::Value>>,
    send: Option<Spanned<toml::Value>>,
    send_raw: Option<Spanned<String>>,
    expect: Option<Spanned<toml::Value>>,
    expect_nothing: Option<Dur>,
    expect_closed: Option<DurOrTrue>,
    drop: Option<bool>,
    wait: Option<Dur>,
}

/// A protocol version as scenario files write it: exactly `"3.1.1"` or `"5.0"`.
#[derive(Clone, Copy)]
struct Ver(SpecVersion);

impl<'de> Deserialize<'de> for Ver {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match String::deserialize(d)?.as_str() {
            "3.1.1" => Ok(Ver(SpecVersion::V3_1_1)),
            "5.0" => Ok(Ver(SpecVersion::V5_0)),
            other => Err(serde::de::Error::custom(format!(
                "unknown protocol version {other:?}: write \"3.1.1\" or \"5.0\""
            ))),
        }
    }
}

/// `expect_closed = true` (within the step timeout) or `expect_closed = "3s"`.
struct DurOrTrue(Option<std::time::Duration>);

impl<'de> Deserialize<'de> for DurOrTrue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Flag(bool),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::Flag(true) => Ok(DurOrTrue(None)),
            Form::Flag(false) => Err(serde::de::Error::custom(
                "expect_closed = false means nothing: remove the step",
            )),
            Form::Text(t) => crate::duration::parse(&t)
                .map(|d| DurOrTrue(Some(d)))
                .map_err(serde::de::Error::custom),
        }
    }
}

// ---- validation ------------------------------------------------------------------------------

/// Parses and validates one scenario file. `shown` names the file in messages; `rel` is its
/// path under the scenario folder, which the `id` must repeat (`retain/set.toml` -> `retain/set`).
pub fn parse_scenario(shown: &str, rel: &str, text: &str) -> Result<Scenario, LoadError> {
    let at = |span: std::ops::Range<usize>, message: String| LoadError {
        file: shown.to_string(),
        line: Some(line_of(text, span.start)),
        message,
    };
    let raw: RawScenario = toml::from_str(text).map_err(|e| LoadError {
        file: shown.to_string(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().to_string(),
    })?;

    let expected_id = rel.trim_end_matches(".toml");
    if raw.id.get_ref() != expected_id {
        return Err(at(
            raw.id.span(),
            format!(
                "id {:?} must be the file's path under the scenario folder: {expected_id:?}",
                raw.id.get_ref()
            ),
        ));
    }
    let id_ok = expected_id.split('/').count() == 2
        && expected_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '/');
    if !id_ok {
        return Err(at(
            raw.id.span(),
            format!("id {expected_id:?} must be AREA/NAME in lower-case letters, digits and -"),
        ));
    }

    let versions: Vec<SpecVersion> = match &raw.versions {
        Some(vs) if vs.is_empty() => {
            return Err(at(
                0..0,
                "`versions` is empty: the scenario would never run".into(),
            ))
        }
        Some(vs) => dedup(vs.iter().map(|v| v.0)),
        None => SpecVersion::all().to_vec(),
    };

    let mut spec = Vec::new();
    if raw.spec.get_ref().is_empty() {
        return Err(at(
            raw.spec.span(),
            "`spec` must name at least one statement".into(),
        ));
    }
    for item in raw.spec.get_ref() {
        let r = parse_spec_ref(item.get_ref(), &versions).map_err(|m| at(item.span(), m))?;
        spec.push(r);
    }

    let mut steps = Vec::new();
    for (i, raw_step) in raw.step.iter().enumerate() {
        let span = raw_step.span();
        let step = convert_step(i + 1, line_of(text, span.start), raw_step.get_ref(), text)
            .map_err(|(line, m)| LoadError {
                file: shown.to_string(),
                line: Some(line.unwrap_or_else(|| line_of(text, span.start))),
                message: format!("step {}: {m}", i + 1),
            })?;
        if let Some(vs) = &step.versions {
            if let Some(v) = vs.iter().find(|v| !versions.contains(v)) {
                return Err(at(
                    span,
                    format!(
                        "step {}: version {v} is not one of the scenario's versions",
                        i + 1
                    ),
                ));
            }
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(at(0..0, "a scenario needs at least one [[step]]".into()));
    }
    for &v in &versions {
        check_flow(&steps, v).map_err(|(line, m)| LoadError {
            file: shown.to_string(),
            line: Some(line),
            message: format!("{m} (in the {v} run)"),
        })?;
    }

    if let Some(both) = raw.lacks.iter().find(|c| raw.requires.contains(c)) {
        return Err(at(
            0..0,
            format!("{both} is both required and lacking: a broker cannot be both"),
        ));
    }

    Ok(Scenario {
        id: expected_id.to_string(),
        title: raw.title,
        spec,
        versions,
        level: raw.level.unwrap_or(Level::Must),
        requires: dedup(raw.requires.iter().copied()),
        lacks: dedup(raw.lacks.iter().copied()),
        steps,
        source: shown.to_string(),
    })
}

fn dedup<T: PartialEq + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `MQTT-x` (every version of the scenario) or `5.0:MQTT-x` / `3.1.1:MQTT-x` (one version);
/// the statement must exist in the registry and be testable on the wire.
fn parse_spec_ref(text: &str, versions: &[SpecVersion]) -> Result<SpecRef, String> {
    let (version, id) = match text.split_once(':') {
        Some((v, id)) => match v {
            "3.1.1" => (Some(SpecVersion::V3_1_1), id),
            "5.0" => (Some(SpecVersion::V5_0), id),
            _ => {
                return Err(format!(
                    "spec {text:?}: the version before ':' must be 3.1.1 or 5.0"
                ))
            }
        },
        None => (None, text),
    };
    let applies: Vec<SpecVersion> = match version {
        Some(v) if !versions.contains(&v) => {
            return Err(format!("spec {text:?}: the scenario does not run in {v}"))
        }
        Some(v) => vec![v],
        None => versions.to_vec(),
    };
    for v in applies {
        let Some(st) = registry::lookup(v, id) else {
            return Err(format!(
                "spec {text:?}: no statement {id} in MQTT {v} (prefix with \"3.1.1:\" or \"5.0:\" when the two specs number it differently)"
            ));
        };
        if let Some(reason) = st.testability.reason() {
            return Err(format!(
                "spec {text:?}: the registry marks {id} ({v}) untestable ({reason}); fix one or the other"
            ));
        }
    }
    Ok(SpecRef {
        id: id.to_string(),
        version,
    })
}

type StepError = (Option<usize>, String);

fn json_of(v: &Spanned<toml::Value>) -> Value {
    serde_json::to_value(v.get_ref()).expect("TOML values convert to JSON")
}

/// Converts one raw step: exactly one action, with its templates and patterns checked.
fn convert_step(index: usize, line: usize, raw: &RawStep, text: &str) -> Result<Step, StepError> {
    let here = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
    let mut actions: Vec<(&str, Action)> = Vec::new();
    if let Some(open) = raw.open {
        if !open {
            return Err((None, "open = false means nothing: remove the key".into()));
        }
        actions.push(("open", Action::Open));
    }
    if let Some(c) = &raw.connect {
        let mut connect = json_of(c);
        let Some(obj) = connect.as_object_mut() else {
            return Err((here(c.span()), "connect takes a table of CONNECT fields, e.g. connect = {} or connect = { keep_alive = 2 }".into()));
        };
        match obj.get("type") {
            None => {
                obj.insert("type".into(), "connect".into());
            }
            Some(Value::String(t)) if t == "connect" => {}
            Some(_) => {
                return Err((
                    here(c.span()),
                    "connect sends a CONNECT: leave `type` out".into(),
                ))
            }
        }
        // Check with the fields the interpreter fills in, so that only real mistakes show.
        let mut filled = connect.clone();
        for (k, v) in [("client_id", Value::from("c")), ("keep_alive", 60.into())] {
            filled.as_object_mut().unwrap().entry(k).or_insert(v);
        }
        schema::check_template(&filled).map_err(|m| (here(c.span()), format!("connect: {m}")))?;
        let mut connack = match &raw.connack {
            Some(p) => {
                let v = json_of(p);
                if !v.is_object() {
                    return Err((
                        here(p.span()),
                        "connack takes a table: the CONNACK fields to check".into(),
                    ));
                }
                v
            }
            None => Value::Object(Default::default()),
        };
        let obj = connack.as_object_mut().unwrap();
        obj.entry("type").or_insert("connack".into());
        obj.entry("reason_code").or_insert(0.into());
        if let Some(p) = &raw.connack {
            schema::check_pattern(&connack)
                .map_err(|m| (here(p.span()), format!("connack: {m}")))?;
        }
        actions.push(("connect", Action::Connect { connect, connack }));
    } else if let Some(p) = &raw.connack {
        return Err((here(p.span()), "connack belongs to a connect step".into()));
    }
    if let Some(s) = &raw.send {
        let v = json_of(s);
        schema::check_template(&v).map_err(|m| (here(s.span()), format!("send: {m}")))?;
        actions.push(("send", Action::Send(v)));
    }
    if let Some(hex_text) = &raw.send_raw {
        let clean: String = hex_text
            .get_ref()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let bytes = hex::decode(&clean).map_err(|e| {
            (
                here(hex_text.span()),
                format!("send_raw: not hex bytes ({e}); write e.g. \"30 03 00 01 61\""),
            )
        })?;
        if bytes.is_empty() {
            return Err((here(hex_text.span()), "send_raw: no bytes".into()));
        }
        actions.push(("send_raw", Action::SendRaw(bytes)));
    }
    if let Some(e) = &raw.expect {
        let exp =
            convert_expect(&json_of(e)).map_err(|m| (here(e.span()), format!("expect: {m}")))?;
        actions.push(("expect", Action::Expect(exp)));
    }
    if let Some(d) = raw.expect_nothing {
        actions.push(("expect_nothing", Action::ExpectNothing(d.0)));
    }
    if let Some(d) = &raw.expect_closed {
        actions.push(("expect_closed", Action::ExpectClosed(d.0)));
    }
    if let Some(drop) = raw.drop {
        if !drop {
            return Err((None, "drop = false means nothing: remove the key".into()));
        }
        actions.push(("drop", Action::Drop));
    }
    if let Some(d) = raw.wait {
        actions.push(("wait", Action::Wait(d.0)));
    }
    let action = match actions.len() {
        1 => actions.pop().unwrap().1,
        0 => return Err((None, "no action: a step needs one of open, connect, send, send_raw, expect, expect_nothing, expect_closed, drop, wait".into())),
        _ => {
            let names: Vec<&str> = actions.iter().map(|(n, _)| *n).collect();
            return Err((None, format!("one action per step, found {}", names.join(" and "))));
        }
    };
    let client = match &raw.client {
        Some(c) => {
            let name = c.get_ref();
            let ok = (1..=10).contains(&name.len())
                && name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit());
            if !ok {
                return Err((here(c.span()), format!(
                    "client name {name:?}: 1 to 10 lower-case letters or digits (it becomes part of a client id)"
                )));
            }
            name.clone()
        }
        None => "a".to_string(),
    };
    if raw.repeat == Some(0) {
        return Err((None, "repeat = 0 would skip the step: remove it".into()));
    }
    Ok(Step {
        index,
        line,
        client,
        versions: raw
            .versions
            .as_ref()
            .map(|vs| dedup(vs.iter().map(|v| v.0))),
        timeout: raw.timeout.map(|d| d.0),
        repeat: raw.repeat,
        action,
    })
}

/// `{ raw = "20 02 00 01" }`: a packet given by its exact bytes.
fn raw_alternative(o: &serde_json::Map<String, Value>) -> Result<Alternative, String> {
    let (Some(Value::String(text)), 1) = (o.get("raw"), o.len()) else {
        return Err("a raw alternative is { raw = \"HEX\" } and nothing else".into());
    };
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match hex::decode(&clean) {
        Ok(bytes) if !bytes.is_empty() => Ok(Alternative::Raw(bytes)),
        Ok(_) => Err("raw: no bytes".into()),
        Err(e) => Err(format!(
            "raw: not hex bytes ({e}); write e.g. \"20 02 00 01\""
        )),
    }
}

/// `expect` forms: a packet pattern, `{ any_of = [pattern, { raw = HEX } or "closed", ...] }`, or
/// `{ any_order = [pattern, ...] }`.
fn convert_expect(v: &Value) -> Result<Expectation, String> {
    let obj = v.as_object().ok_or(
        "expect takes a packet pattern table, { any_of = [...] } or { any_order = [...] }",
    )?;
    let list = |key: &str| -> Result<Vec<Value>, String> {
        if obj.len() != 1 {
            return Err(format!("`{key}` stands alone in its table"));
        }
        match &obj[key] {
            Value::Array(items) if items.len() >= 2 => Ok(items.clone()),
            Value::Array(_) => Err(format!("`{key}` needs at least two entries")),
            _ => Err(format!("`{key}` takes an array")),
        }
    };
    if obj.contains_key("any_of") {
        let alts = list("any_of")?
            .into_iter()
            .map(|item| match item {
                Value::String(s) if s == "closed" => Ok(Alternative::Closed),
                Value::String(s) => Err(format!(
                    "any_of entry {s:?}: the only word allowed is \"closed\""
                )),
                Value::Object(o) if o.contains_key("raw") => raw_alternative(&o),
                p => schema::check_pattern(&p).map(|()| Alternative::Packet(p)),
            })
            .collect::<Result<_, _>>()?;
        Ok(Expectation::AnyOf(alts))
    } else if obj.contains_key("any_order") {
        let pats = list("any_order")?;
        for p in &pats {
            schema::check_pattern(p)?;
        }
        Ok(Expectation::AnyOrder(pats))
    } else {
        schema::check_pattern(v)?;
        Ok(Expectation::Packet(v.clone()))
    }
}

/// What is known about a client's connection at a point of the script.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Conn {
    Open,
    Closed,
    /// Closed on one branch of an `any_of`, open on another.
    Unknown,
}

/// Walks the steps of one version's run: clients must be connected before use and not
/// connected twice, and variables must be bound before they are read.
fn check_flow(steps: &[Step], v: SpecVersion) -> Result<(), (usize, String)> {
    let mut conns: BTreeMap<&str, Conn> = BTreeMap::new();
    let mut bound: HashSet<String> = HashSet::new();
    for step in steps.iter().filter(|s| s.applies_to(v)) {
        let fail = |m: String| Err((step.line, format!("step {}: {m}", step.index)));
        let state = conns
            .get(step.client.as_str())
            .copied()
            .unwrap_or(Conn::Closed);
        let mut read = Vec::new();
        let mut binds = Vec::new();
        match &step.action {
            Action::Open | Action::Connect { .. } if state == Conn::Open => {
                return fail(format!(
                    "client {} is already connected (a second CONNECT on the same connection is sent with `send`; `drop` first to reconnect)",
                    step.client
                ))
            }
            Action::Wait(_) => {}
            Action::Open | Action::Connect { .. } => {}
            _ if state == Conn::Closed => {
                return fail(format!(
                    "client {} is not connected here: `connect` or `open` it first",
                    step.client
                ))
            }
            _ => {}
        }
        match &step.action {
            Action::Open => {
                conns.insert(&step.client, Conn::Open);
            }
            Action::Connect { connect, connack } => {
                template::vars_read(connect, &mut read);
                template::vars_bound(connack, &mut binds);
                conns.insert(&step.client, Conn::Open);
            }
            Action::Send(t) => template::vars_read(t, &mut read),
            Action::Expect(Expectation::Packet(p)) => template::vars_bound(p, &mut binds),
            Action::Expect(Expectation::AnyOrder(ps)) => {
                ps.iter().for_each(|p| template::vars_bound(p, &mut binds))
            }
            Action::Expect(Expectation::AnyOf(alts)) => {
                for alt in alts {
                    match alt {
                        Alternative::Packet(p) => template::vars_bound(p, &mut binds),
                        // A raw reply binds nothing; like a close, it may end the connection.
                        Alternative::Closed | Alternative::Raw(_) => {
                            conns.insert(&step.client, Conn::Unknown);
                        }
                    }
                }
            }
            Action::ExpectClosed(_) | Action::Drop => {
                conns.insert(&step.client, Conn::Closed);
            }
            Action::SendRaw(_) | Action::ExpectNothing(_) | Action::Wait(_) => {}
        }
        let repeat_var = step.repeat.is_some().then(|| "i".to_string());
        if let Some(name) = read
            .iter()
            .find(|n| !bound.contains(*n) && Some(*n) != repeat_var.as_ref())
        {
            return fail(format!(
                "variable ${name} is read before any step binds it (an `expect` binds it: packet_id = \"${name}\")"
            ));
        }
        bound.extend(binds);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo/ok"
title = "demo"
spec = ["MQTT-3.8.4-1"]

[[step]]
client = "sub"
connect = {}

[[step]]
client = "sub"
send = { type = "subscribe", packet_id = 1, filters = [{ filter = "{topic}/a", qos = 1 }] }

[[step]]
client = "sub"
expect = { type = "suback", packet_id = "$pid", reason_codes = [1] }

[[step]]
client = "sub"
send = { type = "unsubscribe", packet_id = "$pid", filters = ["{topic}/a"] }
"#;

    fn err(text: &str) -> String {
        parse_scenario("demo.toml", "demo/ok.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn loads_a_good_scenario() {
        let s = parse_scenario("demo.toml", "demo/ok.toml", GOOD).unwrap();
        assert_eq!(s.versions, SpecVersion::all().to_vec());
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps[2].line, 14);
        assert_eq!(s.area(), "demo");
    }

    #[test]
    fn a_typo_names_file_line_and_field() {
        let e = err(&GOOD.replace("client = \"sub\"\nconnect", "clinet = \"sub\"\nconnect"));
        assert!(e.starts_with("demo.toml:7: unknown field `clinet`"), "{e}");
        let e = err(&GOOD.replace("qos = 1 }]", "qoss = 1 }]"));
        assert!(
            e.starts_with("demo.toml:12: step 2: send: unknown field `qoss`"),
            "{e}"
        );
        let e = err(&GOOD.replace("reason_codes = [1]", "reason_code = [1]"));
        assert!(
            e.contains("demo.toml:16: step 3: expect: unknown field `reason_code`"),
            "{e}"
        );
    }

    #[test]
    fn rejects_unknown_statements_and_versions() {
        let e = err(&GOOD.replace("MQTT-3.8.4-1", "MQTT-9.9.9-9"));
        assert!(e.contains("no statement MQTT-9.9.9-9"), "{e}");
        let e = err(&GOOD.replace("spec = [", "versions = [\"5\"]\nspec = ["));
        assert!(e.contains("unknown protocol version \"5\""), "{e}");
    }

    #[test]
    fn checks_clients_and_variables() {
        let e = err(&GOOD.replace(
            "packet_id = \"$pid\", reason_codes",
            "packet_id = 1, reason_codes",
        ));
        assert!(
            e.contains("variable $pid is read before any step binds it"),
            "{e}"
        );
        let e = err(&GOOD.replace(
            "client = \"sub\"\nsend = { type = \"unsub",
            "client = \"pub\"\nsend = { type = \"unsub",
        ));
        assert!(e.contains("client pub is not connected"), "{e}");
        let e = err(&GOOD.replace("id = \"demo/ok\"", "id = \"demo/other\""));
        assert!(e.contains("must be the file's path"), "{e}");
    }

    #[test]
    fn one_action_per_step() {
        let e = err(&GOOD.replace("connect = {}", "connect = {}\nwait = \"1s\""));
        assert!(
            e.contains("one action per step, found connect and wait"),
            "{e}"
        );
    }

    #[test]
    fn raw_alternatives() {
        let with = |alt: &str| {
            GOOD.replace(
                "expect = { type = \"suback\", packet_id = \"$pid\", reason_codes = [1] }",
                &format!("expect = {{ any_of = [{alt}, {{ type = \"suback\", packet_id = \"$pid\" }}] }}"),
            )
        };
        let s = parse_scenario(
            "demo.toml",
            "demo/ok.toml",
            &with("{ raw = \"90 03 00 01 01\" }"),
        )
        .unwrap();
        let Action::Expect(Expectation::AnyOf(alts)) = &s.steps[2].action else {
            panic!("{:?}", s.steps[2].action);
        };
        assert!(matches!(&alts[0], Alternative::Raw(b) if b == &[0x90, 3, 0, 1, 1]));
        let e = err(&with("{ raw = \"9\" }"));
        assert!(e.contains("raw: not hex bytes"), "{e}");
        let e = err(&with("{ raw = \"90\", type = \"suback\" }"));
        assert!(e.contains("and nothing else"), "{e}");
    }
}
