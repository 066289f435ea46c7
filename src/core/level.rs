//! The levels of geography that results are reported at.

crate::labelled_enum! {
    /// The levels results are reported at, in output order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Level {
        System => "system",
        Place => "place",
        Neighbourhood => "neighbourhood",
        /// A risk pool, at the place or system named in its row.
        Pool => "pool",
        /// A deprivation quintile of the whole simulated population (area `1` = most
        /// deprived to `5`), or the gap between quintiles 1 and 5 (area `1-5`).
        ImdQuintile => "imd_quintile",
        /// The sum over every system of a run with more than one (the England preset's 42),
        /// so national figures are read, not re-added by every reader.
        England => "england",
    }
}

/// The one area of [`Level::England`].
pub const ENGLAND: &str = "England";
