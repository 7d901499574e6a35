//! The `laender` table: countries with ISO codes and German/English names, as xentral ships it.
//!
//! The seed covers every EU member state (`eu = 1`), the rest of Europe and the main trading
//! partners. It is idempotent: a country whose ISO-2 code is already present is left alone, so a
//! tenant's own edits survive re-seeding.

use rusqlite::{Connection, params};

/// One country row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 (`DE`).
    pub iso: &'static str,
    /// ISO 3166-1 alpha-3 (`DEU`).
    pub iso3: &'static str,
    /// ISO 3166-1 numeric, zero-padded (`276`).
    pub num_code: &'static str,
    /// German name.
    pub bezeichnung_de: &'static str,
    /// English name.
    pub bezeichnung_en: &'static str,
    /// Member of the European Union.
    pub eu: bool,
}

const fn c(
    iso: &'static str,
    iso3: &'static str,
    num_code: &'static str,
    bezeichnung_de: &'static str,
    bezeichnung_en: &'static str,
    eu: bool,
) -> Country {
    Country {
        iso,
        iso3,
        num_code,
        bezeichnung_de,
        bezeichnung_en,
        eu,
    }
}

/// The seeded countries.
pub const COUNTRIES: &[Country] = &[
    c("DE", "DEU", "276", "Deutschland", "Germany", true),
    c("AT", "AUT", "040", "Österreich", "Austria", true),
    c("BE", "BEL", "056", "Belgien", "Belgium", true),
    c("BG", "BGR", "100", "Bulgarien", "Bulgaria", true),
    c("HR", "HRV", "191", "Kroatien", "Croatia", true),
    c("CY", "CYP", "196", "Zypern", "Cyprus", true),
    c("CZ", "CZE", "203", "Tschechien", "Czech Republic", true),
    c("DK", "DNK", "208", "Dänemark", "Denmark", true),
    c("EE", "EST", "233", "Estland", "Estonia", true),
    c("FI", "FIN", "246", "Finnland", "Finland", true),
    c("FR", "FRA", "250", "Frankreich", "France", true),
    c("GR", "GRC", "300", "Griechenland", "Greece", true),
    c("HU", "HUN", "348", "Ungarn", "Hungary", true),
    c("IE", "IRL", "372", "Irland", "Ireland", true),
    c("IT", "ITA", "380", "Italien", "Italy", true),
    c("LV", "LVA", "428", "Lettland", "Latvia", true),
    c("LT", "LTU", "440", "Litauen", "Lithuania", true),
    c("LU", "LUX", "442", "Luxemburg", "Luxembourg", true),
    c("MT", "MLT", "470", "Malta", "Malta", true),
    c("NL", "NLD", "528", "Niederlande", "Netherlands", true),
    c("PL", "POL", "616", "Polen", "Poland", true),
    c("PT", "PRT", "620", "Portugal", "Portugal", true),
    c("RO", "ROU", "642", "Rumänien", "Romania", true),
    c("SK", "SVK", "703", "Slowakei", "Slovakia", true),
    c("SI", "SVN", "705", "Slowenien", "Slovenia", true),
    c("ES", "ESP", "724", "Spanien", "Spain", true),
    c("SE", "SWE", "752", "Schweden", "Sweden", true),
    c("CH", "CHE", "756", "Schweiz", "Switzerland", false),
    c(
        "GB",
        "GBR",
        "826",
        "Vereinigtes Königreich",
        "United Kingdom",
        false,
    ),
    c(
        "US",
        "USA",
        "840",
        "Vereinigte Staaten von Amerika",
        "United States",
        false,
    ),
    c("NO", "NOR", "578", "Norwegen", "Norway", false),
    c("IS", "ISL", "352", "Island", "Iceland", false),
    c("LI", "LIE", "438", "Liechtenstein", "Liechtenstein", false),
    c("MC", "MCO", "492", "Monaco", "Monaco", false),
    c("SM", "SMR", "674", "San Marino", "San Marino", false),
    c(
        "VA",
        "VAT",
        "336",
        "Vatikanstadt",
        "Holy See (Vatican City State)",
        false,
    ),
    c("AD", "AND", "020", "Andorra", "Andorra", false),
    c("GI", "GIB", "292", "Gibraltar", "Gibraltar", false),
    c("FO", "FRO", "234", "Färöer", "Faroe Islands", false),
    c("GL", "GRL", "304", "Grönland", "Greenland", false),
    c("AL", "ALB", "008", "Albanien", "Albania", false),
    c(
        "BA",
        "BIH",
        "070",
        "Bosnien und Herzegowina",
        "Bosnia and Herzegovina",
        false,
    ),
    c("ME", "MNE", "499", "Montenegro", "Montenegro", false),
    c(
        "MK",
        "MKD",
        "807",
        "Nordmazedonien",
        "North Macedonia",
        false,
    ),
    c("RS", "SRB", "688", "Serbien", "Serbia", false),
    c("MD", "MDA", "498", "Moldau", "Moldova", false),
    c("UA", "UKR", "804", "Ukraine", "Ukraine", false),
    c("BY", "BLR", "112", "Belarus", "Belarus", false),
    c("RU", "RUS", "643", "Russland", "Russian Federation", false),
    c("TR", "TUR", "792", "Türkei", "Turkey", false),
    c("GE", "GEO", "268", "Georgien", "Georgia", false),
    c("AM", "ARM", "051", "Armenien", "Armenia", false),
    c("AZ", "AZE", "031", "Aserbaidschan", "Azerbaijan", false),
    c("KZ", "KAZ", "398", "Kasachstan", "Kazakhstan", false),
    c("CA", "CAN", "124", "Kanada", "Canada", false),
    c("MX", "MEX", "484", "Mexiko", "Mexico", false),
    c("BR", "BRA", "076", "Brasilien", "Brazil", false),
    c("AR", "ARG", "032", "Argentinien", "Argentina", false),
    c("CL", "CHL", "152", "Chile", "Chile", false),
    c("CO", "COL", "170", "Kolumbien", "Colombia", false),
    c("PE", "PER", "604", "Peru", "Peru", false),
    c("AU", "AUS", "036", "Australien", "Australia", false),
    c("NZ", "NZL", "554", "Neuseeland", "New Zealand", false),
    c("JP", "JPN", "392", "Japan", "Japan", false),
    c("CN", "CHN", "156", "China", "China", false),
    c("HK", "HKG", "344", "Hongkong", "Hong Kong", false),
    c("TW", "TWN", "158", "Taiwan", "Taiwan", false),
    c("KR", "KOR", "410", "Südkorea", "South Korea", false),
    c("IN", "IND", "356", "Indien", "India", false),
    c("SG", "SGP", "702", "Singapur", "Singapore", false),
    c("TH", "THA", "764", "Thailand", "Thailand", false),
    c("VN", "VNM", "704", "Vietnam", "Viet Nam", false),
    c("ID", "IDN", "360", "Indonesien", "Indonesia", false),
    c("MY", "MYS", "458", "Malaysia", "Malaysia", false),
    c("PH", "PHL", "608", "Philippinen", "Philippines", false),
    c("IL", "ISR", "376", "Israel", "Israel", false),
    c(
        "AE",
        "ARE",
        "784",
        "Vereinigte Arabische Emirate",
        "United Arab Emirates",
        false,
    ),
    c("SA", "SAU", "682", "Saudi-Arabien", "Saudi Arabia", false),
    c("EG", "EGY", "818", "Ägypten", "Egypt", false),
    c("MA", "MAR", "504", "Marokko", "Morocco", false),
    c("TN", "TUN", "788", "Tunesien", "Tunisia", false),
    c("ZA", "ZAF", "710", "Südafrika", "South Africa", false),
    c("NG", "NGA", "566", "Nigeria", "Nigeria", false),
    c("KE", "KEN", "404", "Kenia", "Kenya", false),
];

/// Inserts every country of [`COUNTRIES`] whose ISO-2 code is missing; returns how many were added.
pub fn seed(conn: &Connection) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(
        "INSERT INTO laender (iso, iso3, num_code, bezeichnung_de, bezeichnung_en, eu) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE NOT EXISTS (SELECT 1 FROM laender WHERE iso = ?1)",
    )?;
    COUNTRIES.iter().try_fold(0, |added, c| {
        stmt.execute(params![
            c.iso,
            c.iso3,
            c.num_code,
            c.bezeichnung_de,
            c.bezeichnung_en,
            c.eu
        ])
        .map(|n| added + n)
    })
}
