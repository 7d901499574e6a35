//! Pieces the pages share: the CSRF field, notices, times, and the pager of long lists.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::console::notice::{Details, Notice};

use super::reports;

/// The hidden field that carries the session's CSRF token in every form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An instant as people read it, UTC.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Milliseconds since the epoch as [`when`] shows them.
pub fn when_ms(ms: i64) -> String {
    when(xentral_erp::mysql_compat::instant_from_millis(ms))
}

/// An outcome in its section: the message, then what was done, the warnings, or the report.
pub fn notice(n: &Notice) -> Markup {
    html! {
        div.notice.ok[n.ok].failed[!n.ok] role=(if n.ok { "status" } else { "alert" }) {
            p.headline { (n.message) }
            @match &n.details {
                Details::None => {}
                Details::Lines { done, warnings } => {
                    @if !done.is_empty() {
                        ul { @for line in done { li { (line) } } }
                    }
                    @if !warnings.is_empty() {
                        ul.warnings { @for line in warnings { li { (line) } } }
                    }
                }
                Details::Metadata(m) => { (reports::metadata(m)) }
                Details::Job { report, dry_run } => { (reports::job(report, *dry_run)) }
            }
        }
    }
}

/// One page of a long list.
#[derive(Debug)]
pub struct Paged<'a, T> {
    /// The items on this page.
    pub items: &'a [T],
    /// This page, from 1.
    pub number: usize,
    /// How many pages there are (at least 1).
    pub pages: usize,
    /// How many items in all.
    pub total: usize,
    /// The query parameter that picks the page.
    pub param: &'static str,
}

/// Page `requested` (from 1; out of range: the nearest) of `all`, `per_page` at a time.
pub fn paged<'a, T>(
    all: &'a [T],
    requested: Option<usize>,
    per_page: usize,
    param: &'static str,
) -> Paged<'a, T> {
    let pages = all.len().div_ceil(per_page).max(1);
    let number = requested.unwrap_or(1).clamp(1, pages);
    let start = (number - 1) * per_page;
    let end = (start + per_page).min(all.len());
    Paged {
        items: &all[start.min(end)..end],
        number,
        pages,
        total: all.len(),
        param,
    }
}

/// Previous and next links for `page` (nothing when there is one page); `query` is the
/// page's other parameters, kept in the links, `anchor` where the list is.
pub fn pager<T>(
    page: &Paged<'_, T>,
    path: &str,
    query: &BTreeMap<String, String>,
    anchor: &str,
) -> Markup {
    let link = |n: usize| {
        let mut q = query.clone();
        q.insert(page.param.to_owned(), n.to_string());
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q.iter())
            .finish();
        format!("{path}?{encoded}#{anchor}")
    };
    html! {
        @if page.pages > 1 {
            nav.pager aria-label="pages" {
                @if page.number > 1 {
                    a rel="prev" href=(link(page.number - 1)) { "‹ previous" }
                }
                span { "page " (page.number) " of " (page.pages) " (" (page.total) ")" }
                @if page.number < page.pages {
                    a rel="next" href=(link(page.number + 1)) { "next ›" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_and_a_page_out_of_range_is_the_nearest() {
        let all: Vec<u32> = (1..=23).collect();
        let p = paged(&all, Some(3), 10, "p");
        assert_eq!(
            (p.items, p.number, p.pages, p.total),
            (&all[20..], 3, 3, 23)
        );
        assert_eq!(paged(&all, Some(9), 10, "p").number, 3);
        assert_eq!(paged(&all, Some(0), 10, "p").items, &all[..10]);
        let none: Vec<u32> = Vec::new();
        let p = paged(&none, None, 10, "p");
        assert_eq!((p.items.len(), p.pages), (0, 1));
    }

    #[test]
    fn pager_links_keep_the_other_parameters() {
        let all: Vec<u32> = (1..=23).collect();
        let mut query = BTreeMap::new();
        query.insert("other".to_owned(), "2".to_owned());
        let html = pager(
            &paged(&all, Some(2), 10, "p"),
            "/t/acme/health",
            &query,
            "x",
        )
        .into_string();
        assert!(
            html.contains(r#"href="/t/acme/health?other=2&amp;p=1#x""#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="/t/acme/health?other=2&amp;p=3#x""#),
            "{html}"
        );
        assert!(html.contains("page 2 of 3 (23)"), "{html}");
    }
}
