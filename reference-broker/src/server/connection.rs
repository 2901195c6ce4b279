//! One connection: a reader (socket -> decoder -> core) and a writer (core -> encoder -> socket).
//!
//! Closing is "lingering": when the core closes a connection, the writer writes what is queued
//! (the final CONNACK or DISCONNECT), shuts down its half, and the reader then discards input
//! until the client closes or a second passes. Closing with unread input would make the kernel
//! reset the connection, and the client could lose that final packet.

use super::{Event, WriterMsg};
use crate::config::Config;
use crate::core::{write_hard_limit, ConnId, Input};
use bytes::BytesMut;
use mqttspec_codec::packet::{packet_type, peek_connect_version};
use mqttspec_codec::{encode, Decoder, ProtocolVersion};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// How long the reader keeps discarding input after the broker closed the connection.
const LINGER: Duration = Duration::from_secs(1);
/// A write that makes no progress for this long ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes the writer gathers from queued packets into one write.
const WRITE_BATCH: usize = 64 * 1024;
/// Bytes reserved for one read from the socket.
const READ_CHUNK: usize = 4096;
/// Packets one connection may have waiting for the core. Without it a flooding publisher fills
/// the core's queue and the acknowledgements of every other client wait behind its PUBLISHes.
const READER_SLOTS: usize = 16;

pub(super) async fn serve(
    stream: TcpStream,
    conn: ConnId,
    events: mpsc::Sender<Event>,
    config: &Config,
) {
    let (rd, wr) = stream.into_split();
    let (writer_tx, writer_rx) = mpsc::channel(write_hard_limit(config) + 8);
    if events
        .send(Event::Opened {
            conn,
            writer: writer_tx,
        })
        .await
        .is_err()
    {
        return;
    }
    let (closing_tx, closing_rx) = oneshot::channel();
    let writer = tokio::spawn(write_loop(wr, writer_rx, conn, events.clone(), closing_tx));
    read_loop(rd, conn, events, closing_rx, config.limits.max_packet_size).await;
    let _ = writer.await;
}

async fn read_loop(
    mut rd: OwnedReadHalf,
    conn: ConnId,
    events: mpsc::Sender<Event>,
    mut closing: oneshot::Receiver<()>,
    max_packet_size: u32,
) {
    let mut decoder = Decoder::learning().with_max_packet_size(max_packet_size);
    let slots = Arc::new(Semaphore::new(READER_SLOTS));
    loop {
        loop {
            let version = decoder
                .version()
                .or_else(|| connect_version_hint(decoder.buffer_mut()));
            // The decoded packet is boxed at once, in its own statement: a `match` on
            // `decoder.next()` would keep the ~1 KB result in the task's state across the awaits
            // below, for the whole life of every connection.
            let next = decoder
                .next()
                .map(|p| p.map(|packet| Box::new(Input::Received(conn, packet))));
            match next {
                Ok(Some(input)) => {
                    let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                        return;
                    };
                    if events.send(Event::Packet(input, slot)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    if decoder.buffered() == 0 {
                        // Give the allocation back (packets decoded from it keep their part).
                        *decoder.buffer_mut() = BytesMut::new();
                    }
                    break;
                }
                Err(error) => {
                    let input = Input::DecodeError {
                        conn,
                        error,
                        version,
                    };
                    if events.send(Event::Input(Box::new(input))).await.is_ok() {
                        // The core closes the connection; wait for the writer to finish.
                        let wait = tokio::time::timeout(Duration::from_secs(5), &mut closing);
                        let _ = Box::pin(wait).await;
                    }
                    Box::pin(linger(&mut rd)).await;
                    return;
                }
            }
        }
        // An idle connection holds no read buffer: wait until the socket is readable, then
        // reserve. (Once all buffered bytes are decoded the buffer is dropped, below.)
        tokio::select! {
            r = rd.readable() => if r.is_err() {
                let _ = events.send(Event::Input(Box::new(Input::Closed(conn)))).await;
                return;
            },
            _ = &mut closing => {
                Box::pin(linger(&mut rd)).await;
                return;
            }
        }
        let buf = decoder.buffer_mut();
        buf.reserve(READ_CHUNK);
        match rd.try_read_buf(buf) {
            Ok(0) => {
                let _ = events
                    .send(Event::Input(Box::new(Input::Closed(conn))))
                    .await;
                return;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                let _ = events
                    .send(Event::Input(Box::new(Input::Closed(conn))))
                    .await;
                return;
            }
        }
    }
}

/// Discards input until the client closes, or for [`LINGER`] at most. Callers box it: a rare
/// path whose timer would otherwise enlarge every connection task's state.
async fn linger(rd: &mut OwnedReadHalf) {
    // On the heap: an array here would sit in every connection task's state all its life.
    let mut sink = vec![0u8; 4096];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(n) = rd.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut packets: mpsc::Receiver<WriterMsg>,
    conn: ConnId,
    events: mpsc::Sender<Event>,
    closing: oneshot::Sender<()>,
) {
    let mut buf = BytesMut::new();
    while let Some(first) = packets.recv().await {
        let mut count = 0;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            count += 1;
            if let Err(e) = encode(&msg.packet, msg.version, &mut buf) {
                tracing::warn!(%conn, error = %e, "cannot encode packet");
            }
            if buf.len() < WRITE_BATCH {
                next = packets.try_recv().ok();
            }
        }
        match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&buf)).await {
            Ok(Ok(())) => {}
            _ => {
                let _ = events
                    .send(Event::Input(Box::new(Input::Closed(conn))))
                    .await;
                break;
            }
        }
        buf.clear();
        let written = Input::Written {
            conn,
            packets: count,
        };
        if events.send(Event::Input(Box::new(written))).await.is_err() {
            break;
        }
    }
    let _ = wr.shutdown().await;
    let _ = closing.send(());
}

/// The version a CONNECT at the start of `buf` announces, read before decoding it, so that a
/// broken CONNECT can still be answered in its own version.
fn connect_version_hint(buf: &[u8]) -> Option<ProtocolVersion> {
    if buf.first()? >> 4 != packet_type::CONNECT {
        return None;
    }
    let len_bytes = buf.iter().skip(1).take(4).position(|b| b & 0x80 == 0)? + 1;
    peek_connect_version(buf.get(1 + len_bytes..)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_hint_reads_a_connect_header() {
        let v5 = [0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x03];
        assert_eq!(connect_version_hint(&v5), Some(ProtocolVersion::V5));
        let v4 = [0x10, 0x0D, 0, 4, b'M', b'Q', b'T', b'T', 4];
        assert_eq!(connect_version_hint(&v4), Some(ProtocolVersion::V3_1_1));
        assert_eq!(connect_version_hint(&[0x30, 0x00]), None);
        assert_eq!(connect_version_hint(&[0x10]), None);
        assert_eq!(
            connect_version_hint(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            None
        );
    }
}
