//! Countries as xentral keeps them (`laender`: ISO codes with German and English names) and
//! as HubSpot has them (free text): both meet in the ISO-2 code.

use std::collections::HashMap;

use crate::platform::{Db, DbError, Value};

/// Country names and codes from xentral's `laender` table.
#[derive(Debug, Clone, Default)]
pub struct Countries {
    by_name: HashMap<String, String>,
    english: HashMap<String, String>,
}

impl Countries {
    /// Loads `laender`.
    pub fn load(db: &mut dyn Db) -> Result<Countries, DbError> {
        let rows = db.query(
            "SELECT iso, iso3, bezeichnung_de, bezeichnung_en FROM laender",
            &[],
        )?;
        Ok(Countries::from_rows(rows.rows.iter().map(|r| {
            let text = |i: usize| r.get(i).and_then(Value::as_text).unwrap_or_default();
            [text(0), text(1), text(2), text(3)]
        })))
    }

    /// The lists from `laender`'s rows (`iso`, `iso3`, `bezeichnung_de`, `bezeichnung_en`),
    /// however they were read (the demo's comparison reads them through the host).
    pub fn from_rows(rows: impl IntoIterator<Item = [String; 4]>) -> Countries {
        let mut c = Countries::default();
        for row in rows {
            let iso = row[0].trim().to_uppercase();
            if iso.len() != 2 {
                continue;
            }
            for name in &row {
                let key = name.trim().to_lowercase();
                if !key.is_empty() {
                    c.by_name.entry(key).or_insert_with(|| iso.clone());
                }
            }
            let [_, _, _, english] = row;
            c.english.insert(iso, english);
        }
        for (alias, iso) in [
            ("usa", "US"),
            ("united states of america", "US"),
            ("uk", "GB"),
            ("england", "GB"),
            ("great britain", "GB"),
            ("schweiz", "CH"),
        ] {
            if c.english.contains_key(iso) {
                c.by_name.entry(alias.into()).or_insert_with(|| iso.into());
            }
        }
        c
    }

    /// Whether `canonical` is a country code xentral knows (what `adresse.land` may hold).
    pub fn is_code(&self, canonical: &str) -> bool {
        self.english.contains_key(canonical)
    }

    /// The canonical form: the ISO-2 code when the name or code is known, else the text.
    pub fn canonical(&self, raw: &str) -> String {
        let t = raw.trim();
        self.by_name
            .get(&t.to_lowercase())
            .cloned()
            .unwrap_or_else(|| t.to_owned())
    }

    /// What HubSpot's free-text `country` gets: the English name of a known code.
    pub fn for_hubspot(&self, canonical: &str) -> String {
        self.english
            .get(canonical)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| canonical.to_owned())
    }
}

/// Small country lists for unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::Countries;

    /// Germany only, by its code and its names.
    pub(crate) fn germany() -> Countries {
        let mut c = Countries::default();
        for (k, v) in [("de", "DE"), ("germany", "DE"), ("deutschland", "DE")] {
            c.by_name.insert(k.into(), v.into());
        }
        c.english.insert("DE".into(), "Germany".into());
        c
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::germany;

    #[test]
    fn country_names_and_codes_meet_in_iso2() {
        let c = germany();
        assert_eq!(c.canonical("Deutschland"), "DE");
        assert_eq!(c.canonical(" germany "), "DE");
        assert_eq!(c.canonical("de"), "DE");
        assert_eq!(c.canonical("Atlantis"), "Atlantis");
        assert_eq!(c.for_hubspot("DE"), "Germany");
        assert!(c.is_code("DE"));
        assert!(!c.is_code("Atlantis") && !c.is_code("中国"));
    }
}
