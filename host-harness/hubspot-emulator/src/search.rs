//! CRM search: filter groups, one sort, offset paging with HubSpot's 10,000-result cap, no archived
//! records, and an indexing lag during which fresh writes are invisible.

use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::Value;

use crate::dates::parse_instant;
use crate::error::ApiError;
use crate::schema::Maintained;
use crate::store::{ObjectStore, StoredRecord};

/// Most filter groups per request.
const MAX_GROUPS: usize = 5;
/// Most filters per group.
const MAX_FILTERS: usize = 6;
/// Most filters over all groups of one request.
const MAX_TOTAL_FILTERS: usize = 18;
/// Largest page.
const MAX_LIMIT: i64 = 200;
/// Results beyond this offset cannot be paged to.
const RESULT_CAP: i64 = 10_000;

/// The body of `POST …/search`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchRequest {
    #[serde(default)]
    filter_groups: Vec<FilterGroup>,
    #[serde(default)]
    sorts: Vec<SortSpec>,
    #[serde(default)]
    pub properties: Vec<String>,
    limit: Option<i64>,
    after: Option<Value>,
    query: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FilterGroup {
    #[serde(default)]
    filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    property_name: String,
    operator: String,
    value: Option<Value>,
    high_value: Option<Value>,
    values: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SortSpec {
    Named {
        #[serde(rename = "propertyName")]
        property_name: String,
        direction: Option<String>,
    },
    Text(String),
}

/// One page of search results.
pub(crate) struct SearchPage {
    pub total: usize,
    pub ids: Vec<u64>,
    pub next_after: Option<String>,
}

/// A comparable view of a value: numbers (and instants) numerically, text case-insensitively.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
}

fn compare(a: &Key, b: &Key) -> Option<Ordering> {
    match (a, b) {
        (Key::Num(x), Key::Num(y)) => x.partial_cmp(y),
        (Key::Text(x), Key::Text(y)) => Some(x.cmp(y)),
        (Key::Num(x), Key::Text(y)) => Some(x.to_string().cmp(y)),
        (Key::Text(x), Key::Num(y)) => Some(x.cmp(&y.to_string())),
    }
}

fn key_of(raw: &str, temporal: bool) -> Key {
    if temporal && let Some(ms) = parse_instant(raw) {
        return Key::Num(ms as f64);
    }
    match raw.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Key::Num(n),
        _ => Key::Text(raw.to_lowercase()),
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The value of a property on a record as a search key (maintained times without formatting).
fn record_key(store: &ObjectStore, id: u64, rec: &StoredRecord, property: &str) -> Option<Key> {
    let slot = store.schema.slot(property)?;
    let def = store.schema.def(slot);
    match def.maintained {
        Some(Maintained::ObjectId) => Some(Key::Num(id as f64)),
        Some(Maintained::Created) => Some(Key::Num(rec.created_ms as f64)),
        Some(Maintained::Modified) => Some(Key::Num(rec.updated_ms as f64)),
        None => rec.stored(slot).map(|v| key_of(v, def.kind.is_temporal())),
    }
}

/// A filter with its values parsed once.
struct Compiled<'a> {
    property: &'a str,
    operator: &'a str,
    values: Vec<Key>,
    tokens: Vec<String>,
}

fn compile<'a>(store: &ObjectStore, filter: &'a Filter) -> Result<Compiled<'a>, ApiError> {
    let temporal = store
        .schema
        .get(&filter.property_name)
        .is_some_and(|d| d.kind.is_temporal());
    let one = |v: &Option<Value>, what: &str| {
        v.as_ref().map(text_of).ok_or_else(|| {
            ApiError::validation(format!(
                "Operator {} requires a {what} for property {}",
                filter.operator, filter.property_name
            ))
        })
    };
    let raw: Vec<String> = match filter.operator.as_str() {
        "EQ" | "NEQ" | "LT" | "LTE" | "GT" | "GTE" | "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
            vec![one(&filter.value, "value")?]
        }
        "BETWEEN" => vec![
            one(&filter.value, "value")?,
            one(&filter.high_value, "highValue")?,
        ],
        "IN" | "NOT_IN" => match &filter.values {
            Some(values) => values.iter().map(text_of).collect(),
            None => {
                return Err(ApiError::validation(format!(
                    "Operator {} requires values",
                    filter.operator
                )));
            }
        },
        "HAS_PROPERTY" | "NOT_HAS_PROPERTY" => Vec::new(),
        other => {
            return Err(ApiError::validation(format!(
                "Invalid operator {other}. Allowed: EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN"
            )));
        }
    };
    Ok(Compiled {
        property: &filter.property_name,
        operator: &filter.operator,
        values: raw.iter().map(|v| key_of(v, temporal)).collect(),
        tokens: raw.iter().map(|v| v.to_lowercase()).collect(),
    })
}

