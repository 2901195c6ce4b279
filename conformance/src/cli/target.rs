//! Target arguments shared by the commands that drive a broker directly (bench, fuzz, replay).

use crate::live_fuzz::{FuzzTarget, RestartFn};
use crate::target::Target;
use mqttspec_broker::{server, Config};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// `mqtt://host[:port]` (default port 1883) to a socket address.
pub fn resolve(target: &str) -> Result<SocketAddr, String> {
    let addr = match Target::parse(target)? {
        Target::Tcp { host, port } => format!("{host}:{port}"),
        Target::Embedded => {
            return Err("the embedded broker has no address before it starts".into())
        }
    };
    std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .map_err(|e| format!("cannot resolve {addr}: {e}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))
}

pub struct TargetArg {
    pub target: Option<String>,
    /// Shell command restarting an external broker.
    pub restart: Option<String>,
}

/// Keeps the embedded broker running as long as the fuzz target is used.
pub type EmbeddedBroker = Arc<Mutex<Option<server::BrokerHandle>>>;

/// The fuzz target for an argument: an external broker (restartable with a shell command), or
/// the in-process reference broker, restarted fresh on demand.
pub async fn resolve_fuzz_target(
    arg: TargetArg,
) -> Result<(FuzzTarget, Option<EmbeddedBroker>), String> {
    match arg.target {
        Some(t) => {
            let addr = resolve(&t)?;
            let target = FuzzTarget::new(addr, t);
            Ok((
                match arg.restart {
                    Some(cmd) => target.with_restart(shell_restart(cmd, addr)),
                    None => target,
                },
                None,
            ))
        }
        None => {
            let handle = server::spawn(Config::default())
                .await
                .map_err(|e| format!("starting the reference broker: {e}"))?;
            let addr = handle.local_addr();
            let slot: EmbeddedBroker = Arc::new(Mutex::new(Some(handle)));
            let restart_slot = slot.clone();
            let restart: RestartFn = Box::new(move || {
                let slot = restart_slot.clone();
                Box::pin(async move {
                    let mut guard = slot.lock().await;
                    if let Some(old) = guard.take() {
                        old.shutdown().await;
                    }
                    let fresh = server::spawn(Config::default())
                        .await
                        .map_err(|e| format!("restarting the reference broker: {e}"))?;
                    let addr = fresh.local_addr();
                    *guard = Some(fresh);
                    Ok(addr)
                })
            });
            let label = format!("embedded reference broker (mqtt://{addr})");
            Ok((
                FuzzTarget::new(addr, label).with_restart(restart),
                Some(slot),
            ))
        }
    }
}

/// Runs `cmd` with `sh -c`, then waits up to 10 s for `addr` to accept connections.
fn shell_restart(cmd: String, addr: SocketAddr) -> RestartFn {
    Box::new(move || {
        let cmd = cmd.clone();
        Box::pin(async move {
            let status = tokio::process::Command::new("sh")
                .args(["-c", &cmd])
                .status()
                .await
                .map_err(|e| format!("restart command: {e}"))?;
            if !status.success() {
                return Err(format!("restart command {cmd:?} failed: {status}"));
            }
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return Ok(addr);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(format!(
                "{addr} did not accept connections within 10 s of restarting"
            ))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn targets() {
        assert_eq!(resolve("mqtt://127.0.0.1:1884").unwrap().port(), 1884);
        assert_eq!(resolve("mqtt://127.0.0.1").unwrap().port(), 1883);
        assert!(resolve("http://127.0.0.1").is_err());
    }
}
