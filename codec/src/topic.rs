//! Topic names and filters (spec §4.7, v5 §4.8.2): validation and matching.
//!
//! Packets carry topics as plain [`MqttString`](crate::MqttString)s so a test can send an invalid
//! one; the decoder calls these checks, and brokers call [`matches`] to route messages.

use crate::scan::has_wildcard_byte;
use std::fmt;

/// The largest topic a length prefix can carry.
pub const MAX_TOPIC_LEN: usize = u16::MAX as usize;

/// Why a topic name or filter is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// Topic names and filters are at least one character long.
    Empty,
    /// Longer than 65,535 bytes.
    TooLong,
    /// Contains U+0000.
    NullCharacter,
    /// A topic name contains `+` or `#`.
    WildcardInName,
    /// `#` is not alone in the last level.
    MultiLevelWildcardMisplaced,
    /// `+` shares its level with other characters.
    SingleLevelWildcardMisplaced,
    /// `$share/` followed by an empty share name.
    InvalidShareName,
    /// A share name containing `+` or `#`.
    WildcardInShareName,
    /// `$share/name/` with no filter after it.
    EmptySharedFilter,
}

impl TopicError {
    /// The statement each rule comes from, in the numbering of 3.1.1 or 5.0.
    pub fn spec_id(self, v5: bool) -> &'static str {
        match (self, v5) {
            (Self::Empty, _) => "MQTT-4.7.3-1",
            (Self::NullCharacter, _) => "MQTT-4.7.3-2",
            (Self::TooLong, _) => "MQTT-4.7.3-3",
            (Self::WildcardInName, false) => "MQTT-4.7.1-1",
            (Self::WildcardInName, true) => "MQTT-4.7.0-1",
            (Self::MultiLevelWildcardMisplaced, false) => "MQTT-4.7.1-2",
            (Self::MultiLevelWildcardMisplaced, true) => "MQTT-4.7.1-1",
            (Self::SingleLevelWildcardMisplaced, false) => "MQTT-4.7.1-3",
            (Self::SingleLevelWildcardMisplaced, true) => "MQTT-4.7.1-2",
            (Self::InvalidShareName, _) => "MQTT-4.8.2-1",
            (Self::WildcardInShareName, _) => "MQTT-4.8.2-2",
            (Self::EmptySharedFilter, _) => "MQTT-4.8.2-2",
        }
    }
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "empty",
            Self::TooLong => "longer than 65535 bytes",
            Self::NullCharacter => "contains U+0000",
            Self::WildcardInName => "topic name contains a wildcard",
            Self::MultiLevelWildcardMisplaced => "'#' must be alone in the last level",
            Self::SingleLevelWildcardMisplaced => "'+' must occupy a whole level",
            Self::InvalidShareName => "empty share name after $share/",
            Self::WildcardInShareName => "share name contains '+' or '#'",
            Self::EmptySharedFilter => "no topic filter after $share/name/",
        })
    }
}

fn check_common(topic: &str) -> Result<(), TopicError> {
    if topic.is_empty() {
        return Err(TopicError::Empty);
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    if crate::scan::has_nul(topic.as_bytes()) {
        return Err(TopicError::NullCharacter);
    }
    Ok(())
}

/// Checks a topic name as used in PUBLISH, a Will or a Response Topic.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_common(name)?;
    if has_wildcard_byte(name.as_bytes()) {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks a topic filter's wildcard placement; `shared` says whether `$share/` has its v5 meaning.
pub fn validate_topic_filter(filter: &str, shared: bool) -> Result<(), TopicError> {
    check_common(filter)?;
    let filter = if shared {
        match parse_shared(filter) {
            Some(Ok(s)) => s.filter,
            Some(Err(e)) => return Err(e),
            None => filter,
        }
    } else {
        filter
    };
    // Level by level, in order: a level holding '#' must be exactly "#" and the last one; a level
    // holding '+' must be exactly "+". One pass over the bytes (every filter of every SUBSCRIBE
    // comes through here), each level judged at the '/' or the end that closes it.
    let bytes = filter.as_bytes();
    let (mut start, mut hash, mut plus) = (0, false, false);
    for i in 0..=bytes.len() {
        match bytes.get(i) {
            Some(b'/') | None => {
                let alone = i - start == 1;
                if hash && (!alone || i != bytes.len()) {
                    return Err(TopicError::MultiLevelWildcardMisplaced);
                }
                if plus && !alone {
                    return Err(TopicError::SingleLevelWildcardMisplaced);
                }
                (start, hash, plus) = (i + 1, false, false);
            }
            Some(b'#') => hash = true,
            Some(b'+') => plus = true,
            Some(_) => {}
        }
    }
    Ok(())
}

/// A v5 shared subscription: `$share/{group}/{filter}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedFilter<'a> {
    pub group: &'a str,
    pub filter: &'a str,
}

/// `None` when `filter` is not a shared subscription; the split parts, or why they are invalid.
pub fn parse_shared(filter: &str) -> Option<Result<SharedFilter<'_>, TopicError>> {
    let rest = filter.strip_prefix("$share/")?;
    let Some((group, inner)) = rest.split_once('/') else {
        return Some(Err(if rest.is_empty() {
            TopicError::InvalidShareName
        } else if rest.contains(['+', '#']) {
            TopicError::WildcardInShareName
        } else {
            TopicError::EmptySharedFilter
        }));
    };
    if group.is_empty() {
        return Some(Err(TopicError::InvalidShareName));
    }
    // "The ShareName MUST NOT contain the characters "/", "+" or "#"" (MQTT-4.8.2-2).
    if group.contains(['+', '#']) {
        return Some(Err(TopicError::WildcardInShareName));
    }
    if inner.is_empty() {
        return Some(Err(TopicError::EmptySharedFilter));
    }
    Some(Ok(SharedFilter {
        group,
        filter: inner,
    }))
}

