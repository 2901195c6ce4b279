//! The subscription index: which sessions get a copy of a message published to a topic.
//!
//! Filters without wildcards are looked up directly; filters with wildcards are matched one by one
//! with [`mqttspec_codec::topic::matches`] (which keeps `$` topics away from leading wildcards,
//! MQTT-4.7.2-1). Maps are ordered so that routing is deterministic.

use super::session::SubOptions;
use super::small_map::SmallMap;
use mqttspec_codec::topic::{has_wildcards, matches};
use mqttspec_codec::QoS;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(crate) struct Router {
    exact: BTreeMap<String, Entry>,
    wild: BTreeMap<String, Entry>,
}

/// The subscriptions to one topic filter.
#[derive(Debug, Default)]
struct Entry {
    /// Non-shared subscriptions: client id -> options.
    clients: SmallMap<String, SubOptions>,
    /// Shared subscriptions (`$share/{group}/{filter}`): group name -> members.
    groups: BTreeMap<String, Group>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.clients.is_empty() && self.groups.is_empty()
    }
}

#[derive(Debug, Default)]
struct Group {
    members: SmallMap<String, SubOptions>,
    /// The member chosen last, for round-robin.
    last: Option<String>,
}

/// One copy to deliver: to `client`, at most at `qos`, carrying `subscription_ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub client: String,
    pub qos: QoS,
    pub retain_as_published: bool,
    pub subscription_ids: Vec<u32>,
}

impl Router {
    fn table(&mut self, filter: &str) -> &mut BTreeMap<String, Entry> {
        if has_wildcards(filter) {
            &mut self.wild
        } else {
            &mut self.exact
        }
    }

    /// Adds or replaces `client`'s subscription to `filter` (in `group` if shared).
    pub fn insert(&mut self, client: &str, filter: &str, group: Option<&str>, opts: SubOptions) {
        let entry = self.table(filter).entry(filter.to_owned()).or_default();
        match group {
            None => {
                entry.clients.insert(client.to_owned(), opts);
            }
            Some(g) => {
                let group = entry.groups.entry(g.to_owned()).or_default();
                group.members.insert(client.to_owned(), opts);
            }
        }
    }

    /// Removes `client`'s subscription to `filter` (in `group` if shared).
    pub fn remove(&mut self, client: &str, filter: &str, group: Option<&str>) {
        let table = self.table(filter);
        let Some(entry) = table.get_mut(filter) else {
            return;
        };
        match group {
            None => {
                entry.clients.remove(client);
            }
            Some(g) => {
                if let Some(grp) = entry.groups.get_mut(g) {
                    grp.members.remove(client);
                    if grp.members.is_empty() {
                        // A shared subscription ends with its last session (§4.8.2).
                        entry.groups.remove(g);
                    }
                }
            }
        }
        if entry.is_empty() {
            table.remove(filter);
        }
    }

    /// The copies of a message published to `topic` by `publisher`.
    ///
    /// Overlapping non-shared subscriptions of one client give ONE copy (MQTT-3.3.4-2: at the
    /// maximum QoS of the matching subscriptions) carrying the Subscription Identifiers of all of
    /// them (MQTT-3.3.4-4); it is retained-as-published if any of them asks for it. A subscription
    /// with No Local does not match its own client's messages (MQTT-3.8.3-3). Each shared
    /// subscription gives one more copy, to one member chosen round-robin among the connected
    /// ones (`connected`), or among all members when none is connected.
    pub fn route(
        &mut self,
        topic: &str,
        publisher: Option<&str>,
        connected: &dyn Fn(&str) -> bool,
    ) -> Vec<Target> {
        let mut direct: BTreeMap<String, Target> = BTreeMap::new();
        let mut shared = Vec::new();
        let exact = self.exact.get_mut(topic).into_iter();
        let wild = self
            .wild
            .iter_mut()
            .filter(|(f, _)| matches(f, topic))
            .map(|(_, e)| e);
        for entry in exact.chain(wild) {
            for (client, o) in entry.clients.iter() {
                if o.no_local && publisher == Some(client.as_str()) {
                    continue;
                }
                let t = direct.entry(client.clone()).or_insert_with(|| Target {
                    client: client.clone(),
                    qos: QoS::AtMostOnce,
                    retain_as_published: false,
                    subscription_ids: Vec::new(),
                });
                t.qos = t.qos.max(o.qos);
                t.retain_as_published |= o.retain_as_published;
                t.subscription_ids.extend(o.subscription_id);
            }
            for group in entry.groups.values_mut() {
                if let Some(t) = group.pick(connected) {
                    shared.push(t);
                }
            }
        }
        direct.into_values().chain(shared).collect()
    }

