//! Deal pipelines and stages ⇄ xentral resubmission views and stages.
//!
//! Mapping is always by (pipeline id, stage id) — never by label, never a literal `default`.
//! *Automatic*: one `wiedervorlage_view` per pipeline and one `wiedervorlage_stages` row per
//! stage, kept up to date by Refresh (new pipelines and stages added, renamed labels followed,
//! archived stages hidden). *User defined*: the user maps each xentral stage by hand.

use std::collections::HashMap;

use crate::api::{self, PluginError, StageMode};
use crate::hubspot::{Client, wire};
use crate::mapping::truncate;
use crate::platform::{Db, DbError, Value};
use crate::xentral;

/// A HubSpot deal stage.
#[derive(Debug, Clone, PartialEq)]
pub struct HubspotStage {
    /// Pipeline id.
    pub pipeline_id: String,
    /// Pipeline label.
    pub pipeline_label: String,
    /// Whether the pipeline is archived.
    pub pipeline_archived: bool,
    /// Pipeline display order.
    pub pipeline_order: i64,
    /// Stage id.
    pub stage_id: String,
    /// Stage label.
    pub label: String,
    /// Stage display order.
    pub order: i64,
    /// Win probability 0.0–1.0, if HubSpot gives one.
    pub probability: Option<f64>,
    /// Whether the stage is archived.
    pub archived: bool,
}

/// Reads every deal pipeline with its stages.
pub fn read_pipelines(client: &mut Client<'_>) -> Result<Vec<HubspotStage>, PluginError> {
    let path = client.version().pipelines("deals");
    let reply: wire::Collection<wire::Pipeline> = client
        .get(&path, &path)
        .map_err(|e| crate::engine::incremental::api_error_reading("deal pipelines", e))?;
    let mut out = Vec::new();
    for p in reply.results {
        for st in p.stages {
            out.push(HubspotStage {
                pipeline_id: p.id.0.clone(),
                pipeline_label: p.label.clone(),
                pipeline_archived: p.archived,
                pipeline_order: p.display_order.0.unwrap_or(0.0) as i64,
                label: st.label,
                order: st.display_order.0.unwrap_or(0.0) as i64,
                probability: st.metadata.probability.0,
                archived: st.archived,
                stage_id: st.id.0,
            });
        }
    }
    Ok(out)
}

/// The stage map in both directions.
#[derive(Debug, Clone, Default)]
pub struct StageMap {
    /// xentral stage → (pipeline, stage).
    pub to_hubspot: HashMap<i64, (String, String)>,
    /// (pipeline, stage) → xentral stage.
    pub to_xentral: HashMap<(String, String), i64>,
    /// xentral stages the automatic mode created and keeps (the others a user mapped).
    pub system: std::collections::HashSet<i64>,
}

impl StageMap {
    /// Loads the map.
    pub fn load(db: &mut dyn Db) -> Result<StageMap, DbError> {
        let rows = db.query(
            "SELECT wiedervorlage_stage_id, pipeline_id, stage_id, is_system FROM hubspot_sync_stage_map",
            &[],
        )?;
        let mut m = StageMap::default();
        for r in &rows.rows {
            let (Some(wv), Some(p), Some(s)) = (
                r.first().and_then(Value::as_i64),
                r.get(1).and_then(Value::as_text),
                r.get(2).and_then(Value::as_text),
            ) else {
                continue;
            };
            if r.get(3).and_then(Value::as_i64) == Some(1) {
                m.system.insert(wv);
            }
            m.to_hubspot.insert(wv, (p.clone(), s.clone()));
            m.to_xentral.insert((p, s), wv);
        }
        Ok(m)
    }
}

/// Why a resubmission on `stage`, which is mapped to no HubSpot stage, is not exported: its
/// view is synchronised (it mirrors a pipeline or holds a mapped stage) and only the stage is
/// unmapped, or the view is not synchronised at all, or there is no stage.
pub fn unmapped_reason(db: &mut dyn Db, stage: i64) -> Result<&'static str, DbError> {
    if stage <= 0 {
        return Ok("resubmission is on no stage");
    }
    let rows = db.query(
        "SELECT 1 FROM wiedervorlage_stages s WHERE s.id = ? AND (\
         EXISTS (SELECT 1 FROM hubspot_sync_pipeline_map p WHERE p.wiedervorlage_view_id = s.view) \
         OR EXISTS (SELECT 1 FROM hubspot_sync_stage_map m JOIN wiedervorlage_stages o ON o.id = m.wiedervorlage_stage_id WHERE o.view = s.view))",
        &[Value::Integer(stage)],
    )?;
    Ok(if rows.rows.is_empty() {
        "not in a view synchronised with HubSpot"
    } else {
        "stage not mapped to a HubSpot stage"
    })
}

