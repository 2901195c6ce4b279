//! The tokio server around the sans-IO core.
//!
//! # Shape
//! - One **core task** owns the [`Broker`]. Everything that happens comes to it as an event on one
//!   bounded channel; it feeds the event to the broker, sleeps until `poll_timeout`, and hands each
//!   [`Output`] to the writer of the connection concerned.
//! - Each connection has **one task** (socket -> codec `Decoder` -> core, and the bytes the core
//!   encoded for it -> socket), see `connection.rs`; it shares a small [`Link`] with the core task.
//!
//! Why a task and channels rather than the broker behind a mutex: every input touches shared
//! state (routing a PUBLISH reaches other sessions), so a mutex would be taken by every reader for
//! every packet and held across the fan-out; a single owner processes inputs one after another with
//! no lock at all, in a deterministic order, which is exactly the model the core is tested in. The
//! core task never waits on a socket: it encodes each packet into the connection's outbound
//! buffer (one `write` then carries everything queued since the last), and the core itself
//! bounds what it queues per connection
//! (`limits.max_write_queue`, see [`core::write_hard_limit`](crate::core::write_hard_limit)).
//!
//! Back-pressure: each reader may have at most a few packets waiting for the core (so one flooding
//! publisher is slowed, not buffered, and cannot crowd out the acknowledgements of other clients),
//! and connections wait when the core's event channel is full; a slow reader's socket fills, its task
//! stops reporting `Written`, and the core stops sending it PUBLISHes (QoS 0 dropped, QoS 1/2 kept
//! in its bounded session queue). Written counts reach the core outside the event channel
//! ([`WrittenReports`]), so a busy channel does not hold back the sends they allow.
//!
//! Persistence (`Config::persistence`): the log is loaded and the core restored before the
//! listeners accept anything; the core task appends each [`Output::Persist`] record and flushes
//! before handing on any packet that follows one (synchronously: the core task waits for the
//! write, which is what makes the acknowledgement mean something), so a message is in the file
//! (written to the operating system, not yet synced) before its PUBACK/PUBREC leaves. See
//! `server/store.rs`.

mod connection;
mod link;
pub mod store;

use crate::config::Config;
use crate::core::{write_hard_limit, Broker, ConnId, Input, Output, Record};
use connection::Shared;
use link::{Link, WrittenReports};
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
/// A packet travels by value (80 bytes): it is most of the traffic, and a box would be an
/// allocation per packet. The rare other inputs are boxed, so that they do not widen the
/// channel's slots. (A send the channel has no room for waits in the connection's boxed
/// `Pending`, so an idle connection holds no `Event`.)
enum Event {
    /// A connection was accepted; the core encodes its packets into `link`.
    Opened {
        conn: ConnId,
        link: Arc<Link>,
    },
    Input(Box<Input>),
    /// A packet from a connection, holding one of its slots until the core has handled it.
    Packet(ConnId, mqttspec_codec::Packet),
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
    let reports = Arc::new(WrittenReports::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (alive, mut all_ended) = mpsc::channel::<()>(1);
    let ids = Arc::new(AtomicU64::new(0));
    let core = tokio::spawn(core_loop(
        config.clone(),
        store,
        events_rx,
        Arc::clone(&reports),
        stop_rx.clone(),
    ));
    let shared = Arc::new(Shared {
        events: events_tx,
        reports,
        // Open sockets, CONNECTed or not: the core refuses CONNECTs past `max_connections`;
        // this bounds the sockets that have not sent one yet.
        sockets: Semaphore::new(
            config
                .limits
                .max_connections
                .saturating_mul(2)
                .saturating_add(16),
        ),
        max_packet_size: config.limits.max_packet_size,
        _alive: alive,
    });
    let mut accepts = JoinSet::new();
    for listener in listeners {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "listening");
        }
        accepts.spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            stop_rx.clone(),
            Arc::clone(&ids),
        ));
    }
    drop(shared);
    shutdown.await;
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = core.await;
    while accepts.join_next().await.is_some() {}
    // The core closed every connection: writers flush their last packets, readers linger
    // briefly (see connection.rs). The last task to end drops the last `Shared`, and with it
    // the sender `all_ended` waits on. A task still writing to a client that does not read
    // after that ends at its write timeout, or with the runtime.
    let _ = tokio::time::timeout(Duration::from_secs(3), all_ended.recv()).await;
    Ok(())
}

