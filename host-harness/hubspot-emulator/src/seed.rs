//! Deterministic, realistic test data: contacts with unicode names, gaps, mixed-case e-mails and
//! country spellings; companies with unicode names and domains (some shared, some missing);
//! deals across all pipelines; owners; associations (contacts and deals with a primary company);
//! optionally many records sharing one modified time (as HubSpot bulk jobs leave them).
//!
//! Records are written straight into the store (no per-record validation) so 100,000 contacts take
//! a fraction of a second; the generator only produces values the validation would accept.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::association::Kind;
use crate::dates::DAY_MS;
use crate::object_type::ObjectType;
use crate::owners::Owner;
use crate::schema::{INDUSTRIES, LEAD_STATUSES, LIFECYCLE_STAGES};
use crate::store::{Store, StoredRecord};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedSpec {
    /// RNG seed: the same spec on the same clock yields the same data.
    pub seed: u64,
    /// Contacts to create.
    pub contacts: usize,
    /// Deals to create.
    pub deals: usize,
    /// Companies to create (after contacts and deals, so a spec without companies yields the
    /// same contacts and deals as before companies existed).
    pub companies: usize,
    /// Owners to add to the portal's five built-in ones.
    pub owners: usize,
    /// Whether to associate deals with seeded contacts, and contacts and deals with seeded
    /// companies (most with a primary company, a few contacts with a second one).
    pub associations: bool,
    /// Give this many of the seeded records one identical modified time.
    pub shared_modified: Option<SharedModified>,
}

impl Default for SeedSpec {
    fn default() -> SeedSpec {
        SeedSpec {
            seed: 1,
            contacts: 0,
            deals: 0,
            companies: 0,
            owners: 0,
            associations: true,
            shared_modified: None,
        }
    }
}

impl SeedSpec {
    /// `contacts` contacts and `deals` deals from `seed`, with associations.
    pub fn new(seed: u64, contacts: usize, deals: usize) -> SeedSpec {
        SeedSpec {
            seed,
            contacts,
            deals,
            ..SeedSpec::default()
        }
    }
}

/// Many seeded records of one type sharing one modified time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedModified {
    /// Which seeded records (contacts by default).
    #[serde(default = "contacts")]
    pub object: ObjectType,
    /// How many (the first `count` seeded ones).
    pub count: usize,
    /// The shared time, epoch ms (default: one hour before now).
    #[serde(default)]
    pub at_ms: Option<i64>,
}

fn contacts() -> ObjectType {
    ObjectType::Contacts
}

/// What seeding created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// Contacts created.
    pub contacts: usize,
    /// Deals created.
    pub deals: usize,
    /// Companies created.
    pub companies: usize,
    /// Owners added.
    pub owners: usize,
    /// Contact⇄deal associations made.
    pub associations: usize,
    /// Associations of contacts and deals with companies made.
    pub company_associations: usize,
    /// Seeded ids are consecutive: the first and last contact id.
    pub contact_ids: Option<(String, String)>,
    /// The first and last deal id.
    pub deal_ids: Option<(String, String)>,
    /// The first and last company id.
    pub company_ids: Option<(String, String)>,
}

