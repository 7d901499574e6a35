//! The unique HubSpot property `xentral_id` on deals and companies: HubSpot has no natural
//! unique key for them (two companies may share a domain), and a create is not safe to retry,
//! so the plugin creates a property with unique values and upserts by it: a retried write can
//! never make a second record. Without the scope to create it, records of that kind are only
//! imported, never exported.

use serde_json::{Value as Json, json};

use crate::api::PluginError;
use crate::hubspot::{ApiError, Client, wire};
use crate::platform::{Db, DbError};
use crate::settings::{read_konfiguration, write_konfiguration};

/// The unique property's name (on deals and companies alike).
pub const PROPERTY: &str = "xentral_id";

/// The object kinds that carry it: (HubSpot object, its property group, what its value
/// names, the scope that creates it).
const KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "deals",
        "dealinformation",
        "The id of the xentral resubmission (wiedervorlage) this deal is synchronised with.",
        "crm.schemas.deals.write",
    ),
    (
        "companies",
        "companyinformation",
        "The id of the xentral company address this company is synchronised with.",
        "crm.schemas.companies.write",
    ),
];

/// The `konfiguration` row recording whether `object`'s property is usable.
fn key(object: &str) -> String {
    match object {
        // The name deal exports used before companies had one.
        "deals" => "hubspot_deal_unique_property".into(),
        other => format!("hubspot_{other}_unique_property"),
    }
}

/// Whether `object`'s unique property is in place (checked by the last `configure`).
pub fn usable(db: &mut dyn Db, object: &str) -> Result<bool, DbError> {
    Ok(read_konfiguration(db, &key(object))?.is_some_and(|v| v == PROPERTY))
}

/// Makes sure `object` (`deals`, `companies`) has the unique property, and records whether it
/// does. Returns a warning when the token may not create it: that kind is then only imported.
pub fn ensure(
    db: &mut dyn Db,
    client: &mut Client<'_>,
    object: &str,
) -> Result<Option<String>, PluginError> {
    let &(_, group, description, scope) = KINDS
        .iter()
        .find(|k| k.0 == object)
        .expect("a kind with a unique property");
    let version = client.version();
    let existing: Result<wire::Property, _> = client.get(
        &version.property(object, PROPERTY),
        &version.property(object, "{name}"),
    );
    let usable = match existing {
        Ok(p) => p.has_unique_value,
        Err(ApiError::Client { status: 404, .. }) => {
            let body = json!({
                "name": PROPERTY,
                "label": "xentral ID",
                "description": description,
                "groupName": group,
                "type": "string",
                "fieldType": "text",
                "hasUniqueValue": true,
            });
            let path = version.properties(object);
            match client.post::<Json>(&path, &path, &body) {
                Ok(_) | Err(ApiError::Client { status: 409, .. }) => true,
                Err(ApiError::MissingScopes(_)) => false,
                Err(e) => {
                    return Err(PluginError::Hubspot(format!(
                        "creating the {object} property {PROPERTY}: {e}"
                    )));
                }
            }
        }
        Err(ApiError::MissingScopes(_)) => false,
        Err(e) => {
            return Err(PluginError::Hubspot(format!(
                "reading the {object} property {PROPERTY}: {e}"
            )));
        }
    };
    write_konfiguration(db, &key(object), if usable { PROPERTY } else { "" })?;
    let (singular, xentral) = match object {
        "deals" => ("deal", "resubmissions are not exported as deals"),
        _ => ("company", "company addresses are not exported as companies"),
    };
    Ok((!usable).then(|| {
        format!(
            "the access token may not create the unique {singular} property '{PROPERTY}' (scope {scope} is missing): \
             {object} are imported from HubSpot, but {xentral} until the scope is granted and the settings are saved again"
        )
    }))
}