/// Maps one xentral stage to a HubSpot (pipeline, stage); replaces an earlier mapping of
/// either side.
pub fn map_stage(
    db: &mut dyn Db,
    wv_stage: i64,
    view: i64,
    pipeline_id: &str,
    stage_id: &str,
    is_system: bool,
) -> Result<(), DbError> {
    db.execute(
        "DELETE FROM hubspot_sync_stage_map WHERE wiedervorlage_stage_id = ? OR (pipeline_id = ? AND stage_id = ?)",
        &[Value::Integer(wv_stage), Value::from(pipeline_id), Value::from(stage_id)],
    )?;
    db.execute(
        "INSERT INTO hubspot_sync_stage_map (wiedervorlage_stage_id, wiedervorlage_view_id, pipeline_id, stage_id, is_system) VALUES (?, ?, ?, ?, ?)",
        &[
            Value::Integer(wv_stage),
            Value::Integer(view),
            Value::from(pipeline_id),
            Value::from(stage_id),
            Value::Integer(i64::from(is_system)),
        ],
    )?;
    Ok(())
}

fn chance(p: Option<f64>) -> Value {
    p.map_or(Value::Null, |p| Value::Integer((p * 100.0).round() as i64))
}

/// Stores HubSpot's stages as options and, in automatic mode, mirrors them as views and
/// stages. Returns one line per change.
pub fn sync_metadata(
    db: &mut dyn Db,
    stages: &[HubspotStage],
    mode: StageMode,
) -> Result<Vec<String>, PluginError> {
    let mut changes = Vec::new();
    let mut seen_pipelines = std::collections::BTreeSet::new();
    for st in stages {
        if seen_pipelines.insert(st.pipeline_id.clone())
            && xentral::upsert_option(
                db,
                "pipeline",
                "",
                &st.pipeline_id,
                &st.pipeline_label,
                st.pipeline_order,
            )?
        {
            changes.push(format!(
                "pipeline {} ({})",
                st.pipeline_id, st.pipeline_label
            ));
        }
        if xentral::upsert_option(
            db,
            "deal_stage",
            &st.pipeline_id,
            &st.stage_id,
            &st.label,
            st.order,
        )? {
            changes.push(format!(
                "stage {}:{} ({})",
                st.pipeline_id, st.stage_id, st.label
            ));
        }
    }
    db.execute(
        "UPDATE hubspot_sync_options SET archived = 1 WHERE type IN ('pipeline', 'deal_stage')",
        &[],
    )?;
    for st in stages {
        db.execute(
            "UPDATE hubspot_sync_options SET archived = ? WHERE type = 'deal_stage' AND parent = ? AND value = ?",
            &[Value::Integer(i64::from(st.archived)), Value::from(&st.pipeline_id), Value::from(&st.stage_id)],
        )?;
        db.execute(
            "UPDATE hubspot_sync_options SET archived = ? WHERE type = 'pipeline' AND value = ?",
            &[
                Value::Integer(i64::from(st.pipeline_archived)),
                Value::from(&st.pipeline_id),
            ],
        )?;
    }
    if mode == StageMode::Automatic {
        changes.extend(mirror(db, stages)?);
    }
    Ok(changes)
}

