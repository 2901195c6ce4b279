//! Partial matching of a received packet (its serde JSON) against a scenario's pattern.
//!
//! Only the fields a pattern names are checked, recursively: `{type = "publish", qos = 1}`
//! accepts any topic and payload. Arrays are compared element by element and must have the same
//! length. A field the codec leaves out of the JSON because it holds its default (empty
//! properties, no packet id at QoS 0) matches the patterns `false`, `[]` and `{}`.
//! Variables follow [`crate::scenario::template`]: an unbound `$name` binds, a bound one compares.
//! Binary data written as `{hex = "..."}` matches the same bytes received as text, and back.

use crate::scenario::template::{self, Placeholders, Token, Vars};
use serde_json::Value;
use std::fmt;

/// Why a packet does not match: where, what was expected, what came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// JSON path of the field, e.g. `properties.user_properties[0]`; empty for the whole packet.
    pub path: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "packet"
        } else {
            &self.path
        };
        write!(f, "{at}: expected {}, got {}", self.expected, self.got)
    }
}

/// Matches `received` against `pattern`. On success returns the variables the pattern bound
/// (the caller commits them only if the whole expectation succeeds).
pub fn match_packet(
    pattern: &Value,
    received: &Value,
    vars: &Vars,
    ph: &Placeholders,
) -> Result<Vars, Mismatch> {
    let mut m = Matcher {
        vars,
        ph,
        bound: Vars::new(),
    };
    m.value("", pattern, Some(received))?;
    Ok(m.bound)
}

struct Matcher<'a> {
    vars: &'a Vars,
    ph: &'a Placeholders,
    bound: Vars,
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "absent".to_string(),
        Some(v) => v.to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The bytes of a binary field in either serde form: text, or `{hex = "..."}`.
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Object(o) if o.len() == 1 => {
            let clean: String = o.get("hex")?.as_str()?.split_whitespace().collect();
            hex::decode(clean).ok()
        }
        _ => None,
    }
}

fn is_hex_form(v: &Value) -> bool {
    matches!(v, Value::Object(o) if o.len() == 1 && o.get("hex").is_some_and(Value::is_string))
}

impl Matcher<'_> {
    fn lookup(&self, name: &str) -> Option<&Value> {
        self.bound.get(name).or_else(|| self.vars.get(name))
    }

    fn mismatch(&self, path: &str, expected: String, got: Option<&Value>) -> Result<(), Mismatch> {
        Err(Mismatch {
            path: path.to_string(),
            expected,
            got: show(got),
        })
    }

    fn value(&mut self, path: &str, pattern: &Value, got: Option<&Value>) -> Result<(), Mismatch> {
        let got = got.filter(|g| !g.is_null());
        match pattern {
            Value::String(s) => self.string(path, s, got),
            Value::Object(_) if is_hex_form(pattern) => {
                let want = bytes_of(pattern);
                if got.and_then(bytes_of).is_some() && got.and_then(bytes_of) == want {
                    Ok(())
                } else {
                    self.mismatch(path, pattern.to_string(), got)
                }
            }
            Value::Object(map) => {
                let empty = serde_json::Map::new();
                let obj = match got {
                    None => &empty,
                    Some(Value::Object(o)) => o,
                    Some(other) => return self.mismatch(path, "a table".into(), Some(other)),
                };
                for (k, p) in map {
                    self.value(&join(path, k), p, obj.get(k))?;
                }
                Ok(())
            }
            Value::Array(items) => {
                let empty = Vec::new();
                let arr = match got {
                    None => &empty,
                    Some(Value::Array(a)) => a,
                    Some(other) => return self.mismatch(path, "an array".into(), Some(other)),
                };
                if arr.len() != items.len() {
                    let expected = format!("{} entries {}", items.len(), pattern);
                    return self.mismatch(path, expected, got);
                }
                for (i, (p, g)) in items.iter().zip(arr).enumerate() {
                    self.value(&format!("{path}[{i}]"), p, Some(g))?;
                }
                Ok(())
            }
            Value::Bool(false) if got.is_none() => Ok(()),
            scalar => {
                if got.is_some_and(|g| scalar_eq(scalar, g)) {
                    Ok(())
                } else {
                    self.mismatch(path, scalar.to_string(), got)
                }
            }
        }
    }

    fn string(&mut self, path: &str, s: &str, got: Option<&Value>) -> Result<(), Mismatch> {
        match template::token(s) {
            Token::Any if got.is_some() => Ok(()),
            Token::Any => self.mismatch(path, "any value".into(), got),
            Token::Absent if got.is_none() => Ok(()),
            Token::Absent => self.mismatch(path, "absent".into(), got),
            Token::Var(name) => match (self.lookup(name).cloned(), got) {
                (Some(want), Some(g)) if scalar_eq(&want, g) || want == *g => Ok(()),
                (Some(want), _) => self.mismatch(path, format!("${name} = {want}"), got),
                (None, Some(g)) => {
                    self.bound.insert(name.to_string(), g.clone());
                    Ok(())
                }
                (None, None) => self.mismatch(path, format!("a value for ${name}"), None),
            },
            Token::Text => {
                let mut all = self.vars.clone();
                all.extend(self.bound.clone());
                let want = template::expand(s, &all, self.ph).map_err(|e| Mismatch {
                    path: path.to_string(),
                    expected: e,
                    got: show(got),
                })?;
                let ok = match got {
                    Some(Value::String(g)) => *g == want,
                    Some(g) if is_hex_form(g) => bytes_of(g) == Some(want.clone().into_bytes()),
                    _ => false,
                };
                if ok {
                    Ok(())
                } else {
                    self.mismatch(path, Value::String(want).to_string(), got)
                }
            }
        }
    }
}

