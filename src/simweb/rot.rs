//! How the simulated web rots between "nights": the cases a link checker meets,
//! each with the verdicts citewatch should reach. Shared by `citewatch demo` and
//! the end-to-end test, so the demo shows what the test proves.

use super::PageKind;

/// One way a cited page fares after the first night.
#[derive(Debug, Clone)]
pub struct Rot {
    /// A short name of the true case.
    pub label: &'static str,
    /// What the page becomes after the first night (`None`: it stays as it was).
    pub after_first_night: Option<PageKind>,
    /// Set before the first night (pages that are that way from the start).
    pub from_the_start: Option<PageKind>,
    /// Verdicts acceptable once the rot has been seen on enough nights.
    pub expect: &'static [&'static str],
}

/// The cases, in the order they are assigned to cited pages.
pub fn plan() -> Vec<Rot> {
    let rot = |label, after: Option<PageKind>, start: Option<PageKind>, expect| Rot {
        label,
        after_first_night: after,
        from_the_start: start,
        expect,
    };
    vec![
        rot("stable", None, None, &["ok"]),
        rot("churn only", None, Some(PageKind::Churn), &["ok"]),
        rot("GBK page", None, Some(PageKind::Gbk), &["ok"]),
        rot("404", Some(PageKind::NotFound), None, &["dead"]),
        rot("410", Some(PageKind::Gone), None, &["dead"]),
        rot(
            "homepage redirect",
            Some(PageKind::RedirectHome),
            None,
            &["soft_404"],
        ),
        rot(
            "error page with 200",
            Some(PageKind::SoftNotFound),
            None,
            &["soft_404"],
        ),
        rot(
            "homepage served, 200",
            Some(PageKind::FrontPage),
            None,
            &["soft_404"],
        ),
        rot(
            "page emptied, 200",
            Some(PageKind::Emptied),
            None,
            &["soft_404"],
        ),
        rot(
            "moved article",
            Some(PageKind::MovedTo("/archive/moved-{id}.html".into())),
            None,
            &["moved"],
        ),
        rot(
            "sent to expired page",
            Some(PageKind::SentTo("/expired.html".into())),
            None,
            &["soft_404"],
        ),
        rot(
            "rewritten article",
            Some(PageKind::Rewritten),
            None,
            &["changed"],
        ),
        rot(
            "flaky 503",
            Some(PageKind::Flaky503),
            None,
            &["ok", "failing"],
        ),
    ]
}

/// Case `i % plan.len()` for each of `urls`: which way each cited page fares.
pub fn assign<'a>(plan: &'a [Rot], urls: &[String]) -> Vec<&'a Rot> {
    (0..urls.len()).map(|i| &plan[i % plan.len()]).collect()
}

/// Sets the pages that are that way from the start (before the first night).
pub fn start(
    web: &super::SimWeb,
    urls: &[String],
    cases: &[&Rot],
) -> Result<(), super::SimWebError> {
    for (url, case) in urls.iter().zip(cases) {
        if let Some(kind) = &case.from_the_start {
            web.set_url_kind(url, kind.clone())?;
        }
    }
    Ok(())
}

/// Lets the pages rot after the first night. A move's `{id}` becomes the page's
/// index, so every moved page gets its own new address; the pages sent to a
/// page for removed articles are all sent to that path on the first host.
pub fn after_first_night(
    web: &super::SimWeb,
    urls: &[String],
    cases: &[&Rot],
) -> Result<(), super::SimWebError> {
    for (i, (url, case)) in urls.iter().zip(cases).enumerate() {
        if let Some(kind) = &case.after_first_night {
            let kind = match kind {
                PageKind::MovedTo(to) => PageKind::MovedTo(to.replace("{id}", &i.to_string())),
                PageKind::SentTo(path) => PageKind::SentTo(
                    web.url(0, path)
                        .ok_or(super::SimWebError::NoSuchHost { index: 0, hosts: 0 })?,
                ),
                k => k.clone(),
            };
            web.set_url_kind(url, kind)?;
        }
    }
    Ok(())
}
