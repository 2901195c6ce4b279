//! `mqttspec decode`: bytes in hex to the packet's JSON form, or the spec statement they break.

use mqttspec_codec::{decode_one, ProtocolVersion};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Protocol version to decode for (a CONNECT always announces its own).
    #[arg(long, default_value = "5.0", value_parser = parse_version)]
    protocol: ProtocolVersion,
    /// The packet as hex; spaces, colons and a 0x prefix are ignored. Several arguments are joined.
    #[arg(required = true, num_args = 1..)]
    hex: Vec<String>,
}

fn parse_version(s: &str) -> Result<ProtocolVersion, String> {
    s.parse()
}

/// Parses hex as people paste it: with spaces, colons, commas or `0x` prefixes.
pub fn parse_hex(input: &str) -> Result<Vec<u8>, String> {
    let clean: String = input
        .split(|c: char| c.is_whitespace() || c == ':' || c == ',')
        .map(|part| part.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    hex::decode(&clean).map_err(|e| format!("invalid hex: {e}"))
}

/// The JSON the command prints, or the error text; shared with tests.
pub fn decode_to_json(bytes: &[u8], protocol: ProtocolVersion) -> Result<String, String> {
    let packet = decode_one(bytes, protocol).map_err(|e| {
        format!(
            "error: {} [{}] (v5 reason code {})",
            e.kind,
            e.spec,
            e.reason_code()
        )
    })?;
    serde_json::to_string_pretty(&packet).map_err(|e| format!("error: {e}"))
}

pub fn main(args: Args) -> ExitCode {
    let bytes = match parse_hex(&args.hex.join(" ")) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match decode_to_json(&bytes, args.protocol) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        assert_eq!(parse_hex("c0 00").unwrap(), vec![0xC0, 0]);
        assert_eq!(parse_hex("0xc0:0x00").unwrap(), vec![0xC0, 0]);
        assert!(parse_hex("c").is_err());
    }

    #[test]
    fn decodes_or_names_the_statement() {
        let json = decode_to_json(&[0xC0, 0], ProtocolVersion::V5).unwrap();
        assert!(json.contains("\"pingreq\""), "{json}");
        let err = decode_to_json(&[0x36, 3, 0, 1, b'a'], ProtocolVersion::V3_1_1).unwrap_err();
        assert!(err.contains("MQTT-3.3.1-4"), "{err}");
    }
}