/// Whether `filter` has a wildcard.
pub fn has_wildcards(filter: &str) -> bool {
    filter.contains(['+', '#'])
}

/// Whether the (valid, non-shared) `filter` matches the topic `name` (§4.7).
///
/// Levels are compared byte for byte, with no normalization; a name starting with `$` is not
/// matched by a filter starting with a wildcard.
pub fn matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut n = name.split('/');
    loop {
        match (f.next(), n.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(nl)) if fl == nl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(validate_topic_name("a/b"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a\0"), Err(TopicError::NullCharacter));
        assert_eq!(
            validate_topic_name(&"a".repeat(65_536)),
            Err(TopicError::TooLong)
        );
    }

    #[test]
    fn filters() {
        for ok in [
            "#",
            "+",
            "a/#",
            "+/+",
            "/+",
            "a/+/b",
            "sport/tennis/#",
            "$SYS/#",
        ] {
            assert_eq!(validate_topic_filter(ok, true), Ok(()), "{ok}");
        }
        for (bad, e) in [
            ("a#", TopicError::MultiLevelWildcardMisplaced),
            ("a/#/b", TopicError::MultiLevelWildcardMisplaced),
            ("#/", TopicError::MultiLevelWildcardMisplaced),
            ("a+", TopicError::SingleLevelWildcardMisplaced),
            ("a/b+/c", TopicError::SingleLevelWildcardMisplaced),
            ("", TopicError::Empty),
        ] {
            assert_eq!(validate_topic_filter(bad, true), Err(e), "{bad}");
        }
    }

    /// The wildcard rules as the spec states them, level by level (§4.7.1), against the one-pass
    /// scan: the same verdict and, for a filter breaking both rules, the same error.
    fn wildcards_by_level(filter: &str) -> Result<(), TopicError> {
        let levels: Vec<&str> = filter.split('/').collect();
        for (i, level) in levels.iter().enumerate() {
            if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
                return Err(TopicError::MultiLevelWildcardMisplaced);
            }
            if level.contains('+') && *level != "+" {
                return Err(TopicError::SingleLevelWildcardMisplaced);
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_scan_agrees_with_the_rules_level_by_level(filter in "[a/+#]{1,12}") {
            proptest::prop_assert_eq!(validate_topic_filter(&filter, false), wildcards_by_level(&filter));
        }
    }

    #[test]
    fn shared() {
        assert_eq!(
            parse_shared("$share/g/a/+"),
            Some(Ok(SharedFilter {
                group: "g",
                filter: "a/+"
            }))
        );
        assert_eq!(parse_shared("$shared/g/a"), None);
        assert_eq!(
            parse_shared("$share/"),
            Some(Err(TopicError::InvalidShareName))
        );
        assert_eq!(
            parse_shared("$share//a"),
            Some(Err(TopicError::InvalidShareName))
        );
        assert_eq!(
            parse_shared("$share/g+/a"),
            Some(Err(TopicError::WildcardInShareName))
        );
        assert_eq!(
            parse_shared("$share/g"),
            Some(Err(TopicError::EmptySharedFilter))
        );
        assert_eq!(
            parse_shared("$share/g/"),
            Some(Err(TopicError::EmptySharedFilter))
        );
        assert_eq!(
            validate_topic_filter("$share/g/a/#/b", true),
            Err(TopicError::MultiLevelWildcardMisplaced)
        );
        // Before v5, `$share/...` is an ordinary filter.
        assert_eq!(validate_topic_filter("$share/g", false), Ok(()));
    }

    #[test]
    fn matching() {
        let cases = [
            ("sport/tennis/player1/#", "sport/tennis/player1", true),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/ranking",
                true,
            ),
            ("sport/#", "sport", true),
            ("#", "a/b/c", true),
            ("sport/tennis/+", "sport/tennis/player1", true),
            ("sport/tennis/+", "sport/tennis/player1/ranking", false),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
            ("+/+", "/finance", true),
            ("/+", "/finance", true),
            ("+", "/finance", false),
            ("#", "$SYS/uptime", false),
            ("+/uptime", "$SYS/uptime", false),
            ("$SYS/#", "$SYS/uptime", true),
            ("$SYS/+", "$SYS/uptime", true),
            ("a/b", "a/b", true),
            ("a/b", "a/B", false),
            ("a/b", "a/b/", false),
        ];
        for (filter, name, expected) in cases {
            assert_eq!(matches(filter, name), expected, "{filter} vs {name}");
        }
    }
}
