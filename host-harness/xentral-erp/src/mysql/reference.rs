//! The reference schema as MariaDB runs it: the file split into its statements, verbatim.
//!
//! A MySQL dump is a script for the `mariadb` client, which splits it on `;` outside quotes and
//! comments; the server takes one statement at a time. This does the same split, so the file
//! loads as-is, without the client.

/// The statements of an SQL script, in order: split on `;` outside string literals, quoted
/// identifiers and comments, with comment-only and empty pieces dropped.
pub fn statements(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                while let Some(d) = chars.next() {
                    current.push(d);
                    if d == '\\' && c != '`' {
                        if let Some(e) = chars.next() {
                            current.push(e);
                        }
                    } else if d == c {
                        // A doubled quote is an escaped quote; keep going.
                        if chars.peek() == Some(&c) {
                            current.extend(chars.next());
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '#' => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                current.push(' ');
            }
            ';' => push_statement(&mut out, &mut current),
            _ => current.push(c),
        }
    }
    push_statement(&mut out, &mut current);
    out
}

fn push_statement(out: &mut Vec<String>, current: &mut String) {
    let stmt = current.trim();
    if !stmt.is_empty() {
        out.push(stmt.to_owned());
    }
    current.clear();
}

/// The table a `CREATE TABLE [IF NOT EXISTS] name …` statement creates, unquoted.
pub fn created_table(stmt: &str) -> Option<&str> {
    let mut words = stmt.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("create") {
        return None;
    }
    let mut word = words.next()?;
    if word.eq_ignore_ascii_case("temporary") {
        word = words.next()?;
    }
    if !word.eq_ignore_ascii_case("table") {
        return None;
    }
    let mut name = words.next()?;
    if name.eq_ignore_ascii_case("if") {
        words.next()?;
        words.next()?;
        name = words.next()?;
    }
    let name = name.split('(').next()?.trim_matches('`');
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_comments() {
        let s = statements(
            "-- a; comment\nCREATE TABLE `a` (`x` varchar(3) DEFAULT 'a;b' COMMENT 'it''s;');\n\
             /* b; */ INSERT INTO a VALUES ('\\';');\n\n",
        );
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("CREATE TABLE `a`"));
        assert!(s[0].ends_with("COMMENT 'it''s;')"));
        assert_eq!(s[1], "INSERT INTO a VALUES ('\\';')");
    }

    #[test]
    fn names_the_created_table() {
        assert_eq!(
            created_table("CREATE TABLE `adresse` (\n `id` int)"),
            Some("adresse")
        );
        assert_eq!(
            created_table("create table if not exists laender(id int)"),
            Some("laender")
        );
        assert_eq!(created_table("INSERT INTO x VALUES (1)"), None);
    }

    #[test]
    fn the_reference_file_has_one_create_per_table() {
        let stmts = statements(crate::schema::REFERENCE_SQL);
        let names: Vec<_> = stmts.iter().filter_map(|s| created_table(s)).collect();
        assert_eq!(names.len(), stmts.len());
        assert_eq!(names.len(), crate::schema::tables().len());
        assert!(names.contains(&"adresse") && names.contains(&"prozessstarter"));
    }
}