fn contains_token(text: &str, token: &str) -> bool {
    let text = text.to_lowercase();
    if token.contains('*') {
        return glob(&text, token);
    }
    text == token
        || text
            .split(|c: char| !c.is_alphanumeric())
            .any(|t| t == token)
}

/// `*` matches any run of characters.
fn glob(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else {
                return false;
            };
            rest = &rest[pos + part.len()..];
        }
    }
    rest.is_empty()
}

fn matches(store: &ObjectStore, id: u64, rec: &StoredRecord, f: &Compiled) -> bool {
    let key = record_key(store, id, rec, f.property);
    let cmp = |i: usize| key.as_ref().and_then(|k| compare(k, &f.values[i]));
    let text = || {
        store
            .value_by_name(id, rec, f.property)
            .map(|v| v.into_owned())
    };
    match f.operator {
        "EQ" => cmp(0) == Some(Ordering::Equal),
        "NEQ" => cmp(0) != Some(Ordering::Equal),
        "LT" => cmp(0) == Some(Ordering::Less),
        "LTE" => matches!(cmp(0), Some(Ordering::Less | Ordering::Equal)),
        "GT" => cmp(0) == Some(Ordering::Greater),
        "GTE" => matches!(cmp(0), Some(Ordering::Greater | Ordering::Equal)),
        "BETWEEN" => {
            matches!(cmp(0), Some(Ordering::Greater | Ordering::Equal))
                && matches!(cmp(1), Some(Ordering::Less | Ordering::Equal))
        }
        "IN" => (0..f.values.len()).any(|i| cmp(i) == Some(Ordering::Equal)),
        "NOT_IN" => (0..f.values.len()).all(|i| cmp(i) != Some(Ordering::Equal)),
        "HAS_PROPERTY" => key.is_some(),
        "NOT_HAS_PROPERTY" => key.is_none(),
        "CONTAINS_TOKEN" => text().is_some_and(|t| contains_token(&t, &f.tokens[0])),
        _ => !text().is_some_and(|t| contains_token(&t, &f.tokens[0])),
    }
}

fn matches_query(store: &ObjectStore, id: u64, rec: &StoredRecord, query: &str) -> bool {
    store
        .object
        .searchable()
        .iter()
        .filter_map(|p| store.value_by_name(id, rec, p))
        .any(|v| v.to_lowercase().contains(query))
}

