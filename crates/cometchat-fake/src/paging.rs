//! The query string of list calls: `perPage`, `page`, flags, and the `meta.pagination` answer.

use serde_json::{Value, json};

use crate::validation::Problems;

const MAX_PER_PAGE: u64 = 1000;
const DEFAULT_PER_PAGE: u64 = 100;

/// A request's query string, decoded into name and value pairs in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(query: &str) -> Self {
        Self(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is set to `true` or `1`.
    pub fn flag(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(k, v)| k == name && matches!(v.as_str(), "true" | "1"))
    }

    /// `perPage` (1 to 1000, default 100) and `page` (from 1, default 1).
    pub fn paging(&self, p: &mut Problems) -> Page {
        let mut number = |name: &str, label: &str, default: u64, max: u64| match self.get(name) {
            None => default,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => n,
                Ok(n) if n > max => {
                    p.add(name, format!("The {label} may not be greater than {max}."));
                    default
                }
                _ => {
                    p.add(
                        name,
                        format!("The {label} must be an integer of at least 1."),
                    );
                    default
                }
            },
        };
        Page {
            per_page: number("perPage", "per page", DEFAULT_PER_PAGE, MAX_PER_PAGE),
            page: number("page", "page", 1, u64::from(u32::MAX)),
        }
    }
}

/// Which slice of a list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    per_page: u64,
    page: u64,
}

impl Page {
    /// The items on this page, and `meta.pagination` for the whole list.
    pub fn of(self, items: Vec<Value>) -> (Vec<Value>, Value) {
        let total = items.len() as u64;
        let start = self.per_page.saturating_mul(self.page - 1);
        let data: Vec<Value> = items
            .into_iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(self.per_page).unwrap_or(usize::MAX))
            .collect();
        let pagination = json!({
            "total": total,
            "count": data.len(),
            "per_page": self.per_page,
            "current_page": self.page,
            "total_pages": total.div_ceil(self.per_page),
        });
        (data, pagination)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn page(query: &str) -> Result<Page, Value> {
        let mut p = Problems::default();
        let page = Query::parse(query).paging(&mut p);
        p.finish()
            .map(|()| page)
            .map_err(|e| Value::Object(*e.details.unwrap_or_default()))
    }

    #[test]
    fn paging_defaults_and_limits() {
        assert_eq!(
            page(""),
            Ok(Page {
                per_page: 100,
                page: 1
            })
        );
        assert_eq!(
            page("perPage=1001&page=0"),
            Err(json!({
                "perPage": ["The per page may not be greater than 1000."],
                "page": ["The page must be an integer of at least 1."],
            }))
        );
        let q = Query::parse("withTags=true&onlyDeactivated=0&searchKey=al%20ice");
        assert!(q.flag("withTags") && !q.flag("onlyDeactivated"));
        assert_eq!(q.get("searchKey"), Some("al ice"));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Any accepted page answers the right slice and consistent counts, without overflow.
        #[test]
        fn pages_slice_the_list(total in 0usize..60, per_page in 1u64..=1000, page in 1u64..=u64::from(u32::MAX)) {
            let items: Vec<Value> = (0..total).map(|i| json!(i)).collect();
            let (data, meta) = Page { per_page, page }.of(items);
            let start = per_page.saturating_mul(page - 1);
            let expected: Vec<Value> = (0..total as u64)
                .filter(|i| *i >= start && *i < start.saturating_add(per_page))
                .map(|i| json!(i))
                .collect();
            prop_assert_eq!(&data, &expected);
            prop_assert_eq!(&meta["count"], &json!(data.len()));
            prop_assert_eq!(&meta["total_pages"], &json!((total as u64).div_ceil(per_page)));
        }
    }
}
