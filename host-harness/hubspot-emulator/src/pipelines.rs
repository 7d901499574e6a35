//! Deal pipelines and their stages: HubSpot's default "Sales Pipeline" plus two custom ones.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dates::iso_ms;

/// A deal pipeline; tests add, rename and archive them to exercise a client's refresh logic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// `default` or a numeric string.
    pub id: String,
    /// Display name.
    pub label: String,
    /// Position among pipelines.
    pub display_order: i32,
    /// Archived pipelines are hidden from listings and refused on writes.
    pub archived: bool,
    /// The stages, in display order.
    pub stages: Vec<Stage>,
}

/// A stage of a pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Stage id (the value of a deal's `dealstage`).
    pub id: String,
    /// Display name.
    pub label: String,
    /// Position in the pipeline.
    pub display_order: i32,
    /// Win probability, 0.0 to 1.0 (sent as a string in `metadata`).
    pub probability: f64,
    /// Whether the stage closes the deal.
    pub is_closed: bool,
    /// Archived stages are hidden and refused on writes.
    pub archived: bool,
}

impl Stage {
    /// A live stage.
    pub fn new(
        id: &str,
        label: &str,
        display_order: i32,
        probability: f64,
        is_closed: bool,
    ) -> Stage {
        Stage {
            id: id.into(),
            label: label.into(),
            display_order,
            probability,
            is_closed,
            archived: false,
        }
    }
}

impl Pipeline {
    /// Whether a live stage with this id belongs to the pipeline.
    pub(crate) fn has_live_stage(&self, stage: &str) -> bool {
        self.stages.iter().any(|s| s.id == stage && !s.archived)
    }

    pub(crate) fn to_json(&self, created_ms: i64, include_archived: bool) -> Value {
        let stages: Vec<Value> = self
            .stages
            .iter()
            .filter(|s| include_archived || !s.archived)
            .map(|s| {
                json!({
                    "id": s.id, "label": s.label, "displayOrder": s.display_order,
                    "metadata": {"isClosed": s.is_closed.to_string(), "probability": probability_string(s.probability)},
                    "archived": s.archived, "createdAt": iso_ms(created_ms), "updatedAt": iso_ms(created_ms),
                    "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
                })
            })
            .collect();
        json!({
            "id": self.id, "label": self.label, "displayOrder": self.display_order, "archived": self.archived,
            "createdAt": iso_ms(created_ms), "updatedAt": iso_ms(created_ms), "stages": stages,
        })
    }
}

/// HubSpot writes probabilities as `"0.2"`, `"1.0"`, `"0.0"`.
fn probability_string(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.1}")
    } else {
        format!("{p}")
    }
}

/// The pipelines every emulated portal starts with.
pub(crate) fn default_pipelines() -> Vec<Pipeline> {
    let sales = [
        ("appointmentscheduled", "Appointment Scheduled", 0.2, false),
        ("qualifiedtobuy", "Qualified To Buy", 0.4, false),
        (
            "presentationscheduled",
            "Presentation Scheduled",
            0.6,
            false,
        ),
        (
            "decisionmakerboughtin",
            "Decision Maker Bought-In",
            0.8,
            false,
        ),
        ("contractsent", "Contract Sent", 0.9, false),
        ("closedwon", "Closed Won", 1.0, true),
        ("closedlost", "Closed Lost", 0.0, true),
    ];
    let partner = [
        ("7834562", "Partner lead", 0.1, false),
        ("7834563", "Partner qualified", 0.3, false),
        ("7834564", "Negotiation", 0.7, false),
        ("7834565", "Won", 1.0, true),
        ("7834566", "Lost", 0.0, true),
    ];
    let renewals = [
        ("1008001", "Renewal due", 0.5, false),
        ("1008002", "Renewed", 1.0, true),
        ("1008003", "Churned", 0.0, true),
    ];
    let build = |id: &str, label: &str, order: i32, stages: &[(&str, &str, f64, bool)]| Pipeline {
        id: id.into(),
        label: label.into(),
        display_order: order,
        archived: false,
        stages: stages
            .iter()
            .enumerate()
            .map(|(i, (sid, slabel, p, closed))| Stage::new(sid, slabel, i as i32, *p, *closed))
            .collect(),
    };
    vec![
        build("default", "Sales Pipeline", 0, &sales),
        build("7834561", "Partner Pipeline", 1, &partner),
        build("75e28846", "Renewals", 2, &renewals),
    ]
}

#[cfg(test)]
mod tests {
    use super::probability_string;

    #[test]
    fn probabilities_are_written_like_hubspot() {
        assert_eq!(probability_string(0.2), "0.2");
        assert_eq!(probability_string(1.0), "1.0");
        assert_eq!(probability_string(0.0), "0.0");
    }
}