/// Accepts connections until told to stop. Connection tasks are not tracked one by one (a
/// `JoinSet` entry each would cost more than a tenth of an idle connection's memory): they hold
/// `shared`, which is how the server knows when all have ended.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    ids: Arc<AtomicU64>,
) {
    loop {
        let permit = tokio::select! {
            p = shared.sockets.acquire() => match p {
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
                // The task gives the permit back when it ends.
                permit.forget();
                tokio::spawn(connection::serve(stream, id, Arc::clone(&shared)));
            }
            Err(e) => {
                // E.g. out of file descriptors: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Events the core task takes in one go before handing out the outputs.
const EVENT_BATCH: usize = 64;

/// The core task: owns the broker, turns events into inputs and outputs into writes.
async fn core_loop(
    config: Config,
    store: Option<(Store, Vec<Record>)>,
    mut events: mpsc::Receiver<Event>,
    reports: Arc<WrittenReports>,
    mut stop: watch::Receiver<bool>,
) {
    let limit = write_hard_limit(&config) + 8;
    let now = Instant::now().into_std();
    let mut broker = Broker::new(config, now);
    let mut links: HashMap<ConnId, Arc<Link>> = HashMap::new();
    let mut reported = Vec::new();
    let mut store = store.map(|(store, records)| {
        let restored = broker.restore(now, records);
        tracing::info!(
            sessions = restored.sessions,
            retained = restored.retained,
            "restored from the persistence file"
        );
        store
    });
    dispatch(&mut broker, &mut links, limit, &mut store);
    loop {
        let deadline = broker.poll_timeout().map(Instant::from_std);
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                apply(&mut broker, &mut links, ev);
                // Take what else is waiting, so that outputs go out in larger batches.
                for _ in 1..EVENT_BATCH {
                    match events.try_recv() {
                        Ok(ev) => apply(&mut broker, &mut links, ev),
                        Err(_) => break,
                    }
                }
            }
            _ = reports.notify.notified() => {}
            _ = sleep_until(deadline) => broker.handle(Instant::now().into_std(), Input::Tick),
            _ = stop.changed() => {
                broker.handle(Instant::now().into_std(), Input::Shutdown);
                dispatch(&mut broker, &mut links, limit, &mut store);
                break;
            }
        }
        report_written(&mut broker, &links, &reports, &mut reported);
        dispatch(&mut broker, &mut links, limit, &mut store);
    }
    if let Some(store) = &mut store {
        store.sync();
    }
    // Connections the core did not close write what they have and close.
    for link in links.values() {
        link.close();
    }
}

fn apply(broker: &mut Broker, links: &mut HashMap<ConnId, Arc<Link>>, ev: Event) {
    let now = Instant::now().into_std();
    match ev {
        Event::Opened { conn, link } => {
            links.insert(conn, link);
            broker.handle(now, Input::Opened(conn));
        }
        Event::Input(input) => {
            if let Input::Closed(conn) = &*input {
                links.remove(conn);
            }
            broker.handle(now, *input);
        }
        Event::Packet(conn, packet) => {
            broker.handle(now, Input::Received(conn, packet));
            if let Some(link) = links.get(&conn) {
                link.input_done(connection::READER_SLOTS);
            }
        }
    }
}

/// Feeds the core the written counts that connections reported.
fn report_written(
    broker: &mut Broker,
    links: &HashMap<ConnId, Arc<Link>>,
    reports: &WrittenReports,
    scratch: &mut Vec<ConnId>,
) {
    reports.take(scratch);
    if scratch.is_empty() {
        return;
    }
    let now = Instant::now().into_std();
    for conn in scratch.drain(..) {
        if let Some(link) = links.get(&conn) {
            let packets = link.take_written();
            if packets > 0 {
                broker.handle(now, Input::Written { conn, packets });
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Encodes the broker's outputs into the connections' links, then wakes each connection once,
/// and appends records to the store. Never waits on a socket: a link refuses packets only if its
/// task stopped taking them (more than `limit` wait), and then the connection is reported closed.
/// Records are flushed before any packet that follows them is handed to a link.
fn dispatch(
    broker: &mut Broker,
    links: &mut HashMap<ConnId, Arc<Link>>,
    limit: usize,
    store: &mut Option<Store>,
) {
    let mut gone = Vec::new();
    let mut wake = Vec::new();
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
                if let Some(link) = links.get(&conn) {
                    // The task holds the other reference while it runs.
                    let alive = Arc::strong_count(link) > 1;
                    match link.push(conn, &packet, version, limit) {
                        Ok(waker) if alive => wake.extend(waker),
                        _ => {
                            links.remove(&conn);
                            gone.push(conn);
                        }
                    }
                }
            }
            Output::Close { conn, reason } => {
                if let Some(s) = store {
                    s.flush();
                }
                tracing::debug!(%conn, ?reason, "closing");
                // The task writes what is queued, then closes.
                if let Some(link) = links.remove(&conn) {
                    link.close();
                }
            }
        }
    }
    if let Some(s) = store {
        s.flush();
    }
    for waker in wake {
        waker.wake();
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