const FIRST: [(&str, &str); 18] = [
    ("Anna", "anna"),
    ("Jürgen", "juergen"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Øystein", "oystein"),
    ("李", "li"),
    ("Åsa", "asa"),
    ("Łukasz", "lukasz"),
    ("François", "francois"),
    ("Mia 🌸", "mia"),
    ("Noah", "noah"),
    ("Emma", "emma"),
    ("Chloé", "chloe"),
    ("Søren", "soren"),
    ("Алексей", "aleksei"),
    ("Ιωάννης", "ioannis"),
    ("Mehmet", "mehmet"),
    ("Aiko", "aiko"),
];
const LAST: [(&str, &str); 16] = [
    ("Müller", "mueller"),
    ("Øre", "ore"),
    ("李", "li"),
    ("Schmidt", "schmidt"),
    ("O'Brien", "obrien"),
    ("García", "garcia"),
    ("Nguyễn", "nguyen"),
    ("Kowalski", "kowalski"),
    ("Dubois", "dubois"),
    ("Weiß", "weiss"),
    ("van der Berg", "vanderberg"),
    ("Ångström", "angstrom"),
    ("Яковлев", "yakovlev"),
    ("🦊 Fox", "fox"),
    ("Yılmaz", "yilmaz"),
    ("Tanaka", "tanaka"),
];
const DOMAINS: [&str; 6] = [
    "example.com",
    "Example.DE",
    "beispiel.de",
    "EXAMPLE.org",
    "mail.example.net",
    "firma.at",
];
const PLACES: [(&str, &str, &str, &str); 14] = [
    ("Germany", "Berlin", "10115", "Unter den Linden 1"),
    ("Deutschland", "München", "80331", "Marienplatz 8"),
    ("DE", "Köln", "50667", "Domkloster 4"),
    ("United States", "New York", "10001", "350 5th Ave"),
    ("USA", "Austin", "73301", "100 Congress Ave"),
    ("US", "Boston", "02108", "1 Beacon St"),
    ("Österreich", "Wien", "1010", "Stephansplatz 3"),
    ("Austria", "Graz", "8010", "Hauptplatz 1"),
    ("Schweiz", "Zürich", "8001", "Bahnhofstrasse 10"),
    ("France", "Paris", "75001", "1 Rue de Rivoli"),
    ("United Kingdom", "London", "SW1A 1AA", "10 Downing St"),
    ("UK", "Manchester", "M1 1AE", "1 Piccadilly"),
    ("España", "Sevilla", "41001", "Calle Sierpes 5"),
    ("中国", "北京", "100000", "长安街 1号"),
];
const COMPANIES: [&str; 8] = [
    "Müller GmbH",
    "Øresund AB",
    "李氏贸易",
    "Acme Corp",
    "Café Zoë & Co.",
    "Nordwind AG",
    "🚀 Rocket Labs",
    "Schmidt & Söhne KG",
];
/// Domain stems of the seeded companies, one per entry of `COMPANIES`.
const COMPANY_SLUGS: [&str; 8] = [
    "mueller-gmbh",
    "oeresund",
    "lishi-trade",
    "acme",
    "cafe-zoe",
    "nordwind",
    "rocketlabs",
    "schmidt-soehne",
];
const TLDS: [&str; 5] = ["de", "com", "se", "at", "ch"];
const TITLES: [&str; 6] = [
    "CEO",
    "Einkäuferin",
    "Head of Sales",
    "Développeur",
    "Buyer",
    "CTO",
];

/// Generates the data of `spec` into the store.
pub(crate) fn seed(store: &mut Store, spec: &SeedSpec, now: i64) -> SeedSummary {
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut summary = SeedSummary {
        owners: add_owners(store, spec.owners, &mut rng, now),
        ..SeedSummary::default()
    };
    let owners: Vec<String> = store
        .owners
        .iter()
        .filter(|o| !o.archived)
        .map(|o| o.id.clone())
        .collect();
    let contact_ids = seed_contacts(store, spec.contacts, &owners, &mut rng, now);
    let deal_ids = seed_deals(store, spec.deals, &owners, &mut rng, now);
    if spec.associations && !contact_ids.is_empty() {
        for deal in &deal_ids {
            let links = match rng.random_range(0..10) {
                0 | 1 => 0,
                2 => 2,
                _ => 1,
            };
            for _ in 0..links {
                let contact = contact_ids[rng.random_range(0..contact_ids.len())];
                let pair = ((ObjectType::Deals, *deal), (ObjectType::Contacts, contact));
                if store.link(pair.0, pair.1, Kind::Unlabelled, None) {
                    summary.associations += 1;
                }
            }
        }
    }
    let company_ids = seed_companies(store, spec.companies, &owners, &mut rng, now);
    if spec.associations && !company_ids.is_empty() {
        summary.company_associations =
            link_companies(store, &contact_ids, &deal_ids, &company_ids, &mut rng);
    }
    if let Some(shared) = &spec.shared_modified {
        let ids = match shared.object {
            ObjectType::Contacts => &contact_ids,
            ObjectType::Companies => &company_ids,
            ObjectType::Deals => &deal_ids,
        };
        let at = shared.at_ms.unwrap_or(now - 3_600_000);
        let records = &mut store.objects_mut(shared.object).records;
        for id in ids.iter().take(shared.count) {
            if let Some(rec) = records.get_mut(id) {
                rec.updated_ms = at;
                rec.created_ms = rec.created_ms.min(at);
                rec.written_ms = at;
            }
        }
    }
    let range = |ids: &[u64]| Some((ids.first()?.to_string(), ids.last()?.to_string()));
    summary.contacts = contact_ids.len();
    summary.deals = deal_ids.len();
    summary.contact_ids = range(&contact_ids);
    summary.deal_ids = range(&deal_ids);
    summary.companies = company_ids.len();
    summary.company_ids = range(&company_ids);
    summary
}

fn add_owners(store: &mut Store, count: usize, rng: &mut StdRng, now: i64) -> usize {
    for _ in 0..count {
        let n = store.owners.len();
        let (first, first_ascii) = FIRST[rng.random_range(0..FIRST.len())];
        let (last, last_ascii) = LAST[rng.random_range(0..LAST.len())];
        let email = format!("{first_ascii}.{last_ascii}.{n}@example.com");
        let created = now - rng.random_range(0..365) * DAY_MS;
        store
            .owners
            .push(Owner::numbered(n, &email, first, last, created));
    }
    count
}

/// A creation and modification time somewhere in the last year.
fn times(rng: &mut StdRng, now: i64) -> (i64, i64) {
    let created = now - rng.random_range(DAY_MS..365 * DAY_MS);
    (created, created + rng.random_range(0..now - created))
}

fn seed_contacts(
    store: &mut Store,
    count: usize,
    owners: &[String],
    rng: &mut StdRng,
    now: i64,
) -> Vec<u64> {
    let s = &mut store.contacts;
    let slot = |name: &str| s.schema.slot(name).unwrap_or_default();
    let [
        email,
        first,
        last,
        phone,
        address,
        zip,
        city,
        country,
        company,
        title,
        lead,
        life,
        owner,
    ] = [
        "email",
        "firstname",
        "lastname",
        "phone",
        "address",
        "zip",
        "city",
        "country",
        "company",
        "jobtitle",
        "hs_lead_status",
        "lifecyclestage",
        "hubspot_owner_id",
    ]
    .map(slot);
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let id = s.next_id;
        s.next_id += 1;
        let (created, updated) = times(rng, now);
        let mut rec = StoredRecord::new(created);
        rec.updated_ms = updated;
        rec.written_ms = updated;
        let (first_name, first_ascii) = FIRST[rng.random_range(0..FIRST.len())];
        let (last_name, last_ascii) = LAST[rng.random_range(0..LAST.len())];
        let roll = rng.random_range(0..100);
        if roll >= 4 {
            let local = match rng.random_range(0..3) {
                0 => format!("{first_ascii}.{last_ascii}{id}"),
                1 => format!("{}.{}{id}", capitalize(first_ascii), capitalize(last_ascii)),
                _ => format!("{}{id}", first_ascii.to_uppercase()),
            };
            let address = format!("{local}@{}", DOMAINS[rng.random_range(0..DOMAINS.len())]);
            if s.find_unique(email, &address).is_none() {
                rec.put(email, Some(&address));
            }
        }
        if !(4..8).contains(&roll) {
            rec.put(first, Some(first_name));
            if rng.random_range(0..20) != 0 {
                rec.put(last, Some(last_name));
            }
        }
        if rng.random_range(0..10) < 8 {
            rec.put(
                phone,
                Some(&format!(
                    "+49 {} {}",
                    rng.random_range(30..999),
                    rng.random_range(100_000..9_999_999)
                )),
            );
        }
        if rng.random_range(0..10) < 7 {
            let (country_name, city_name, zip_code, street) =
                PLACES[rng.random_range(0..PLACES.len())];
            rec.put(country, Some(country_name));
            rec.put(city, Some(city_name));
            rec.put(zip, Some(zip_code));
            rec.put(address, Some(street));
        }
        if rng.random_range(0..10) < 6 {
            rec.put(
                company,
                Some(COMPANIES[rng.random_range(0..COMPANIES.len())]),
            );
            rec.put(title, Some(TITLES[rng.random_range(0..TITLES.len())]));
        }
        if rng.random_range(0..10) < 8 {
            rec.put(
                lead,
                Some(LEAD_STATUSES[rng.random_range(0..LEAD_STATUSES.len())]),
            );
        }
        if rng.random_range(0..10) < 8 {
            rec.put(
                life,
                Some(LIFECYCLE_STAGES[rng.random_range(0..LIFECYCLE_STAGES.len())]),
            );
        }
        if !owners.is_empty() && rng.random_range(0..10) < 7 {
            rec.put(owner, Some(&owners[rng.random_range(0..owners.len())]));
        }
        rec.props.shrink_to_fit();
        s.records.insert(id, rec);
        s.index(id);
        ids.push(id);
    }
    ids
}

