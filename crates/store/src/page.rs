//! Paging for list endpoints: `PageSize` and an opaque `PageToken`.
//!
//! Rows are listed in creation order (the table's `seq`). A token names the
//! `seq` a page starts after (`PT…`, the next page) or ends before (`PB…`, the
//! previous page), so pages stay stable while rows are added or deleted.

use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::db::{Arg, int, query_with};
use crate::error::{Result, StoreError};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Which page to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// 1 to 1000 (Twilio's limits); 50 by default.
    pub page_size: u32,
    /// A token from a previous [`Page`]; `None` for the first page.
    pub page_token: Option<String>,
}

impl Default for PageRequest {
    fn default() -> PageRequest {
        PageRequest {
            page_size: DEFAULT_PAGE_SIZE,
            page_token: None,
        }
    }
}

impl PageRequest {
    /// The first page of the given size.
    pub fn first(page_size: u32) -> PageRequest {
        PageRequest {
            page_size,
            page_token: None,
        }
    }

    /// The page a token names, of the given size.
    pub fn at(page_size: u32, token: &str) -> PageRequest {
        PageRequest {
            page_size,
            page_token: Some(token.to_owned()),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The token of the following page, `None` on the last page.
    pub next_page_token: Option<String>,
    /// The token of the page before, `None` on the first page.
    pub previous_page_token: Option<String>,
}

impl<T> Page<T> {
    pub(crate) fn try_map<U>(self, f: impl FnMut(T) -> Result<U>) -> Result<Page<U>> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_>>()?,
            next_page_token: self.next_page_token,
            previous_page_token: self.previous_page_token,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    Start,
    After(i64),
    Before(i64),
}

fn parse_token(token: &str) -> Result<Cursor> {
    let bad = || StoreError::InvalidPageToken {
        token: token.to_owned(),
    };
    let (after, number) = if let Some(number) = token.strip_prefix("PT") {
        (true, number)
    } else if let Some(number) = token.strip_prefix("PB") {
        (false, number)
    } else {
        return Err(bad());
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let seq = number.parse::<i64>().map_err(|_| bad())?;
    Ok(if after {
        Cursor::After(seq)
    } else {
        Cursor::Before(seq)
    })
}

/// What to list: `SELECT {columns} FROM {table} WHERE {filter}` with `args`
/// bound to `$1…$n` of the filter. `columns` must include `seq`.
pub(crate) struct ListQuery {
    pub(crate) table: &'static str,
    pub(crate) columns: &'static str,
    pub(crate) filter: String,
    pub(crate) args: Vec<Arg>,
}

/// Lists one page of rows in creation order.
pub(crate) async fn fetch_page(
    conn: &mut AnyConnection,
    list: ListQuery,
    page: &PageRequest,
) -> Result<Page<AnyRow>> {
    if page.page_size == 0 || page.page_size > MAX_PAGE_SIZE {
        return Err(StoreError::invalid(
            "PageSize",
            format!(
                "{} is out of range: it must be 1 to {MAX_PAGE_SIZE}",
                page.page_size
            ),
        ));
    }
    let cursor = match &page.page_token {
        Some(token) => parse_token(token)?,
        None => Cursor::Start,
    };
    let next = list.args.len() + 1;
    let mut args = list.args.clone();
    let (bound, order) = match cursor {
        Cursor::Start => (String::new(), "ASC"),
        Cursor::After(seq) => {
            args.push(seq.into());
            (format!(" AND seq > ${next}"), "ASC")
        }
        Cursor::Before(seq) => {
            args.push(seq.into());
            (format!(" AND seq < ${next}"), "DESC")
        }
    };
    args.push(i64::from(page.page_size).into());
    let sql = format!(
        "SELECT {} FROM {} WHERE {}{bound} ORDER BY seq {order} LIMIT ${}",
        list.columns,
        list.table,
        list.filter,
        args.len()
    );
    let mut rows = query_with(sql, args).fetch_all(&mut *conn).await?;
    if matches!(cursor, Cursor::Before(_)) {
        rows.reverse();
    }
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => (int(first, "seq")?, int(last, "seq")?),
        _ => {
            return Ok(Page {
                items: rows,
                next_page_token: None,
                previous_page_token: None,
            });
        }
    };
    let more_after = any_row(conn, &list, ">", last).await?;
    let more_before = any_row(conn, &list, "<", first).await?;
    Ok(Page {
        items: rows,
        next_page_token: more_after.then(|| format!("PT{last}")),
        previous_page_token: more_before.then(|| format!("PB{first}")),
    })
}

async fn any_row(conn: &mut AnyConnection, list: &ListQuery, op: &str, seq: i64) -> Result<bool> {
    let mut args = list.args.clone();
    args.push(seq.into());
    let sql = format!(
        "SELECT seq FROM {} WHERE {} AND seq {op} ${} LIMIT 1",
        list.table,
        list.filter,
        args.len()
    );
    Ok(query_with(sql, args)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(parse_token("PT12").unwrap(), Cursor::After(12));
        assert_eq!(parse_token("PB3").unwrap(), Cursor::Before(3));
        for bad in ["", "PT", "PT-1", "PA12", "PT1x", "PT99999999999999999999"] {
            assert!(
                matches!(parse_token(bad), Err(StoreError::InvalidPageToken { .. })),
                "{bad}"
            );
        }
    }
}
