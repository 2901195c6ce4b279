//! The interpreter: runs one scenario in one protocol version against a target.
//!
//! Steps run in order; the first step that does not hold ends the scenario with its verdict:
//! - **fail**: the broker did something the scenario says it must not (wrong packet, nothing
//!   when something was due, a close when none was due, malformed bytes);
//! - **skip**: the scenario does not apply (the broker refused the protocol version, declared a
//!   required capability unavailable, or granted a lower QoS than the scenario needs);
//! - **error**: the harness could not run it (no TCP connection, no CONNACK at all, a refusal
//!   for authentication), so nothing is known about conformance.
//!
//! The failure message says which step (index and line), which client, what was expected and
//! what came; the detail adds the whole trace of every client.

use crate::client::{spaced_hex, Client, Event};
use crate::matching::{match_packet, Mismatch};
use crate::profile::{missing_from_connack, Profile};
use crate::registry::SpecVersion;
use crate::scenario::template::{instantiate, Placeholders, Vars};
use crate::scenario::{Action, Alternative, Expectation, Scenario, Step};
use crate::trace::{show_packet, Trace, TraceKind};
use crate::verdict::Verdict;
use mqttspec_codec::{Packet, ProtocolVersion};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// What a run needs to know besides the scenario.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// `host:port` of the broker.
    pub addr: String,
    /// Default bound of every wait (CONNACK, `expect`, `expect_closed`).
    pub timeout: Duration,
    /// Credentials added to every CONNECT that does not give its own.
    pub username: Option<String>,
    pub password: Option<String>,
    pub profile: Profile,
}

/// The end of one scenario run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    /// One line; empty on a pass.
    pub message: String,
    /// Expected and received packets of the failing step, for reports.
    pub detail: String,
    pub trace: Trace,
}

/// Why a run stopped early.
enum Stop {
    Fail { what: String, detail: String },
    Skip(String),
    Error(String),
}

fn fail(what: impl Into<String>) -> Stop {
    Stop::Fail {
        what: what.into(),
        detail: String::new(),
    }
}

/// The codec's version for a scenario version.
pub fn protocol(v: SpecVersion) -> ProtocolVersion {
    match v {
        SpecVersion::V3_1_1 => ProtocolVersion::V3_1_1,
        SpecVersion::V5_0 => ProtocolVersion::V5,
    }
}

/// An upper bound of how long the scenario can take when every wait runs to its end: the run's
/// safety net against a harness bug (every wait is bounded on its own already).
pub fn time_budget(s: &Scenario, v: SpecVersion, timeout: Duration) -> Duration {
    let per_step = |step: &Step| match &step.action {
        Action::Wait(d) | Action::ExpectNothing(d) => *d,
        Action::ExpectClosed(Some(d)) => *d,
        Action::Expect(Expectation::AnyOrder(ps)) => {
            step.timeout.unwrap_or(timeout) * ps.len() as u32
        }
        // Connect waits twice: for TCP and for CONNACK.
        Action::Connect { .. } => step.timeout.unwrap_or(timeout) * 2,
        _ => step.timeout.unwrap_or(timeout),
    };
    let total: Duration = s
        .steps
        .iter()
        .filter(|st| st.applies_to(v))
        .map(|st| per_step(st) * st.repeat.unwrap_or(1))
        .sum();
    total + Duration::from_secs(2)
}