fn seed_deals(
    store: &mut Store,
    count: usize,
    owners: &[String],
    rng: &mut StdRng,
    now: i64,
) -> Vec<u64> {
    let pipelines: Vec<(String, Vec<String>)> = store
        .pipelines
        .iter()
        .filter(|p| !p.archived)
        .map(|p| {
            (
                p.id.clone(),
                p.stages
                    .iter()
                    .filter(|s| !s.archived)
                    .map(|s| s.id.clone())
                    .collect(),
            )
        })
        .filter(|(_, stages): &(String, Vec<String>)| !stages.is_empty())
        .collect();
    if pipelines.is_empty() {
        return Vec::new();
    }
    let s = &mut store.deals;
    let slot = |name: &str| s.schema.slot(name).unwrap_or_default();
    let [name, amount, close, stage, pipeline, owner, description] = [
        "dealname",
        "amount",
        "closedate",
        "dealstage",
        "pipeline",
        "hubspot_owner_id",
        "description",
    ]
    .map(slot);
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let id = s.next_id;
        s.next_id += 1;
        let (created, updated) = times(rng, now);
        let mut rec = StoredRecord::new(created);
        rec.updated_ms = updated;
        rec.written_ms = updated;
        let (pipeline_id, stages) = match rng.random_range(0..10) {
            0..7 => &pipelines[0],
            7..9 => &pipelines[1 % pipelines.len()],
            _ => &pipelines[2 % pipelines.len()],
        };
        let company = COMPANIES[rng.random_range(0..COMPANIES.len())];
        rec.put(name, Some(&format!("{company} – Deal {}", n + 1)));
        rec.put(pipeline, Some(pipeline_id));
        rec.put(stage, Some(&stages[rng.random_range(0..stages.len())]));
        match rng.random_range(0..10) {
            0 => {}
            1..4 => {
                rec.put(amount, Some(&rng.random_range(100..100_000).to_string()));
            }
            _ => {
                let value = format!(
                    "{}.{:02}",
                    rng.random_range(100..250_000),
                    rng.random_range(0..100)
                );
                rec.put(amount, Some(&value));
            }
        }
        if rng.random_range(0..10) < 8 {
            let day = now.div_euclid(DAY_MS) + rng.random_range(-180..180);
            let date = chrono::DateTime::from_timestamp_millis(day * DAY_MS).unwrap_or_default();
            rec.put(close, Some(&date.format("%Y-%m-%d").to_string()));
        }
        if !owners.is_empty() && rng.random_range(0..10) < 6 {
            rec.put(owner, Some(&owners[rng.random_range(0..owners.len())]));
        }
        if rng.random_range(0..4) == 0 {
            rec.put(
                description,
                Some("Rahmenvertrag für 2025 – inkl. Wartung ✓"),
            );
        }
        rec.props.shrink_to_fit();
        s.records.insert(id, rec);
        ids.push(id);
    }
    ids
}

