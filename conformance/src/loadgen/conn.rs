//! A bare MQTT connection for load: CONNECT/CONNACK, then packets in and batches out.

use super::LoadError;
use bytes::BytesMut;
use mqttspec_codec::{encode, Connect, Decoder, Packet, ProtocolVersion};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// How long the broker may take to answer CONNECT or SUBSCRIBE before the run gives up.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The reading side: socket plus decoder.
pub(crate) struct Reader {
    half: OwnedReadHalf,
    decoder: Decoder,
}

impl Reader {
    /// The next packet; `Ok(None)` when the broker closed the connection.
    pub(crate) async fn next(&mut self) -> Result<Option<Packet>, LoadError> {
        loop {
            match self.decoder.next() {
                Ok(Some(p)) => return Ok(Some(p)),
                Ok(None) => {}
                Err(e) => return Err(LoadError::Protocol(format!("broker sent {e}"))),
            }
            let n = self
                .half
                .read_buf(self.decoder.buffer_mut())
                .await
                .map_err(|e| LoadError::Protocol(format!("read: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
        }
    }

    /// A packet that is already buffered, without waiting.
    pub(crate) fn buffered(&mut self) -> Result<Option<Packet>, LoadError> {
        self.decoder
            .next()
            .map_err(|e| LoadError::Protocol(format!("broker sent {e}")))
    }
}

/// The writing side: socket plus a reusable buffer that packets are batched into.
pub(crate) struct Writer {
    half: OwnedWriteHalf,
    pub(crate) buf: BytesMut,
    pub(crate) version: ProtocolVersion,
}

impl Writer {
    pub(crate) fn push(&mut self, packet: &Packet) -> Result<(), LoadError> {
        encode(packet, self.version, &mut self.buf)
            .map_err(|e| LoadError::Protocol(format!("encode: {e}")))
    }

    pub(crate) async fn flush(&mut self) -> Result<(), LoadError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.half
            .write_all(&self.buf)
            .await
            .map_err(|e| LoadError::Protocol(format!("write: {e}")))?;
        self.buf.clear();
        Ok(())
    }
}

/// Connects and completes CONNECT/CONNACK with a clean session.
pub(crate) async fn open(
    addr: SocketAddr,
    version: ProtocolVersion,
    client_id: &str,
    keep_alive: u16,
) -> Result<(Reader, Writer), LoadError> {
    let stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| LoadError::Timeout("connecting"))?
        .map_err(|source| LoadError::Connect { addr, source })?;
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    let mut reader = Reader {
        half: r,
        decoder: Decoder::new(version),
    };
    let mut writer = Writer {
        half: w,
        buf: BytesMut::with_capacity(64 * 1024),
        version,
    };
    let connect = Connect {
        protocol: version,
        clean_start: true,
        keep_alive,
        client_id: client_id.into(),
        ..Connect::default()
    };
    writer.push(&Packet::from(connect))?;
    writer.flush().await?;
    let answer = tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next())
        .await
        .map_err(|_| LoadError::Timeout("waiting for CONNACK"))??;
    match answer {
        Some(Packet::Connack(c)) if c.reason_code.0 == 0 => Ok((reader, writer)),
        Some(Packet::Connack(c)) => Err(LoadError::Refused {
            client: client_id.to_owned(),
            detail: format!("CONNACK {}", c.reason_code),
        }),
        Some(other) => Err(LoadError::Protocol(format!(
            "expected CONNACK, got {}",
            other.name()
        ))),
        None => Err(LoadError::Refused {
            client: client_id.to_owned(),
            detail: "connection closed before CONNACK".into(),
        }),
    }
}