/// Equality of scalars, with numbers compared by value whatever their JSON representation.
fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ph() -> Placeholders {
        Placeholders {
            client: "msx".into(),
            topic: "mqttspec/r/1".into(),
        }
    }

    fn check(pattern: Value, got: Value) -> Result<Vars, Mismatch> {
        match_packet(&pattern, &got, &Vars::new(), &ph())
    }

    #[test]
    fn only_named_fields_are_checked() {
        let got = json!({"type": "publish", "dup": false, "qos": 1, "retain": false,
                         "topic": "mqttspec/r/1/a", "packet_id": 9, "payload": "hi"});
        let bound = check(
            json!({"type": "publish", "topic": "{topic}/a", "packet_id": "$pid"}),
            got.clone(),
        )
        .unwrap();
        assert_eq!(bound["pid"], json!(9));
        let m = check(json!({"type": "publish", "payload": "ho"}), got.clone()).unwrap_err();
        assert_eq!(m.to_string(), r#"payload: expected "ho", got "hi""#);
        let m = check(json!({"qos": 2}), got).unwrap_err();
        assert_eq!(m.path, "qos");
    }

    #[test]
    fn defaults_left_out_of_the_json_still_match() {
        let got = json!({"type": "unsuback", "packet_id": 1});
        check(json!({"reason_codes": [], "properties": {}}), got.clone()).unwrap();
        check(
            json!({"properties": {"reason_string": "$none"}}),
            got.clone(),
        )
        .unwrap();
        let m = check(json!({"properties": {"reason_string": "$_"}}), got).unwrap_err();
        assert_eq!(m.path, "properties.reason_string");
        check(json!({"dup": false}), json!({"type": "x"})).unwrap();
    }

    #[test]
    fn bound_variables_compare_and_hex_matches_text() {
        let vars = Vars::from([("pid".to_string(), json!(3))]);
        let got = json!({"packet_id": 4, "payload": "hi"});
        let m = match_packet(&json!({"packet_id": "$pid"}), &got, &vars, &ph()).unwrap_err();
        assert_eq!(m.expected, "$pid = 3");
        check(json!({"payload": {"hex": "6869"}}), got.clone()).unwrap();
        check(
            json!({"payload": "\u{0}"}),
            json!({"payload": {"hex": "00"}}),
        )
        .unwrap();
        let m = check(
            json!({"reason_codes": [1, 2]}),
            json!({"reason_codes": [1]}),
        )
        .unwrap_err();
        assert!(m.expected.starts_with("2 entries"), "{m}");
    }
}
