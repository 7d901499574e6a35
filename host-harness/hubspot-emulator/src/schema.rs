//! Property definitions per object type: HubSpot's defaults plus properties created over the API.

use std::collections::HashMap;

use serde::Serialize;

use crate::object_type::ObjectType;

/// The value type of a property, which decides how writes are validated and filters compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PropertyType {
    /// Free text.
    String,
    /// A plain decimal number.
    Number,
    /// A calendar day, stored as midnight UTC.
    Date,
    /// An instant.
    Datetime,
    /// One of a list of options.
    Enumeration,
    /// `true` / `false`.
    Bool,
}

impl PropertyType {
    pub(crate) fn parse(name: &str) -> Option<PropertyType> {
        Some(match name {
            "string" => PropertyType::String,
            "number" => PropertyType::Number,
            "date" => PropertyType::Date,
            "datetime" => PropertyType::Datetime,
            "enumeration" => PropertyType::Enumeration,
            "bool" => PropertyType::Bool,
            _ => return None,
        })
    }

    /// Whether values of this type compare as instants in search.
    pub(crate) fn is_temporal(self) -> bool {
        matches!(self, PropertyType::Date | PropertyType::Datetime)
    }
}

/// One allowed value of an enumeration property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PropertyOption {
    /// Display label.
    pub label: String,
    /// Stored value.
    pub value: String,
    /// Position in pickers.
    pub display_order: i32,
    /// Hidden from pickers (still valid).
    pub hidden: bool,
}

/// Where an enumeration gets its options: a fixed list, or live portal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionSource {
    Fixed,
    Pipelines,
    Stages,
    Owners,
}

/// A value HubSpot computes from the record rather than stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Maintained {
    ObjectId,
    Created,
    Modified,
}

/// One property definition.
#[derive(Debug, Clone)]
pub(crate) struct PropertyDef {
    pub name: String,
    pub label: String,
    pub kind: PropertyType,
    pub field_type: String,
    pub group: String,
    pub options: Vec<PropertyOption>,
    pub option_source: OptionSource,
    pub unique: bool,
    pub read_only: bool,
    pub maintained: Option<Maintained>,
    pub hubspot_defined: bool,
    pub created_ms: i64,
}

impl PropertyDef {
    fn base(name: &str, label: &str, kind: PropertyType, field_type: &str) -> PropertyDef {
        PropertyDef {
            name: name.into(),
            label: label.into(),
            kind,
            field_type: field_type.into(),
            group: "contactinformation".into(),
            options: Vec::new(),
            option_source: OptionSource::Fixed,
            unique: false,
            read_only: false,
            maintained: None,
            hubspot_defined: true,
            created_ms: 1_262_304_000_000,
        }
    }

    fn text(name: &str, label: &str) -> PropertyDef {
        PropertyDef::base(name, label, PropertyType::String, "text")
    }

    fn select(name: &str, label: &str, options: &[(&str, &str)]) -> PropertyDef {
        let mut def = PropertyDef::base(name, label, PropertyType::Enumeration, "select");
        def.options = options
            .iter()
            .enumerate()
            .map(|(i, (value, label))| PropertyOption {
                label: (*label).into(),
                value: (*value).into(),
                display_order: i as i32,
                hidden: false,
            })
            .collect();
        def
    }

    fn sourced(name: &str, label: &str, source: OptionSource) -> PropertyDef {
        let mut def = PropertyDef::base(name, label, PropertyType::Enumeration, "select");
        def.option_source = source;
        def
    }

    fn maintained(
        name: &str,
        label: &str,
        kind: PropertyType,
        which: Maintained,
        read_only: bool,
    ) -> PropertyDef {
        let field_type = if kind == PropertyType::Number {
            "number"
        } else {
            "date"
        };
        let mut def = PropertyDef::base(name, label, kind, field_type);
        def.maintained = Some(which);
        def.read_only = read_only;
        def
    }

    /// A stored value only HubSpot writes (after associations or merges): read-only to clients.
    fn computed(name: &str, label: &str, kind: PropertyType) -> PropertyDef {
        let field_type = if kind == PropertyType::Number {
            "number"
        } else {
            "text"
        };
        let mut def = PropertyDef::base(name, label, kind, field_type);
        def.read_only = true;
        def
    }
}

/// The lead statuses HubSpot ships.
pub const LEAD_STATUSES: [&str; 8] = [
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
];

