//! Placeholders and variables inside packet templates and patterns.
//!
//! - `{client}` and `{topic}` inside any string become the unique prefixes of this scenario run,
//!   so that scenarios running in parallel on one broker never see each other's clients or
//!   messages. `{$name}` inside a string inserts a variable's value as text.
//! - A string that is exactly `$name` stands for a variable's value with its JSON type (a packet
//!   id stays a number). In a pattern an unbound `$name` binds to what was received; a bound one
//!   must be equal. `$_` matches any present value and `$none` requires the field to be absent.
//! - `$$` at the start of a string escapes a literal `$` (`"$$SYS/x"` is the text `$SYS/x`);
//!   topics such as `$SYS/broker` or `$share/g/t` need no escape since they are not bare names.

use serde_json::Value;
use std::collections::BTreeMap;

/// Variables bound while a scenario runs.
pub type Vars = BTreeMap<String, Value>;

/// Pattern token: any present value.
pub const ANY: &str = "_";
/// Pattern token: the field must be absent.
pub const NONE: &str = "none";

/// What a string of a template or pattern is.
#[derive(Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// `$name`.
    Var(&'a str),
    /// `$_`.
    Any,
    /// `$none`.
    Absent,
    /// Anything else: text, possibly with `{...}` placeholders.
    Text,
}

/// Classifies a string of a template or pattern.
pub fn token(s: &str) -> Token<'_> {
    let Some(name) = s.strip_prefix('$') else {
        return Token::Text;
    };
    if name == ANY {
        Token::Any
    } else if name == NONE {
        Token::Absent
    } else if is_name(name) {
        Token::Var(name)
    } else {
        Token::Text
    }
}

/// Variable names: a lower-case letter or `_`, then lower-case letters, digits or `_`.
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The unique prefixes of one scenario run.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// Alphanumeric and short, so that `{client}` plus a client name stays within the 23
    /// characters every 3.1.1 server must accept (MQTT-3.1.3-5).
    pub client: String,
    /// A topic prefix with no wildcard, e.g. `mqttspec/k3x9a/12`.
    pub topic: String,
}

/// Replaces the placeholders of every string in `template`, and bare `$name` strings by their
/// values. Fails on an unbound variable or an unknown placeholder.
pub fn instantiate(template: &Value, vars: &Vars, ph: &Placeholders) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => match token(s) {
            Token::Var(name) => vars
                .get(name)
                .cloned()
                .ok_or_else(|| format!("variable ${name} is not bound"))?,
            Token::Any | Token::Absent => {
                return Err(format!("{s:?} is a pattern token and cannot be sent"))
            }
            Token::Text => Value::String(expand(s, vars, ph)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| instantiate(v, vars, ph))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), instantiate(v, vars, ph)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Expands `{client}`, `{topic}` and `{$name}` inside one text string, and a leading `$$`.
pub fn expand(s: &str, vars: &Vars, ph: &Placeholders) -> Result<String, String> {
    let s = if s.starts_with("$$") { &s[1..] } else { s };
    let mut out = String::with_capacity(s.len() + 16);
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match placeholder(after) {
            Some((name, len)) => {
                match name {
                    "client" => out.push_str(&ph.client),
                    "topic" => out.push_str(&ph.topic),
                    var => {
                        let name = &var[1..];
                        match vars.get(name) {
                            Some(Value::String(text)) => out.push_str(text),
                            Some(other) => out.push_str(&other.to_string()),
                            None => return Err(format!("variable ${name} is not bound")),
                        }
                    }
                }
                rest = &after[len + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// If `after` (the text following a `{`) starts with a placeholder name and `}`, returns the
/// name and its length. Text such as a JSON payload (`{"a": 1}`) is not a placeholder.
fn placeholder(after: &str) -> Option<(&str, usize)> {
    let close = after.find('}')?;
    let name = &after[..close];
    let is_placeholder =
        name == "client" || name == "topic" || name.strip_prefix('$').is_some_and(is_name);
    is_placeholder.then_some((name, close))
}

/// Placeholder-looking names in a string that are not known (`{topc}`), for load-time errors.
pub fn unknown_placeholders(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            let name = &after[..close];
            let looks_like_one = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if looks_like_one && placeholder(after).is_none() {
                out.push(format!("{{{name}}}"));
            }
        }
        rest = after;
    }
    out
}

/// Every variable a template reads: bare `$name` strings and `{$name}` inside strings.
pub fn vars_read(template: &Value, out: &mut Vec<String>) {
    walk_strings(template, &mut |s| match token(s) {
        Token::Var(name) => out.push(name.to_string()),
        _ => {
            let mut rest = s;
            while let Some(open) = rest.find("{$") {
                let after = &rest[open + 1..];
                if let Some((name, _)) = placeholder(after) {
                    out.push(name[1..].to_string());
                }
                rest = after;
            }
        }
    });
}

/// Every variable a pattern mentions as a bare `$name` value (bound by it if not yet bound).
pub fn vars_bound(pattern: &Value, out: &mut Vec<String>) {
    walk_strings(pattern, &mut |s| {
        if let Token::Var(name) = token(s) {
            out.push(name.to_string())
        }
    });
}

/// Calls `f` on every string value (not keys) of `v`.
pub fn walk_strings(v: &Value, f: &mut dyn FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| walk_strings(i, f)),
        Value::Object(map) => map.values().for_each(|i| walk_strings(i, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ph() -> Placeholders {
        Placeholders {
            client: "msabc".into(),
            topic: "mqttspec/abc/1".into(),
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(token("$pid"), Token::Var("pid"));
        assert_eq!(token("$_"), Token::Any);
        assert_eq!(token("$none"), Token::Absent);
        assert_eq!(token("$SYS/broker"), Token::Text);
        assert_eq!(token("$share/g/t"), Token::Text);
        assert_eq!(token("hello"), Token::Text);
    }

    #[test]
    fn instantiates_placeholders_and_typed_variables() {
        let vars = Vars::from([("pid".to_string(), json!(7)), ("n".to_string(), json!(3))]);
        let t = json!({"topic": "{topic}/a/{$n}", "packet_id": "$pid", "client_id": "{client}x",
                       "payload": "{\"json\": 1}", "raw": "$$pid"});
        let v = instantiate(&t, &vars, &ph()).unwrap();
        assert_eq!(
            v,
            json!({"topic": "mqttspec/abc/1/a/3", "packet_id": 7, "client_id": "msabcx",
                   "payload": "{\"json\": 1}", "raw": "$pid"})
        );
        let err = instantiate(&json!({"p": "$q"}), &vars, &ph()).unwrap_err();
        assert!(err.contains("$q is not bound"), "{err}");
    }

    #[test]
    fn finds_unknown_placeholders_and_variables() {
        assert_eq!(unknown_placeholders("{topc}/a"), vec!["{topc}"]);
        assert!(unknown_placeholders("{topic}/{$x} {\"a\":1}").is_empty());
        let mut read = Vec::new();
        vars_read(&json!({"a": "$x", "b": "t/{$y}"}), &mut read);
        assert_eq!(read, vec!["x", "y"]);
    }
}
