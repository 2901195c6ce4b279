//! mosquitto_pub / mosquitto_sub against the broker, for MQTT 3.1.1 and 5.0. Skipped (with a
//! note) when the mosquitto clients are not installed (`apt-get install mosquitto-clients`).

mod common;

use common::*;
use std::process::Stdio;
use tokio::process::Command;

fn installed(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[tokio::test]
async fn mosquitto_pub_and_sub_both_versions() {
    if !installed("mosquitto_pub") || !installed("mosquitto_sub") {
        eprintln!("note: mosquitto_pub/mosquitto_sub not on PATH; skipping the mosquitto test");
        return;
    }
    let b = broker().await;
    let port = b.local_addr().port().to_string();
    for version in ["mqttv311", "mqttv5"] {
        let topic = format!("mosq/{version}");
        // A retained message first, so the subscriber gets it however late it subscribes ...
        let status = within(
            "mosquitto_pub",
            Command::new("mosquitto_pub")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port,
                    "-V",
                    version,
                    "-q",
                    "1",
                    "-r",
                ])
                .args(["-t", &topic, "-m", "retained-hello"])
                .kill_on_drop(true)
                .status(),
        )
        .await
        .expect("mosquitto_pub runs");
        assert!(status.success(), "{version}: mosquitto_pub failed");
        // ... then a subscriber that waits for two messages: the retained one and a live one.
        let sub = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port, "-V", version, "-q", "2"])
            .args(["-t", &topic, "-C", "2", "-W", "8", "-v"])
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto_sub runs");
        // Publish the live one repeatedly until the subscriber has it (no sleeps to guess with).
        let output = within("mosquitto_sub", async {
            let wait = tokio::spawn(sub.wait_with_output());
            loop {
                let _ = Command::new("mosquitto_pub")
                    .args(["-h", "127.0.0.1", "-p", &port, "-V", version, "-q", "2"])
                    .args(["-t", &topic, "-m", "live-hello"])
                    .kill_on_drop(true)
                    .status()
                    .await;
                if wait.is_finished() {
                    return wait.await.expect("joined").expect("output");
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
        .await;
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{version}: mosquitto_sub: {text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("{topic} retained-hello"),
            "{version}: {text}"
        );
        assert_eq!(lines[1], format!("{topic} live-hello"), "{version}: {text}");
    }
    b.shutdown().await;
}
