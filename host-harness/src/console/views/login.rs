//! The login page.

use maud::{Markup, html};

use super::layout::{Chrome, Current, page};
use super::widgets::csrf_field;

/// The login form; `problem` says why the last attempt failed.
pub fn login(csrf: &str, problem: Option<&str>) -> Markup {
    page(
        "Log in",
        Chrome {
            tenant: None,
            current: Current::Other,
            csrf: None,
        },
        html! {
            section.login {
                h1 { "Log in" }
                p { "The HubSpot console of this xentral host. Log in with the administrator password (set with " code { "xentral-host console password" } ")." }
                @if let Some(problem) = problem {
                    p.notice.failed role="alert" { (problem) }
                }
                form method="post" action="/login" {
                    (csrf_field(csrf))
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required autofocus;
                    button type="submit" { "Log in" }
                }
            }
        },
    )
}
