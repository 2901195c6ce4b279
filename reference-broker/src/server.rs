//! The tokio server around the sans-IO core.
//!
//! # Shape
//! - One **core task** owns the [`Broker`]. Everything that happens comes to it as an event on one
//!   bounded channel; it feeds the event to the broker, sleeps until `poll_timeout`, and hands each
//!   [`Output`] to the writer of the connection concerned.
//! - Each connection has a **reader task** (socket -> codec `Decoder` -> core) and a **writer
//!   task** (core -> encoder -> socket), see `connection.rs`.
//!
//! Why a task and channels rather than the broker behind a mutex: every input touches shared
//! state (routing a PUBLISH reaches other sessions), so a mutex would be taken by every reader for
//! every packet and held across the fan-out; a single owner processes inputs one after another with
//! no lock at all, in a deterministic order, which is exactly the model the core is tested in. The
//! core task never waits on a socket: writers get packets through `try_send` on queues sized from
//! the config, and the core itself bounds what it queues per connection
//! (`limits.max_write_queue`, see [`core::write_hard_limit`](crate::core::write_hard_limit)).
//!
//! Back-pressure: each reader may have at most a few packets waiting for the core (so one flooding
//! publisher is slowed, not buffered, and cannot crowd out the acknowledgements of other clients),
//! and readers wait when the core's event channel is full; a slow reader's socket fills, its writer stops reporting `Written`, and
//! the core stops sending it PUBLISHes (QoS 0 dropped, QoS 1/2 kept in its bounded session queue).
//!
//! Persistence (`Config::persistence`): the log is loaded and the core restored before the
//! listeners accept anything; the core task appends each [`Output::Persist`] record and flushes
//! before handing on any packet that follows one (synchronously: the core task waits for the
//! write, which is what makes the acknowledgement mean something), so a message is in the file (written to the
//! operating system, not yet synced) before its PUBACK/PUBREC leaves. See `server/store.rs`.

mod connection;
pub mod store;

use crate::config::Config;
use crate::core::{Broker, ConnId, Input, Output, Record};
use mqttspec_codec::{Packet, ProtocolVersion};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Events waiting for the core task; readers wait when it is full.
const EVENT_QUEUE: usize = 1024;

/// What connection tasks tell the core task.
///
/// Inputs are boxed: an `Input` can hold a ~1 KB `Packet`, and every connection task keeps a
/// pending send of an `Event` in its state all its life, so an unboxed one would cost each idle
/// connection kilobytes. One allocation per packet is the cheaper side of that trade.
enum Event {
    /// A connection was accepted; `writer` takes the packets for it.
    Opened {
        conn: ConnId,
        writer: mpsc::Sender<WriterMsg>,
    },
    Input(Box<Input>),
    /// A packet from a reader, holding one of the reader's slots until the core has handled it.
    Packet(Box<Input>, tokio::sync::OwnedSemaphorePermit),
}

/// A packet to encode and write. Boxed: a `Packet` is about 1 KB (every v5 property has its
/// slot), and tokio's channels allocate their slots 32 at a time, so an unboxed packet would cost
/// every connection 32 KB from its first CONNACK on.
struct WriterMsg {
    version: ProtocolVersion,
    packet: Box<Packet>,
}

/// Runs the broker on `listener` until `shutdown` completes, then disconnects every client
/// (v5: DISCONNECT 0x8B) and returns. Fails at once if the persistence file cannot be used.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    run_listeners(vec![listener], config, shutdown).await
}

/// [`run`] on several listeners, all feeding one broker.
pub async fn run_listeners(
    listeners: Vec<TcpListener>,
    mut config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    config
        .load_password_file(None)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let store = match &config.persistence {
        Some(path) => {
            Some(Store::open(path).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?)
        }
        None => None,
    };
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (stop_tx, stop_rx) = watch::channel(false);
    let ids = Arc::new(AtomicU64::new(0));
    // Open sockets, CONNECTed or not: the core refuses CONNECTs past `max_connections`; this
    // bounds the sockets that have not sent one yet.
    let sockets = Arc::new(Semaphore::new(
        config
            .limits
            .max_connections
            .saturating_mul(2)
            .saturating_add(16),
    ));
    let core = tokio::spawn(core_loop(config.clone(), store, events_rx, stop_rx.clone()));
    let shared = Arc::new(config);
    let mut accepts = JoinSet::new();
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening");
        }
        accepts.spawn(accept_loop(
            listener,
            events_tx.clone(),
            stop_rx.clone(),
            Arc::clone(&shared),
            Arc::clone(&ids),
            Arc::clone(&sockets),
        ));
    }
    drop(events_tx);
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = core.await;
    while let Some(done) = accepts.join_next().await {
        if let Ok(mut conns) = done {
            // Writers flush their last packets; readers linger briefly (see connection.rs).
            let _ = tokio::time::timeout(Duration::from_secs(3), async {
                while conns.join_next().await.is_some() {}
            })
            .await;
            conns.abort_all();
        }
    }
    Ok(())
}

