//! Searchset Bundles with `self`, `next` and `previous` links.

use super::*;

/// A searchset Bundle with `self`, `next` and `previous` links.
pub(super) fn bundle(
    urls: &Urls,
    req: &HttpRequest,
    etag: &str,
    now: DateTime<Utc>,
    total: usize,
    paging: &Paging,
    entry: Vec<BundleEntry>,
) -> Bundle {
    let path = req.path().trim_start_matches("/fhir/R4");
    let link_to = |page: usize| {
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "_page");
        if page > 1 {
            pairs.push(("_page".into(), page.to_string()));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if query.is_empty() {
            format!("{}{path}", urls.base)
        } else {
            format!("{}{path}?{query}", urls.base)
        }
    };
    let mut link = vec![BundleLink {
        relation: "self",
        url: link_to(paging.page),
    }];
    if !paging.summary_count {
        if paging.page * paging.count < total {
            link.push(BundleLink {
                relation: "next",
                url: link_to(paging.page + 1),
            });
        }
        if paging.page > 1 {
            link.push(BundleLink {
                relation: "previous",
                url: link_to(paging.page - 1),
            });
        }
    }
    Bundle {
        resource_type: "Bundle",
        id: Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("{etag}{}", req.uri()).as_bytes(),
        )
        .to_string(),
        meta: Meta {
            last_updated: Some(stamp(minute(now))),
            profile: Vec::new(),
        },
        bundle_type: "searchset",
        total,
        link,
        entry,
    }
}

pub(super) fn entry(urls: &Urls, resource: Resource, mode: &'static str) -> BundleEntry {
    let (kind, id) = resource.type_and_id();
    BundleEntry {
        full_url: urls.full(kind, id),
        resource,
        search: EntrySearch { mode, score: None },
    }
}

// ---------------------------------------------------------------------------------------
// Parameters into the one query engine