/// Automatic mode: one view per pipeline, one xentral stage per HubSpot stage.
fn mirror(db: &mut dyn Db, stages: &[HubspotStage]) -> Result<Vec<String>, PluginError> {
    let mut changes = Vec::new();
    let mut views: HashMap<String, i64> = HashMap::new();
    let rows = db.query(
        "SELECT pipeline_id, wiedervorlage_view_id FROM hubspot_sync_pipeline_map",
        &[],
    )?;
    for r in &rows.rows {
        if let (Some(p), Some(v)) = (
            r.first().and_then(Value::as_text),
            r.get(1).and_then(Value::as_i64),
        ) {
            views.insert(p, v);
        }
    }
    let map = StageMap::load(db)?;
    for st in stages {
        let view = match views.get(&st.pipeline_id) {
            Some(v) => {
                let r = db.execute(
                    "UPDATE wiedervorlage_view SET name = ? WHERE id = ? AND name <> ?",
                    &[
                        Value::from(&st.pipeline_label),
                        Value::Integer(*v),
                        Value::from(&st.pipeline_label),
                    ],
                )?;
                if r.rows_affected > 0 {
                    changes.push(format!("renamed view {v} to '{}'", st.pipeline_label));
                }
                *v
            }
            None => {
                let r = db.execute(
                    "INSERT INTO wiedervorlage_view (name, shortname, active, project, hide_collection_stage) VALUES (?, ?, 1, 0, 0)",
                    &[
                        Value::from(truncate(&st.pipeline_label, 255)),
                        Value::from(truncate(&st.pipeline_label, 64)),
                    ],
                )?;
                let v = r.last_insert_id;
                db.execute(
                    "INSERT INTO hubspot_sync_pipeline_map (pipeline_id, wiedervorlage_view_id, is_system) VALUES (?, ?, 1)",
                    &[Value::from(&st.pipeline_id), Value::Integer(v)],
                )?;
                views.insert(st.pipeline_id.clone(), v);
                changes.push(format!(
                    "created view '{}' for pipeline {}",
                    st.pipeline_label, st.pipeline_id
                ));
                v
            }
        };
        let hidden = i64::from(st.archived || st.pipeline_archived);
        let label = truncate(&st.label, 64);
        match map
            .to_xentral
            .get(&(st.pipeline_id.clone(), st.stage_id.clone()))
        {
            // A stage a user mapped by hand is theirs: never renamed, moved or hidden here.
            Some(wv) if !map.system.contains(wv) => {}
            Some(wv) => {
                let r = db.execute(
                    "UPDATE wiedervorlage_stages SET kurzbezeichnung = ?, name = ?, sort = ?, chance = ?, stageausblenden = ?, view = ? \
                     WHERE id = ? AND (kurzbezeichnung <> ? OR name <> ? OR sort <> ? OR stageausblenden <> ? OR view <> ? OR COALESCE(chance, -1) <> COALESCE(?, -1))",
                    &[
                        Value::from(&label),
                        Value::from(&label),
                        Value::Integer(st.order),
                        chance(st.probability),
                        Value::Integer(hidden),
                        Value::Integer(view),
                        Value::Integer(*wv),
                        Value::from(&label),
                        Value::from(&label),
                        Value::Integer(st.order),
                        Value::Integer(hidden),
                        Value::Integer(view),
                        chance(st.probability),
                    ],
                )?;
                if r.rows_affected > 0 {
                    changes.push(format!("updated stage {wv} ({label})"));
                }
            }
            None => {
                let r = db.execute(
                    "INSERT INTO wiedervorlage_stages (kurzbezeichnung, name, hexcolor, ausblenden, stageausblenden, sort, view, chance) VALUES (?, ?, '#a2d624', 0, ?, ?, ?, ?)",
                    &[
                        Value::from(&label),
                        Value::from(&label),
                        Value::Integer(hidden),
                        Value::Integer(st.order),
                        Value::Integer(view),
                        chance(st.probability),
                    ],
                )?;
                map_stage(
                    db,
                    r.last_insert_id,
                    view,
                    &st.pipeline_id,
                    &st.stage_id,
                    true,
                )?;
                changes.push(format!(
                    "created stage '{label}' for {}:{}",
                    st.pipeline_id, st.stage_id
                ));
            }
        }
    }
    // HubSpot lists only live stages: a mapped stage it no longer lists was archived (or its
    // pipeline was). Hide it; resubmissions in it stay where they are.
    let live: std::collections::HashSet<(String, String)> = stages
        .iter()
        .map(|s| (s.pipeline_id.clone(), s.stage_id.clone()))
        .collect();
    for (key, wv) in &map.to_xentral {
        if !live.contains(key) && map.system.contains(wv) {
            let r = db.execute(
                "UPDATE wiedervorlage_stages SET stageausblenden = 1 WHERE id = ? AND stageausblenden = 0",
                &[Value::Integer(*wv)],
            )?;
            if r.rows_affected > 0 {
                changes.push(format!(
                    "hid stage {wv}: {}:{} is archived in HubSpot",
                    key.0, key.1
                ));
            }
        }
    }
    Ok(changes)
}