fn seed_companies(
    store: &mut Store,
    count: usize,
    owners: &[String],
    rng: &mut StdRng,
    now: i64,
) -> Vec<u64> {
    let s = &mut store.companies;
    let slot = |name: &str| s.schema.slot(name).unwrap_or_default();
    let [
        name,
        domain,
        website,
        phone,
        address,
        city,
        zip,
        country,
        industry,
        employees,
        life,
        owner,
    ] = [
        "name",
        "domain",
        "website",
        "phone",
        "address",
        "city",
        "zip",
        "country",
        "industry",
        "numberofemployees",
        "lifecyclestage",
        "hubspot_owner_id",
    ]
    .map(slot);
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let id = s.next_id;
        s.next_id += 1;
        let (created, updated) = times(rng, now);
        let mut rec = StoredRecord::new(created);
        rec.updated_ms = updated;
        rec.written_ms = updated;
        let k = rng.random_range(0..COMPANIES.len());
        rec.put(name, Some(COMPANIES[k]));
        let tld = TLDS[k % TLDS.len()];
        // One in ten has no domain; one in five shares its group's domain (HubSpot allows
        // several companies per domain); the rest have their own.
        let host = match rng.random_range(0..10) {
            0 => None,
            1 | 2 => Some(format!("{}.{tld}", COMPANY_SLUGS[k])),
            _ => Some(format!("{}-{}.{tld}", COMPANY_SLUGS[k], n + 1)),
        };
        if let Some(host) = &host {
            rec.put(domain, Some(host));
            rec.put(website, Some(&format!("https://www.{host}")));
        }
        if rng.random_range(0..10) < 8 {
            rec.put(
                phone,
                Some(&format!(
                    "+49 {} {}",
                    rng.random_range(30..999),
                    rng.random_range(100_000..9_999_999)
                )),
            );
        }
        if rng.random_range(0..10) < 8 {
            let (country_name, city_name, zip_code, street) =
                PLACES[rng.random_range(0..PLACES.len())];
            rec.put(country, Some(country_name));
            rec.put(city, Some(city_name));
            rec.put(zip, Some(zip_code));
            rec.put(address, Some(street));
        }
        if rng.random_range(0..10) < 7 {
            rec.put(
                industry,
                Some(INDUSTRIES[rng.random_range(0..INDUSTRIES.len())]),
            );
        }
        if rng.random_range(0..10) < 6 {
            rec.put(employees, Some(&rng.random_range(1..50_000).to_string()));
        }
        if rng.random_range(0..10) < 7 {
            rec.put(
                life,
                Some(LIFECYCLE_STAGES[rng.random_range(0..LIFECYCLE_STAGES.len())]),
            );
        }
        if !owners.is_empty() && rng.random_range(0..10) < 7 {
            rec.put(owner, Some(&owners[rng.random_range(0..owners.len())]));
        }
        rec.props.shrink_to_fit();
        s.records.insert(id, rec);
        s.index(id);
        ids.push(id);
    }
    ids
}

/// Gives most seeded contacts and deals a primary company, and some contacts a second,
/// unlabelled one; returns how many associations were made. Modified times stay as seeded.
fn link_companies(
    store: &mut Store,
    contacts: &[u64],
    deals: &[u64],
    companies: &[u64],
    rng: &mut StdRng,
) -> usize {
    let mut made = 0;
    let pick = |rng: &mut StdRng| companies[rng.random_range(0..companies.len())];
    for (object, ids) in [(ObjectType::Contacts, contacts), (ObjectType::Deals, deals)] {
        for id in ids {
            let roll = rng.random_range(0..10);
            if roll < 3 {
                continue;
            }
            let company = pick(rng);
            let me = (object, *id);
            if store.link(me, (ObjectType::Companies, company), Kind::Primary, None) {
                made += 1;
            }
            let second = pick(rng);
            if object == ObjectType::Contacts
                && roll == 9
                && second != company
                && store.link(me, (ObjectType::Companies, second), Kind::Unlabelled, None)
            {
                made += 1;
            }
        }
    }
    made
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
