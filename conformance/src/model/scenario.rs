//! Writing a failing operation sequence as a scenario file, so that it can be replayed with
//! `mqttspec run --scenarios DIR` and kept as a regression test.
//!
//! A scenario expects exact packets, while the model allows ranges (a broker may or may not
//! queue QoS 0 for an absent client, may send one copy or several for overlapping
//! subscriptions). The scenario spells out the common choice, which the reference broker makes:
//! QoS 0 is not queued for absent clients, overlapping subscriptions get one copy at the highest
//! QoS, a subscriber acknowledges each message at once.

use super::predict::Model;
use super::{Op, CLIENTS, FILTERS, TOPICS};
use mqttspec_codec::topic::matches;
use mqttspec_codec::{ProtocolVersion, QoS};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;

/// The scenario id of an exported counterexample (it lives at `model/counterexample.toml`).
pub const ID: &str = "model/counterexample";

/// A message as a client should receive it.
#[derive(Debug, Clone)]
struct Delivery {
    topic: usize,
    /// The payload: `m{id}`, or empty for a message that clears a retained one.
    payload: String,
    qos: QoS,
    retain: bool,
}

struct Writer {
    out: String,
    vars: u32,
}

impl Writer {
    fn step(&mut self, client: &str, body: &str) {
        let _ = write!(self.out, "\n[[step]]\nclient = \"{client}\"\n{body}\n");
    }

    fn var(&mut self) -> String {
        self.vars += 1;
        format!("$p{}", self.vars)
    }

    fn publish_pattern(d: &Delivery, pid: Option<&str>) -> String {
        let pid = pid.map_or(String::new(), |p| format!(", packet_id = \"{p}\""));
        format!(
            "{{ type = \"publish\", topic = \"{{topic}}/{}\", qos = {}, retain = {}, payload = \"{}\"{pid} }}",
            TOPICS[d.topic], d.qos as u8, d.retain, d.payload
        )
    }

    /// Expects `d` (alone, or with `also` in any order) and acknowledges it.
    fn receive(&mut self, client: &str, d: &Delivery, also: Option<&str>) {
        self.receive_all(client, std::slice::from_ref(d), also);
    }

    /// Expects every delivery of `ds` and `also`, in any order (a broker may interleave them;
    /// retained messages of different topics come in no set order), then acknowledges each.
    fn receive_all(&mut self, client: &str, ds: &[Delivery], also: Option<&str>) {
        let pids: Vec<Option<String>> = ds
            .iter()
            .map(|d| (d.qos != QoS::AtMostOnce).then(|| self.var()))
            .collect();
        let mut patterns: Vec<String> = also.map(str::to_owned).into_iter().collect();
        for (d, pid) in ds.iter().zip(&pids) {
            patterns.push(Self::publish_pattern(d, pid.as_deref()));
        }
        match patterns.as_slice() {
            [] => {}
            [one] => self.step(client, &format!("expect = {one}")),
            many => self.step(
                client,
                &format!("expect = {{ any_order = [{}] }}", many.join(", ")),
            ),
        }
        for (d, pid) in ds.iter().zip(pids) {
            match (d.qos, pid) {
                (QoS::AtLeastOnce, Some(p)) => self.step(
                    client,
                    &format!("send = {{ type = \"puback\", packet_id = \"{p}\" }}"),
                ),
                (QoS::ExactlyOnce, Some(p)) => {
                    self.step(
                        client,
                        &format!("send = {{ type = \"pubrec\", packet_id = \"{p}\" }}"),
                    );
                    self.step(
                        client,
                        &format!("expect = {{ type = \"pubrel\", packet_id = \"{p}\" }}"),
                    );
                    self.step(
                        client,
                        &format!("send = {{ type = \"pubcomp\", packet_id = \"{p}\" }}"),
                    );
                }
                _ => {}
            }
        }
    }
}