/// Both sides of the mapping, as the `stages list` command shows them.
pub fn overview(db: &mut dyn Db, mode: StageMode) -> Result<api::StageOverview, PluginError> {
    let map = StageMap::load(db)?;
    let rows = db.query(
        "SELECT s.id, s.view, COALESCE(v.name, ''), s.name, s.stageausblenden FROM wiedervorlage_stages s \
         LEFT JOIN wiedervorlage_view v ON v.id = s.view ORDER BY s.view, s.sort, s.id",
        &[],
    )?;
    let xentral = rows
        .rows
        .iter()
        .filter_map(|r| {
            let id = r.first()?.as_i64()?;
            Some(api::XentralStage {
                id,
                view_id: r.get(1).and_then(Value::as_i64).unwrap_or(0),
                view_name: r.get(2).and_then(Value::as_text).unwrap_or_default(),
                name: r.get(3).and_then(Value::as_text).unwrap_or_default(),
                hidden: r.get(4).and_then(Value::as_i64).unwrap_or(0) != 0,
                mapped_to: map.to_hubspot.get(&id).cloned(),
                automatic: map.system.contains(&id),
            })
        })
        .collect();
    let labels: HashMap<String, String> = db
        .query(
            "SELECT value, label FROM hubspot_sync_options WHERE type = 'pipeline'",
            &[],
        )?
        .rows
        .iter()
        .filter_map(|r| Some((r.first()?.as_text()?, r.get(1)?.as_text()?)))
        .collect();
    let rows = db.query(
        "SELECT parent, value, label, archived FROM hubspot_sync_options WHERE type = 'deal_stage' ORDER BY parent, sort, value",
        &[],
    )?;
    let hubspot = rows
        .rows
        .iter()
        .filter_map(|r| {
            let pipeline_id = r.first()?.as_text()?;
            let stage_id = r.get(1)?.as_text()?;
            Some(api::HubspotStage {
                pipeline_label: labels.get(&pipeline_id).cloned().unwrap_or_default(),
                mapped_to: map
                    .to_xentral
                    .get(&(pipeline_id.clone(), stage_id.clone()))
                    .copied(),
                label: r.get(2).and_then(Value::as_text).unwrap_or_default(),
                archived: r.get(3).and_then(Value::as_i64).unwrap_or(0) != 0,
                pipeline_id,
                stage_id,
            })
        })
        .collect();
    Ok(api::StageOverview {
        mode,
        xentral,
        hubspot,
    })
}

/// Maps a xentral stage to a HubSpot stage by hand.
pub fn map_by_user(
    db: &mut dyn Db,
    wv_stage: i64,
    pipeline_id: &str,
    stage_id: &str,
) -> Result<String, PluginError> {
    let view = db
        .query(
            "SELECT view FROM wiedervorlage_stages WHERE id = ?",
            &[Value::Integer(wv_stage)],
        )?
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            PluginError::InvalidSettings(format!("there is no xentral stage with id {wv_stage}"))
        })?;
    let known = !db
        .query(
            "SELECT 1 FROM hubspot_sync_options WHERE type = 'deal_stage' AND parent = ? AND value = ?",
            &[Value::from(pipeline_id), Value::from(stage_id)],
        )?
        .rows
        .is_empty();
    if !known {
        return Err(PluginError::InvalidSettings(format!(
            "HubSpot has no stage '{stage_id}' in pipeline '{pipeline_id}' (as of the last Refresh); run `xentral-host refresh` and `xentral-host stages TENANT list`"
        )));
    }
    let map = StageMap::load(db)?;
    let key = (pipeline_id.to_owned(), stage_id.to_owned());
    if map.to_xentral.get(&key) == Some(&wv_stage) {
        return Ok(format!(
            "xentral stage {wv_stage} already maps to HubSpot stage {pipeline_id}:{stage_id}; nothing changed"
        ));
    }
    let mut replaced = Vec::new();
    if let Some((p, st)) = map.to_hubspot.get(&wv_stage) {
        replaced.push(format!("it no longer maps to {p}:{st}"));
    }
    if let Some(other) = map.to_xentral.get(&key) {
        let name = stage_name(db, *other)?;
        replaced.push(format!(
            "xentral stage {other} '{name}' no longer maps to {pipeline_id}:{stage_id}: its resubmissions stop syncing until it is mapped again"
        ));
    }
    db.begin()?;
    let r = map_stage(db, wv_stage, view, pipeline_id, stage_id, false);
    match r {
        Ok(()) => db.commit()?,
        Err(e) => {
            let _ = db.rollback();
            return Err(e.into());
        }
    }
    let mut message =
        format!("xentral stage {wv_stage} now maps to HubSpot stage {pipeline_id}:{stage_id}");
    if !replaced.is_empty() {
        message.push_str("; ");
        message.push_str(&replaced.join("; "));
    }
    Ok(message)
}

fn stage_name(db: &mut dyn Db, id: i64) -> Result<String, DbError> {
    Ok(db
        .query(
            "SELECT name FROM wiedervorlage_stages WHERE id = ?",
            &[Value::Integer(id)],
        )?
        .rows
        .first()
        .and_then(|r| r.first()?.as_text())
        .unwrap_or_default())
}
