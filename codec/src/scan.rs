//! Byte scans a word (8 bytes) at a time, for the checks every string of every packet goes
//! through: the compiler's vectorization of a per-byte loop widens each byte to 32 bits and takes
//! four per step on these short strings.

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// High bit set in some byte of the result exactly when `w` has a zero byte.
#[inline(always)]
fn zero_byte(w: u64) -> u64 {
    w.wrapping_sub(ONES) & !w & HIGHS
}

/// Whether `flag` is non-zero for some little-endian word of `bytes`, or `byte` true for some
/// byte of a slice shorter than a word. The last word overlaps the one before rather than
/// being padded, which would cost a copy of variable length.
#[inline(always)]
fn any_word(bytes: &[u8], flag: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> bool {
    let word = |at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        flag(u64::from_le_bytes(w))
    };
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().fold(false, |found, &b| found | byte(b));
    }
    let mut found = word(len - 8);
    let mut at = 0;
    while at + 8 < len {
        found |= word(at);
        at += 8;
    }
    found != 0
}

/// Whether every byte is 0x01..=0x7F: ASCII without U+0000, so well-formed UTF-8 that MQTT
/// accepts in a string (MQTT-1.5.4-1, MQTT-1.5.4-2).
#[inline]
pub(crate) fn is_plain_ascii(bytes: &[u8]) -> bool {
    !any_word(
        bytes,
        |w| (w | zero_byte(w)) & HIGHS,
        |b| !(0x01..=0x7F).contains(&b),
    )
}

/// Whether `bytes` hold a zero byte (U+0000 in a string).
#[inline]
pub(crate) fn has_nul(bytes: &[u8]) -> bool {
    any_word(bytes, zero_byte, |b| b == 0)
}

/// Whether `bytes` hold `+` or `#`.
#[inline]
pub(crate) fn has_wildcard_byte(bytes: &[u8]) -> bool {
    any_word(
        bytes,
        |w| zero_byte(w ^ (ONES * u64::from(b'+'))) | zero_byte(w ^ (ONES * u64::from(b'#'))),
        |b| b == b'+' || b == b'#',
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes_near_the_edges() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            Just(0u8),
            Just(1),
            Just(b'+'),
            Just(b'#'),
            Just(0x7F),
            Just(0x80),
            Just(0xFF),
            b'a'..=b'z',
            any::<u8>(),
        ];
        prop::collection::vec(byte, 0..40)
    }

    proptest! {
        #[test]
        fn plain_ascii_agrees_with_a_byte_by_byte_check(bytes in bytes_near_the_edges()) {
            prop_assert_eq!(is_plain_ascii(&bytes), bytes.iter().all(|&b| (1..=0x7F).contains(&b)));
        }

        #[test]
        fn nul_agrees_with_a_byte_by_byte_check(bytes in bytes_near_the_edges()) {
            prop_assert_eq!(has_nul(&bytes), bytes.contains(&0));
        }

        #[test]
        fn wildcard_agrees_with_a_byte_by_byte_check(bytes in bytes_near_the_edges()) {
            prop_assert_eq!(has_wildcard_byte(&bytes), bytes.iter().any(|&b| b == b'+' || b == b'#'));
        }
    }

    #[test]
    fn every_position_of_a_bad_byte_is_seen() {
        for len in 1..=24 {
            for at in 0..len {
                for bad in [0u8, 0x80, 0xC3, 0xFF] {
                    let mut v = vec![b'a'; len];
                    v[at] = bad;
                    assert!(!is_plain_ascii(&v), "{v:?}");
                }
                let mut v = vec![b'a'; len];
                v[at] = b'#';
                assert!(has_wildcard_byte(&v) && is_plain_ascii(&v));
            }
        }
        assert!(is_plain_ascii(b"") && !has_wildcard_byte(b""));
    }
}
