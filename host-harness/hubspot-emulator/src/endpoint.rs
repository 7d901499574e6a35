//! What a request is, for accounting and access: its normalised endpoint template, whether it is a
//! search, and the scopes it needs.

use crate::object_type::ObjectType;

/// A classified request.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// The route with ids replaced by `{id}` and object types normalised (`0-1` → `contacts`).
    pub template: String,
    /// Searches use the search rate-limit bucket and send no rate-limit headers.
    pub search: bool,
    /// Scopes the token must hold.
    pub scopes: Vec<String>,
}

/// Classifies a request from its matched route (`None` when no route matched) and its real path.
pub(crate) fn classify(method: &str, route: Option<&str>, path: &str) -> Endpoint {
    let Some(route) = route else {
        return Endpoint {
            template: path.to_string(),
            search: false,
            scopes: Vec::new(),
        };
    };
    let mut objects = Vec::new();
    let template: Vec<String> = route
        .split('/')
        .zip(path.split('/'))
        .map(|(pattern, actual)| match pattern {
            "{object}" | "{from}" | "{to}" => match ObjectType::parse(actual) {
                Some(object) => {
                    objects.push(object);
                    object.name().to_string()
                }
                None => actual.to_string(),
            },
            "{name}" => pattern.to_string(),
            p if p.starts_with('{') => "{id}".to_string(),
            p => p.to_string(),
        })
        .collect();
    let template = template.join("/");
    let search = template.ends_with("/search");
    let reads = method == "GET" || search || template.ends_with("/batch/read");
    let access = if reads { "read" } else { "write" };
    let family = family(&template);
    let scopes = if family == Some("owners") {
        vec!["crm.objects.owners.read".to_string()]
    } else if family == Some("schemas") {
        vec!["crm.schemas.custom.read".to_string()]
    } else if family == Some("properties") && method == "POST" {
        objects
            .iter()
            .map(|o| format!("crm.schemas.{}.write", o.name()))
            .collect()
    } else if matches!(family, Some("properties" | "pipelines")) {
        objects
            .iter()
            .map(|o| format!("crm.objects.{}.read", o.name()))
            .collect()
    } else {
        objects
            .iter()
            .map(|o| format!("crm.objects.{}.{access}", o.name()))
            .collect()
    };
    Endpoint {
        template,
        search,
        scopes,
    }
}

/// The API family of a path (`objects`, `properties`, `pipelines`, `owners`, `associations`,
/// `schemas`), whether it is a legacy path (`/crm/v3/properties/…`), a dated one
/// (`/crm/properties/2026-03/…`) or one of the custom-object schema spellings
/// (`/crm-object-schemas/v3/schemas`).
fn family(template: &str) -> Option<&str> {
    let is_version = |s: &str| {
        (s.len() > 1 && s.starts_with('v') && s[1..].bytes().all(|b| b.is_ascii_digit()))
            || (s.len() == 7 && s.as_bytes()[4] == b'-')
    };
    template
        .split('/')
        .find(|s| !s.is_empty() && *s != "crm" && !is_version(s))
        .map(|f| {
            if f == "crm-object-schemas" {
                "schemas"
            } else {
                f
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_and_aliases_are_normalised() {
        let e = classify(
            "PATCH",
            Some("/crm/v3/objects/{object}/{id}"),
            "/crm/v3/objects/0-1/1234",
        );
        assert_eq!(e.template, "/crm/v3/objects/contacts/{id}");
        assert_eq!(e.scopes, ["crm.objects.contacts.write"]);
    }

    #[test]
    fn dated_paths_need_the_same_scopes_as_legacy_ones() {
        let e = classify(
            "POST",
            Some("/crm/properties/2026-03/{object}"),
            "/crm/properties/2026-03/deals",
        );
        assert_eq!(e.template, "/crm/properties/2026-03/deals");
        assert_eq!(e.scopes, ["crm.schemas.deals.write"]);
        let e = classify(
            "GET",
            Some("/crm/pipelines/2026-03/{object}"),
            "/crm/pipelines/2026-03/0-3",
        );
        assert_eq!(e.scopes, ["crm.objects.deals.read"]);
    }

    #[test]
    fn owners_and_schemas_need_their_scopes_in_every_family() {
        for (route, path) in [
            ("/crm/owners/2026-03", "/crm/owners/2026-03"),
            ("/crm/v3/owners/{owner_id}", "/crm/v3/owners/41629771"),
        ] {
            assert_eq!(
                classify("GET", Some(route), path).scopes,
                ["crm.objects.owners.read"]
            );
        }
        for path in [
            "/crm/v3/schemas",
            "/crm-object-schemas/v3/schemas",
            "/crm-object-schemas/2026-03/schemas",
        ] {
            assert_eq!(
                classify("GET", Some(path), path).scopes,
                ["crm.schemas.custom.read"]
            );
        }
    }

    #[test]
    fn batch_read_and_search_need_read_scope() {
        let e = classify(
            "POST",
            Some("/crm/v3/objects/{object}/search"),
            "/crm/v3/objects/deals/search",
        );
        assert!(e.search);
        assert_eq!(e.scopes, ["crm.objects.deals.read"]);
        let e = classify(
            "POST",
            Some("/crm/v4/associations/{from}/{to}/batch/read"),
            "/crm/v4/associations/0-3/contacts/batch/read",
        );
        assert_eq!(e.template, "/crm/v4/associations/deals/contacts/batch/read");
        assert_eq!(
            e.scopes,
            ["crm.objects.deals.read", "crm.objects.contacts.read"]
        );
    }
}