/// The industries HubSpot ships as options of the company property `industry` (the values its
/// validation error lists).
pub(crate) const INDUSTRIES: [&str; 148] = [
    "ACCOUNTING",
    "AIRLINES_AVIATION",
    "ALTERNATIVE_DISPUTE_RESOLUTION",
    "ALTERNATIVE_MEDICINE",
    "ANIMATION",
    "APPAREL_FASHION",
    "ARCHITECTURE_PLANNING",
    "ARTS_AND_CRAFTS",
    "AUTOMOTIVE",
    "AVIATION_AEROSPACE",
    "BANKING",
    "BIOTECHNOLOGY",
    "BROADCAST_MEDIA",
    "BUILDING_MATERIALS",
    "BUSINESS_SUPPLIES_AND_EQUIPMENT",
    "CAPITAL_MARKETS",
    "CHEMICALS",
    "CIVIC_SOCIAL_ORGANIZATION",
    "CIVIL_ENGINEERING",
    "COMMERCIAL_REAL_ESTATE",
    "COMPUTER_NETWORK_SECURITY",
    "COMPUTER_GAMES",
    "COMPUTER_HARDWARE",
    "COMPUTER_NETWORKING",
    "COMPUTER_SOFTWARE",
    "INTERNET",
    "CONSTRUCTION",
    "CONSUMER_ELECTRONICS",
    "CONSUMER_GOODS",
    "CONSUMER_SERVICES",
    "COSMETICS",
    "DAIRY",
    "DEFENSE_SPACE",
    "DESIGN",
    "EDUCATION_MANAGEMENT",
    "E_LEARNING",
    "ELECTRICAL_ELECTRONIC_MANUFACTURING",
    "ENTERTAINMENT",
    "ENVIRONMENTAL_SERVICES",
    "EVENTS_SERVICES",
    "EXECUTIVE_OFFICE",
    "FACILITIES_SERVICES",
    "FARMING",
    "FINANCIAL_SERVICES",
    "FINE_ART",
    "FISHERY",
    "FOOD_BEVERAGES",
    "FOOD_PRODUCTION",
    "FUND_RAISING",
    "FURNITURE",
    "GAMBLING_CASINOS",
    "GLASS_CERAMICS_CONCRETE",
    "GOVERNMENT_ADMINISTRATION",
    "GOVERNMENT_RELATIONS",
    "GRAPHIC_DESIGN",
    "HEALTH_WELLNESS_AND_FITNESS",
    "HIGHER_EDUCATION",
    "HOSPITAL_HEALTH_CARE",
    "HOSPITALITY",
    "HUMAN_RESOURCES",
    "IMPORT_AND_EXPORT",
    "INDIVIDUAL_FAMILY_SERVICES",
    "INDUSTRIAL_AUTOMATION",
    "INFORMATION_SERVICES",
    "INFORMATION_TECHNOLOGY_AND_SERVICES",
    "INSURANCE",
    "INTERNATIONAL_AFFAIRS",
    "INTERNATIONAL_TRADE_AND_DEVELOPMENT",
    "INVESTMENT_BANKING",
    "INVESTMENT_MANAGEMENT",
    "JUDICIARY",
    "LAW_ENFORCEMENT",
    "LAW_PRACTICE",
    "LEGAL_SERVICES",
    "LEGISLATIVE_OFFICE",
    "LEISURE_TRAVEL_TOURISM",
    "LIBRARIES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "LUXURY_GOODS_JEWELRY",
    "MACHINERY",
    "MANAGEMENT_CONSULTING",
    "MARITIME",
    "MARKET_RESEARCH",
    "MARKETING_AND_ADVERTISING",
    "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "MEDIA_PRODUCTION",
    "MEDICAL_DEVICES",
    "MEDICAL_PRACTICE",
    "MENTAL_HEALTH_CARE",
    "MILITARY",
    "MINING_METALS",
    "MOTION_PICTURES_AND_FILM",
    "MUSEUMS_AND_INSTITUTIONS",
    "MUSIC",
    "NANOTECHNOLOGY",
    "NEWSPAPERS",
    "NON_PROFIT_ORGANIZATION_MANAGEMENT",
    "OIL_ENERGY",
    "ONLINE_MEDIA",
    "OUTSOURCING_OFFSHORING",
    "PACKAGE_FREIGHT_DELIVERY",
    "PACKAGING_AND_CONTAINERS",
    "PAPER_FOREST_PRODUCTS",
    "PERFORMING_ARTS",
    "PHARMACEUTICALS",
    "PHILANTHROPY",
    "PHOTOGRAPHY",
    "PLASTICS",
    "POLITICAL_ORGANIZATION",
    "PRIMARY_SECONDARY_EDUCATION",
    "PRINTING",
    "PROFESSIONAL_TRAINING_COACHING",
    "PROGRAM_DEVELOPMENT",
    "PUBLIC_POLICY",
    "PUBLIC_RELATIONS_AND_COMMUNICATIONS",
    "PUBLIC_SAFETY",
    "PUBLISHING",
    "RAILROAD_MANUFACTURE",
    "RANCHING",
    "REAL_ESTATE",
    "RECREATIONAL_FACILITIES_AND_SERVICES",
    "RELIGIOUS_INSTITUTIONS",
    "RENEWABLES_ENVIRONMENT",
    "RESEARCH",
    "RESTAURANTS",
    "RETAIL",
    "SECURITY_AND_INVESTIGATIONS",
    "SEMICONDUCTORS",
    "SHIPBUILDING",
    "SPORTING_GOODS",
    "SPORTS",
    "STAFFING_AND_RECRUITING",
    "SUPERMARKETS",
    "TELECOMMUNICATIONS",
    "TEXTILES",
    "THINK_TANKS",
    "TOBACCO",
    "TRANSLATION_AND_LOCALIZATION",
    "TRANSPORTATION_TRUCKING_RAILROAD",
    "UTILITIES",
    "VENTURE_CAPITAL_PRIVATE_EQUITY",
    "VETERINARY",
    "WAREHOUSING",
    "WHOLESALE",
    "WINE_AND_SPIRITS",
    "WIRELESS",
    "WRITING_AND_EDITING",
    "MOBILE_GAMES",
];