/// Runs `scenario` in `version`. Never panics on broker behaviour, and returns within
/// [`time_budget`] at worst.
pub async fn run(
    scenario: &Scenario,
    version: SpecVersion,
    ctx: &RunContext,
    placeholders: Placeholders,
) -> Outcome {
    let mut run = Interp {
        scenario,
        version,
        ctx,
        ph: placeholders,
        clients: BTreeMap::new(),
        vars: Vars::new(),
        trace: Trace::new(),
        connack_seen: false,
    };
    if let Some(reason) = ctx.profile.skip_reason(&scenario.requires) {
        return run.outcome(Verdict::Skip, reason, String::new());
    }
    let v5 = version == SpecVersion::V5_0;
    if let Some(reason) = ctx.profile.lacking_reason(&scenario.lacks, v5) {
        return run.outcome(Verdict::Skip, reason, String::new());
    }
    for step in scenario.steps.iter().filter(|s| s.applies_to(version)) {
        for i in 1..=step.repeat.unwrap_or(1) {
            if step.repeat.is_some() {
                run.vars.insert("i".into(), i.into());
            }
            if let Err(stop) = run.step(step).await {
                let at = format!(
                    "step {} (line {}, {} {}{})",
                    step.index,
                    step.line,
                    step.action.keyword(),
                    step.client,
                    if step.repeat.is_some() {
                        format!(", $i = {i}")
                    } else {
                        String::new()
                    },
                );
                run.close_all();
                return match stop {
                    // A target that never sent a byte nor closed a connection cannot be judged:
                    // it is not answering MQTT at all (a black hole), so this is an error.
                    Stop::Fail { what, .. } if !run.heard_from_target() => run.outcome(
                        Verdict::Error,
                        format!("{at}: the target never answered on any connection: {what}"),
                        String::new(),
                    ),
                    Stop::Fail { what, detail } => {
                        run.outcome(Verdict::Fail, format!("{at}: {what}"), detail)
                    }
                    Stop::Skip(why) => run.outcome(Verdict::Skip, why, String::new()),
                    Stop::Error(why) => {
                        run.outcome(Verdict::Error, format!("{at}: {why}"), String::new())
                    }
                };
            }
        }
        run.vars.remove("i");
    }
    run.close_all();
    run.outcome(Verdict::Pass, String::new(), String::new())
}

struct Interp<'a> {
    scenario: &'a Scenario,
    version: SpecVersion,
    ctx: &'a RunContext,
    ph: Placeholders,
    clients: BTreeMap<String, Client>,
    vars: Vars,
    trace: Trace,
    /// Whether any CONNACK arrived: before that, silence means the harness cannot run here
    /// (error); after it, silence is the broker's failure.
    connack_seen: bool,
}

