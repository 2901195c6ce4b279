//! What one idle connected client costs the server in heap, counted exactly (RSS adds the
//! allocator's overhead and fragmentation on top; `benches/broker.sh` measures that).
//!
//! `cargo run --release -p mqttspec-broker --example idle_cost -- [CONNECTIONS]` (raise
//! `ulimit -n`: both ends of every connection live in this process). The clients are plain
//! blocking sockets, which allocate nothing on the heap, so the difference is the server's.

use mqttspec_broker::{server, Config};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// The system allocator, counting live bytes and blocks.
struct Counting;

static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);
/// Live blocks by size, in 16-byte classes (the last one holds everything larger).
static SIZES: [AtomicIsize; 512] = [const { AtomicIsize::new(0) }; 512];

fn class(size: usize) -> &'static AtomicIsize {
    &SIZES[(size / 16).min(511)]
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        class(layout.size()).fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        class(layout.size()).fetch_sub(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        class(layout.size()).fetch_sub(1, Ordering::Relaxed);
        class(new_size).fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A 3.1.1 CONNECT with a clean session, keep-alive off and client id `id`.
fn connect_packet(id: &str) -> Vec<u8> {
    let mut p = vec![
        0x10,
        (10 + 2 + id.len()) as u8,
        0,
        4,
        b'M',
        b'Q',
        b'T',
        b'T',
        4,
        0x02,
        0,
        0,
    ];
    p.extend_from_slice(&(id.len() as u16).to_be_bytes());
    p.extend_from_slice(id.as_bytes());
    p
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let handle = runtime
        .block_on(server::spawn(Config::default()))
        .expect("broker");
    let addr = handle.local_addr();
    // One connection first, so that lazily built shared state is not counted per connection.
    let mut warm = TcpStream::connect(addr).expect("connect");
    warm.write_all(&connect_packet("warm")).expect("write");
    let mut ack = [0u8; 4];
    warm.read_exact(&mut ack).expect("connack");
    std::thread::sleep(Duration::from_millis(200));
    let (bytes0, blocks0) = (
        BYTES.load(Ordering::Relaxed),
        BLOCKS.load(Ordering::Relaxed),
    );
    let sizes0: Vec<isize> = SIZES.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    let mut clients = Vec::with_capacity(count);
    for i in 0..count {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.write_all(&connect_packet(&format!("idle-{i:06}")))
            .expect("write");
        s.read_exact(&mut ack).expect("connack");
        clients.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let bytes = BYTES.load(Ordering::Relaxed) - bytes0;
    let blocks = BLOCKS.load(Ordering::Relaxed) - blocks0;
    // The client vector is the only allocation on this side.
    let mine = (count * std::mem::size_of::<TcpStream>()) as isize;
    let n = count as f64;
    println!(
        "{count} idle connections: {:.0} heap bytes and {:.1} blocks per connection",
        (bytes - mine) as f64 / n,
        blocks as f64 / n
    );
    // Where it goes: blocks per connection by size class.
    for (i, c) in SIZES.iter().enumerate() {
        let d = c.load(Ordering::Relaxed) - sizes0[i];
        if d.abs() * 20 >= count as isize {
            println!(
                "  {:>5}..{:<5} bytes: {:.2} blocks",
                i * 16,
                i * 16 + 15,
                d as f64 / n
            );
        }
    }
    drop(clients);
    drop(warm);
    runtime.block_on(handle.shutdown());
}