/// The lifecycle stages HubSpot ships, in their forward order.
pub const LIFECYCLE_STAGES: [&str; 8] = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
];

/// All properties of one object type, addressable by name or by slot index.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    defs: Vec<PropertyDef>,
    by_name: HashMap<String, u16>,
}

impl Schema {
    pub(crate) fn default_for(object: ObjectType) -> Schema {
        let defs = match object {
            ObjectType::Contacts => contact_properties(),
            ObjectType::Companies => company_properties(),
            ObjectType::Deals => deal_properties(),
        };
        let mut schema = Schema {
            defs: Vec::new(),
            by_name: HashMap::new(),
        };
        for def in defs {
            schema.add(def);
        }
        schema
    }

    pub(crate) fn add(&mut self, def: PropertyDef) -> u16 {
        let slot = self.defs.len() as u16;
        self.by_name.insert(def.name.clone(), slot);
        self.defs.push(def);
        slot
    }

    pub(crate) fn slot(&self, name: &str) -> Option<u16> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&PropertyDef> {
        self.slot(name).map(|s| &self.defs[s as usize])
    }

    pub(crate) fn def(&self, slot: u16) -> &PropertyDef {
        &self.defs[slot as usize]
    }

    pub(crate) fn all(&self) -> &[PropertyDef] {
        &self.defs
    }
}

/// The properties returned when a request names none.
pub(crate) fn default_properties(object: ObjectType) -> &'static [&'static str] {
    match object {
        ObjectType::Contacts => &[
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ],
        ObjectType::Companies => &[
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name",
        ],
        ObjectType::Deals => &[
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ],
    }
}

fn contact_properties() -> Vec<PropertyDef> {
    let mut props = vec![
        PropertyDef::text("email", "Email"),
        PropertyDef::text("firstname", "First Name"),
        PropertyDef::text("lastname", "Last Name"),
        PropertyDef::base("phone", "Phone Number", PropertyType::String, "phonenumber"),
        PropertyDef::base(
            "mobilephone",
            "Mobile Phone Number",
            PropertyType::String,
            "phonenumber",
        ),
        PropertyDef::base(
            "address",
            "Street Address",
            PropertyType::String,
            "textarea",
        ),
        PropertyDef::text("zip", "Postal Code"),
        PropertyDef::text("city", "City"),
        PropertyDef::text("state", "State/Region"),
        PropertyDef::text("country", "Country/Region"),
        PropertyDef::text("website", "Website URL"),
        PropertyDef::text("company", "Company Name"),
        PropertyDef::text("jobtitle", "Job Title"),
    ];
    let lead: Vec<(&str, &str)> = LEAD_STATUSES.iter().map(|v| (*v, lead_label(v))).collect();
    props.push(PropertyDef::select("hs_lead_status", "Lead Status", &lead));
    let life: Vec<(&str, &str)> = LIFECYCLE_STAGES
        .iter()
        .map(|v| (*v, lifecycle_label(v)))
        .collect();
    let mut lifecycle = PropertyDef::select("lifecyclestage", "Lifecycle Stage", &life);
    lifecycle.field_type = "radio".into();
    props.push(lifecycle);
    props.push(PropertyDef::sourced(
        "hubspot_owner_id",
        "Contact owner",
        OptionSource::Owners,
    ));
    props.push(PropertyDef::computed(
        "associatedcompanyid",
        "Primary Associated Company ID",
        PropertyType::Number,
    ));
    props.push(PropertyDef::computed(
        "hs_additional_emails",
        "Additional email addresses",
        PropertyType::String,
    ));
    props.extend(maintained_properties(ObjectType::Contacts));
    props
}