/// Accepts connections until told to stop; returns the connection tasks still running.
async fn accept_loop(
    listener: TcpListener,
    events: mpsc::Sender<Event>,
    mut stop: watch::Receiver<bool>,
    config: Arc<Config>,
    ids: Arc<AtomicU64>,
    sockets: Arc<Semaphore>,
) -> JoinSet<()> {
    let mut conns = JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = Arc::clone(&sockets).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let id = ConnId(ids.fetch_add(1, Ordering::Relaxed) + 1);
                tracing::debug!(%id, %peer, "accepted");
                let events = events.clone();
                let config = Arc::clone(&config);
                conns.spawn(async move {
                    connection::serve(stream, id, events, &config).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // E.g. out of file descriptors: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    conns
}

/// Events the core task takes in one go before handing out the outputs.
const EVENT_BATCH: usize = 64;

/// The core task: owns the broker, turns events into inputs and outputs into writes.
async fn core_loop(
    config: Config,
    store: Option<(Store, Vec<Record>)>,
    mut events: mpsc::Receiver<Event>,
    mut stop: watch::Receiver<bool>,
) {
    let now = Instant::now().into_std();
    let mut broker = Broker::new(config, now);
    let mut writers: HashMap<ConnId, mpsc::Sender<WriterMsg>> = HashMap::new();
    let mut store = store.map(|(store, records)| {
        let restored = broker.restore(now, records);
        tracing::info!(
            sessions = restored.sessions,
            retained = restored.retained,
            "restored from the persistence file"
        );
        store
    });
    dispatch(&mut broker, &mut writers, &mut store);
    loop {
        let deadline = broker.poll_timeout().map(Instant::from_std);
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                apply(&mut broker, &mut writers, ev);
                // Take what else is waiting, so that outputs go out in larger batches.
                for _ in 1..EVENT_BATCH {
                    match events.try_recv() {
                        Ok(ev) => apply(&mut broker, &mut writers, ev),
                        Err(_) => break,
                    }
                }
            }
            _ = sleep_until(deadline) => broker.handle(Instant::now().into_std(), Input::Tick),
            _ = stop.changed() => {
                broker.handle(Instant::now().into_std(), Input::Shutdown);
                dispatch(&mut broker, &mut writers, &mut store);
                break;
            }
        }
        dispatch(&mut broker, &mut writers, &mut store);
    }
    if let Some(store) = &mut store {
        store.sync();
    }
}

fn apply(broker: &mut Broker, writers: &mut HashMap<ConnId, mpsc::Sender<WriterMsg>>, ev: Event) {
    let now = Instant::now().into_std();
    match ev {
        Event::Opened { conn, writer } => {
            writers.insert(conn, writer);
            broker.handle(now, Input::Opened(conn));
        }
        Event::Input(input) => {
            if let Input::Closed(conn) = &*input {
                writers.remove(conn);
            }
            broker.handle(now, *input);
        }
        Event::Packet(input, slot) => {
            broker.handle(now, *input);
            drop(slot);
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Hands the broker's outputs to the writers and records to the store. Never waits on a socket:
/// queues are sized so that `try_send` only fails if a writer is gone, and then the connection is
/// reported closed. Records are flushed before any packet that follows them.
fn dispatch(
    broker: &mut Broker,
    writers: &mut HashMap<ConnId, mpsc::Sender<WriterMsg>>,
    store: &mut Option<Store>,
) {
    let mut gone = Vec::new();
    while let Some(out) = broker.poll_output() {
        match out {
            Output::Persist(record) => {
                if let Some(s) = store {
                    s.append(&record);
                }
            }
            Output::Send {
                conn,
                version,
                packet,
            } => {
                if let Some(s) = store {
                    s.flush();
                }
                if let Some(w) = writers.get(&conn) {
                    if w.try_send(WriterMsg {
                        version,
                        packet: Box::new(packet),
                    })
                    .is_err()
                    {
                        writers.remove(&conn);
                        gone.push(conn);
                    }
                }
            }
            Output::Close { conn, reason } => {
                if let Some(s) = store {
                    s.flush();
                }
                tracing::debug!(%conn, ?reason, "closing");
                // Dropping the sender lets the writer write what is queued, then close.
                writers.remove(&conn);
            }
        }
    }
    if let Some(s) = store {
        s.flush();
    }
    for conn in gone {
        broker.handle(Instant::now().into_std(), Input::Closed(conn));
    }
}

/// A broker running in the background, for tests and the embedded target.
pub struct BrokerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<io::Result<()>>>,
}

impl BrokerHandle {
    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Disconnects every client and waits for the broker to stop.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1 on a free port and runs the broker there in a tokio task.
pub async fn spawn(config: Config) -> io::Result<BrokerHandle> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, config, async {
        let _ = stopped.await;
    }));
    Ok(BrokerHandle {
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}
