//! A submitted form (`application/x-www-form-urlencoded`) as name/value pairs in order, so a
//! multi-select's repeated names keep every value.

/// The fields of one submitted form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses a form body.
    pub fn parse(body: &[u8]) -> Self {
        FormFields(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every field whose name starts with `prefix`, with the rest of its name.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0
            .iter()
            .filter_map(move |(n, v)| n.strip_prefix(prefix).map(|rest| (rest, v.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_every_value_and_encodings_are_decoded() {
        let f =
            FormFields::parse(b"lead_status=NEW&lead_status=IN+PROGRESS&group=K%C3%BCnden&x.a=1");
        assert_eq!(f.all("lead_status"), ["NEW", "IN PROGRESS"]);
        assert_eq!(f.one("group"), Some("Künden"));
        assert_eq!(f.one("missing"), None);
        assert_eq!(f.with_prefix("x.").collect::<Vec<_>>(), [("a", "1")]);
    }
}