impl Interp<'_> {
    fn outcome(&mut self, verdict: Verdict, message: String, detail: String) -> Outcome {
        Outcome {
            verdict,
            message,
            detail,
            trace: std::mem::take(&mut self.trace),
        }
    }

    fn heard_from_target(&self) -> bool {
        self.trace.events.iter().any(|e| {
            matches!(
                e.kind,
                TraceKind::Received(_) | TraceKind::ClosedByPeer(_) | TraceKind::Malformed(_)
            )
        })
    }

    fn close_all(&mut self) {
        for c in self.clients.values_mut() {
            c.drop_connection(&mut self.trace);
        }
    }

    fn client(&mut self, name: &str) -> Result<&mut Client, Stop> {
        // The loader proves every client is connected before use; this is a second guard.
        self.clients
            .get_mut(name)
            .ok_or_else(|| Stop::Error(format!("client {name} was never connected")))
    }

    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        let timeout = step.timeout.unwrap_or(self.ctx.timeout);
        let deadline = Instant::now() + timeout;
        match &step.action {
            Action::Open => {
                self.open(&step.client, deadline).await?;
                Ok(())
            }
            Action::Connect { connect, connack } => {
                self.connect(&step.client, connect, connack, timeout).await
            }
            Action::Send(template) => {
                let packet = self.packet(template)?;
                let mut trace = std::mem::take(&mut self.trace);
                self.client(&step.client)?
                    .send(&packet, deadline, &mut trace)
                    .await;
                self.trace = trace;
                Ok(())
            }
            Action::SendRaw(bytes) => {
                let mut trace = std::mem::take(&mut self.trace);
                self.client(&step.client)?
                    .send_raw(bytes, deadline, &mut trace)
                    .await;
                self.trace = trace;
                Ok(())
            }
            Action::Expect(e) => self.expect(&step.client, e, timeout).await,
            Action::ExpectNothing(d) => {
                match self.next_event(&step.client, Instant::now() + *d).await? {
                    None => Ok(()),
                    Some(ev) => Err(fail(format!(
                        "expected nothing for {}, {}",
                        crate::duration::format(*d),
                        describe(&ev)
                    ))),
                }
            }
            Action::ExpectClosed(bound) => {
                let d = bound.unwrap_or(timeout);
                match self.next_event(&step.client, Instant::now() + d).await? {
                    Some(Event::Closed(_)) => Ok(()),
                    None => Err(fail(format!(
                        "expected the broker to close the connection within {}, it is still open",
                        crate::duration::format(d)
                    ))),
                    Some(ev) => Err(fail(format!(
                        "expected the broker to close the connection, {}",
                        describe(&ev)
                    ))),
                }
            }
            Action::Drop => {
                let mut trace = std::mem::take(&mut self.trace);
                self.client(&step.client)?.drop_connection(&mut trace);
                self.trace = trace;
                Ok(())
            }
            Action::Wait(d) => {
                tokio::time::sleep(*d).await;
                Ok(())
            }
        }
    }

    async fn open(&mut self, name: &str, deadline: Instant) -> Result<(), Stop> {
        if let Some(old) = self.clients.get_mut(name) {
            old.drop_connection(&mut self.trace);
        }
        let client = Client::open(
            name,
            &self.ctx.addr,
            protocol(self.version),
            deadline,
            &mut self.trace,
        )
        .await
        .map_err(Stop::Error)?;
        self.clients.insert(name.to_string(), client);
        Ok(())
    }

    /// Instantiates a template into a packet; a CONNECT without `protocol` gets the run's.
    fn packet(&self, template: &Value) -> Result<Packet, Stop> {
        let mut v = instantiate(template, &self.vars, &self.ph).map_err(Stop::Error)?;
        if let Some(obj) = v.as_object_mut() {
            if obj.get("type").and_then(Value::as_str) == Some("connect") {
                obj.entry("protocol")
                    .or_insert_with(|| self.version.as_str().into());
            }
        }
        serde_json::from_value(v)
            .map_err(|e| Stop::Error(format!("the packet template does not form a packet: {e}")))
    }

    async fn connect(
        &mut self,
        name: &str,
        template: &Value,
        connack: &Value,
        timeout: Duration,
    ) -> Result<(), Stop> {
        self.open(name, Instant::now() + timeout).await?;
        let mut t = template.clone();
        if let Some(obj) = t.as_object_mut() {
            obj.entry("client_id")
                .or_insert_with(|| format!("{}{name}", self.ph.client).into());
            obj.entry("clean_start").or_insert(true.into());
            obj.entry("keep_alive").or_insert(60.into());
            if let Some(u) = &self.ctx.username {
                obj.entry("username").or_insert(u.clone().into());
            }
            if let Some(p) = &self.ctx.password {
                obj.entry("password").or_insert(p.clone().into());
            }
        }
        let packet = self.packet(&t)?;
        let deadline = Instant::now() + timeout;
        let mut trace = std::mem::take(&mut self.trace);
        self.client(name)?.send(&packet, deadline, &mut trace).await;
        self.trace = trace;
        let first = !self.connack_seen;
        let what = |s: &str| format!("{s} (the target accepted TCP but answered no CONNECT)");
        let (packet, json) = match self.next_event(name, deadline).await? {
            Some(Event::Packet(p, j)) => (p, j),
            None if first => {
                return Err(Stop::Error(what(&format!(
                    "no CONNACK within {}",
                    crate::duration::format(timeout)
                ))))
            }
            Some(Event::Closed(why)) if first => {
                return Err(Stop::Error(what(&format!(
                    "connection closed before CONNACK ({why})"
                ))))
            }
            None => {
                return Err(fail(format!(
                    "expected CONNACK, nothing within {}",
                    crate::duration::format(timeout)
                )))
            }
            Some(ev) => return Err(fail(format!("expected CONNACK, {}", describe(&ev)))),
        };
        let Packet::Connack(ack) = &*packet else {
            return Err(fail(format!(
                "expected CONNACK, received {}",
                show_packet(&json)
            )));
        };
        self.connack_seen = true;
        let code = ack.reason_code.0;
        let default_expected = connack.get("reason_code") == Some(&Value::from(0));
        let v5 = self.version == SpecVersion::V5_0;
        if default_expected && ((v5 && code == 0x84) || (!v5 && code == 0x01)) {
            return Err(Stop::Skip(format!(
                "the broker refused protocol {} (CONNACK code 0x{code:02x})",
                self.version
            )));
        }
        if v5 {
            let missing = missing_from_connack(&ack.properties);
            if let Some((cap, why)) = missing
                .iter()
                .find(|(c, _)| self.scenario.requires.contains(c))
            {
                return Err(Stop::Skip(format!("requires {cap}: {why}")));
            }
            if ack.reason_code.0 < 0x80 {
                if let Some(cap) = self.scenario.lacks.iter().find(|c| {
                    !self.ctx.profile.missing.contains_key(c)
                        && !missing.iter().any(|(m, _)| m == *c)
                }) {
                    return Err(Stop::Skip(format!(
                        "needs a broker without {cap}; its CONNACK declares it available"
                    )));
                }
            }
        }
        match match_packet(connack, &json, &self.vars, &self.ph) {
            Ok(bound) => {
                self.vars.extend(bound);
                Ok(())
            }
            Err(m) => {
                let auth = if v5 {
                    [0x86, 0x87, 0x8C]
                } else {
                    [0x04, 0x05, 0x05]
                };
                if default_expected && first && auth.contains(&code) {
                    return Err(Stop::Error(format!(
                        "the broker refused the connection (CONNACK code 0x{code:02x}); give credentials with --username/--password"
                    )));
                }
                Err(mismatch("CONNACK", connack, &json, &m))
            }
        }
    }

    async fn next_event(&mut self, name: &str, deadline: Instant) -> Result<Option<Event>, Stop> {
        let mut trace = std::mem::take(&mut self.trace);
        let ev = self.client(name)?.next_event(deadline, &mut trace).await;
        self.trace = trace;
        Ok(ev)
    }

    async fn expect(&mut self, name: &str, e: &Expectation, timeout: Duration) -> Result<(), Stop> {
        let deadline = Instant::now() + timeout;
        let within = crate::duration::format(timeout);
        match e {
            Expectation::Packet(pattern) => {
                let json = match self.next_event(name, deadline).await? {
                    Some(Event::Packet(_, j)) => j,
                    None => {
                        return Err(fail(format!(
                            "expected {}, nothing within {within}",
                            wanted(pattern)
                        )))
                    }
                    Some(ev) => {
                        return Err(fail(format!(
                            "expected {}, {}",
                            wanted(pattern),
                            describe(&ev)
                        )))
                    }
                };
                match match_packet(pattern, &json, &self.vars, &self.ph) {
                    Ok(bound) => {
                        self.vars.extend(bound);
                        Ok(())
                    }
                    Err(m) => Err(lower_grant(pattern, &json)
                        .map(Stop::Skip)
                        .unwrap_or_else(|| mismatch(&wanted(pattern), pattern, &json, &m))),
                }
            }
            Expectation::AnyOf(alts) => {
                let names: Vec<String> = alts
                    .iter()
                    .map(|a| match a {
                        Alternative::Packet(p) => wanted(p),
                        Alternative::Closed => "the connection closed".into(),
                        Alternative::Raw(bytes) => format!("the bytes {}", spaced_hex(bytes)),
                    })
                    .collect();
                let expected = format!("one of: {}", names.join("; "));
                let accepts_close = alts.iter().any(|a| matches!(a, Alternative::Closed));
                let event = self.next_event(name, deadline).await?;
                let frame = self.client(name)?.last_frame().to_vec();
                let raw_match = matches!(event, Some(Event::Packet(..) | Event::Malformed(_)))
                    && alts
                        .iter()
                        .any(|a| matches!(a, Alternative::Raw(b) if *b == frame));
                match event {
                    _ if raw_match => {
                        self.client(name)?.accept_last_frame();
                        Ok(())
                    }
                    Some(Event::Closed(_)) if accepts_close => Ok(()),
                    Some(Event::Packet(_, json)) => {
                        let mut why = Vec::new();
                        for alt in alts {
                            if let Alternative::Packet(p) = alt {
                                match match_packet(p, &json, &self.vars, &self.ph) {
                                    Ok(bound) => {
                                        self.vars.extend(bound);
                                        return Ok(());
                                    }
                                    Err(m) => why.push(format!("{}: {m}", wanted(p))),
                                }
                            }
                        }
                        Err(Stop::Fail {
                            what: format!("expected {expected}; received {}", show_packet(&json)),
                            detail: format!("received: {}\n{}", show_packet(&json), why.join("\n")),
                        })
                    }
                    None => Err(fail(format!(
                        "expected {expected}; nothing within {within}"
                    ))),
                    Some(ev) => Err(fail(format!("expected {expected}; {}", describe(&ev)))),
                }
            }
            Expectation::AnyOrder(patterns) => {
                let mut left: Vec<&Value> = patterns.iter().collect();
                while !left.is_empty() {
                    let pending: Vec<String> = left.iter().map(|p| wanted(p)).collect();
                    let json = match self.next_event(name, deadline).await? {
                        Some(Event::Packet(_, j)) => j,
                        None => {
                            return Err(fail(format!(
                                "still expected {}, nothing within {within}",
                                pending.join(", ")
                            )))
                        }
                        Some(ev) => {
                            return Err(fail(format!(
                                "still expected {}, {}",
                                pending.join(", "),
                                describe(&ev)
                            )))
                        }
                    };
                    let found = left.iter().enumerate().find_map(|(i, p)| {
                        match_packet(p, &json, &self.vars, &self.ph)
                            .ok()
                            .map(|b| (i, b))
                    });
                    match found {
                        Some((i, bound)) => {
                            self.vars.extend(bound);
                            left.remove(i);
                        }
                        None => {
                            return Err(Stop::Fail {
                                what: format!(
                                    "received {}, which matches none of the packets still expected ({})",
                                    show_packet(&json),
                                    pending.join(", ")
                                ),
                                detail: String::new(),
                            })
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// A pattern named for messages: `PUBLISH {"qos":1,"topic":"{topic}/a"}`.
fn wanted(pattern: &Value) -> String {
    show_packet(pattern)
}

fn describe(ev: &Event) -> String {
    match ev {
        Event::Packet(_, json) => format!("received {}", show_packet(json)),
        Event::Closed(why) => format!("the broker closed the connection ({why})"),
        Event::Malformed(e) => format!("the broker sent a malformed packet: {e}"),
    }
}

fn mismatch(what: &str, pattern: &Value, got: &Value, m: &Mismatch) -> Stop {
    Stop::Fail {
        what: format!("expected {what}; {m}"),
        detail: format!(
            "expected: {}\nreceived: {}\nmismatch: {m}",
            show_packet(pattern),
            show_packet(got)
        ),
    }
}

/// A SUBACK granting a lower QoS than the pattern expects: the spec allows a server to grant
/// less (MQTT-3.8.4-6 in 3.1.1, §3.9.3 in 5.0), so the scenario does not apply rather than fail.
fn lower_grant(pattern: &Value, got: &Value) -> Option<String> {
    if pattern.get("type")? != "suback" || got.get("type")? != "suback" {
        return None;
    }
    let want: Vec<u64> = pattern
        .get("reason_codes")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    let have: Vec<u64> = got
        .get("reason_codes")?
        .as_array()?
        .iter()
        .map(Value::as_u64)
        .collect::<Option<_>>()?;
    if want.len() != have.len() || want.iter().any(|&w| w > 2) || have.iter().any(|&h| h > 2) {
        return None;
    }
    let (w, h) = want.iter().zip(&have).find(|(w, h)| h < w)?;
    if want.iter().zip(&have).all(|(w, h)| h <= w) {
        Some(format!(
            "the broker granted QoS {h} where the scenario needs QoS {w} (a server may grant less)"
        ))
    } else {
        None
    }
}
