//! The page shell: head, the bar with the tenant's two pages and Log out, and the problem
//! page for errors.

use maud::{DOCTYPE, Markup, html};

use super::widgets::csrf_field;

/// What the bar at the top shows.
#[derive(Debug, Clone, Copy)]
pub struct Chrome<'a> {
    /// The tenant whose pages these are, if any.
    pub tenant: Option<&'a str>,
    /// Which of its pages this is.
    pub current: Current,
    /// The CSRF token for Log out; `None` when not logged in.
    pub csrf: Option<&'a str>,
}

/// Which page is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    /// The tenant list or the login.
    Other,
    /// The HubSpot module page.
    Module,
    /// The sync health page.
    Health,
}

/// A whole page.
pub fn page(title: &str, chrome: Chrome<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · xentral HubSpot console" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                header.bar {
                    a.brand href="/" { "xentral" span { " · HubSpot" } }
                    @if let Some(tenant) = chrome.tenant {
                        nav {
                            a href={ "/t/" (tenant) } aria-current=[(chrome.current == Current::Module).then_some("page")] { "HubSpot module" }
                            a href={ "/t/" (tenant) "/health" } aria-current=[(chrome.current == Current::Health).then_some("page")] { "Sync health" }
                        }
                    }
                    @if let Some(csrf) = chrome.csrf {
                        form.logout method="post" action="/logout" {
                            (csrf_field(csrf))
                            button.link type="submit" { "Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page that only says what went wrong (not found, refused), with a way back.
pub fn problem(title: &str, message: &str) -> Markup {
    page(
        title,
        Chrome {
            tenant: None,
            current: Current::Other,
            csrf: None,
        },
        html! {
            h1 { (title) }
            p.notice.failed role="alert" { (message) }
            p { a href="/" { "Back to the tenants" } }
        },
    )
}
