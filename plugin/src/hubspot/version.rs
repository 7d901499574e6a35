//! Which family of HubSpot API paths the client speaks, and the one place every path is built:
//! HubSpot's date versions (`/crm/objects/2026-03/contacts`, a new one every March and
//! September) or the legacy v3/v4 paths that stop being supported in 2027.

use std::fmt;

/// A HubSpot API version the plugin can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// The v3 object, property and pipeline paths and the v4 association paths.
    Legacy,
    /// The `2026-03` date version (the default).
    #[default]
    V2026_03,
}

impl ApiVersion {
    /// Every version the plugin speaks, as the settings spell them.
    pub const ALL: [ApiVersion; 2] = [ApiVersion::V2026_03, ApiVersion::Legacy];

    /// The version a setting names; an empty setting is the default.
    pub fn parse(setting: &str) -> Result<ApiVersion, String> {
        let setting = setting.trim();
        if setting.is_empty() {
            return Ok(ApiVersion::default());
        }
        ApiVersion::ALL
            .into_iter()
            .find(|v| v.as_str() == setting)
            .ok_or_else(|| {
                format!(
                    "the HubSpot API version '{setting}' is not one this plugin speaks: use {}",
                    ApiVersion::ALL.map(ApiVersion::as_str).join(" or ")
                )
            })
    }

    /// As the settings spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::Legacy => "legacy",
            ApiVersion::V2026_03 => "2026-03",
        }
    }

    /// `/crm/…/{object}` of a CRM API family (`objects`, `properties`, `pipelines`): the
    /// version segment sits after the family in date versions, before it in legacy.
    fn crm(self, family: &str, legacy: &str, rest: &str) -> String {
        match self {
            ApiVersion::Legacy => format!("/crm/{legacy}/{family}/{rest}"),
            ApiVersion::V2026_03 => format!("/crm/{family}/{}/{rest}", self.as_str()),
        }
    }

    /// The records of `object` (`contacts`, `deals`).
    pub fn objects(self, object: &str) -> String {
        self.crm("objects", "v3", object)
    }

    /// The search of `object`.
    pub fn search(self, object: &str) -> String {
        format!("{}/search", self.objects(object))
    }

    /// A batch operation (`read`, `create`, `update`, `upsert`, `archive`) on `object`.
    pub fn batch(self, object: &str, operation: &str) -> String {
        format!("{}/batch/{operation}", self.objects(object))
    }

    /// The property definitions of `object`.
    pub fn properties(self, object: &str) -> String {
        self.crm("properties", "v3", object)
    }

    /// One property definition of `object`.
    pub fn property(self, object: &str, name: &str) -> String {
        format!("{}/{name}", self.properties(object))
    }

    /// The pipelines of `object`.
    pub fn pipelines(self, object: &str) -> String {
        self.crm("pipelines", "v3", object)
    }

    /// The portal's owners (`/crm/v3/owners`, `/crm/owners/2026-03`).
    pub fn owners(self) -> String {
        match self {
            ApiVersion::Legacy => "/crm/v3/owners".to_owned(),
            ApiVersion::V2026_03 => format!("/crm/owners/{}", self.as_str()),
        }
    }

    /// A batch association operation (`read`, `create`, `associate/default`,
    /// `labels/archive`) from `from` to `to`.
    pub fn associations(self, from: &str, to: &str, operation: &str) -> String {
        self.crm(
            "associations",
            "v4",
            &format!("{from}/{to}/batch/{operation}"),
        )
    }
}

/// Stored as the settings spell it; a stored version this plugin no longer speaks is an error
/// the user sees, never silently another version.
impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ApiVersion::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_version_paths_are_hubspots() {
        let v = ApiVersion::V2026_03;
        assert_eq!(v.search("contacts"), "/crm/objects/2026-03/contacts/search");
        assert_eq!(
            v.batch("deals", "upsert"),
            "/crm/objects/2026-03/deals/batch/upsert"
        );
        assert_eq!(
            v.property("contacts", "hs_lead_status"),
            "/crm/properties/2026-03/contacts/hs_lead_status"
        );
        assert_eq!(v.pipelines("deals"), "/crm/pipelines/2026-03/deals");
        assert_eq!(
            v.associations("deals", "contacts", "read"),
            "/crm/associations/2026-03/deals/contacts/batch/read"
        );
    }

    #[test]
    fn legacy_paths_are_v3_and_v4() {
        let v = ApiVersion::Legacy;
        assert_eq!(v.search("contacts"), "/crm/v3/objects/contacts/search");
        assert_eq!(v.properties("deals"), "/crm/v3/properties/deals");
        assert_eq!(v.pipelines("deals"), "/crm/v3/pipelines/deals");
        assert_eq!(
            v.associations("deals", "contacts", "associate/default"),
            "/crm/v4/associations/deals/contacts/batch/associate/default"
        );
    }

    #[test]
    fn an_empty_setting_is_the_default_and_an_unknown_one_is_refused() {
        assert_eq!(ApiVersion::parse(""), Ok(ApiVersion::V2026_03));
        assert_eq!(ApiVersion::parse("legacy"), Ok(ApiVersion::Legacy));
        let e = ApiVersion::parse("2025-09").unwrap_err();
        assert!(
            e.contains("'2025-09'") && e.contains("2026-03 or legacy"),
            "{e}"
        );
    }
}
