//! Injected failures: a scripted queue consumed one per matching request, and random status faults
//! from a seeded RNG; each optionally limited to a method and a path substring.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a fault does to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Reply with this status and HubSpot's error body (the rate-limit body for 429); nothing is applied.
    Status(u16),
    /// Sleep this many real milliseconds, then serve the request normally.
    LatencyMs(u64),
    /// Apply the request, then abort the connection without a complete response.
    DropAfterApply,
    /// Apply the request, then send its status with a truncated, invalid JSON body.
    MalformedJson,
    /// Consume a matching request without a fault (to script "fail the third upsert").
    Pass,
}

/// Which requests a fault applies to; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultFilter {
    /// HTTP method, e.g. `POST`.
    #[serde(default)]
    pub method: Option<String>,
    /// A substring of the request path, e.g. `batch/upsert`.
    #[serde(default)]
    pub path_contains: Option<String>,
}

impl FaultFilter {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
    }
}

/// One entry of the fault script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedFault {
    /// The fault.
    pub kind: FaultKind,
    /// The requests it waits for.
    #[serde(flatten)]
    pub filter: FaultFilter,
}

impl ScriptedFault {
    /// A fault for the next request of any kind.
    pub fn new(kind: FaultKind) -> ScriptedFault {
        ScriptedFault {
            kind,
            filter: FaultFilter::default(),
        }
    }

    /// Limits the fault to one HTTP method.
    pub fn method(mut self, method: &str) -> ScriptedFault {
        self.filter.method = Some(method.into());
        self
    }

    /// Limits the fault to paths containing `fragment`.
    pub fn path(mut self, fragment: &str) -> ScriptedFault {
        self.filter.path_contains = Some(fragment.into());
        self
    }
}

/// Random status faults, reproducible from `seed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomFaults {
    /// Chance per matching request, 0.0 to 1.0.
    pub probability: f64,
    /// Statuses to choose from uniformly (500, 502, 503, 504, 429).
    pub statuses: Vec<u16>,
    /// RNG seed.
    #[serde(default)]
    pub seed: u64,
    /// The requests that may fail.
    #[serde(flatten)]
    pub filter: FaultFilter,
}

/// The full fault configuration; the default injects nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Random faults, if any.
    #[serde(default)]
    pub random: Option<RandomFaults>,
    /// Scripted faults, in order.
    #[serde(default)]
    pub script: Vec<ScriptedFault>,
}

impl FaultPlan {
    /// A plan made of scripted faults only.
    pub fn scripted(script: Vec<ScriptedFault>) -> FaultPlan {
        FaultPlan {
            random: None,
            script,
        }
    }
}

/// The live fault state: the remaining script and the RNG.
pub(crate) struct Faults {
    script: VecDeque<ScriptedFault>,
    random: Option<(RandomFaults, StdRng)>,
}

impl Faults {
    pub(crate) fn new(plan: FaultPlan) -> Faults {
        Faults {
            script: plan.script.into(),
            random: plan.random.map(|r| {
                let rng = StdRng::seed_from_u64(r.seed);
                (r, rng)
            }),
        }
    }

    /// The fault for this request, consuming the first matching scripted entry.
    pub(crate) fn pick(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        if let Some(pos) = self
            .script
            .iter()
            .position(|f| f.filter.matches(method, path))
        {
            return self
                .script
                .remove(pos)
                .map(|f| f.kind)
                .filter(|k| *k != FaultKind::Pass);
        }
        let (random, rng) = self.random.as_mut()?;
        if random.statuses.is_empty() || !random.filter.matches(method, path) {
            return None;
        }
        if rng.random::<f64>() < random.probability {
            let status = random.statuses[rng.random_range(0..random.statuses.len())];
            return Some(FaultKind::Status(status));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_consumed_by_matching_requests_only() {
        let mut faults = Faults::new(FaultPlan::scripted(vec![
            ScriptedFault::new(FaultKind::Status(503))
                .method("POST")
                .path("batch/upsert"),
        ]));
        assert_eq!(faults.pick("GET", "/crm/v3/objects/contacts"), None);
        assert_eq!(
            faults.pick("POST", "/crm/v3/objects/contacts/batch/upsert"),
            Some(FaultKind::Status(503))
        );
        assert_eq!(
            faults.pick("POST", "/crm/v3/objects/contacts/batch/upsert"),
            None
        );
    }

    #[test]
    fn plan_reads_from_json() {
        let plan: FaultPlan = serde_json::from_str(
            r#"{"script":[{"kind":{"status":502},"path_contains":"search"},{"kind":"drop_after_apply"}],
                "random":{"probability":0.5,"statuses":[500],"seed":7}}"#,
        )
        .unwrap();
        assert_eq!(plan.script[0].kind, FaultKind::Status(502));
        assert_eq!(plan.script[1].kind, FaultKind::DropAfterApply);
        assert_eq!(plan.random.unwrap().seed, 7);
    }
}