/// The scenario text for `ops`, with `reason` (what the broker did wrong) as a comment.
pub fn render(ops: &[Op], reason: &str, version: ProtocolVersion) -> String {
    let v = if version.is_v5() { "5.0" } else { "3.1.1" };
    let mut w = Writer {
        out: String::new(),
        vars: 0,
    };
    let _ = writeln!(
        w.out,
        "# Written by `mqttspec check-model`: the smallest operation sequence found"
    );
    let _ = writeln!(
        w.out,
        "# on which the broker disagreed with the model of MQTT delivery."
    );
    for line in reason.lines() {
        let _ = writeln!(w.out, "# Disagreement: {line}");
    }
    let _ = writeln!(
        w.out,
        "id = \"{ID}\"\ntitle = \"Model counterexample: {} operations\"\nspec = [\"MQTT-4.3.2-1\"]\nversions = [\"{v}\"]",
        ops.len()
    );
    let name = |c: usize| format!("c{c}");
    let mut model = Model::new();
    let mut queued: Vec<VecDeque<Delivery>> = vec![VecDeque::new(); CLIENTS];
    let mut packet_id = 0u16;
    let mut ops: Vec<Op> = ops.to_vec();
    // Reconnect persistent sessions at the end, as the model run does, to collect their queues.
    let mut tail = Vec::new();
    let mut probe = Model::new();
    for op in &ops {
        probe.apply(op);
    }
    for (client, c) in probe.clients.iter().enumerate() {
        if !c.connected && c.has_session && c.persistent {
            tail.push(Op::Connect {
                client,
                clean: false,
            });
        }
    }
    ops.extend(tail);
    for op in &ops {
        if !model.applies(op) {
            continue;
        }
        let message = model.next_message;
        let before = model.clone();
        let outcome = model.apply(op);
        match *op {
            Op::Connect { client, clean } => {
                let props = if version.is_v5() && !clean {
                    ", properties = { session_expiry_interval = 4294967295 }"
                } else {
                    ""
                };
                let present = outcome.is_some_and(|o| o.session_present);
                w.step(
                    &name(client),
                    &format!(
                        "connect = {{ clean_start = {clean}, client_id = \"{{client}}c{client}\"{props} }}\nconnack = {{ session_present = {present} }}"
                    ),
                );
                if clean || !present {
                    queued[client].clear();
                }
                while let Some(d) = queued[client].pop_front() {
                    w.receive(&name(client), &d, None);
                }
            }
            Op::Subscribe {
                client,
                filter,
                qos,
            } => {
                packet_id = packet_id.wrapping_add(1).max(1);
                w.step(
                    &name(client),
                    &format!(
                        "send = {{ type = \"subscribe\", packet_id = {packet_id}, filters = [{{ filter = \"{{topic}}/{}\", qos = {} }}] }}",
                        FILTERS[filter], qos as u8
                    ),
                );
                let retained: Vec<Delivery> = before
                    .retained
                    .iter()
                    .filter(|(t, _)| matches(FILTERS[filter], TOPICS[**t]))
                    .map(|(t, (m, q))| Delivery {
                        topic: *t,
                        payload: format!("m{m}"),
                        qos: (*q).min(qos),
                        retain: true,
                    })
                    .collect();
                let suback = format!(
                    "{{ type = \"suback\", packet_id = {packet_id}, reason_codes = [{}] }}",
                    qos as u8
                );
                w.receive_all(&name(client), &retained, Some(&suback));
            }
            Op::Unsubscribe { client, filter } => {
                packet_id = packet_id.wrapping_add(1).max(1);
                w.step(
                    &name(client),
                    &format!(
                        "send = {{ type = \"unsubscribe\", packet_id = {packet_id}, filters = [\"{{topic}}/{}\"] }}",
                        FILTERS[filter]
                    ),
                );
                w.step(
                    &name(client),
                    &format!("expect = {{ type = \"unsuback\", packet_id = {packet_id} }}"),
                );
            }
            Op::Publish {
                client,
                topic,
                qos,
                retain,
                empty,
            } => {
                let payload = if empty {
                    String::new()
                } else {
                    format!("m{message}")
                };
                let pid = if qos == QoS::AtMostOnce {
                    String::new()
                } else {
                    packet_id = packet_id.wrapping_add(1).max(1);
                    format!(", packet_id = {packet_id}")
                };
                w.step(
                    &name(client),
                    &format!(
                        "send = {{ type = \"publish\", topic = \"{{topic}}/{}\", qos = {}, retain = {retain}, payload = \"{payload}\"{pid} }}",
                        TOPICS[topic], qos as u8
                    ),
                );
                // Who receives it, and at which QoS: one copy at the highest granted QoS.
                let mut own = None;
                let mut others = Vec::new();
                for (r, c) in before.clients.iter().enumerate() {
                    let best = c
                        .subscriptions
                        .iter()
                        .filter(|(f, _)| matches(FILTERS[**f], TOPICS[topic]))
                        .map(|(_, q)| *q)
                        .max();
                    let (Some(best), true) = (best, c.has_session) else {
                        continue;
                    };
                    let d = Delivery {
                        topic,
                        payload: payload.clone(),
                        qos: qos.min(best),
                        retain: false,
                    };
                    if !c.connected {
                        if d.qos != QoS::AtMostOnce {
                            queued[r].push_back(d);
                        }
                    } else if r == client {
                        own = Some(d);
                    } else {
                        others.push((r, d));
                    }
                }
                let me = name(client);
                match qos {
                    QoS::AtMostOnce => {
                        if let Some(d) = &own {
                            w.receive(&me, d, None);
                        }
                    }
                    QoS::AtLeastOnce => {
                        let ack = format!("{{ type = \"puback\", packet_id = {packet_id} }}");
                        match &own {
                            Some(d) => w.receive(&me, d, Some(&ack)),
                            None => w.step(&me, &format!("expect = {ack}")),
                        }
                    }
                    QoS::ExactlyOnce => {
                        w.step(
                            &me,
                            &format!("expect = {{ type = \"pubrec\", packet_id = {packet_id} }}"),
                        );
                        w.step(
                            &me,
                            &format!("send = {{ type = \"pubrel\", packet_id = {packet_id} }}"),
                        );
                        let comp = format!("{{ type = \"pubcomp\", packet_id = {packet_id} }}");
                        match &own {
                            Some(d) => w.receive(&me, d, Some(&comp)),
                            None => w.step(&me, &format!("expect = {comp}")),
                        }
                    }
                }
                for (r, d) in others {
                    w.receive(&name(r), &d, None);
                }
            }
            Op::Disconnect { client } => {
                w.step(&name(client), "send = { type = \"disconnect\" }");
                w.step(&name(client), "drop = true");
            }
            Op::Drop { client } => w.step(&name(client), "drop = true"),
        }
    }
    // A new subscriber gets exactly the retained messages.
    let retained: Vec<Delivery> = model
        .retained
        .iter()
        .map(|(t, (m, q))| Delivery {
            topic: *t,
            payload: format!("m{m}"),
            qos: *q,
            retain: true,
        })
        .collect();
    w.step("retained", "connect = {}");
    packet_id = packet_id.wrapping_add(1).max(1);
    w.step(
        "retained",
        &format!("send = {{ type = \"subscribe\", packet_id = {packet_id}, filters = [{{ filter = \"{{topic}}/#\", qos = 2 }}] }}"),
    );
    let suback = format!("{{ type = \"suback\", packet_id = {packet_id}, reason_codes = [2] }}");
    w.receive_all("retained", &retained, Some(&suback));
    w.step("retained", "expect_nothing = \"200ms\"");
    w.out
}

/// Writes the scenario for `ops` to `path`.
pub fn write(
    path: &Path,
    ops: &[Op],
    reason: &str,
    version: ProtocolVersion,
) -> std::io::Result<()> {
    std::fs::write(path, render(ops, reason, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retained_messages_of_several_topics_are_expected_in_any_order() {
        let ops = [
            Op::Connect {
                client: 0,
                clean: false,
            },
            Op::Publish {
                client: 0,
                topic: 1,
                qos: QoS::AtMostOnce,
                retain: true,
                empty: false,
            },
            Op::Publish {
                client: 0,
                topic: 0,
                qos: QoS::AtLeastOnce,
                retain: true,
                empty: false,
            },
        ];
        let text = render(&ops, "a test", ProtocolVersion::V3_1_1);
        let s = crate::scenario::parse_scenario("c.toml", "model/counterexample.toml", &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(
            text.contains(r#"expect = { any_order = [{ type = "suback""#)
                && text.contains(r#"payload = "m0""#)
                && text.contains(r#"payload = "m1""#),
            "{text}"
        );
        assert!(s.steps.len() > 6);
    }
}
