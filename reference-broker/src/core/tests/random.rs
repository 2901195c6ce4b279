//! Random traffic: arbitrary packets (encoded and decoded as the network would deliver them),
//! connects, drops and clock jumps on a few connections. The broker must never panic and never
//! send on a connection after closing it (checked by `Sim`).

use super::*;
use arbitrary::{Arbitrary, Unstructured};
use mqttspec_codec::{decode_one, to_bytes};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Deterministic bytes for `seed`, so every run sees the same inputs.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut data = vec![0; n];
    StdRng::seed_from_u64(seed).fill_bytes(&mut data);
    data
}

fn step(
    sim: &mut Sim,
    u: &mut Unstructured,
    conns: &mut Vec<(ConnId, ProtocolVersion)>,
) -> arbitrary::Result<()> {
    let ids = ["a", "b", "c"];
    let pick = |u: &mut Unstructured, n: usize| u.choose_index(n);
    match u.int_in_range(0..=11)? {
        0 => {
            let id = ids[pick(u, 3)?];
            let mut c = if u.arbitrary()? { v5(id) } else { v3(id) };
            c.clean_start = u.arbitrary()?;
            c.keep_alive = u.int_in_range(0..=3)?;
            if c.protocol.is_v5() {
                c.properties.session_expiry_interval = Some(u.int_in_range(0..=20)?);
                c.properties.receive_maximum = Some(u.int_in_range(1..=3)?);
                c.properties.topic_alias_maximum = Some(u.int_in_range(0..=2)?);
                c.properties.maximum_packet_size = Some(u.int_in_range(20..=200)?);
            }
            if u.arbitrary()? {
                c = with_will(c, "t/will", "w");
            }
            let version = c.protocol;
            let conn = sim.open();
            sim.send(conn, Packet::from(c));
            conns.push((conn, version));
        }
        1 if !conns.is_empty() => {
            let (conn, _) = conns.remove(pick(u, conns.len())?);
            if !sim.is_closed(conn) {
                sim.drop_conn(conn);
            }
        }
        2 => sim.secs(f64::from(u.int_in_range(0u8..=30)?) / 4.0),
        3..=6 if !conns.is_empty() => {
            // A plausible packet on a plausible topic.
            let (conn, version) = conns[pick(u, conns.len())?];
            let topic = ["t/1", "t/2", "$SYS/x", "t/will"][pick(u, 4)?];
            let qos = QoS::from_u8(u.int_in_range(0..=2)?).unwrap_or_default();
            let pid = u.int_in_range(1..=4)?;
            let packet = match u.int_in_range(0..=5)? {
                0 => publish(topic, "p", qos, pid),
                1 => retained(topic, "r", qos, pid),
                2 => subscribe(pid, ["t/#", "t/+", "$share/g/t/1", "#"][pick(u, 4)?], qos),
                3 => puback(pid),
                4 => pubrec(pid),
                _ => pubrel(pid),
            };
            deliver(sim, conn, version, packet);
        }
        _ if !conns.is_empty() => {
            // Anything at all, through the codec.
            let (conn, version) = conns[pick(u, conns.len())?];
            let packet = Packet::arbitrary(u)?;
            deliver(sim, conn, version, packet);
        }
        _ => {}
    }
    Ok(())
}

/// What the network layer would hand the core for these bytes: the packet, or the decode error.
fn deliver(sim: &mut Sim, conn: ConnId, version: ProtocolVersion, packet: Packet) {
    if sim.is_closed(conn) {
        return;
    }
    let Ok(bytes) = to_bytes(&packet, version) else {
        return;
    };
    match decode_one(&bytes, version) {
        Ok(p) => sim.send(conn, p),
        Err(error) => sim.input(Input::DecodeError {
            conn,
            error,
            version: Some(version),
        }),
    }
}

#[test]
fn random_traffic_never_panics_or_sends_after_close() {
    for seed in 0..300 {
        let data = bytes(seed, 8192);
        let mut u = Unstructured::new(&data);
        let mut sim = Sim::new();
        let mut conns = Vec::new();
        for _ in 0..200 {
            if step(&mut sim, &mut u, &mut conns).is_err() {
                break;
            }
            for (conn, _) in &conns {
                sim.recv(*conn);
            }
        }
        // Every connection ends; sessions may stay (3.1.1 persistent ones never expire).
        for (conn, _) in conns.drain(..) {
            if !sim.is_closed(conn) {
                sim.drop_conn(conn);
            }
        }
        sim.secs(1000.0);
        assert_eq!(sim.broker.connected_clients(), 0, "seed {seed}");
    }
}
