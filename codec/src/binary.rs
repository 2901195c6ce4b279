//! The serde form of binary data (payloads, correlation data, passwords, authentication data).
//!
//! Text is what people read and write in scenarios, so bytes that are valid UTF-8 appear as a plain
//! string; anything else as `{"hex": "00ff..."}`. Both forms are accepted when reading.

use bytes::Bytes;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Form {
    Text(String),
    Hex { hex: String },
}

fn to_form(bytes: &[u8]) -> Form {
    match std::str::from_utf8(bytes) {
        Ok(text) => Form::Text(text.to_owned()),
        Err(_) => Form::Hex {
            hex: hex::encode(bytes),
        },
    }
}

fn from_form<E: serde::de::Error>(form: Form) -> Result<Bytes, E> {
    match form {
        Form::Text(text) => Ok(Bytes::from(text.into_bytes())),
        Form::Hex { hex } => {
            let clean: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            hex::decode(clean)
                .map(Bytes::from)
                .map_err(|e| E::custom(format!("invalid hex: {e}")))
        }
    }
}

pub(crate) fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    to_form(bytes).serialize(s)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
    from_form(Form::deserialize(d).map_err(|_| {
        D::Error::custom("expected binary data: a string, or a table {hex = \"...\"}")
    })?)
}

/// The same form for optional binary fields.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(bytes: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
        bytes.as_deref().map(to_form).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Bytes>, D::Error> {
        match Option::<Form>::deserialize(d)? {
            Some(form) => from_form(form).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(feature = "arbitrary")]
pub(crate) fn arbitrary_bytes(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Bytes> {
    let v: Vec<u8> = arbitrary::Arbitrary::arbitrary(u)?;
    Ok(Bytes::from(v))
}

#[cfg(feature = "arbitrary")]
pub(crate) fn arbitrary_option_bytes(
    u: &mut arbitrary::Unstructured<'_>,
) -> arbitrary::Result<Option<Bytes>> {
    let v: Option<Vec<u8>> = arbitrary::Arbitrary::arbitrary(u)?;
    Ok(v.map(Bytes::from))
}
