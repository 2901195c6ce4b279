//! `BoxedProperties`: the properties field of every packet, allocated only when a property is set.
//!
//! Most packets carry no property (every 3.1.1 packet, most v5 acknowledgements), yet a
//! [`Properties`] has a slot for each of the 27 properties and takes about 400 bytes. Held inline
//! it made every [`Packet`](crate::Packet) about 1 KB, and decoding, moving and dropping that cost
//! more than the parsing itself. Boxed, an absent list is one null pointer.
//!
//! It dereferences to [`Properties`], so reading (`p.properties.topic_alias`) and writing
//! (`p.properties.topic_alias = Some(1)`, which allocates on first use) look the same as on the
//! struct itself, and a `Properties` converts with `.into()`.

use super::{read_list_len, Properties, PropertyContext};
use crate::error::{DecodeError, EncodeError};
use crate::wire::Reader;
use bytes::BytesMut;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// What an absent list dereferences to.
static EMPTY: Properties = Properties::EMPTY;

/// A [`Properties`] that costs one pointer when empty. Equality compares the properties, so an
/// allocated but empty list equals an absent one.
#[derive(Clone, Default)]
pub struct BoxedProperties(Option<Box<Properties>>);

impl BoxedProperties {
    /// No properties, without allocating.
    pub const fn new() -> Self {
        Self(None)
    }

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self.0.as_deref().is_none_or(Properties::is_empty)
    }

    /// The properties, leaving none behind.
    pub fn take(&mut self) -> Properties {
        self.0.take().map(|b| *b).unwrap_or_default()
    }

    /// The properties by value.
    pub fn into_inner(self) -> Properties {
        self.0.map(|b| *b).unwrap_or_default()
    }

    /// Bytes of the property list, without its own length prefix.
    pub fn encoded_len(&self) -> usize {
        self.0.as_deref().map_or(0, Properties::encoded_len)
    }

    /// Bytes of the property list with its length prefix: what it adds to a packet.
    pub fn wire_len(&self) -> usize {
        self.0.as_deref().map_or(1, Properties::wire_len)
    }

    pub(crate) fn check_encodable(&self) -> Result<(), EncodeError> {
        self.0
            .as_deref()
            .map_or(Ok(()), Properties::check_encodable)
    }

    pub(crate) fn checked_len(&self) -> Result<usize, EncodeError> {
        self.0.as_deref().map_or(Ok(0), Properties::checked_len)
    }

    pub(crate) fn encode(&self, out: &mut BytesMut) {
        match self.0.as_deref() {
            Some(p) => p.encode(out),
            None => out.extend_from_slice(&[0]),
        }
    }

    /// [`Self::encode`] when the caller already has [`Self::encoded_len`].
    pub(crate) fn encode_with_len(&self, len: usize, out: &mut BytesMut) {
        match self.0.as_deref() {
            Some(p) => p.encode_with_len(len, out),
            None => out.extend_from_slice(&[0]),
        }
    }

    /// Reads a property list (length prefix included), checking every §2.2.2 rule for `context`;
    /// allocates only for a non-empty list.
    pub(crate) fn decode(r: &mut Reader, context: PropertyContext) -> Result<Self, DecodeError> {
        let mut p = Self::new();
        let len = read_list_len(r)?;
        if len != 0 {
            p.deref_mut().decode_list(r, context, len)?;
        }
        Ok(p)
    }
}

impl Deref for BoxedProperties {
    type Target = Properties;

    fn deref(&self) -> &Properties {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for BoxedProperties {
    /// Allocates an empty list on first use.
    fn deref_mut(&mut self) -> &mut Properties {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<Properties> for BoxedProperties {
    fn from(p: Properties) -> Self {
        if p.is_empty() {
            Self::new()
        } else {
            Self(Some(Box::new(p)))
        }
    }
}

impl From<BoxedProperties> for Properties {
    fn from(p: BoxedProperties) -> Self {
        p.into_inner()
    }
}

impl PartialEq for BoxedProperties {
    fn eq(&self, other: &Self) -> bool {
        match (self.0.as_deref(), other.0.as_deref()) {
            (None, None) => true,
            _ => **self == **other,
        }
    }
}

impl Eq for BoxedProperties {}

impl PartialEq<Properties> for BoxedProperties {
    fn eq(&self, other: &Properties) -> bool {
        **self == *other
    }
}

impl fmt::Debug for BoxedProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for BoxedProperties {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for BoxedProperties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Properties::deserialize(d).map(Self::from)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for BoxedProperties {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Properties::arbitrary(u).map(Self::from)
    }

    fn size_hint(depth: usize) -> (usize, Option<usize>) {
        Properties::size_hint(depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MqttString;

    #[test]
    fn empty_costs_a_pointer_and_reads_as_empty() {
        assert_eq!(std::mem::size_of::<BoxedProperties>(), 8);
        let p = BoxedProperties::new();
        assert!(p.is_empty());
        assert_eq!(p.reason_string, None);
        assert_eq!(p.wire_len(), 1);
        let mut out = BytesMut::new();
        p.encode(&mut out);
        assert_eq!(&out[..], &[0]);
    }

    #[test]
    fn writing_allocates_and_equality_ignores_the_allocation() {
        let mut p = BoxedProperties::new();
        p.topic_alias = Some(3);
        assert!(!p.is_empty());
        assert_eq!(p.wire_len(), 4);
        p.topic_alias = None;
        assert!(p.is_empty());
        assert_eq!(p, BoxedProperties::new());
        assert_eq!(BoxedProperties::from(Properties::default()).0, None);
    }

    #[test]
    fn converts_both_ways() {
        let props = Properties {
            reason_string: Some(MqttString::from("why")),
            ..Properties::default()
        };
        let boxed = BoxedProperties::from(props.clone());
        assert_eq!(boxed, props);
        assert_eq!(Properties::from(boxed), props);
    }
}
