//! Lists page by page: [`Paged`] for a list in memory or a query paged in SQL.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};

/// Rows per page unless the caller asks otherwise.
pub const PER_PAGE: u64 = 50;

/// One page of a longer list. Pages count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Paged<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page).max(1)
    }

    /// The page `page` of a list already in memory (out-of-range pages are clamped).
    pub fn of(all: Vec<T>, page: u64, per_page: u64) -> Paged<T> {
        let per_page = per_page.max(1);
        let total = all.len() as u64;
        let page = page.clamp(1, total.div_ceil(per_page).max(1));
        let items = all.into_iter().skip(((page - 1) * per_page) as usize).take(per_page as usize).collect();
        Paged { items, total, page, per_page }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }
}

/// Runs a query for one page, clamping the page number to the pages there are.
pub(crate) async fn fetch_page<E, C>(
    conn: &C,
    query: sea_orm::Select<E>,
    page: u64,
    per_page: u64,
) -> Result<(u64, Vec<E::Model>, u64), DbErr>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let per_page = per_page.max(1);
    let paginator = query.paginate(conn, per_page);
    let total = paginator.num_items().await?;
    let page = page.clamp(1, total.div_ceil(per_page).max(1));
    Ok((page, paginator.fetch_page(page - 1).await?, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_clamped_and_counted() {
        let page = Paged::of((1..=7).collect::<Vec<_>>(), 3, 3);
        assert_eq!((page.items.as_slice(), page.total, page.pages()), (&[7][..], 7, 3));
        assert_eq!(Paged::of((1..=7).collect::<Vec<_>>(), 99, 3).page, 3);
        assert_eq!(Paged::of(Vec::<i32>::new(), 0, 3).pages(), 1);
    }
}
