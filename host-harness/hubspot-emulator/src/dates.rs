//! Conversions between epoch milliseconds and the date formats HubSpot reads and writes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike, Utc};

/// Milliseconds in a day, for the daily rate limit and midnight checks.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Formats epoch milliseconds as ISO-8601 UTC with milliseconds, as HubSpot does.
pub(crate) fn iso_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Parses an instant written as epoch milliseconds, ISO-8601 (with or without zone) or `YYYY-MM-DD`.
pub(crate) fn parse_instant(value: &str) -> Option<i64> {
    let value = value.trim();
    if let Ok(ms) = value.parse::<i64>() {
        return Some(ms);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(value) {
        return Some(dt.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(value, format) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// Normalises a `date`-typed value to `YYYY-MM-DD`, rejecting anything not at midnight UTC
/// with HubSpot's wording.
pub(crate) fn normalize_date(value: &str) -> Result<String, String> {
    let Some(ms) = parse_instant(value) else {
        return Err(format!("{value} is not a valid date"));
    };
    let dt =
        DateTime::<Utc>::from_timestamp_millis(ms).ok_or(format!("{value} is out of range"))?;
    if ms.rem_euclid(DAY_MS) != 0 {
        return Err(format!(
            "{value} is at {:02}:{:02}:{:02}.{:03} UTC, not midnight!",
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.timestamp_subsec_millis()
        ));
    }
    Ok(dt.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midnight_forms_are_accepted() {
        assert_eq!(normalize_date("2024-05-01").unwrap(), "2024-05-01");
        assert_eq!(
            normalize_date("2024-05-01T00:00:00.000Z").unwrap(),
            "2024-05-01"
        );
        assert_eq!(normalize_date("1714521600000").unwrap(), "2024-05-01");
    }

    #[test]
    fn non_midnight_is_rejected_with_hubspot_wording() {
        let err = normalize_date("2024-05-01T22:18:55.865Z").unwrap_err();
        assert_eq!(
            err,
            "2024-05-01T22:18:55.865Z is at 22:18:55.865 UTC, not midnight!"
        );
    }

    #[test]
    fn iso_has_milliseconds() {
        assert_eq!(iso_ms(1_714_521_600_005), "2024-05-01T00:00:00.005Z");
    }
}
