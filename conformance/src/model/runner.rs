//! Running many generated cases with proptest's runner: deterministic for a seed, and a failing
//! case is shrunk to a minimal operation sequence.

use super::{case, run_case, ModelError, ModelTarget, Op};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// The outcome of a run of cases.
#[derive(Debug, Clone)]
pub enum Outcome {
    Passed {
        cases: u32,
    },
    /// The minimal failing sequence and the disagreement it shows.
    Failed {
        ops: Vec<Op>,
        reason: String,
    },
}

/// Runs `cases` generated cases of up to `max_ops` operations against `target`.
///
/// Must be called outside an async context: each case blocks on `runtime`.
pub fn check(
    runtime: &tokio::runtime::Runtime,
    target: &ModelTarget,
    cases: u32,
    seed: u64,
    max_ops: usize,
) -> Result<Outcome, String> {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let result = runner.run(&case(max_ops), |ops| {
        runtime
            .block_on(run_case(target, &ops))
            .map_err(|e| match e {
                ModelError::Broker(m) => TestCaseError::fail(m),
                ModelError::Harness(m) => TestCaseError::fail(format!("harness: {m}")),
            })
    });
    match result {
        Ok(()) => Ok(Outcome::Passed { cases }),
        Err(TestError::Fail(reason, ops)) => Ok(Outcome::Failed {
            ops,
            reason: reason.to_string(),
        }),
        Err(TestError::Abort(why)) => Err(why.to_string()),
    }
}
