//! Deal values as both sides write them: amounts as exact two-place decimals (never through a
//! float) and close dates as xentral's local calendar days.

use crate::mapping::parse_instant_ms;

/// An amount as an exact decimal with two places (xentral's `decimal(10,2)`), computed on
/// the digits, never through a float: `"1234.5"` → `"1234.50"`, `"-0.005"` → `"-0.01"`
/// (half away from zero). `None` when the text is not a plain number.
pub fn canonical_amount(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut cents: u128 = 0;
    for b in int
        .bytes()
        .chain(frac.bytes().chain(std::iter::repeat(b'0')).take(2))
    {
        cents = cents.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
    }
    if frac.len() > 2 && frac.as_bytes()[2] >= b'5' {
        cents += 1;
    }
    let sign = if negative && cents > 0 { "-" } else { "" };
    Some(format!("{sign}{}.{:02}", cents / 100, cents % 100))
}

/// An amount as xentral's tables may hold it: a plain decimal (`1234.5`, what xentral itself
/// stores) or German notation as other modules and imports write it, a decimal comma with
/// optional thousands dots (`1.234,56`, `2,5`). `Ok(None)` when empty; `Err` says what could
/// not be read, so the record can be reported rather than its amount silently dropped.
pub fn xentral_amount(raw: &str) -> Result<Option<String>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(a) = canonical_amount(t) {
        return Ok(Some(a));
    }
    if let Some((int, frac)) = t.rsplit_once(',') {
        let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
        let groups: Vec<&str> = digits.split('.').collect();
        let grouped = groups.iter().enumerate().all(|(i, g)| {
            g.bytes().all(|b| b.is_ascii_digit())
                && match (i, groups.len()) {
                    (_, 1) => !g.is_empty(),
                    (0, _) => (1..=3).contains(&g.len()),
                    _ => g.len() == 3,
                }
        });
        if grouped
            && !frac.is_empty()
            && frac.bytes().all(|b| b.is_ascii_digit())
            && let Some(a) = canonical_amount(&format!("{sign}{}.{frac}", groups.concat()))
        {
            return Ok(Some(a));
        }
    }
    Err(format!(
        "amount '{t}' is not a number xentral writes (1234.56, or 1.234,56)"
    ))
}

/// A HubSpot close date as xentral's local date and time: a date-only value (or an instant
/// at exactly midnight UTC, HubSpot's form of a date) is that calendar day; any other instant
/// is converted into the tenant's time zone.
pub fn close_date_local(raw: &str, tz: chrono_tz::Tz) -> Option<(String, Option<String>)> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Some((d.format("%Y-%m-%d").to_string(), None));
    }
    let ms = parse_instant_ms(t)?;
    let utc = chrono::DateTime::from_timestamp_millis(ms)?;
    if ms.rem_euclid(86_400_000) == 0 {
        return Some((utc.format("%Y-%m-%d").to_string(), None));
    }
    let local = utc.with_timezone(&tz);
    Some((
        local.format("%Y-%m-%d").to_string(),
        Some(local.format("%H:%M:%S").to_string()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amounts_are_exact_two_place_decimals() {
        assert_eq!(canonical_amount("1234.5").as_deref(), Some("1234.50"));
        assert_eq!(canonical_amount("1234").as_deref(), Some("1234.00"));
        assert_eq!(canonical_amount("0.105").as_deref(), Some("0.11"));
        assert_eq!(canonical_amount("-7.004").as_deref(), Some("-7.00"));
        assert_eq!(
            canonical_amount("99999999.99").as_deref(),
            Some("99999999.99")
        );
        assert_eq!(canonical_amount("1,234.00"), None);
        assert_eq!(canonical_amount("abc"), None);
        assert_eq!(canonical_amount(""), None);
    }

    #[test]
    fn amounts_in_the_notations_xentral_holds_are_read() {
        for (raw, want) in [
            ("1234.56", "1234.56"),
            ("1.234,56", "1234.56"),
            ("2,5", "2.50"),
            ("-1.000.000,1", "-1000000.10"),
            (" 7,005 ", "7.01"),
        ] {
            assert_eq!(xentral_amount(raw), Ok(Some(want.into())), "{raw}");
        }
        assert_eq!(xentral_amount(""), Ok(None));
        for bad in [
            "1,234.56",
            "12.34,5,6",
            "1.23,45",
            "abc",
            "1.2345,6",
            ",5",
            "5,",
        ] {
            assert!(xentral_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn close_dates_keep_the_calendar_day() {
        assert_eq!(
            close_date_local("2026-03-01", chrono_tz::America::Los_Angeles),
            Some(("2026-03-01".into(), None))
        );
        assert_eq!(
            close_date_local("2026-03-01T00:00:00.000Z", chrono_tz::America::Los_Angeles),
            Some(("2026-03-01".into(), None))
        );
        assert_eq!(
            close_date_local("2026-03-01T23:30:00Z", chrono_tz::Europe::Berlin),
            Some(("2026-03-02".into(), Some("00:30:00".into())))
        );
        assert_eq!(close_date_local("", chrono_tz::Europe::Berlin), None);
    }

    proptest! {
        #[test]
        fn canonical_amounts_are_fixed_points(cents in -10_000_000_000i64..10_000_000_000) {
            let s = format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100);
            prop_assert_eq!(canonical_amount(&s), Some(s.clone()));
        }
    }
}