fn company_properties() -> Vec<PropertyDef> {
    let mut props = vec![
        PropertyDef::text("name", "Company name"),
        PropertyDef::text("domain", "Company Domain Name"),
        PropertyDef::text("website", "Website URL"),
        PropertyDef::base("phone", "Phone Number", PropertyType::String, "phonenumber"),
        PropertyDef::base(
            "address",
            "Street Address",
            PropertyType::String,
            "textarea",
        ),
        PropertyDef::text("city", "City"),
        PropertyDef::text("zip", "Postal Code"),
        PropertyDef::text("state", "State/Region"),
        PropertyDef::text("country", "Country/Region"),
        PropertyDef::base(
            "numberofemployees",
            "Number of Employees",
            PropertyType::Number,
            "number",
        ),
    ];
    let industries: Vec<(&str, String)> =
        INDUSTRIES.iter().map(|v| (*v, industry_label(v))).collect();
    let industries: Vec<(&str, &str)> = industries.iter().map(|(v, l)| (*v, l.as_str())).collect();
    props.push(PropertyDef::select("industry", "Industry", &industries));
    let lead: Vec<(&str, &str)> = LEAD_STATUSES.iter().map(|v| (*v, lead_label(v))).collect();
    props.push(PropertyDef::select("hs_lead_status", "Lead Status", &lead));
    let life: Vec<(&str, &str)> = LIFECYCLE_STAGES
        .iter()
        .map(|v| (*v, lifecycle_label(v)))
        .collect();
    let mut lifecycle = PropertyDef::select("lifecyclestage", "Lifecycle Stage", &life);
    lifecycle.field_type = "radio".into();
    props.push(lifecycle);
    props.push(PropertyDef::sourced(
        "hubspot_owner_id",
        "Company owner",
        OptionSource::Owners,
    ));
    for def in &mut props {
        def.group = "companyinformation".into();
    }
    props.extend(maintained_properties(ObjectType::Companies));
    props
}

fn deal_properties() -> Vec<PropertyDef> {
    let mut props = vec![
        PropertyDef::text("dealname", "Deal Name"),
        PropertyDef::base("amount", "Amount", PropertyType::Number, "number"),
        PropertyDef::base("closedate", "Close Date", PropertyType::Date, "date"),
        PropertyDef::sourced("dealstage", "Deal Stage", OptionSource::Stages),
        PropertyDef::sourced("pipeline", "Pipeline", OptionSource::Pipelines),
        PropertyDef::sourced("hubspot_owner_id", "Deal owner", OptionSource::Owners),
        PropertyDef::base(
            "description",
            "Deal Description",
            PropertyType::String,
            "textarea",
        ),
    ];
    for def in &mut props {
        def.group = "dealinformation".into();
    }
    props.extend(maintained_properties(ObjectType::Deals));
    props
}

fn maintained_properties(object: ObjectType) -> Vec<PropertyDef> {
    vec![
        PropertyDef::computed(
            "hs_merged_object_ids",
            "Merged record IDs",
            PropertyType::String,
        ),
        PropertyDef::maintained(
            "hs_object_id",
            "Record ID",
            PropertyType::Number,
            Maintained::ObjectId,
            true,
        ),
        PropertyDef::maintained(
            "createdate",
            "Create Date",
            PropertyType::Datetime,
            Maintained::Created,
            false,
        ),
        PropertyDef::maintained(
            object.modified_property(),
            "Last Modified Date",
            PropertyType::Datetime,
            Maintained::Modified,
            true,
        ),
    ]
}

fn lead_label(value: &str) -> &'static str {
    match value {
        "NEW" => "New",
        "OPEN" => "Open",
        "IN_PROGRESS" => "In Progress",
        "OPEN_DEAL" => "Open Deal",
        "UNQUALIFIED" => "Unqualified",
        "ATTEMPTED_TO_CONTACT" => "Attempted to Contact",
        "CONNECTED" => "Connected",
        _ => "Bad Timing",
    }
}

/// `COMPUTER_SOFTWARE` → `Computer Software`.
fn industry_label(value: &str) -> String {
    value
        .split('_')
        .map(|word| {
            let lower = word.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn lifecycle_label(value: &str) -> &'static str {
    match value {
        "subscriber" => "Subscriber",
        "lead" => "Lead",
        "marketingqualifiedlead" => "Marketing Qualified Lead",
        "salesqualifiedlead" => "Sales Qualified Lead",
        "opportunity" => "Opportunity",
        "customer" => "Customer",
        "evangelist" => "Evangelist",
        _ => "Other",
    }
}