/// Runs a search over the live, indexed records of one object type.
pub(crate) fn run(
    store: &ObjectStore,
    req: &SearchRequest,
    indexed_before: i64,
) -> Result<SearchPage, ApiError> {
    if req.filter_groups.len() > MAX_GROUPS {
        return Err(ApiError::validation(format!(
            "Too many filter groups: {}. The maximum is {MAX_GROUPS}.",
            req.filter_groups.len()
        )));
    }
    if let Some(group) = req
        .filter_groups
        .iter()
        .find(|g| g.filters.len() > MAX_FILTERS)
    {
        return Err(ApiError::validation(format!(
            "Too many filters in a filter group: {}. The maximum is {MAX_FILTERS}.",
            group.filters.len()
        )));
    }
    let total: usize = req.filter_groups.iter().map(|g| g.filters.len()).sum();
    if total > MAX_TOTAL_FILTERS {
        return Err(ApiError::validation(format!(
            "Too many filters: {total}. The maximum over all filter groups is {MAX_TOTAL_FILTERS}."
        )));
    }
    let limit = req.limit.unwrap_or(10);
    if !(0..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::validation(format!(
            "limit must be between 0 and {MAX_LIMIT}, got {limit}"
        )));
    }
    let after = match &req.after {
        None | Some(Value::Null) => 0,
        Some(v) => text_of(v)
            .parse::<i64>()
            .ok()
            .filter(|a| *a >= 0)
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "after must be a non-negative integer offset, got {}",
                    text_of(v)
                ))
            })?,
    };
    if after + limit > RESULT_CAP {
        return Err(ApiError::validation(format!(
            "Paging past {RESULT_CAP} results is not supported: after ({after}) + limit ({limit}) exceeds {RESULT_CAP}. Narrow the query instead."
        )));
    }
    let (sort_property, descending) = sort_of(&req.sorts)?;
    let groups = req
        .filter_groups
        .iter()
        .map(|g| {
            g.filters
                .iter()
                .map(|f| compile(store, f))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let query = req
        .query
        .as_deref()
        .map(str::to_lowercase)
        .filter(|q| !q.is_empty());

    let mut hits: Vec<(u64, &StoredRecord)> = store
        .records
        .iter()
        .filter(|(_, rec)| rec.archived_ms.is_none() && rec.written_ms <= indexed_before)
        .filter(|(id, rec)| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|g| g.iter().all(|f| matches(store, **id, rec, f)))
        })
        .filter(|(id, rec)| {
            query
                .as_deref()
                .is_none_or(|q| matches_query(store, **id, rec, q))
        })
        .map(|(id, rec)| (*id, rec))
        .collect();
    let matched = hits.len();
    if let Some(property) = sort_property {
        let mut keyed: Vec<(Option<Key>, u64)> = hits
            .iter()
            .map(|(id, rec)| (record_key(store, *id, rec, property), *id))
            .collect();
        let order = |(ka, ia): &(Option<Key>, u64), (kb, ib): &(Option<Key>, u64)| {
            let by_key = match (ka, kb) {
                (Some(a), Some(b)) => compare(a, b).unwrap_or(Ordering::Equal),
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            (if descending { by_key.reverse() } else { by_key }).then(ia.cmp(ib))
        };
        // Only the hits up to the page's end are ordered (the rest only counted).
        let wanted = ((after + limit) as usize).min(keyed.len());
        if wanted < keyed.len() {
            keyed.select_nth_unstable_by(wanted, order);
            keyed.truncate(wanted);
        }
        keyed.sort_by(order);
        hits = keyed
            .into_iter()
            .filter_map(|(_, id)| store.records.get(&id).map(|r| (id, r)))
            .collect();
    }
    let total = matched;
    let start = (after as usize).min(total);
    let end = (start + limit as usize).min(total);
    Ok(SearchPage {
        total,
        ids: hits[start..end].iter().map(|(id, _)| *id).collect(),
        next_after: (end < total && limit > 0).then(|| end.to_string()),
    })
}

fn sort_of(sorts: &[SortSpec]) -> Result<(Option<&str>, bool), ApiError> {
    if sorts.len() > 1 {
        return Err(ApiError::validation("Only one sort is supported"));
    }
    Ok(match sorts.first() {
        None => (None, false),
        Some(SortSpec::Text(name)) => match name.strip_prefix('-') {
            Some(n) => (Some(n), true),
            None => (Some(name.as_str()), false),
        },
        Some(SortSpec::Named {
            property_name,
            direction,
        }) => match direction.as_deref() {
            None | Some("ASCENDING") => (Some(property_name.as_str()), false),
            Some("DESCENDING") => (Some(property_name.as_str()), true),
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Invalid sort direction {other}; use ASCENDING or DESCENDING"
                )));
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_wildcards() {
        assert!(glob("anna@example.com", "*@example.com"));
        assert!(glob("anna@example.com", "anna*"));
        assert!(!glob("anna@example.org", "*@example.com"));
    }

    #[test]
    fn tokens_split_on_punctuation() {
        assert!(contains_token("Anna-Lena Müller", "müller"));
        assert!(!contains_token("Anna-Lena Müller", "mül"));
    }
}
