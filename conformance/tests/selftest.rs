//! Self-tests of the harness: it must fail what is wrong, end in bounded time against a target
//! that never answers, and honour `--expect`, `--strict` and the report files.

use mqttspec::interp::{self, RunContext};
use mqttspec::registry::SpecVersion;
use mqttspec::runner::{self, Judging};
use mqttspec::scenario::template::Placeholders;
use mqttspec::scenario::{load_builtin, parse_scenario};
use mqttspec::target::Target;
use mqttspec::verdict::Verdict;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn selftest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/selftest")
}

fn ctx(addr: String, timeout: Duration) -> RunContext {
    RunContext {
        addr,
        timeout,
        username: None,
        password: None,
        profile: Default::default(),
    }
}

fn fixed_placeholders() -> Placeholders {
    Placeholders {
        client: "msselftest".into(),
        topic: "mqttspec/selftest/1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_fails_naming_the_step_expected_and_received() {
    let running = Target::Embedded.start().await.expect("embedded broker");
    let path = selftest_dir().join("scenarios/selftest/wrong-payload.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let s = parse_scenario("wrong-payload.toml", "selftest/wrong-payload.toml", &text).unwrap();
    let ctx = ctx(running.addr.clone(), Duration::from_secs(2));
    for v in SpecVersion::all() {
        let out = interp::run(&s, v, &ctx, fixed_placeholders()).await;
        assert_eq!(out.verdict, Verdict::Fail, "{v}: {}", out.message);
        insta::assert_snapshot!(
            format!("wrong_payload_{}", v.as_str().replace('.', "_")),
            format!("{}\n{}", out.message, out.detail)
        );
        let trace = out.trace.render_untimed();
        for line in [
            "sub -> SUBSCRIBE",
            "sub <- SUBACK",
            "pub -> PUBLISH",
            "sub <- PUBLISH",
        ] {
            assert!(trace.contains(line), "{v}: trace lacks {line:?}:\n{trace}");
        }
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_target_ends_with_errors_in_bounded_time() {
    // Accepts TCP connections and never reads or writes a byte.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let scenarios = load_builtin().expect("built-in scenarios load");
    let jobs = runner::plan(&scenarios, &SpecVersion::all(), None);
    let count = jobs.len();
    assert!(count > 0);
    let ctx = Arc::new(ctx(addr, Duration::from_millis(300)));
    let started = Instant::now();
    let results = runner::run_all(jobs, ctx, Arc::new(Judging::default()), 64, |_| {}).await;
    assert_eq!(results.len(), count);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Error, "{}: {}", r.name(), r.message);
        assert!(r.status.is_unexpected());
    }
    // Each scenario stops at its first unanswered wait (300 ms); a generous bound, far below
    // what an unbounded wait would take.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let text =
        std::fs::read_to_string(selftest_dir().join("scenarios/selftest/passes.toml")).unwrap();
    let s = parse_scenario("passes.toml", "selftest/passes.toml", &text).unwrap();
    let ctx = ctx(format!("127.0.0.1:{port}"), Duration::from_secs(1));
    let out = interp::run(&s, SpecVersion::V5_0, &ctx, fixed_placeholders()).await;
    assert_eq!(out.verdict, Verdict::Error);
    assert!(out.message.contains("cannot connect"), "{}", out.message);
}

/// Runs the `mqttspec` binary; returns (exit code, stdout).
fn mqttspec(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(args)
        .output()
        .expect("run mqttspec");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqttspec-selftest-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The testsuite, testcase and status tags of a JUnit report, without times and ports.
fn junit_outline(xml: &str) -> String {
    let mut out = Vec::new();
    for line in xml.lines().map(str::trim) {
        let keep = [
            "<testsuites",
            "<testsuite ",
            "<testcase",
            "<failure",
            "<skipped",
            "<error",
        ];
        if keep.iter().any(|k| line.starts_with(k)) {
            let tag = &line[..line.find('>').map_or(line.len(), |i| i + 1)];
            let mut t = String::new();
            for part in tag.split(' ') {
                if part.starts_with("time=") || part.starts_with("timestamp=") {
                    continue;
                }
                t.push_str(part);
                t.push(' ');
            }
            let t = t.trim_end().to_string();
            // Drop the port of the embedded broker.
            let t = match t.find("127.0.0.1:") {
                Some(i) => {
                    let rest = &t[i + 10..];
                    let digits = rest.chars().take_while(char::is_ascii_digit).count();
                    format!("{}127.0.0.1:PORT{}", &t[..i], &rest[digits..])
                }
                None => t,
            };
            out.push(t);
        }
    }
    out.join("\n")
}

#[test]
fn cli_judges_with_expect_strict_and_writes_junit_and_json() {
    let dir = selftest_dir();
    let scenarios = dir.join("scenarios");
    let scenarios = scenarios.to_str().unwrap();
    let base = [
        "run",
        "--scenarios",
        scenarios,
        "--filter",
        "selftest/",
        "--timeout",
        "2s",
    ];

    // Without an expected-failure file the wrong scenario fails the run; the SHOULD-level
    // failure is reported as non-strict.
    let (code, out) = mqttspec(&base);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL selftest/wrong-payload@3.1.1"), "{out}");
    assert!(
        out.contains("payload: expected \"wrong\", got \"right\""),
        "{out}"
    );
    assert!(
        out.contains("non-strict selftest/should-level@5.0"),
        "{out}"
    );
    assert!(
        out.contains("MQTT 5.0: 1 passed, 1 failed, 0 skipped (1 non-strict)"),
        "{out}"
    );

    // Listed as expected: the run passes, and the reports say why.
    let tmp = scratch("reports");
    let junit = tmp.join("junit.xml");
    let json = tmp.join("report.json");
    let expect = dir.join("expect-wrong.toml");
    let mut args = base.to_vec();
    args.extend([
        "--expect",
        expect.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let (code, out) = mqttspec(&args);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("expected failure selftest/wrong-payload@5.0"),
        "{out}"
    );
    insta::assert_snapshot!(
        "junit_outline",
        junit_outline(&std::fs::read_to_string(&junit).unwrap())
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["passed"], 2, "{report}");
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["expected_failures"], 2);
    assert_eq!(summary["non_strict"], 1);
    assert_eq!(summary["unexpected"], 0);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    for r in results {
        for key in [
            "id",
            "version",
            "verdict",
            "spec",
            "level",
            "message",
            "duration_ms",
        ] {
            assert!(r.get(key).is_some(), "result lacks {key}: {r}");
        }
    }

    // --strict counts the SHOULD-level failure.
    let mut strict = args.clone();
    strict.push("--strict");
    let (code, out) = mqttspec(&strict);
    assert_eq!(code, 1, "{out}");

    // A listed scenario that passes makes the run fail: the list is out of date.
    let passing = dir.join("expect-passing.toml");
    let mut args = base.to_vec();
    args.extend(["--expect", passing.to_str().unwrap()]);
    let (code, out) = mqttspec(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("UNEXPECTED PASS selftest/passes@5.0"), "{out}");
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn cli_usage_and_configuration_errors_exit_2() {
    let (code, out) = mqttspec(&["run", "ftp://example"]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = mqttspec(&["run", "--filter", "no-such-scenario-anywhere"]);
    assert_eq!(code, 2, "{out}");
    let (code, out) = mqttspec(&["run", "--protocol", "4"]);
    assert_eq!(code, 2, "{out}");

    // A typo in a scenario file: the message names file, line and field.
    let tmp = scratch("typo");
    std::fs::create_dir_all(tmp.join("area")).unwrap();
    std::fs::write(
        tmp.join("area/typo.toml"),
        "id = \"area/typo\"\ntitle = \"t\"\nspec = [\"MQTT-3.8.4-1\"]\n\n[[step]]\nconect = {}\n",
    )
    .unwrap();
    let (code, out) = mqttspec(&["list", "--scenarios", tmp.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("typo.toml:6: unknown field `conect`"), "{out}");
    let _ = std::fs::remove_dir_all(tmp);
}

#[test]
fn cli_list_and_coverage_print_json() {
    let (code, out) = mqttspec(&["list", "--json"]);
    assert_eq!(code, 0, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let first = &list.as_array().unwrap()[0];
    for key in ["id", "title", "versions", "level", "spec"] {
        assert!(first.get(key).is_some(), "{first}");
    }
    let (code, out) = mqttspec(&["coverage", "--json"]);
    assert_eq!(code, 0, "{out}");
    let cov: serde_json::Value = serde_json::from_str(&out).unwrap();
    for v in ["3.1.1", "5.0"] {
        let c = &cov[v];
        assert!(c["statements"].as_u64().unwrap() > 100, "{c}");
        assert!(c["covered"].as_u64().unwrap() > 0, "{c}");
        let u = &c["uncovered"][0];
        assert!(u["id"].is_string() && u["reason"].is_string(), "{u}");
    }
}
