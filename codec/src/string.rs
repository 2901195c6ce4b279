//! `MqttString`: a UTF-8 string that is a slice of the received bytes, so decoding copies nothing.

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// Immutable UTF-8 text backed by [`Bytes`].
///
/// The only invariant is valid UTF-8; MQTT's further rules (no U+0000, at most 65,535 bytes) are
/// checked by the decoder, so that a test tool can still build and send a string that breaks them.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MqttString(Bytes);

impl MqttString {
    /// An empty string.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// A string from static text, without allocating.
    pub const fn from_static(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps bytes that are valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Self(bytes))
    }

    /// Wraps `bytes` if they are all ASCII other than U+0000 (so well-formed UTF-8 without the
    /// null character), else gives them back: the common case of the decoder's string checks.
    pub(crate) fn from_plain_ascii(bytes: Bytes) -> Result<Self, Bytes> {
        if crate::scan::is_plain_ascii(&bytes) {
            Ok(Self(bytes))
        } else {
            Err(bytes)
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor checks or guarantees UTF-8 and the bytes are immutable.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Takes the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for MqttString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for MqttString {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for MqttString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for MqttString {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for MqttString {
    fn from(s: String) -> Self {
        Self(Bytes::from(s.into_bytes()))
    }
}

impl From<&String> for MqttString {
    fn from(s: &String) -> Self {
        Self::from(s.as_str())
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for MqttString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MqttString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self::from)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MqttString {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        String::arbitrary(u).map(Self::from)
    }
}