    /// Subscriptions held, shared memberships included.
    pub fn count(&self) -> usize {
        self.exact
            .values()
            .chain(self.wild.values())
            .map(|e| e.clients.len() + e.groups.values().map(|g| g.members.len()).sum::<usize>())
            .sum()
    }
}

impl Group {
    fn pick(&mut self, connected: &dyn Fn(&str) -> bool) -> Option<Target> {
        let after = |last: &Option<String>, k: &String| last.as_ref().is_none_or(|l| k > l);
        let order = self
            .members
            .iter()
            .filter(|(k, _)| after(&self.last, k))
            .chain(self.members.iter().filter(|(k, _)| !after(&self.last, k)));
        let mut first = None;
        let mut chosen = None;
        for (k, o) in order {
            first.get_or_insert((k, o));
            if connected(k) {
                chosen = Some((k, o));
                break;
            }
        }
        let (client, o) = chosen.or(first)?;
        let target = Target {
            client: client.clone(),
            qos: o.qos,
            retain_as_published: o.retain_as_published,
            subscription_ids: o.subscription_id.into_iter().collect(),
        };
        self.last = Some(client.clone());
        Some(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqttspec_codec::RetainHandling;

    fn opts(qos: QoS, id: Option<u32>) -> SubOptions {
        SubOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::OnSubscribe,
            subscription_id: id,
        }
    }

    #[test]
    fn overlapping_subscriptions_give_one_copy_at_max_qos_with_all_ids() {
        let mut r = Router::default();
        r.insert("c", "a/+", None, opts(QoS::AtMostOnce, Some(1)));
        r.insert("c", "a/#", None, opts(QoS::ExactlyOnce, Some(2)));
        r.insert("c", "a/b", None, opts(QoS::AtLeastOnce, None));
        let t = r.route("a/b", None, &|_| true);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].qos, QoS::ExactlyOnce);
        let mut ids = t[0].subscription_ids.clone();
        ids.sort();
        assert_eq!(ids, vec![1, 2]);
    }

    #[test]
    fn dollar_topics_and_removal() {
        let mut r = Router::default();
        r.insert("c", "#", None, opts(QoS::AtMostOnce, None));
        assert!(r.route("$SYS/x", None, &|_| true).is_empty());
        assert_eq!(r.route("x", None, &|_| true).len(), 1);
        r.remove("c", "#", None);
        assert!(r.route("x", None, &|_| true).is_empty());
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn shared_groups_round_robin_over_connected_members() {
        let mut r = Router::default();
        for c in ["a", "b", "c"] {
            r.insert(c, "t", Some("g"), opts(QoS::AtLeastOnce, None));
        }
        let picks: Vec<String> = (0..4)
            .map(|_| r.route("t", None, &|c| c != "b")[0].client.clone())
            .collect();
        assert_eq!(picks, ["a", "c", "a", "c"]);
        let picks: Vec<String> = (0..2)
            .map(|_| r.route("t", None, &|_| false)[0].client.clone())
            .collect();
        assert_eq!(picks, ["a", "b"]);
    }
}
