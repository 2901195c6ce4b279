//! Durations as scenario files and the command line write them: `"500ms"`, `"2s"`, `"1.5s"`.
//!
//! A tiny parser of our own rather than a dependency: three units cover every timing a
//! conformance scenario needs, and the error message can say exactly what is accepted.

use serde::{Deserialize, Deserializer};
use std::fmt;
use std::time::Duration;

/// Parses `"250ms"`, `"2s"`, `"1.5s"` or `"1m"`; a bare number is rejected so that no reader
/// has to guess the unit.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t, ""),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "" => {
            return Err(format!(
                "duration {text:?} needs a unit: ms, s or m (e.g. \"500ms\")"
            ))
        }
        other => {
            return Err(format!(
                "duration {text:?}: unknown unit {other:?} (use ms, s or m)"
            ))
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("duration {text:?}: {number:?} is not a number"))?;
    if !value.is_finite() || value < 0.0 || value * scale > 24.0 * 3600.0 {
        return Err(format!("duration {text:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// Formats a duration the way [`parse`] reads it, choosing the shortest exact unit.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        let secs = format!("{:.3}", d.as_secs_f64());
        format!("{}s", secs.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{ms}ms")
    }
}

/// A duration field of a scenario file; its parse error carries the field's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map(Dur).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_scenarios_use() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1m"), Ok(Duration::from_secs(60)));
        assert!(parse("5").unwrap_err().contains("needs a unit"));
        assert!(parse("5h").unwrap_err().contains("unknown unit"));
        assert!(parse("x s").is_err());
    }

    #[test]
    fn formats_back_to_the_parsed_form() {
        for text in ["500ms", "2s", "1.5s", "0ms"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
    }
}
